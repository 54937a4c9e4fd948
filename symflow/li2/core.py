r"""Li2's model: the network ``Y_hat = sigma(X W) V`` on (part of) a group's composition table.

Samples are pairs ``(a, b)`` of a training subset ``S`` of the ``n^2`` table entries (flat index
``a n + b``), input ``x = [e_a; e_b]`` (``2 n``), target ``y = e_{ab}``. A hidden node ``w = [u; v]`` on
the unit sphere of ``R^{2n}`` has, in the independent-feature stage, the energy

    E_S(w) = 1/2 || Y~^T sigma(X w) ||^2,   Y~ = Y - 1 ybar^T   (targets centred over the samples)

Written out (derived by :func:`derive_energy` from the network definition with SymPy):
``E_S = 1/2 sum_h (z_h - q_h s)^2`` with ``z_h = sum_{(a,b) in S, ab = h} sigma(u_a + v_b)``,
``s = sum_{(a,b) in S} sigma(u_a + v_b)`` and ``q_h = N_h / N`` the target frequencies. On the full
table ``q_h = 1/n`` and this is symflow's MSE energy (``Model(G, loss="mse")``, docs/theory.md
section 7), whose Fourier form ``E = (2/n) sum_{rho != 1} d_rho ||U(rho) V(rho)||_F^2`` (``sigma = z^2``,
``U = sum_g u(g) rho(g)``) is proved there exactly for every irrep type.

Euclidean gradient (chain rule on the same sums): with ``r_h = z_h - q_h s`` and
``c = sum_h q_h r_h``, ``dE/dH[a, b] = M[a, b] (r_{ab} - c)`` for the subset's mask ``M`` and
``H[a, b] = sigma(u_a + v_b)``, so ``dE/du_a = sum_b M[a,b] (r_{ab} - c) sigma'(u_a + v_b)`` (``v``: sum
over ``a``). The sphere flow is its tangent projection.
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError
from ..neuron.activation import QUAD, as_activation
from ..neuron.geometry import StackedGeometry
from ..validation import integer, real

#: The named activations Li2 is run with (any activation of :mod:`symflow.neuron.activation` is accepted).
ACTIVATIONS = ("x^2", "relu", "silu")


def check_activation(name) -> str:
    """Li2's name of the activation ``name`` (the one vocabulary, :func:`~symflow.neuron.activation.as_activation`):
    the canonical name, with the quadratic spelled ``x^2`` as in Li2's outputs."""
    act = as_activation(name)
    return "x^2" if act is QUAD else act.name


def sigma(name: str, x, derivative: bool = False):
    """The activation ``name`` (or its derivative) on an array: the one activation object's ``sigma``/``sigma'``."""
    act = as_activation(name)
    return act.dsigma(x) if derivative else act.sigma(x)


def training_mask(group, fraction: float = 1.0, seed: int = 0) -> np.ndarray:
    """Boolean ``(n, n)`` mask of a uniformly random subset of ``round(fraction n^2)`` table entries
    (all of them for ``fraction = 1``); at least two distinct targets are kept (else ``Y~ = 0``)."""
    n = group.order
    f = real(fraction, "fraction", what="in (0, 1]: the share of the n^2 table used for training")
    if f > 1:
        raise SymflowError(f"fraction must be in (0, 1]: the share of the n^2 table used for training, got {fraction!r}")
    seed = integer(seed, "seed", minimum=0)
    N = max(2, int(round(f * n * n)))
    mask = np.zeros(n * n, dtype=bool)
    if N >= n * n:
        mask[:] = True
    else:
        rng = np.random.default_rng(seed)
        mask[rng.choice(n * n, size=N, replace=False)] = True
    return mask.reshape(n, n)


class Li2Problem:
    """Li2 on a group with a training mask: energy, gradient and sphere ascent for stacked nodes.

    Points are arrays ``(..., 2 n)`` = ``[u; v]`` in the element order of ``group``.
    """

    def __init__(self, group, mask=None, activation: str = "x^2"):
        self.group = group
        n = self.n = group.order
        self.activation = check_activation(activation)
        self.mask = np.ones((n, n), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if self.mask.shape != (n, n):
            raise SymflowError(f"the training mask must have shape ({n}, {n}), got {self.mask.shape}")
        self.table = np.asarray(group.table)
        counts = np.bincount(self.table[self.mask], minlength=n)
        self.N = int(self.mask.sum())
        if self.N == 0 or np.count_nonzero(counts) < 2:
            raise SymflowError("the training subset needs at least two distinct targets (else the centred targets vanish)")
        self.q = counts / self.N
        # flat index of each table entry's product, and the mask as floats
        self._flat = self.table.reshape(-1)
        self._rows = np.arange(n)[:, None]
        self._left = self.table[np.asarray(group.inverse)]         # left[a, h] = a^-1 h
        self._sphere = StackedGeometry(("w",), (("w",),), 2 * n)    # w = [u; v] on one unit sphere

    @property
    def fraction(self) -> float:
        return self.N / self.n ** 2

    def _pre(self, x):
        n = self.n
        x = np.asarray(x, dtype=float)
        return x[..., :n, None] + x[..., None, n:]                  # (..., n, n): u_a + v_b

    def _residual(self, H):
        Hm = H * self.mask
        z = Hm[..., self._rows, self._left].sum(axis=-2)            # z_h = sum_a Hm[a, a^-1 h]
        s = Hm.sum(axis=(-2, -1))[..., None]
        return z - self.q * s

    def energy(self, x):
        """``E_S`` at stacked points, shape ``(...)``."""
        r = self._residual(sigma(self.activation, self._pre(x)))
        return 0.5 * (r * r).sum(axis=-1)

    def energy_gradient(self, x):
        """``(E_S, dE_S/dw)`` at stacked points (one pass)."""
        n = self.n
        S = self._pre(x)
        r = self._residual(sigma(self.activation, S))
        c = (r * self.q).sum(axis=-1, keepdims=True)
        dH = (r - c)[..., self._flat].reshape(r.shape[:-1] + (n, n)) * self.mask
        dS = dH * sigma(self.activation, S, derivative=True)
        return 0.5 * (r * r).sum(axis=-1), np.concatenate([dS.sum(axis=-1), dS.sum(axis=-2)], axis=-1)

    def gradient(self, x):
        """Euclidean ``dE_S/dw``, same shape as ``x``."""
        return self.energy_gradient(x)[1]

    def _project(self, x, g):
        """Tangent projection on the sphere of ``w = [u; v]`` (the one geometry; ``g`` is overwritten)."""
        return self._sphere.project_tangent(x, g)

    def riemannian_gradient(self, x):
        """Tangent projection of the gradient on the unit sphere through ``x / |x|``."""
        x = np.asarray(x, dtype=float)
        return self._project(x, self.gradient(x))

    def ascend(self, x, steps: int = 400, lr: float | None = None, tol: float = 1e-7):
        """Projected (retracted) gradient ascent on the sphere from stacked starts ``x``.

        Per node the step starts at ``0.5 / E`` (the energy is homogeneous, this is the flow's time
        unit) and adapts: x1.2 after an accepted step, x0.5 and rejected when E would drop, so E never
        decreases. Stops when every node's ``|riemannian grad| / max E <= tol``. ``self.last_step`` keeps
        the final step sizes (times the energy scale): for ReLU a maximum sits at a kink, where the
        gradient does not vanish and the step collapses instead.
        Returns ``(points, energies, |riemannian grad| / max E)``.
        """
        x = np.asarray(x, dtype=float)
        x = x / np.linalg.norm(x, axis=-1, keepdims=True)
        E, g = self.energy_gradient(x)
        g = self._project(x, g)
        scale = max(float(np.max(E)), 1e-12)
        step = np.full(x.shape[:-1] + (1,), (0.5 / scale) if lr is None else float(lr))
        for _ in range(int(steps)):
            if np.max(np.linalg.norm(g, axis=-1)) <= tol * scale:
                break
            y = x + step * g
            y /= np.linalg.norm(y, axis=-1, keepdims=True)
            Ey, gy = self.energy_gradient(y)
            up = (Ey >= E)[..., None]
            x = np.where(up, y, x)
            E = np.where(up[..., 0], Ey, E)
            g = np.where(up, self._project(y, gy), g)
            step = np.where(up, step * 1.2, step * 0.5)
            scale = max(float(np.max(E)), 1e-12)
        #: per node, the last step size times the energy scale: ~0 where the ascent stalled (a kink of ReLU)
        self.last_step = step[..., 0] * scale
        return x, E, np.linalg.norm(g, axis=-1) / scale

    def features(self, x, pairs=None):
        """``sigma(X w)`` for nodes ``x`` (m, 2n) on the table entries ``pairs`` (flat indices; default
        all): shape ``(len(pairs), m)``."""
        H = sigma(self.activation, self._pre(x)).reshape(np.shape(x)[0], -1)
        return (H if pairs is None else H[:, pairs]).T
