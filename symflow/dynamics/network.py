r"""The two-layer network of GC section 2 in parameter space (NumPy, vectorised over neurons).

For a finite group ``G`` of order ``n`` (elements in ``group.labels`` order) and width ``M``:

    f(g1, g2) = (1/M) sum_m a_m xi_m sigma(theta1_m(g1) + theta2_m(g2))      in R^n

with ``theta1_m, theta2_m, xi_m in R^n`` (stored as ``(M, n)`` arrays) and scales ``a_m``
(an ``(M,)`` array; tied when every ``a_m`` equals one scalar ``a``). Shared embeddings use
``theta1 = theta2 = theta``. The loss is the cross-entropy on a set of table entries
``(g1, g2) -> y = g1 g2``:

    CE = sum_p w_p (logsumexp_h f(p)[h] - f(p)[y_p]),   w_p = 1/P ("mean") or 1 ("sum"),

or, with ``loss="mse"``, the square loss ``sum_p w_p |f(p) - e_{y_p}|^2 / 2`` (the gradients below
then hold with the residual ``r = w (f(p) - e_{y_p})``), or, with ``loss="mse_centred"`` (Li2's loss),
the square loss of the residuals centred over the evaluated pairs,

    sum_p w_p |R_p - Rbar|^2 / 2,   R_p = f(p) - e_{y_p},   Rbar = (1/P) sum_p R_p

(``1/(2N) ||P_c (Y - Y_hat)||^2`` with the centring ``P_c = I - 1 1^T / N`` for ``"mean"``); ``P_c`` is
symmetric and idempotent, so the gradients hold with ``r = w (R_p - Rbar)``.

Forward and backward passes act on all pairs at once: ``h = theta1[:, g1] + theta2[:, g2]``
(shape ``(M, P)``), ``logits = sigma(h)^T (a xi / M)`` (shape ``(P, n)``). With the residual
``r = w (softmax(logits) - onehot(y))`` the analytic gradients are

    dCE/dxi_m     = (a_m / M) sum_p sigma(h_mp) r_p
    dCE/da_m      = (1/M)     sum_p sigma(h_mp) <xi_m, r_p>
    dCE/dtheta1_m(g) = sum_{p: g1_p = g} sigma'(h_mp) <a_m xi_m / M, r_p>   (theta2: g2_p = g)

(a tied scale has ``dCE/da = sum_m dCE/da_m``). Small-logit limit (quadratic sigma, full table,
mean loss): ``CE ~ log n - (2/M) sum_m a_m Omega_m`` with the energy functional ``Omega`` of
:mod:`symflow.neuron.bruteforce`, so projected gradient descent with learning rate ``lr`` follows
the reduced flow with time step ``lr * c``, ``c = 2a/M`` (``2 a n^2 / M`` for the summed loss):
see :meth:`TwoLayerNetwork.reduced_time_unit`.

The MA setting (He, Wang, Chen, Yang; ``f(x, y) = sum_m xi_m sigma(theta_m[x] + theta_m[y])``,
no ``1/M``, small Gaussian init, unconstrained) is :meth:`TwoLayerNetwork.modular_addition`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, SymflowError
from ..groups import as_group
from ..neuron import Neuron
from ..neuron.activation import as_activation, square_derivative
from ..neuron.bruteforce import omega
from .alignment import COSINE_THRESHOLD, RANK_THRESHOLD, alignment_cosines, is_aligned, rank_ratio

REDUCTIONS = ("mean", "sum")
NETWORK_LOSSES = ("ce", "mse", "mse_centred")
INITS = ("sphere", "gaussian", "torch_uniform")


def _as_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype) if not isinstance(dtype, str) or dtype in ("float32", "float64") else None
    if dt is None or dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ModelError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return dt


# ---------------------------------------------------------------------------------------------
# groups and pairs
# ---------------------------------------------------------------------------------------------
class PairSet:
    """Entries ``(g1, g2) -> y = g1 g2`` of a group's Cayley table, prepared for the network.

    ``g1, g2, y`` are integer arrays of length ``P``. ``full`` is True when the pairs are the whole
    table in row-major order (``g1`` slow, ``g2`` fast); the network then gathers and scatters by
    reshaping instead of indexing. ``onehot1``/``onehot2`` ((P, n) float) are built on first use;
    :meth:`scatter_matrices` (the same one-hot matrices transposed, sparse) sum per-pair rows into per-element
    rows in ``O(P)`` instead of a dense ``(P, n)`` product.
    """

    def __init__(self, group, g1, g2):
        self.group = group
        n = group.order
        self.g1 = np.ascontiguousarray(g1, dtype=np.int64)
        self.g2 = np.ascontiguousarray(g2, dtype=np.int64)
        self.y = group.table[self.g1, self.g2]
        P = len(self.g1)
        self.full = bool(P == n * n and np.array_equal(self.g1, np.repeat(np.arange(n), n))
                         and np.array_equal(self.g2, np.tile(np.arange(n), n)))
        self._onehot = None
        self._scatter = {}

    @classmethod
    def all(cls, group) -> "PairSet":
        """The whole table, row-major."""
        n = group.order
        return cls(group, np.repeat(np.arange(n), n), np.tile(np.arange(n), n))

    def __len__(self) -> int:
        return len(self.g1)

    @property
    def pairs(self) -> np.ndarray:
        """``(P, 2)`` array of ``(g1, g2)``."""
        return np.stack([self.g1, self.g2], axis=1)

    def _onehots(self):
        if self._onehot is None:
            n = self.group.order
            eye = np.eye(n)
            self._onehot = (eye[self.g1], eye[self.g2])
        return self._onehot

    @property
    def onehot1(self) -> np.ndarray:
        return self._onehots()[0]

    @property
    def onehot2(self) -> np.ndarray:
        return self._onehots()[1]

    def scatter_matrices(self, dtype) -> tuple:
        """``(E1^T, E2^T)``: the one-hot matrices ``(P, n)`` of ``g1`` and ``g2`` transposed, as sparse CSR
        ``(n, P)`` of ``dtype`` (one nonzero per column), cached: ``E1^T @ D`` sums the rows ``D[p]`` of the pairs
        with ``g1_p = g``, the gradient scatter of a gather ``theta1[g1]``."""
        key = np.dtype(dtype).str
        if key not in self._scatter:
            from scipy.sparse import csr_matrix

            n, P = self.group.order, len(self)
            ones = np.ones(P, dtype=dtype)
            cols = np.arange(P)
            self._scatter[key] = tuple(csr_matrix((ones, (g, cols)), shape=(n, P)) for g in (self.g1, self.g2))
        return self._scatter[key]

    def subset(self, idx) -> "PairSet":
        """The pairs at positions ``idx`` (an index array)."""
        return PairSet(self.group, self.g1[idx], self.g2[idx])

    def __repr__(self) -> str:
        kind = "full table" if self.full else f"{len(self)} of {self.group.order ** 2} pairs"
        return f"<PairSet of {self.group.name}: {kind}>"


def as_pairs(group, pairs) -> PairSet:
    """Coerce ``pairs`` to a :class:`PairSet`: ``None`` (whole table), a ``PairSet`` or a
    ``(P, 2)`` array of element indices ``(g1, g2)``."""
    if pairs is None:
        return PairSet.all(group)
    if isinstance(pairs, PairSet):
        if pairs.group.order != group.order:
            raise SymflowError(f"these pairs belong to {pairs.group.name} (order {pairs.group.order}), "
                               f"not to {group.name} (order {group.order})")
        return pairs if pairs.group is group else PairSet(group, pairs.g1, pairs.g2)
    arr = np.asarray(pairs)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise SymflowError(f"pairs must be None (whole table), a PairSet or a non-empty (P, 2) array of element "
                           f"indices (g1, g2); got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise SymflowError("pairs must hold integer element indices 0..n-1")
        arr = arr.astype(np.int64)
    n = group.order
    if arr.min() < 0 or arr.max() >= n:
        raise SymflowError(f"pair indices must lie in 0..{n - 1} for {group.name}; got values in "
                           f"{arr.min()}..{arr.max()}")
    return PairSet(group, arr[:, 0], arr[:, 1])


def add_evaluation_memory(estimate, pairs: int, outputs: int, width: int, what: str = "the network"):
    """Add to ``estimate`` (:class:`~symflow.resources.MemoryEstimate`) the peak of one
    :meth:`TwoLayerNetwork.evaluate` with gradients on ``P = pairs`` pairs, ``n = outputs`` and ``M = width``:
    five ``(P, n)`` arrays (logits, exponentials, dloss/dlogits, the one-hot scatters), three ``(M, P)``
    (pre-activations, activations, dloss/dsigma) and six ``(P,)`` index arrays."""
    estimate.add(f"{what}'s logits ({pairs} pairs x {outputs} outputs)", arrays=5, shape=(pairs, outputs))
    estimate.add(f"{what}'s hidden layer ({width} neurons x {pairs} pairs)", arrays=3, shape=(width, pairs))
    estimate.add("the input pairs", arrays=6, shape=(pairs,))
    return estimate


def split_pairs(group, frac: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random train/test split of the ``n^2`` table entries (for grokking experiments).

    Returns ``(train, test)``, two ``(P, 2)`` integer arrays of ``(g1, g2)``; ``train`` holds
    ``round(frac n^2)`` entries (at least one), chosen by ``numpy.random.default_rng(seed)``.
    ``frac = 1`` gives the whole table and an empty test set.
    """
    group = as_group(group)
    try:
        frac = float(frac)
    except (TypeError, ValueError):
        raise SymflowError(f"frac must be a number in (0, 1], got {frac!r}") from None
    if not (0.0 < frac <= 1.0):
        raise SymflowError(f"frac must be in (0, 1] (the fraction of table entries used for training), got {frac}")
    n = group.order
    allp = PairSet.all(group).pairs
    k = max(1, int(round(frac * n * n)))
    perm = np.random.default_rng(seed).permutation(n * n)
    train = allp[np.sort(perm[:k])]
    test = allp[np.sort(perm[k:])]
    return train, test


# ---------------------------------------------------------------------------------------------
# the network
# ---------------------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """Loss, number of correct argmax predictions, and (optionally) gradients on a pair set."""

    loss: float
    correct: int
    size: int
    grads: dict | None = None


class TwoLayerNetwork:
    r"""``f(g1, g2) = (1/M) sum_m a_m xi_m sigma(theta1_m(g1) + theta2_m(g2))`` on a finite group.

    Parameters
    ----------
    group : Group, str or Cayley table
        The group whose composition table is learned (``symflow.group(name)`` for a name).
    width : int
        Number of neurons ``M >= 1``.
    shared : bool
        ``theta1 = theta2 = theta`` (one embedding; ``params`` has ``"theta"`` instead of
        ``"theta1"``, ``"theta2"``).
    activation : str, SymPy expression, (sigma, dsigma) or callable with ``.derivative``
        ``"quad"`` (``z^2``, the paper's; also ``x^2``), ``"relu"``, ``"silu"`` or a polynomial such as ``"z^2+z^3"``:
        the one vocabulary, :func:`symflow.neuron.activation.as_activation`.
    scale : float or (M,) array
        The output scale ``a`` (``a_m > 0``). A scalar is tied over neurons unless
        ``per_neuron_scale``.
    per_neuron_scale : bool
        Train ``a_m`` per neuron (otherwise one tied scalar; ``params["a"]`` is always ``(M,)``).
    seed : int
        Seed of ``numpy.random.default_rng`` for the initialisation (draw order theta1, theta2, xi).
    init : {"sphere", "gaussian", "torch_uniform"}
        ``"sphere"``: each of ``theta1, theta2, xi`` uniform on the sphere of radius ``init_scale``;
        ``"gaussian"``: i.i.d. ``N(0, init_scale^2)`` entries; ``"torch_uniform"``: torch's default for a
        linear layer, entries ``U(-s/sqrt(fan_in), s/sqrt(fan_in))`` with ``s = init_scale``, first layer
        ``fan_in = 2n`` (``n`` shared) drawn as one ``(fan_in, M)`` matrix whose column ``m`` is
        ``[theta1_m; theta2_m]``, then ``xi`` as an ``(M, n)`` matrix with ``fan_in = M`` (Li2's init).
    init_scale : float
        Radius (sphere), entry standard deviation (gaussian) or factor of the bound (torch_uniform).
    dtype : {"float64", "float32"}
        Floating type of parameters and of the forward/backward pass. ``float64`` (default) is
        what the tests check against finite differences (relative 1e-6) and the reduced flow;
        ``float32`` is about twice as fast, with relative rounding ~1e-6 per step in the logits
        (losses are still summed in float64).
    loss : {"ce", "mse", "mse_centred"}
        Cross-entropy, the square loss, or the square loss with residuals centred over the evaluated
        pairs (Li2's; see the module doc).

    Attributes
    ----------
    params : dict
        ``name -> array``: ``theta1, theta2, xi`` (or ``theta, xi``) of shape ``(M, n)`` and ``a``
        of shape ``(M,)``. Training updates these arrays in place.
    """

    def __init__(self, group, width: int, shared: bool = False, activation="quad", scale=1.0,
                 per_neuron_scale: bool = False, seed: int = 0, init: str = "sphere", init_scale: float = 1.0,
                 dtype="float64", loss: str = "ce"):
        self.group = as_group(group)
        if loss not in NETWORK_LOSSES:
            raise ModelError(f"loss must be one of {NETWORK_LOSSES}, got {loss!r}")
        self.loss_name = loss
        self.dtype = _as_dtype(dtype)
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
            raise ModelError(f"width must be a positive integer (number of neurons M), got {width!r}")
        self.width = int(width)
        self.shared = bool(shared)
        self.neuron = Neuron("ce", self.shared)
        self.activation = as_activation(activation)
        self.per_neuron_scale = bool(per_neuron_scale)
        if init not in INITS:
            raise ModelError(f"init must be one of {INITS}, got {init!r}")
        try:
            ok = bool(np.isfinite(float(init_scale)) and float(init_scale) > 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ModelError(f"init_scale must be a positive finite number, got {init_scale!r}")
        self.seed = int(seed)
        self.init = init
        self.init_scale = float(init_scale)
        M, n = self.width, self.group.order
        rng = np.random.default_rng(self.seed)
        self.params: dict[str, np.ndarray] = {}
        if init == "torch_uniform":
            self.params.update(self._uniform_init(rng))
        else:
            for name in self.neuron.vector_names:
                x = rng.standard_normal((M, n))
                if init == "sphere":
                    x *= self.init_scale / np.linalg.norm(x, axis=1, keepdims=True)
                else:
                    x *= self.init_scale
                self.params[name] = x.astype(self.dtype)
        self.params["a"] = self._check_scale(scale)

    def _uniform_init(self, rng) -> dict:
        """torch's linear-layer init ``U(-s/sqrt(fan_in), s/sqrt(fan_in))`` (see ``init`` in the class doc)."""
        M, n = self.width, self.group.order
        embed = [name for name in self.neuron.vector_names if name != "xi"]
        fan_in = n * len(embed)
        first = rng.uniform(-1, 1, size=(fan_in, M)) / np.sqrt(fan_in) * self.init_scale
        out = {name: np.ascontiguousarray(first[i * n:(i + 1) * n].T) for i, name in enumerate(embed)}
        out["xi"] = rng.uniform(-1, 1, size=(M, n)) / np.sqrt(M) * self.init_scale
        return {k: v.astype(self.dtype) for k, v in out.items()}

    def _check_scale(self, scale) -> np.ndarray:
        a = np.asarray(scale, dtype=float)
        if a.ndim == 0:
            a = np.full(self.width, float(a))
        if a.shape != (self.width,):
            raise ModelError(f"scale must be a number or an array of shape ({self.width},), got shape {a.shape}")
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ModelError("scale a must be positive and finite")
        if not self.per_neuron_scale and np.ptp(a) > 0:
            raise ModelError("per-neuron scales given but per_neuron_scale=False; pass per_neuron_scale=True")
        return a.astype(self.dtype)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_params(cls, group, theta1, theta2=None, xi=None, scale=1.0, activation="quad",
                    per_neuron_scale: bool = False, dtype="float64", loss: str = "ce") -> "TwoLayerNetwork":
        """A network with given parameters: ``theta1, theta2, xi`` of shape ``(M, n)``
        (``theta2=None`` means shared ``theta = theta1``). Arrays are copied."""
        group = as_group(group)
        th1 = np.array(theta1, dtype=float, ndmin=2)
        if xi is None:
            raise ModelError("from_params needs xi (the output weights, shape (M, n))")
        net = cls(group, th1.shape[0], shared=theta2 is None, activation=activation, scale=1.0,
                  per_neuron_scale=per_neuron_scale, dtype=dtype, loss=loss)
        shapes = {"theta1": th1.shape, "xi": np.shape(xi)} | ({} if theta2 is None else {"theta2": np.shape(theta2)})
        for name, shp in shapes.items():
            if tuple(shp) != (net.width, group.order):
                raise ModelError(f"{name} must have shape (M, n) = ({net.width}, {group.order}), got {tuple(shp)}")
        if theta2 is None:
            net.params["theta"] = th1.astype(net.dtype)
        else:
            net.params["theta1"] = th1.astype(net.dtype)
            net.params["theta2"] = np.array(theta2, dtype=net.dtype)
        net.params["xi"] = np.array(xi, dtype=net.dtype)
        for name, x in net.params.items():
            if not np.all(np.isfinite(x)):
                raise ModelError(f"{name} contains non-finite values")
        net.params["a"] = net._check_scale(scale)
        return net

    @classmethod
    def modular_addition(cls, group, width: int, init_scale: float = 0.02, seed: int = 0,
                         activation="quad", shared: bool = True) -> "TwoLayerNetwork":
        """The MA network ``f(x, y) = sum_m xi_m sigma(theta_m[x] + theta_m[y])`` (docs/theory.md section 5).

        No ``1/M`` (scale ``a = M``), shared embedding, i.i.d. Gaussian init of standard deviation
        ``init_scale`` (small, so the softmax starts near uniform). Train it with
        ``constraint="none"`` and ``reduction="sum"``.
        """
        return cls(group, width, shared=shared, activation=activation, scale=float(width), seed=seed,
                   init="gaussian", init_scale=init_scale)

    @classmethod
    def li2(cls, group, width: int, seed: int = 0, activation="quad", init_scale: float = 1.0,
            dtype="float64") -> "TwoLayerNetwork":
        """Li2's network ``Y_hat = sigma(X W) V`` on inputs ``[e_a; e_b]`` (docs/theory.md section 11):
        ``W = [theta1^T; theta2^T]`` (``(2n, M)``), ``V = xi`` (``(M, n)``), no ``1/M`` (scale ``a = M``),
        torch's uniform init (``init="torch_uniform"``) and the loss ``1/(2N) ||P_c (Y - Y_hat)||^2`` with targets
        centred over the ``N`` samples (``loss="mse_centred"``). Train it unconstrained with ``"mean"``
        reduction and Adam with coupled weight decay (torch's ``Adam``; :func:`~symflow.dynamics.training.train`
        with ``optimizer="adam"``)."""
        return cls(group, width, shared=False, activation=activation, scale=float(width), seed=seed,
                   init="torch_uniform", init_scale=init_scale, dtype=dtype, loss="mse_centred")

    def copy(self) -> "TwoLayerNetwork":
        """An independent copy (parameters copied)."""
        new = object.__new__(TwoLayerNetwork)
        new.__dict__.update(self.__dict__)
        new.params = {k: v.copy() for k, v in self.params.items()}
        return new

    # ------------------------------------------------------------------ views
    @property
    def theta1(self) -> np.ndarray:
        return self.params[self.neuron.roles[0]]

    @property
    def theta2(self) -> np.ndarray:
        return self.params[self.neuron.roles[1]]

    @property
    def xi(self) -> np.ndarray:
        return self.params["xi"]

    @property
    def a(self) -> np.ndarray:
        return self.params["a"]

    @property
    def direction_names(self) -> tuple[str, ...]:
        """Names of the embedding/output parameters (everything but ``a``): the neuron's vectors."""
        return self.neuron.vector_names

    def describe(self) -> dict:
        """Plain-data description (goes into training metadata)."""
        return {"group": self.group.name, "order": self.group.order, "width": self.width,
                "shared": self.shared, "activation": self.activation.name,
                "scale": float(self.a[0]) if not self.per_neuron_scale else [float(v) for v in self.a],
                "per_neuron_scale": self.per_neuron_scale, "init": self.init,
                "init_scale": self.init_scale, "seed": self.seed, "dtype": self.dtype.name,
                "loss": self.loss_name}

    # ------------------------------------------------------------------ forward / backward
    def _pairset(self, pairs) -> PairSet:
        if isinstance(pairs, PairSet) and pairs.group is self.group:
            return pairs
        if pairs is None:
            full = self.__dict__.get("_full_pairs")
            if full is None or full.group is not self.group:
                full = self._full_pairs = PairSet.all(self.group)
            return full
        return as_pairs(self.group, pairs)

    def _hidden(self, ps: PairSet) -> np.ndarray:
        """``h = theta1[:, g1] + theta2[:, g2]``, shape ``(M, P)``: the first layer on one-hot inputs is a gather,
        not a product. The whole table by broadcasting (C order); a subset as rows of the transposed embeddings
        (contiguous gathers), returned as the ``(M, P)`` view of a C-ordered ``(P, M)`` array."""
        t1, t2 = self.theta1, self.theta2
        if ps.full:
            M, n = t1.shape
            return (t1[:, :, None] + t2[:, None, :]).reshape(M, n * n)
        return (np.ascontiguousarray(t1.T)[ps.g1] + np.ascontiguousarray(t2.T)[ps.g2]).T

    def _scatter(self, dh: np.ndarray, ps: PairSet):
        """The gradient of the gather: per element ``g`` the sum of ``dh[:, p]`` over the pairs with ``g1_p = g``
        (and ``g2_p = g``), two ``(M, n)`` arrays."""
        if ps.full:                                  # row sums and column sums as BLAS gemv
            M = dh.shape[0]
            n = self.group.order
            ones = np.ones(n, dtype=dh.dtype)
            return (dh.reshape(M * n, n) @ ones).reshape(M, n), np.matmul(ones, dh.reshape(M, n, n))
        s1, s2 = ps.scatter_matrices(dh.dtype)       # sparse one-hot sums, O(M P)
        rows = dh.T                                  # (P, M), C order when dh came from _hidden's layout
        return np.ascontiguousarray((s1 @ rows).T), np.ascontiguousarray((s2 @ rows).T)

    def output_weights(self) -> np.ndarray:
        """The effective output weights ``W_m = (a_m / M) xi_m``, shape ``(M, n)``: ``f = sigma(h)^T W``."""
        return (self.a / self.width)[:, None] * self.xi

    def evaluate(self, pairs=None, reduction: str = "mean", grads: bool = True) -> Evaluation:
        """Loss, correct count and (if ``grads``) the gradient dict on ``pairs``, in one pass.

        Non-finite parameters give a non-finite loss here (no exception): callers check.
        """
        if reduction not in REDUCTIONS:
            raise SymflowError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        ps = self._pairset(pairs)
        P = len(ps)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            h = self._hidden(ps)                       # (M, P)
            S = self.activation.sigma(h)               # (M, P)
            W = self.output_weights()                        # (M, n)
            z = S.T @ W                                # (P, n) logits
            rows = np.arange(P)
            w = 1.0 / P if reduction == "mean" else 1.0
            if self.loss_name != "ce":                 # 1/2 |f(p) - e_y|^2 per pair
                r = z.copy()
                r[rows, ps.y] -= 1.0
                if self.loss_name == "mse_centred":    # P_c R: centred over the evaluated pairs
                    r -= r.mean(axis=0)
                losses = 0.5 * np.einsum("ph,ph->p", r, r)
            else:
                zmax = z.max(axis=1, keepdims=True)
                e = np.exp(z - zmax)
                se = e.sum(axis=1, keepdims=True)
                lse = np.log(se[:, 0]) + zmax[:, 0]
                losses = lse - z[rows, ps.y]
            loss = float(losses.sum(dtype=np.float64) * w)
            correct = int(np.count_nonzero(z.argmax(axis=1) == ps.y))
            if not grads:
                return Evaluation(loss, correct, P)
            if self.loss_name == "ce":
                r = e / se
                r[rows, ps.y] -= 1.0
            r *= w                                     # dloss/dlogits, (P, n)
            G = S @ r                                  # (M, n) = dCE/dW
            out = {"xi": (self.a / self.width)[:, None] * G,
                   "a": np.einsum("mh,mh->m", self.xi, G) / self.width}
            # dCE/dsigma, (M, P), in the memory order of h (a subset's h is the view of a (P, M) array)
            dh = W @ r.T if h.flags.c_contiguous else (r @ W.T).T
            if self.activation.dsigma is square_derivative:       # in place: dh = 2 h dCE/dsigma
                dh *= h
                dh *= 2.0
            else:
                dh *= self.activation.dsigma(h)
            d1, d2 = self._scatter(dh, ps)
        if self.shared:
            out["theta"] = d1 + d2
        else:
            out["theta1"], out["theta2"] = d1, d2
        return Evaluation(loss, correct, P, out)

    def _checked(self, ev: Evaluation) -> Evaluation:
        if not np.isfinite(ev.loss):
            bad = [k for k, v in self.params.items() if not np.all(np.isfinite(v))]
            why = f"parameters {bad} contain non-finite values" if bad else "the logits overflow"
            raise ModelError(f"the loss is not finite ({ev.loss}): {why}")
        return ev

    def logits(self, pairs=None) -> np.ndarray:
        """``f(g1, g2)`` for each pair, shape ``(P, n)`` (``pairs=None``: whole table, row-major)."""
        ps = self._pairset(pairs)
        z = self.activation.sigma(self._hidden(ps)).T @ self.output_weights()
        if not np.all(np.isfinite(z)):
            raise ModelError("the logits are not finite; the parameters have diverged")
        return z

    def loss(self, pairs=None, reduction: str = "mean") -> float:
        """The network's loss (cross-entropy or square loss, see the module doc) on ``pairs`` (``"mean"`` over
        pairs or ``"sum"``)."""
        return self._checked(self.evaluate(pairs, reduction, grads=False)).loss

    def grads(self, pairs=None, reduction: str = "mean") -> dict:
        """Analytic gradients of :meth:`loss`, a dict with the keys of :attr:`params`.

        ``grads["a"][m] = dCE/da_m``; for a tied scale the derivative is ``grads["a"].sum()``.
        """
        return self._checked(self.evaluate(pairs, reduction, grads=True)).grads

    def accuracy(self, pairs=None) -> float:
        """Fraction of pairs whose argmax logit is ``g1 g2``."""
        ev = self._checked(self.evaluate(pairs, "mean", grads=False))
        return ev.correct / ev.size

    # ------------------------------------------------------------------ theory links
    def reduced_time_unit(self, reduction: str = "mean") -> float:
        """``c`` with reduced time ``t = steps * lr * c``: ``2a/M`` (mean) or ``2 a n^2 / M`` (sum).

        Valid in the small-logit regime with quadratic activation, full table and a tied scale.
        """
        if np.ptp(self.a) > 0:
            raise ModelError("the reduced time unit needs a tied scale (all a_m equal)")
        c = 2.0 * float(self.a[0]) / self.width
        if reduction == "sum":
            return c * self.group.order ** 2
        if reduction != "mean":
            raise SymflowError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        return c

    def energy(self) -> np.ndarray:
        """Per-neuron energy ``Omega_m`` (brute force over the table), shape ``(M,)``."""
        return omega(self.group, self.theta1, self.theta2, self.xi)

    def alignment(self) -> "NeuronAlignment":
        """Per-neuron Fourier read-out; see :func:`neuron_alignment`."""
        return neuron_alignment(self.group, self.theta1, self.theta2, self.xi)

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        kind = "shared" if self.shared else "unshared"
        if self.per_neuron_scale:
            sc = f"a_m in [{self.a.min():.4g}, {self.a.max():.4g}] (per neuron)"
        else:
            sc = f"a={self.a[0]:.4g} (tied)"
        return (f"<TwoLayerNetwork on {self.group.name} (n={self.group.order}): width {self.width}, {kind}, "
                f"{self.activation.name}, {sc}>")

    def _repr_latex_(self) -> str:
        th1, th2 = (r"\theta_m", r"\theta_m") if self.shared else (r"\theta^{(1)}_m", r"\theta^{(2)}_m")
        am = r"a_m" if self.per_neuron_scale else "a"
        return (rf"$f(g_1,g_2) = \frac{{1}}{{M}}\sum_{{m=1}}^{{M}} {am}\,\xi_m\,"
                rf"\sigma\!\left({th1}(g_1) + {th2}(g_2)\right),\quad {self.activation.latex},\ "
                rf"M = {self.width},\ G = \mathrm{{{self.group.name}}}$")


# ---------------------------------------------------------------------------------------------
# Fourier read-out of trained neurons
# ---------------------------------------------------------------------------------------------
@dataclass
class NeuronAlignment:
    r"""Per-neuron Fourier diagnostics on the dominant irrep (GC's equilibrium conditions).

    For each neuron, ``orbit[m]`` is the non-trivial conjugate-pair orbit carrying the most
    energy of ``theta1, theta2, xi`` together and ``irrep[m]`` its first member ``rho``; on
    ``rho`` with blocks ``T1 = theta1_hat, T2 = theta2_hat, X = xi_hat``:

    * ``concentration``: the smallest (over the three vectors) fraction of the non-trivial energy
      on that orbit;
    * ``sigma_ratio``: the largest (over the three blocks) ratio ``s2/s1`` of singular values
      (0 for 1-dim irreps); rank one means 0;
    * ``cos_xi = cos(X, T2 T1)``, ``cos_theta1 = cos(T1, T2^* X)``, ``cos_theta2 = cos(T2, X T1^*)``
      with ``cos(A, B) = Re tr(A^* B) / (|A|_F |B|_F)``: rotational alignment means all equal 1.

    Ratios, cosines and the aligned test are those of :mod:`symflow.dynamics.alignment`.
    """

    orbit: np.ndarray
    irrep: np.ndarray
    concentration: np.ndarray
    sigma_ratio: np.ndarray
    cos_xi: np.ndarray
    cos_theta1: np.ndarray
    cos_theta2: np.ndarray

    @property
    def cosines(self) -> np.ndarray:
        """``(M, 3)``: ``cos_xi, cos_theta1, cos_theta2``."""
        return np.stack([self.cos_xi, self.cos_theta1, self.cos_theta2], axis=-1)

    def aligned(self, ratio: float = RANK_THRESHOLD, cos: float = COSINE_THRESHOLD) -> np.ndarray:
        """Boolean ``(M,)``: ``sigma_ratio < ratio`` and all three cosines ``> cos``."""
        return is_aligned(self.sigma_ratio, self.cosines, ratio, cos)

    def aligned_fraction(self, ratio: float = RANK_THRESHOLD, cos: float = COSINE_THRESHOLD) -> float:
        return float(self.aligned(ratio, cos).mean())

    def __repr__(self) -> str:
        return (f"<NeuronAlignment: {len(self.orbit)} neurons, aligned fraction {self.aligned_fraction():.3f}, "
                f"median cos {np.median(self.cosines.min(axis=-1)):.4f}>")


def neuron_alignment(group, theta1, theta2, xi) -> NeuronAlignment:
    """Compute :class:`NeuronAlignment` for neurons given as ``(M, n)`` arrays."""
    group = as_group(group)
    theta1, theta2, xi = (np.atleast_2d(np.asarray(v, dtype=float)) for v in (theta1, theta2, xi))
    basis = group.real_fourier_basis
    orbits = group.orbits
    nontriv = [orb.id for orb in orbits if not orb.is_trivial]
    E = [basis.orbit_energy(v)[:, nontriv] for v in (theta1, theta2, xi)]   # (M, K)
    total = E[0] + E[1] + E[2]
    best = np.argmax(total, axis=1)
    M = theta1.shape[0]
    rows = np.arange(M)
    conc = np.min(np.stack([e[rows, best] / np.maximum(e.sum(axis=1), 1e-300) for e in E]), axis=0)
    orbit = np.array(nontriv)[best]
    irrep = np.array([orbits[k][0] for k in orbit], dtype=np.int64)
    F = [group.fourier(v) for v in (theta1, theta2, xi)]
    ratio, cosines = np.zeros(M), np.zeros((M, 3))
    for i in np.unique(irrep):
        sel = irrep == i
        T1, T2, X = (f[int(i)][sel] for f in F)        # (m, d, d)
        ratio[sel] = np.max(rank_ratio(np.stack([T1, T2, X]), method="svd"), axis=0)
        cosines[sel] = alignment_cosines(T1, T2, X)
    return NeuronAlignment(orbit, irrep, conc, ratio, *cosines.T)
