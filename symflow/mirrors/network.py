r"""The networks of the Library of Mirrors: parallel narrow units, the reconstruction map, kinks.

A network of depth ``L`` and width ``m`` on 1-D inputs is a sum of ``m`` narrow units (every layer of
a unit has one neuron) and a bias::

    h_0 = x,   h_l = sigma_l(W_l h_{l-1} + B_l)  (l = 1..L-1),   f(x) = sum_units alpha * amp * h_{L-1} + xi

with ``sigma_1 = sigma`` (the activation) and ReLU in the deeper layers (depth 3, 4 are ReLU only);
``amp`` (amplitude) exists only for the degree-0 activations threshold and sign. Parameters are a
dict of arrays with any leading batch shape (e.g. one row per training seed): ``W, B``
``(..., m, L-1)``, ``alpha, amp`` ``(..., m)``, ``xi`` ``(...)``.

Training objective of the paper (biases unregularised)::

    1/2 ||f(x) - y||^2 + (beta/L) sum_units (sum_l |W_l|^L + |alpha|^L)        (relu, abs, leaky)
    1/2 ||f(x) - y||^2 + (beta/2) sum_units (amp^2 + alpha^2)                   (threshold, sign)

Reconstruction (Lasso solution -> network), for every nonzero ``z`` on a column with signs ``s_l`` and
breakpoints ``a_l``: ``gamma = |z|^(1/L)``, ``W_l = s_l gamma``, ``B_l = -s_l c_l gamma^l`` with
``c_l = F_l(a_l)`` (``c_1 = a_1``), ``alpha = sign(z) gamma``; for threshold/sign ``W = s``,
``B = -s a``, ``amp = gamma``. :func:`symflow.mirrors.symbolic.unit_identity` proves the unit computes
``z F(x)`` at penalty ``beta |z|``.
"""
from __future__ import annotations

import numpy as np

from .dictionary import Dictionary
from ..neuron.activation import as_activation
from .symbolic import feature_function, homogeneity_degree


def degree(activation: str) -> int:
    return homogeneity_degree(activation)


def layer_activations(depth: int, activation: str):
    """``[(sigma, dsigma)]`` per layer: the activation first, ReLU after."""
    first, relu = as_activation(activation), as_activation("relu")
    return [(first.sigma, first.dsigma)] + [(relu.sigma, relu.dsigma)] * (depth - 2)


def forward(params: dict, x: np.ndarray, depth: int, activation: str, keep: bool = False):
    """``f(x)`` ``(..., N)``; with ``keep`` also the pre-activations and layer outputs ``(..., m, N)``."""
    acts = layer_activations(depth, activation)
    W, B = params["W"], params["B"]
    h = np.broadcast_to(np.asarray(x, dtype=float), W.shape[:-1] + (len(x),))
    pres, hs = [], [h]
    for layer in range(depth - 1):
        pre = W[..., layer, None] * h + B[..., layer, None]
        h = acts[layer][0](pre)
        pres.append(pre)
        hs.append(h)
    out_w = params["alpha"] * params["amp"] if "amp" in params else params["alpha"]
    f = np.einsum("...m,...mn->...n", out_w, h) + np.asarray(params["xi"])[..., None]
    return (f, pres, hs) if keep else f


def penalty(params: dict, depth: int, activation: str, beta: float) -> np.ndarray:
    """The regulariser of the module docstring, per batch row."""
    if degree(activation) == 0:
        return beta / 2 * (np.sum(params["amp"] ** 2, axis=-1) + np.sum(params["alpha"] ** 2, axis=-1))
    return beta / depth * (np.sum(np.abs(params["W"]) ** depth, axis=(-2, -1))
                           + np.sum(np.abs(params["alpha"]) ** depth, axis=-1))


def objective(params: dict, x, y, depth: int, activation: str, beta: float) -> np.ndarray:
    """``1/2 ||f(x) - y||^2 + penalty`` per batch row."""
    r = forward(params, x, depth, activation) - y
    return 0.5 * np.sum(r * r, axis=-1) + penalty(params, depth, activation, beta)


def objective_and_gradient(params: dict, x, y, depth: int, activation: str, beta: float):
    """``(objective per row, gradients dict)`` by backpropagation through the narrow units."""
    acts = layer_activations(depth, activation)
    f, pres, hs = forward(params, x, depth, activation, keep=True)
    r = f - y
    grads = {}
    deg0 = degree(activation) == 0
    h_last = hs[-1]
    rh = np.einsum("...n,...mn->...m", r, h_last)
    if deg0:
        grads["alpha"] = rh * params["amp"] + beta * params["alpha"]
        grads["amp"] = rh * params["alpha"] + beta * params["amp"]
        out_w = params["alpha"] * params["amp"]
    else:
        a = params["alpha"]
        grads["alpha"] = rh + beta * np.abs(a) ** (depth - 1) * np.sign(a)
        out_w = a
    dh = out_w[..., None] * r[..., None, :]
    dW = np.zeros_like(params["W"])
    dB = np.zeros_like(params["B"])
    for layer in reversed(range(depth - 1)):
        dpre = dh * acts[layer][1](pres[layer])
        dW[..., layer] = np.sum(dpre * hs[layer], axis=-1)
        dB[..., layer] = np.sum(dpre, axis=-1)
        dh = dpre * params["W"][..., layer, None]
    if not deg0:
        W = params["W"]
        dW = dW + beta * np.abs(W) ** (depth - 1) * np.sign(W)
    grads["W"], grads["B"] = dW, dB
    grads["xi"] = np.sum(r, axis=-1)
    obj = 0.5 * np.sum(r * r, axis=-1) + penalty(params, depth, activation, beta)
    return obj, grads


# ---------------------------------------------------------------------------------------------
# reconstruction
# ---------------------------------------------------------------------------------------------
def previous_layer_values(depth: int, breakpoints: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """``c_l = F_l(a_l)`` per column ``(C, L-1)``: ``c_1 = a_1``, ``c_l`` the depth-``l`` feature at ``a_l``."""
    C = len(breakpoints)
    c = np.zeros((C, depth - 1))
    if C == 0:
        return c
    c[:, 0] = breakpoints[:, 0]
    for level in range(2, depth):
        f = feature_function(level, "relu")
        args = [breakpoints[:, i] for i in range(level - 1)] + [signs[:, i].astype(float) for i in range(level - 1)]
        c[:, level - 1] = np.broadcast_to(f(breakpoints[:, level - 1], *args), (C,))
    return c


def reconstruct(dictionary: Dictionary, z: np.ndarray, xi: float, cols=None) -> dict:
    """The network of a Lasso solution (module docstring): one unit per column in ``cols`` (default:
    the nonzero ``z``), parameters without batch dimension."""
    L, act = dictionary.depth, dictionary.activation
    cols = np.flatnonzero(z) if cols is None else np.asarray(cols, dtype=int)
    zc = z[cols]
    s = dictionary.signs[cols].astype(float)
    a = dictionary.breakpoints[cols]
    if degree(act) == 0:
        gamma = np.sqrt(np.abs(zc))
        return {"W": s.copy(), "B": -s * a, "alpha": np.sign(zc) * gamma, "amp": gamma, "xi": np.asarray(float(xi))}
    gamma = np.abs(zc) ** (1.0 / L)
    c = previous_layer_values(L, a, dictionary.signs[cols])
    powers = gamma[:, None] ** np.arange(1, L)[None, :]
    return {"W": s * gamma[:, None], "B": -s * c * powers, "alpha": np.sign(zc) * gamma, "xi": np.asarray(float(xi))}


def reconstruction_check(dictionary: Dictionary, z: np.ndarray, xi: float, beta: float) -> dict:
    """``max_i |net(x_i) - (A z + xi)_i|`` (and on a dense grid against ``sum z_c F_c(x) + xi``) and the
    network's penalty (``beta > 0``) or weight norm ``(1/L) sum |w|^L`` (``beta = 0``) against ``beta ||z||_1``."""
    params = reconstruct(dictionary, z, xi)
    x = dictionary.data.x
    net = forward(params, x, dictionary.depth, dictionary.activation)
    lasso_fit = dictionary.matrix @ z + xi
    lo, hi = x[0], x[-1]
    pad = 0.25 * (hi - lo)
    grid = np.linspace(lo - pad, hi + pad, 401)
    cols = np.flatnonzero(z)
    grid_net = forward(params, grid, dictionary.depth, dictionary.activation)
    grid_lasso = dictionary.evaluate(grid, cols) @ z[cols] + xi
    weight = 1.0 if beta == 0 else beta
    pen = float(penalty(params, dictionary.depth, dictionary.activation, weight))
    return {"max_abs_error": float(np.max(np.abs(net - lasso_fit))),
            "grid_max_abs_error": float(np.max(np.abs(grid_net - grid_lasso))),
            "penalty": pen, "penalty_lasso": float(weight * np.sum(np.abs(z))), "units": int(len(cols))}


def unit_errors(dictionary: Dictionary, z: np.ndarray, xi: float) -> dict:
    """Per nonzero column ``c``: ``max |unit_c(x) - z_c F_c(x)|`` over the data and a dense grid around them,
    ``unit_c`` the reconstructed unit alone, and ``|penalty_c / beta - |z_c||`` (the numeric side of the
    per-feature proof)."""
    cols = np.flatnonzero(z)
    params = reconstruct(dictionary, z, 0.0, cols)
    x = dictionary.data.x
    pad = 0.25 * (x[-1] - x[0])
    pts = np.concatenate([x, np.linspace(x[0] - pad, x[-1] + pad, 201)])
    F = dictionary.evaluate(pts, cols)
    out = {}
    for i, c in enumerate(cols):
        one = {k: (v[i:i + 1] if np.ndim(v) else v) for k, v in params.items()}
        one["xi"] = np.asarray(0.0)
        unit = forward(one, pts, dictionary.depth, dictionary.activation)
        pen = float(penalty(one, dictionary.depth, dictionary.activation, 1.0))
        out[int(c)] = {"max_abs_error": float(np.max(np.abs(unit - z[c] * F[:, i]))),
                       "penalty_error": abs(pen - abs(float(z[c])))}
    return out


# ---------------------------------------------------------------------------------------------
# kinks and formulas
# ---------------------------------------------------------------------------------------------
def unit_function(W, B, depth: int, activation: str):
    """``x -> h_{L-1}(x)`` of one unit with inner weights ``W`` and biases ``B`` (length ``L-1``)."""
    acts = layer_activations(depth, activation)

    def h(x):
        v = np.asarray(x, dtype=float)
        for layer in range(depth - 1):
            v = acts[layer][0](W[layer] * v + B[layer])
        return v

    return h


def unit_kinks(W, B, depth: int, activation: str, scale: float = 1.0) -> list[float]:
    """The points where one unit's ``h_{L-1}`` changes slope or jumps (exact piece tracking: on each
    linear piece of ``h_{l-1}`` the pre-activation ``W_l h_{l-1} + B_l`` is linear and crosses 0 at most
    once), kept only if the slope or the value really changes there."""
    h_prev = lambda v: np.asarray(v, dtype=float)  # noqa: E731
    kinks: list[float] = []
    acts = layer_activations(depth, activation)
    for layer in range(depth - 1):
        w, b = float(W[layer]), float(B[layer])

        def g(v, h_prev=h_prev, w=w, b=b):
            return w * h_prev(v) + b

        pts = sorted(kinks)
        roots = []
        if not pts:
            if w != 0:
                roots.append(-b / w)
        else:
            for end, step in ((pts[0], -1.0), (pts[-1], 1.0)):      # the two rays: g is linear there
                g0, g1 = float(g(end)), float(g(end + step))
                slope = (g1 - g0) / step
                if slope != 0:
                    root = end - g0 / slope
                    if (root - end) * step > 0:
                        roots.append(root)
            for lo, hi in zip(pts[:-1], pts[1:]):                    # the pieces between kinks
                glo, ghi = float(g(lo)), float(g(hi))
                if glo * ghi < 0:
                    roots.append(lo - glo * (hi - lo) / (ghi - glo))
        kinks = sorted(set(kinks) | set(roots))

        def h_new(v, g=g, act=acts[layer][0]):
            return act(g(v))

        h_prev = h_new
    return _effective(kinks, h_prev, scale)


def _effective(kinks, h, scale) -> list[float]:
    if not kinks:
        return []
    ks = np.array(sorted(kinks))
    gaps = np.diff(ks)
    delta = min(1e-3 * scale, 0.25 * float(np.min(gaps))) if len(gaps) else 1e-3 * scale
    delta = max(delta, 1e-12 * scale)
    out = []
    for k in ks:
        v = h(np.array([k - 2 * delta, k - delta, k, k + delta, k + 2 * delta]))
        left = (v[1] - v[0]) / delta
        right = (v[4] - v[3]) / delta
        jump = abs((v[3] - delta * right) - (v[1] + delta * left))
        size = 1.0 + abs(left) + abs(right)
        if abs(right - left) > 1e-7 * size or jump > 1e-9 * (1.0 + float(np.max(np.abs(v)))):
            out.append(float(k))
    return out


def _num(v: float) -> str:
    r = round(v)
    return str(int(r)) if abs(v - r) < 1e-9 * max(1.0, abs(v)) else f"{v:.6g}"


def ramp_expansion(h, kinks, scale: float = 1.0) -> str:
    """``c + s0 x + sum_i d_i (x - k_i)_+`` of a piecewise-linear function with those kinks (exact)."""
    if not kinks:
        v0, v1 = h(np.array([0.0, 1.0]))
        return f"{_num(v0)} + {_num(v1 - v0)} x"
    ks = sorted(kinks)
    delta = 1e-3 * scale if len(ks) == 1 else min(1e-3 * scale, 0.25 * min(np.diff(ks)))
    left_pt = ks[0] - 1.0
    slope0 = float((h(np.array([left_pt]))[0] - h(np.array([left_pt - 1.0]))[0]))
    terms = []
    prev = slope0
    for k in ks:
        v = h(np.array([k + delta, k + 2 * delta]))
        right = float((v[1] - v[0]) / delta)
        d = right - prev
        prev = right
        if abs(d) > 1e-9:
            terms.append((d, k))
    c0 = float(h(np.array([left_pt]))[0]) - slope0 * left_pt
    parts = []
    if abs(c0) > 1e-9 * scale:
        parts.append(_num(c0))
    if abs(slope0) > 1e-9:
        parts.append("x" if abs(slope0 - 1) < 1e-9 else ("-x" if abs(slope0 + 1) < 1e-9 else f"{_num(slope0)} x"))
    for d, k in terms:
        coef = "" if abs(d - 1) < 1e-9 else ("-" if abs(d + 1) < 1e-9 else f"{_num(d)} ")
        kk = f"x - {_num(k)}" if k >= 0 else f"x + {_num(-k)}"
        parts.append(f"{coef}({kk})_+")
    text = " + ".join(parts) if parts else "0"
    return text.replace("+ -", "- ")


def two_layer_formula(activation: str, s: int, a: float) -> str:
    """``sigma(s (x - a))`` in words: ``(x - a)_+``, ``|x - a|``, ``1{x >= a}``, ..."""
    arg = f"x - {_num(a)}" if s > 0 else f"{_num(a)} - x"
    return {"relu": f"({arg})_+", "abs": f"|x - {_num(a)}|", "leaky": f"leaky({arg})",
            "threshold": f"1{{x {'>=' if s > 0 else '<='} {_num(a)}}}", "sign": f"sign({arg})"}[activation]


def feature_shape(h, kinks) -> str:
    """A name for a deep feature: ramp, capped ramp, or piecewise linear."""
    if len(kinks) == 1:
        return "ramp"
    if len(kinks) == 2:
        mid = 0.5 * (kinks[0] + kinks[1])
        far = [kinks[0] - 1.0, mid, kinks[1] + 1.0]
        v = h(np.array(far))
        if abs(v[0] - h(np.array([kinks[0] - 2.0]))[0]) < 1e-12 and abs(v[2] - h(np.array([kinks[1] + 2.0]))[0]) < 1e-12:
            return "capped ramp"
    return "piecewise linear"


def describe_column(dictionary: Dictionary, col: int) -> dict:
    """Breakpoints (kinks), formula and reflection of one dictionary column."""
    L, act = dictionary.depth, dictionary.activation
    x = dictionary.data.x
    scale = dictionary.data.scale
    s = dictionary.signs[col].astype(float)
    a = dictionary.breakpoints[col]
    c = previous_layer_values(L, a[None, :], dictionary.signs[col][None, :])[0]
    W, B = s, -s * c
    h = unit_function(W, B, L, act)
    kinks = unit_kinks(W, B, L, act, scale)
    if L == 2:
        formula = two_layer_formula(act, int(s[0]), float(a[0]))
        name = {"relu": "ramp", "abs": "absolute value", "leaky": "leaky ramp", "threshold": "step",
                "sign": "sign step"}[act]
    else:
        name = feature_shape(h, kinks)
        formula = ramp_expansion(h, kinks, scale)
        if name == "capped ramp":
            formula = f"capped ramp [{_num(kinks[0])}, {_num(kinks[1])}]: " + formula
    reflection = None
    if int(dictionary.k[col]) == 1:
        j1, j2 = int(dictionary.indices[col, 0]), int(dictionary.indices[col, 1])
        point = float(a[0])
        reflection = {"point": point, "of": float(x[j1]), "about": float(x[j2]),
                      "formula": f"2*{_num(x[j2])} - {_num(x[j1])} = {_num(point)}",
                      "is_data_point": bool(np.any(np.abs(x - point) <= 1e-9 * scale)),
                      "is_kink": bool(any(abs(k - point) <= 1e-9 * scale for k in kinks))}
    return {"column": int(col), "name": name, "formula": formula, "breakpoints": kinks,
            "signs": [int(v) for v in dictionary.signs[col]], "data_indices": [int(v) for v in dictionary.indices[col]],
            "reflection": reflection, "multiplicity": int(dictionary.multiplicity[col])}
