r"""What a trained modular-addition network computes: the flawed indicator and the activation swap.

docs/theory.md section 5 (MA): every neuron of a trained network is a single-frequency cosine,
``theta(j) = alpha cos(w_k j + phi)``, ``xi(j) = beta cos(w_k j + psi)`` with ``psi = 2 phi``; with
the phases of each frequency spread uniformly, the quadratic network computes

    f(x, y)[j] = c * ( 2 * 1{j = x+y} + 1{j = 2x} + 1{j = 2y} ) + const(x, y)

(averaging ``(cos(wx+phi) + cos(wy+phi))^2 cos(wj + 2phi)`` over ``phi`` leaves
``cos(w(x+y-j))/2 + cos(w(2x-j))/4 + cos(w(2y-j))/4``; summing over ``k`` gives the indicators):
the argmax is right with a 2:1 margin over the "ghost" peaks at ``2x`` and ``2y``.

:func:`flawed_indicator_fit` regresses the per-pair centred logits on the centred indicators
``1{j=x+y}``, ``1{j=2x}``, ``1{j=2y}`` (least squares over all ``p^3`` entries) and reports the
coefficients, their ratios (theory: 2:1:1), ``R^2`` and the correlation with the fixed 2:1:1
template, plus the argmax accuracy on the whole table. :func:`activation_swap` evaluates the
trained weights with a different activation at test time: ``ReLU = (z + |z|)/2`` and only the
even part ``|z|/2`` carries the algorithm (the odd part ``z/2`` gives ``xi(j) (theta(x) + theta(y))``,
which cannot depend on ``x + y``), so even replacements (``|z|``, ``z^2``, ``z^4``) should keep the
accuracy and odd ones (``z``, ``z^3``) should lose it. :func:`ideal_network` builds MA's
idealised network (``psi = 2 phi``, equally spaced phases) for which the fit is exact;
:func:`single_frequency_projection` keeps only each trained neuron's dominant cosine (MA's
premise) so the fit can be compared with and without the remaining Fourier energy.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..errors import SymflowError
from ..neuron.activation import ABS, QUAD, RELU, as_activation
from ..theory.modular import frequency_coordinates

__all__ = ["FlawedIndicatorFit", "MechanismReport", "flawed_indicator_template", "flawed_indicator_fit",
           "activation_swap", "ideal_network", "network_logits", "neuron_frequencies", "mechanism_report",
           "single_frequency_projection", "indicator_coefficients", "phase_averaged_weights",
           "SWAP_ACTIVATIONS"]

#: Test-time activations of :func:`activation_swap`: name -> (function, parity); the one activation objects
#: of :mod:`symflow.neuron.activation`.
SWAP_ACTIVATIONS = {
    "relu": (RELU.sigma, "neither"),
    "|z|": (ABS.sigma, "even"),
    "z^2": (QUAD.sigma, "even"),
    "z^4": (as_activation("z^4").sigma, "even"),
    "z": (as_activation("z").sigma, "odd"),
    "z^3": (as_activation("z^3").sigma, "odd"),
}


def _as_arrays(net_or_theta, theta2=None, xi=None):
    """``(theta1, theta2, W)`` with the effective output weights ``W = (a/M) xi`` of a network."""
    if xi is None and hasattr(net_or_theta, "params"):
        net = net_or_theta
        return np.asarray(net.theta1, float), np.asarray(net.theta2, float), net.output_weights()
    th1 = np.atleast_2d(np.asarray(net_or_theta, dtype=float))
    th2 = th1 if theta2 is None else np.atleast_2d(np.asarray(theta2, dtype=float))
    if xi is None:
        raise SymflowError("pass a TwoLayerNetwork, or arrays theta1, theta2 (None: shared) and xi of shape (M, p)")
    W = np.atleast_2d(np.asarray(xi, dtype=float))
    if not (th1.shape == th2.shape == W.shape):
        raise SymflowError(f"theta1, theta2, xi must share the shape (M, p); got {th1.shape}, {th2.shape}, {W.shape}")
    return th1, th2, W


def network_logits(theta1, theta2, xi, activation=QUAD.sigma) -> np.ndarray:
    """``f(x, y)[j] = sum_m xi_m[j] sigma(theta1_m[x] + theta2_m[y])``, shape ``(p, p, p)`` (x, y, j)."""
    h = theta1[:, :, None] + theta2[:, None, :]              # (M, p, p)
    with np.errstate(over="ignore", invalid="ignore"):
        S = activation(h)
        z = np.einsum("mxy,mj->xyj", S, xi)
    if not np.all(np.isfinite(z)):
        raise SymflowError("the logits are not finite (activation overflow); rescale the weights")
    return z


def _targets(p: int, table=None) -> tuple:
    """``(x*y, x*x, y*y)`` index arrays ``(p, p)``: ``table`` (a Cayley table) or addition mod ``p``."""
    if table is None:
        x = np.arange(p)
        T = (x[:, None] + x[None, :]) % p
    else:
        T = np.asarray(table, dtype=int)
        if T.shape != (p, p):
            raise SymflowError(f"the Cayley table must have shape ({p}, {p}), got {T.shape}")
    sq = np.diag(T)
    return T, np.broadcast_to(sq[:, None], (p, p)), np.broadcast_to(sq[None, :], (p, p))


def flawed_indicator_template(p: int, weights=(2.0, 1.0, 1.0), table=None) -> np.ndarray:
    """``w1 1{j = x y} + w2 1{j = x x} + w3 1{j = y y}``, shape ``(p, p, p)`` (``table=None``: ``Z_p``,
    written additively ``x + y``, ``2x``, ``2y``)."""
    T = np.zeros((p, p, p))
    X, Y = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    for w, tgt in zip(weights, _targets(p, table)):
        T[X, Y, tgt] += w
    return T


def _table_accuracy(z, table=None) -> float:
    return float(np.mean(z.argmax(axis=2) == _targets(z.shape[0], table)[0]))


@dataclass
class FlawedIndicatorFit:
    """Least-squares fit ``f - mean_j f = a 1~{x+y} + b 1~{2x} + c 1~{2y} + residual`` (``1~`` centred over j)."""

    p: int
    coef: np.ndarray          # (a, b, c)
    r2: float                 # of the three-indicator fit
    correlation: float        # with the fixed 2:1:1 template
    accuracy: float           # argmax on the whole table
    margin: float             # median over pairs of (f[x+y] - max_{j != x+y} f[j]) / a

    @property
    def ratios(self) -> tuple[float, float]:
        """``(a/b, a/c)``; MA: ``(2, 2)``."""
        a, b, c = self.coef
        return (a / b if b else np.inf, a / c if c else np.inf)

    def to_json(self) -> dict:
        return {"coef_sum": float(self.coef[0]), "coef_2x": float(self.coef[1]), "coef_2y": float(self.coef[2]),
                "ratio_sum_over_2x": float(self.ratios[0]), "ratio_sum_over_2y": float(self.ratios[1]),
                "r2": self.r2, "correlation_211": self.correlation, "accuracy": self.accuracy,
                "relative_margin": self.margin}

    def __repr__(self) -> str:
        a, b, c = self.coef
        return (f"<FlawedIndicatorFit p={self.p}: f ~ {a:.4g} 1{{x+y}} + {b:.4g} 1{{2x}} + {c:.4g} 1{{2y}} "
                f"(ratios {self.ratios[0]:.3f}, {self.ratios[1]:.3f}; R^2 {self.r2:.4f}; corr 2:1:1 "
                f"{self.correlation:.4f}; accuracy {self.accuracy:.4f})>")

    def _repr_latex_(self) -> str:
        a, b, c = self.coef
        return (rf"$f(x,y)[j] \approx {a:.4g}\,\mathbb{{1}}_{{j=x+y}} + {b:.4g}\,\mathbb{{1}}_{{j=2x}} + "
                rf"{c:.4g}\,\mathbb{{1}}_{{j=2y}} + \mathrm{{const}}(x,y),\ R^2 = {self.r2:.4f}$")


def flawed_indicator_fit(logits, table=None) -> FlawedIndicatorFit:
    """Fit the flawed indicator to logits of shape ``(p, p, p)`` or ``(p^2, p)`` (row-major pairs).

    ``table``: the Cayley table of the group (element indices), for groups other than ``Z_p``."""
    z = np.asarray(logits, dtype=float)
    if z.ndim == 2:
        p = z.shape[1]
        if z.shape[0] != p * p:
            raise SymflowError(f"logits of shape (P, p) must hold the whole table (P = p^2 = {p * p}), got {z.shape}")
        z = z.reshape(p, p, p)
    if z.ndim != 3 or len(set(z.shape)) != 1:
        raise SymflowError(f"logits must have shape (p, p, p) or (p^2, p), got {np.shape(logits)}")
    if not np.all(np.isfinite(z)):
        raise SymflowError("logits contain non-finite values")
    p = z.shape[0]
    zc = z - z.mean(axis=2, keepdims=True)
    regs = []
    for w in ((1, 0, 0), (0, 1, 0), (0, 0, 1)):
        T = flawed_indicator_template(p, w, table)
        regs.append((T - T.mean(axis=2, keepdims=True)).ravel())
    A = np.stack(regs, axis=1)
    coef, *_ = np.linalg.lstsq(A, zc.ravel(), rcond=None)
    resid = zc.ravel() - A @ coef
    ss = float(np.sum(zc ** 2))
    r2 = 1.0 - float(np.sum(resid ** 2)) / ss if ss > 0 else float("nan")
    T = flawed_indicator_template(p, table=table)
    Tc = (T - T.mean(axis=2, keepdims=True)).ravel()
    corr = float(np.dot(Tc, zc.ravel()) / (np.linalg.norm(Tc) * np.sqrt(ss))) if ss > 0 else float("nan")
    target = _targets(p, table)[0]
    true = np.take_along_axis(z, target[:, :, None], axis=2)[:, :, 0]
    other = z.copy()
    np.put_along_axis(other, target[:, :, None], -np.inf, axis=2)
    gap = true - other.max(axis=2)
    margin = float(np.median(gap) / coef[0]) if coef[0] != 0 else float("nan")
    return FlawedIndicatorFit(p, coef, r2, corr, _table_accuracy(z, table), margin)


def indicator_coefficients(theta1, theta2, xi, table=None) -> np.ndarray:
    """Per-neuron least-squares coefficients ``(M, 3)`` of the flawed-indicator fit.

    The fit is linear in the logits and the logits are a sum over neurons, so the network's
    coefficients (:func:`flawed_indicator_fit` with quadratic activation) are the sum of these
    rows: resampling the rows gives bootstrap errors without refitting. Computed without the
    ``p^3`` tensor: with ``S_m(x, y) = (theta1_m(x) + theta2_m(y))^2`` and the targets
    ``t_i(x, y)`` (``xy``, ``xx``, ``yy``), the normal equations are
    ``b_i = sum_{x,y} (xi_m(t_i(x,y)) - mean xi_m) S_m(x,y)`` and
    ``G_ij = sum_{x,y} (1{t_i = t_j} - 1/p)``; ``coef_m = G^-1 b``.
    """
    th1, th2, W = _as_arrays(theta1, theta2, xi)
    M, p = W.shape
    tg = [np.ascontiguousarray(t) for t in _targets(p, table)]
    G = np.array([[np.sum(ti == tj) - p * p / p for tj in tg] for ti in tg], dtype=float)
    S = (th1[:, :, None] + th2[:, None, :]) ** 2                          # (M, p, p)
    Wc = W - W.mean(axis=1, keepdims=True)
    b = np.stack([np.einsum("mxy,mxy->m", Wc[:, t], S) for t in tg], axis=1)  # (M, 3)
    return np.linalg.solve(G, b.T).T


@functools.lru_cache(maxsize=None)
def phase_averaged_weights(shared: bool) -> tuple:
    r"""Derive the flawed-indicator weights by averaging one aligned neuron over its phases (SymPy).

    A neuron on frequency ``w`` has ``theta1(x) = cos(w x + phi1)``, ``theta2(y) = cos(w y + phi2)``,
    ``xi(j) = cos(w j + phi1 + phi2)`` (shared: ``phi2 = phi1``). Averaging
    ``(theta1(x) + theta2(y))^2 xi(j)`` over Haar phases leaves
    ``c1 cos(w(x+y-j)) + c2 cos(w(2x-j)) + c3 cos(w(2y-j))``; summed over all non-trivial
    frequencies each cosine becomes ``n 1{...} - 1``, so ``(c1, c2, c3)`` are the indicator
    weights (shared: ``(1/2, 1/4, 1/4)``, i.e. 2:1:1; unshared: ``(1/2, 0, 0)``). Returns SymPy
    rationals.
    """
    X, Y, J, p1, p2 = sp.symbols("X Y J phi1 phi2", real=True)
    q = p1 if shared else p2
    f = (sp.cos(X + p1) + sp.cos(Y + q)) ** 2 * sp.cos(J + p1 + q)
    avg = sp.integrate(sp.expand(sp.expand_trig(f)), (p1, 0, 2 * sp.pi)) / (2 * sp.pi)
    if not shared:
        avg = sp.integrate(avg, (p2, 0, 2 * sp.pi)) / (2 * sp.pi)
    avg = sp.simplify(avg)
    basis = [sp.cos(X + Y - J), sp.cos(2 * X - J), sp.cos(2 * Y - J)]
    # coefficients by orthogonality on the torus (X, Y, J): <cos u, cos u> = 1/2
    coef = []
    for b in basis:
        c = sp.integrate(sp.expand(sp.expand_trig(avg * b)), (X, 0, 2 * sp.pi), (Y, 0, 2 * sp.pi), (J, 0, 2 * sp.pi))
        coef.append(sp.nsimplify(sp.simplify(2 * c / (2 * sp.pi) ** 3)))
    rest = sp.simplify(sp.expand_trig(avg - sum(c * b for c, b in zip(coef, basis))))
    if rest != 0:
        raise SymflowError(f"phase average has terms outside the indicator basis: {rest}")
    return tuple(coef)


def activation_swap(net_or_theta, theta2=None, xi=None, activations=None) -> dict:
    """Whole-table argmax accuracy with each test-time activation: ``{name: (accuracy, parity)}``."""
    th1, th2, W = _as_arrays(net_or_theta, theta2, xi)
    acts = SWAP_ACTIVATIONS if activations is None else activations
    out = {}
    for name, (f, parity) in acts.items():
        out[name] = (_table_accuracy(network_logits(th1, th2, W, f)), parity)
    return out


def ideal_network(p: int, phases_per_frequency: int = 5, amplitude: float = 1.0):
    """MA's idealised network: for each ``k``, neurons ``cos(w_k j + phi)``, ``cos(w_k j + 2 phi)``.

    Phases ``phi = 2 pi r / R``, ``r = 0..R-1`` with ``R = phases_per_frequency`` not in
    ``{1, 2, 4}`` (so the averages of ``e^{2 i phi}`` and ``e^{4 i phi}`` vanish exactly). Returns
    ``(theta, xi)`` of shape ``(K R, p)``; with ``sigma = z^2`` and unit amplitude its logits are
    exactly ``(p R / 8) (2 * 1{x+y} + 1{2x} + 1{2y}) + const(x, y)``.
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 3 or p % 2 == 0:
        raise SymflowError(f"p must be an odd integer >= 3, got {p!r}")
    if phases_per_frequency in (1, 2, 4) or phases_per_frequency < 1:
        raise SymflowError("phases_per_frequency must be a positive integer other than 1, 2, 4 (equally spaced "
                           f"phases must average e^(2 i phi) and e^(4 i phi) to 0), got {phases_per_frequency}")
    K = (p - 1) // 2
    j = np.arange(p)
    k = np.repeat(np.arange(1, K + 1), phases_per_frequency)
    phi = np.tile(2 * np.pi * np.arange(phases_per_frequency) / phases_per_frequency, K)
    w = 2 * np.pi * k[:, None] / p
    return amplitude * np.cos(w * j + phi[:, None]), amplitude * np.cos(w * j + 2 * phi[:, None])


def neuron_frequencies(theta1, theta2, xi) -> dict:
    """Per neuron: dominant frequency ``k`` (1-based), its energy share, ``D = phi1 + phi2 - psi`` there."""
    a1, p1, _ = frequency_coordinates(theta1)
    a2, p2, _ = frequency_coordinates(theta2)
    b, ps, _ = frequency_coordinates(xi)
    e = a1 ** 2 / np.maximum((a1 ** 2).sum(1, keepdims=True), 1e-300) \
        + a2 ** 2 / np.maximum((a2 ** 2).sum(1, keepdims=True), 1e-300) \
        + b ** 2 / np.maximum((b ** 2).sum(1, keepdims=True), 1e-300)
    k = e.argmax(axis=1)
    rows = np.arange(len(k))
    D = np.angle(np.exp(1j * (p1[rows, k] + p2[rows, k] - ps[rows, k])))
    return {"k": k + 1, "share": e[rows, k] / 3.0, "D": D, "phi": p1[rows, k]}


@dataclass
class MechanismReport:
    """Flawed-indicator fit, per-neuron structure and activation swap of one network."""

    fit: FlawedIndicatorFit
    swap: dict
    single_frequency_share: float      # median energy share of each neuron's dominant frequency
    mean_abs_sin_D: float              # psi = phi1 + phi2 (= 2 phi shared) means sin D = 0
    frequencies_used: list
    phase_spread: float                # max over used frequencies of |mean e^{2 i phi}| (0: uniform)
    extras: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"flawed_indicator": self.fit.to_json(),
                "activation_swap": {k: {"accuracy": v[0], "parity": v[1]} for k, v in self.swap.items()},
                "single_frequency_share": self.single_frequency_share, "mean_abs_sin_D": self.mean_abs_sin_D,
                "frequencies_used": self.frequencies_used, "phase_spread": self.phase_spread, **self.extras}

    def swap_verdict(self) -> str:
        even = [v[0] for v in self.swap.values() if v[1] == "even"]
        odd = [v[0] for v in self.swap.values() if v[1] == "odd"]
        return (f"even activations keep accuracy {min(even):.3f}..{max(even):.3f}; "
                f"odd activations give {min(odd):.3f}..{max(odd):.3f}")

    def __repr__(self) -> str:
        return (f"<MechanismReport: {self.fit!r}; neurons single-frequency share {self.single_frequency_share:.3f}, "
                f"mean |sin D| {self.mean_abs_sin_D:.3f}; {self.swap_verdict()}>")

    def _repr_latex_(self) -> str:
        return self.fit._repr_latex_()


def mechanism_report(net_or_theta, theta2=None, xi=None, activation=None) -> MechanismReport:
    """Run every mechanism check on a network (or arrays); ``activation`` defaults to the network's."""
    th1, th2, W = _as_arrays(net_or_theta, theta2, xi)
    if activation is None:
        act = getattr(net_or_theta, "activation", None)
        activation = act.sigma if act is not None else QUAD.sigma
    fit = flawed_indicator_fit(network_logits(th1, th2, W, activation))
    nf = neuron_frequencies(th1, th2, W)
    norms = np.sqrt((th1 ** 2).sum(1) + (th2 ** 2).sum(1) + (W ** 2).sum(1))
    alive = norms > 0.01 * norms.max()
    ks = nf["k"][alive]
    spread = 0.0
    used = sorted(int(k) for k in np.unique(ks))
    for k in used:
        sel = ks == k
        if sel.sum() >= 2:
            spread = max(spread, float(np.abs(np.mean(np.exp(2j * nf["phi"][alive][sel])))))
    projected = flawed_indicator_fit(network_logits(*single_frequency_projection(th1, th2, W, nf["k"]), activation))
    return MechanismReport(fit, activation_swap(th1, th2, W), float(np.median(nf["share"][alive])),
                           float(np.mean(np.abs(np.sin(nf["D"][alive])))), used, spread,
                           {"alive_neurons": int(alive.sum()),
                            "projected_fit": projected.to_json()})


def single_frequency_projection(theta1, theta2, xi, k=None):
    """Keep only each neuron's dominant-frequency cosine (no DC, no other frequency) in all three vectors.

    MA's premise made exact: the flawed-indicator fit of the projected network isolates what the
    dominant components compute from what the remaining energy adds.
    """
    if k is None:
        k = neuron_frequencies(theta1, theta2, xi)["k"]
    p = theta1.shape[-1]
    rows = np.arange(theta1.shape[0])
    j = np.arange(p)
    out = []
    for v in (theta1, theta2, xi):
        amp, ph, _ = frequency_coordinates(v)
        out.append(amp[rows, k - 1][:, None] * np.cos(2 * np.pi * k[:, None] * j / p + ph[rows, k - 1][:, None]))
    return tuple(out)
