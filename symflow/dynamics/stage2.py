r"""Stage II of GC: directions frozen at their Stage I equilibria, only the scale ``a`` trained.

With frozen directions the logits are ``f = a F`` for a fixed ``F`` (the network at ``a = 1``).
For the *ideal aligned population* of an abelian group of odd order ``n`` (unshared
embeddings, every non-trivial conjugate pair equally populated, phases ``(phi1, phi2)``
Haar-uniform, neurons ``theta_i(g) = sqrt(2/n) Re(chi(g) e^{i phi_i})``,
``xi(h) = sqrt(2/n) Re(chi(h) e^{i(phi1+phi2)})``) the phase average is exact on a ``K x K``
grid (``K >= 3``) and gives

    F(g1, g2)[h] = const + kappa' (n 1{h = g1 g2} - 1) / (n - 1),   kappa' = 2 Omega* = sqrt(2) n^{-3/2},

so every pair has the logit margin ``u = kappa a`` with ``kappa = kappa' n / (n-1)
= sqrt(2) / (sqrt(n) (n-1))``, and ``CE = w log(1 + m e^{-u})`` (``m = n - 1``; ``w = 1`` for
the mean loss, ``n^2`` for the loss summed over the table). Gradient flow on the tied scale,
``da/dt = -dCE/da = w kappa m / (e^u + m)``, integrates in closed form:

    e^u + m u = w kappa^2 m t + e^{u0} + m u0                        (exact, implicit)
    u(t) ~ log(1 + w kappa^2 m t)  for large t;   T(eps) = (e^{u_eps} + m u_eps - e^{u0} - m u0) / (w kappa^2 m),
    u_eps = log(m / expm1(eps / w)).

Per-neuron scales starting equal stay equal on this population and move ``M`` times slower
(each ``a_m`` receives ``1/M`` of the tied gradient).

docs/theory.md's ``a(t) ~ log(1 + n(n-1) t)`` and ``T ~ (n/eps)(1 + (n-1)^-2)`` carry no units. They
are recovered at leading order when ``a`` there is the margin ``u`` and time is
``tau = K t / (n(n-1))`` (:meth:`Stage2Prediction.theory_time`) with the loss summed over the
table: then ``e^u + m u = n m tau + e^{u0} + m u0`` and the exact
``T = n/eps - 1/(2n) + (u_eps - 1/m)/n + O(eps)``; the stated correction factor
``1 + (n-1)^-2`` is not what the exact solution gives (e.g. ``n = 7, eps = 0.01``: exact 701.4,
stated 719.4). :class:`Stage2Prediction` evaluates these
curves (Newton on the implicit equation, relative accuracy 1e-12); :func:`simulate_stage2`
runs the actual network (gradient descent on ``a`` only); :func:`theory_scale_curve` and
:func:`theory_time_to_loss` are docs/theory.md's stated forms ``log(1 + n(n-1)t)`` and
``(n/eps)(1 + (n-1)^-2)``, kept separate so they can be compared honestly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, SymflowError
from .network import REDUCTIONS, TwoLayerNetwork, as_group, as_pairs
from .training import TrainingHistory, train


def aligned_population(group, phases: int = 3, scale: float = 1.0, per_neuron_scale: bool = False,
                       activation="quad") -> TwoLayerNetwork:
    """The ideal Stage I end state of an abelian group of odd order (see module doc).

    One neuron per (non-trivial conjugate pair, ``phi1``, ``phi2``) with phases on the grid
    ``2 pi j / phases``; width ``M = phases^2 (n - 1) / 2``. ``phases >= 3`` makes the phase average
    exact. Each neuron is a stable equilibrium of the reduced flow (rank one, aligned, unit norms).
    """
    G = as_group(group)
    if not G.is_abelian or G.order % 2 == 0:
        raise ModelError(f"aligned_population needs an abelian group of odd order (all non-trivial characters "
                         f"complex); {G.name} has order {G.order}{'' if G.is_abelian else ' and is non-abelian'}. "
                         "For other groups train Stage I first and pass that network to simulate_stage2")
    if isinstance(phases, bool) or not isinstance(phases, (int, np.integer)) or phases < 3:
        raise ModelError(f"phases must be an integer >= 3 (exact phase average), got {phases!r}")
    n = G.order
    grid = 2 * np.pi * np.arange(phases) / phases
    th1, th2, xi = [], [], []
    for orb in G.orbits:
        if orb.type != "complex":                         # the trivial orbit
            continue
        chi = G.irreps[orb[0]].matrices[:, 0, 0]          # (n,) complex character
        for p1 in grid:
            for p2 in grid:
                th1.append(np.sqrt(2 / n) * np.real(chi * np.exp(1j * p1)))
                th2.append(np.sqrt(2 / n) * np.real(chi * np.exp(1j * p2)))
                xi.append(np.sqrt(2 / n) * np.real(chi * np.exp(1j * (p1 + p2))))
    return TwoLayerNetwork.from_params(G, np.array(th1), np.array(th2), np.array(xi), scale=scale,
                                       activation=activation, per_neuron_scale=per_neuron_scale)


def ideal_margin(n: int) -> float:
    """``kappa = sqrt(2) / (sqrt(n) (n-1))``: logit margin per unit ``a`` of the ideal population."""
    n = int(n)
    if n < 2:
        raise SymflowError(f"n must be >= 2, got {n}")
    return float(np.sqrt(2.0) / (np.sqrt(n) * (n - 1)))


def measured_margin(network: TwoLayerNetwork, pairs=None) -> tuple[float, float]:
    """``(kappa, spread)`` of the network's logits at ``a = 1``.

    ``kappa`` is the mean over pairs of ``F[y] - mean_{h != y} F[h]``; ``spread`` is the relative
    RMS deviation of ``F - mean(F)`` from the ideal form ``kappa (n e_y - 1)/(n-1) * (n-1)/n`` (0 for the
    ideal population: then the closed-form prediction is exact).
    """
    ps = as_pairs(network.group, pairs)
    n = network.group.order
    F = network.logits(ps) / network.a.mean()
    rows = np.arange(len(ps))
    Fy = F[rows, ps.y]
    others = (F.sum(axis=1) - Fy) / (n - 1)
    gaps = Fy - others
    kappa = float(gaps.mean())
    centred = F - F.mean(axis=1, keepdims=True)
    ideal = np.full_like(F, -kappa / n)
    ideal[rows, ps.y] = kappa * (n - 1) / n
    spread = float(np.linalg.norm(centred - ideal) / max(np.linalg.norm(ideal), 1e-300))
    return kappa, spread


@dataclass(frozen=True)
class Stage2Prediction:
    r"""Closed-form Stage II curves for logits with uniform margin ``u = kappa a`` (module doc).

    Parameters: group order ``n``, margin ``kappa`` per unit scale, initial scale ``a0``,
    ``reduction`` (``"mean"``: ``w = 1``; ``"sum"`` over the full table: ``w = n^2``) and, for
    per-neuron scales, the ``width`` ``M`` (rate divided by ``M``; ``a`` is then each ``a_m``).
    Time ``t`` is gradient-flow time ``steps * lr``.
    """

    n: int
    kappa: float
    a0: float = 0.0
    reduction: str = "mean"
    width: int | None = None

    def __post_init__(self):
        if self.reduction not in REDUCTIONS:
            raise SymflowError(f"reduction must be 'mean' or 'sum', got {self.reduction!r}")
        if not (self.kappa > 0 and np.isfinite(self.kappa)):
            raise SymflowError(f"kappa must be positive (the logit margin per unit scale), got {self.kappa}")

    @classmethod
    def for_network(cls, network: TwoLayerNetwork, reduction: str = "mean", pairs=None) -> "Stage2Prediction":
        """Prediction using the network's measured margin (exact for :func:`aligned_population`)."""
        kappa, _ = measured_margin(network, pairs)
        return cls(network.group.order, kappa, float(network.a.mean()), reduction,
                   network.width if network.per_neuron_scale else None)

    @property
    def m(self) -> int:
        return self.n - 1

    @property
    def weight(self) -> float:
        return 1.0 if self.reduction == "mean" else float(self.n ** 2)

    @property
    def rate(self) -> float:
        """``K = w kappa^2 m / M``: ``u(t) ~ log(1 + K t)`` (``M = 1`` for a tied scale)."""
        return self.weight * self.kappa ** 2 * self.m / (self.width or 1)

    def _u(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        if np.any(t < 0):
            raise SymflowError("times must be >= 0")
        u0 = self.kappa * self.a0
        m = self.m
        C = self.rate * t + np.exp(u0) + m * u0           # e^u + m u = C, increasing and convex in u
        u = np.where(C > 1.0, np.log(np.maximum(C, 1.0)), (C - 1.0) / (m + 1.0))
        u = np.maximum(u, u0)
        for _ in range(100):
            fu = np.exp(u) + m * u - C
            step = fu / (np.exp(u) + m)
            u = u - step
            if np.all(np.abs(step) <= 1e-13 * np.maximum(1.0, np.abs(u))):
                break
        return u

    def scale(self, t) -> np.ndarray:
        """Predicted scale ``a(t) = u(t) / kappa``."""
        return self._u(t) / self.kappa

    def loss(self, t) -> np.ndarray:
        """Predicted CE ``w log(1 + m e^{-u(t)})``."""
        return self.weight * np.log1p(self.m * np.exp(-self._u(t)))

    def margin(self, t) -> np.ndarray:
        """Predicted logit margin ``u(t) = kappa a(t)``."""
        return self._u(t)

    def theory_time(self, t) -> np.ndarray:
        """``tau = K t / (n (n-1))``: the clock in which ``u`` obeys ``du/dtau = n m / (e^u + m)``,
        so that ``u(tau) ~ log(1 + n(n-1) tau)`` as docs/theory.md states (``tau = 2 t / (n-1)^2`` for
        the summed loss and a tied scale)."""
        return self.rate * np.asarray(t, dtype=float) / (self.n * self.m)

    def time_to_loss(self, eps) -> np.ndarray:
        """Exact ``T(eps)``: first time the CE falls below ``eps`` (0 if already below)."""
        eps = np.asarray(eps, dtype=float)
        if np.any(eps <= 0):
            raise SymflowError("eps must be > 0")
        m, u0 = self.m, self.kappa * self.a0
        ue = np.log(m / np.expm1(eps / self.weight))
        T = (np.exp(ue) + m * ue - np.exp(u0) - m * u0) / self.rate
        return np.maximum(T, 0.0)

    def __repr__(self) -> str:
        return (f"<Stage2Prediction n={self.n}, kappa={self.kappa:.6g}, a0={self.a0:g}, {self.reduction} loss"
                f"{'' if self.width is None else f', per-neuron (M={self.width})'}: u(t) ~ log(1 + {self.rate:.4g} t)>")

    def _repr_latex_(self) -> str:
        return (rf"$e^{{u}} + {self.m}\,u = {self.rate:.4g}\,t + e^{{u_0}} + {self.m}\,u_0,\quad "
                rf"u = {self.kappa:.4g}\,a,\quad \mathrm{{CE}} = {self.weight:g}\log(1 + {self.m} e^{{-u}})$")


def theory_scale_curve(t, n: int) -> np.ndarray:
    """docs/theory.md section 6 as stated: ``a(t) ~ log(1 + n(n-1) t)`` (no units given there)."""
    return np.log1p(n * (n - 1) * np.asarray(t, dtype=float))


def theory_time_to_loss(eps, n: int) -> np.ndarray:
    """docs/theory.md section 6 as stated: ``T ~ (n/eps)(1 + (n-1)^-2)``."""
    return (n / np.asarray(eps, dtype=float)) * (1.0 + (n - 1.0) ** -2)


def simulate_stage2(network: TwoLayerNetwork, steps: int, lr: float, reduction: str = "mean",
                    optimizer: str = "gd", record_every: int | None = None, progress: bool = False,
                    seed: int = 0) -> TrainingHistory:
    """Train only the scale ``a`` of ``network`` (in place), directions frozen.

    Tied or per-neuron according to ``network.per_neuron_scale``. The history's ``scale`` is
    the mean ``a`` per record and ``snapshots["a"]`` the full ``(K, M)`` trajectory.
    """
    return train(network, steps, lr, optimizer=optimizer, constraint="none", reduction=reduction,
                 trainable=("a",), record_every=record_every, progress=progress, seed=seed)


@dataclass
class ScaleFlow:
    """Gradient flow of a tied scale with frozen directions (:func:`scale_flow`): ``a(t)``, ``CE(t)``."""

    t: np.ndarray
    a: np.ndarray
    loss: np.ndarray
    margin: np.ndarray        # min over pairs of f[y] - max_{h != y} f[h]
    reduction: str

    def time_to_loss(self, eps: float) -> float:
        """First time (linear interpolation between samples) at which ``CE <= eps``; ``nan`` if never."""
        below = np.nonzero(self.loss <= eps)[0]
        if below.size == 0:
            return float("nan")
        k = int(below[0])
        if k == 0:
            return float(self.t[0])
        l0, l1 = np.log(self.loss[k - 1]), np.log(self.loss[k])
        return float(self.t[k - 1] + (np.log(eps) - l0) / (l1 - l0) * (self.t[k] - self.t[k - 1]))


def scale_flow(network: TwoLayerNetwork, t_eval, reduction: str = "mean", pairs=None, rtol: float = 1e-10) -> ScaleFlow:
    r"""Stage II as an ODE: ``da/dt = -dCE/da`` with the directions of ``network`` frozen (tied scale).

    With frozen directions the logits are ``a F`` (``F`` the logits at ``a = 1``), so
    ``dCE/da = w sum_p (softmax(a F_p) . F_p - F_p[y_p])`` is exact and cheap; integrated with
    SciPy's DOP853 (``rtol``, ``atol = 1e-12``). Gradient descent on ``a`` with learning rate
    ``lr`` (:func:`simulate_stage2`) follows this flow at ``t = steps * lr`` up to ``O(lr)``.
    """
    from scipy.integrate import solve_ivp  # ~0.5 s at import; only this rarely used path needs it

    if reduction not in REDUCTIONS:
        raise SymflowError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    t_eval = np.asarray(t_eval, dtype=float)
    if t_eval.ndim != 1 or t_eval.size < 2 or np.any(np.diff(t_eval) <= 0) or not np.all(np.isfinite(t_eval)):
        raise SymflowError("t_eval must be a strictly increasing 1-d array of finite times (at least 2)")
    ps = as_pairs(network.group, pairs)
    a0 = float(network.a.mean())
    if network.per_neuron_scale and not np.allclose(network.a, a0):
        raise ModelError("scale_flow is the tied-scale flow: the network's per-neuron scales differ")
    unit = network.copy()
    unit.params["a"] = np.ones_like(unit.params["a"])
    F = unit.logits(ps)
    rows = np.arange(len(ps))
    Fy = F[rows, ps.y]
    w = 1.0 / len(ps) if reduction == "mean" else 1.0

    def ce(a):
        z = a * F
        zmax = z.max(axis=1, keepdims=True)
        e = np.exp(z - zmax)
        se = e.sum(axis=1)
        return w * float(np.sum(np.log(se) + zmax[:, 0] - a * Fy)), e / se[:, None]

    def rhs(t, y):
        _, sm = ce(y[0])
        return [-w * float(np.sum((sm * F).sum(axis=1) - Fy))]

    sol = solve_ivp(rhs, (t_eval[0], t_eval[-1]), [a0], method="DOP853", t_eval=t_eval, rtol=rtol, atol=1e-12)
    if not sol.success:
        raise SymflowError(f"the Stage II scale flow failed: {sol.message}")
    a = sol.y[0]
    loss = np.array([ce(x)[0] for x in a])
    other = F.copy()
    other[rows, ps.y] = -np.inf
    gap = Fy - other.max(axis=1)
    return ScaleFlow(sol.t, a, loss, a * float(gap.min()), reduction)


__all__ = ["aligned_population", "ideal_margin", "measured_margin", "Stage2Prediction", "simulate_stage2",
           "theory_scale_curve", "theory_time_to_loss", "scale_flow", "ScaleFlow"]
