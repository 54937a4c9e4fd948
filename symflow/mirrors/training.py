r"""The non-convex training problem of the paper from random starts, against the Lasso optimum.

Every seed ``seed, seed+1, ...`` draws its own network (:func:`random_network`: each layer's kink at a
uniform point of its input's range on the data, weights standard normal, output weights ``N(0, 1/m)``) and
all seeds are trained together (one batch row per seed; the objective is a sum over rows, so each
row follows its own trajectory) by symflow's one optimiser module (:func:`symflow.dynamics.training.minimise`
with its Adam)
on the exact objective ``1/2 ||f - y||^2 + (beta/L) sum |w|^L`` (biases unregularised;
:func:`symflow.mirrors.network.objective_and_gradient`). The learning rate decays geometrically to
``lr * 1e-2`` over the run.

Per run: the final objective; ``reached`` when it is within ``REACH`` (relative) of the optimum;
a ``lower_bound_violation`` when it is below the certified lower bound of the optimum (never
expected: the Lasso optimum is the global minimum); the features of its active units matched to the
nearest dictionary column (centred, sign-free cosine distance) and their kinks; at depth 4 (the depth
whose dictionary has reflections) the kinks inside the data range within ``1e-3`` of the range from a
reflection ``2 x_j - x_i`` of data points (and not at a data point) are listed.
"""
from __future__ import annotations

import numpy as np

from ..dynamics.training import minimise
from .dictionary import Dictionary
from .network import degree, objective, objective_and_gradient, unit_function, unit_kinks

#: Relative distance to the optimum below which a run counts as having reached it.
REACH = 1e-3


def random_network(data, depth: int, activation: str, width: int, seeds: list[int]) -> dict:
    """Random parameters of shape ``(len(seeds), width, ...)``, one generator per seed: weights standard
    normal, each layer's bias putting its kink at a uniform point of the range its input takes on the data
    (so no unit starts dead on the data), output weights ``N(0, 1/m)``, amplitudes ``|N(0, 1)|``."""
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        W = rng.normal(size=(width, depth - 1))
        B = np.zeros((width, depth - 1))
        h = np.broadcast_to(data.x, (width, data.n))
        for layer in range(depth - 1):   # each layer's kink at a uniform point of its input's range on the data
            cut = rng.uniform(h.min(axis=1), h.max(axis=1))
            B[:, layer] = -W[:, layer] * cut
            h = np.maximum(W[:, layer, None] * h + B[:, layer, None], 0.0)
        p = {"W": W, "B": B, "alpha": rng.normal(size=width) / np.sqrt(width), "xi": np.asarray(float(np.mean(data.y)))}
        if degree(activation) == 0:
            p["amp"] = np.abs(rng.normal(size=width))
        rows.append(p)
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def train_runs(dictionary: Dictionary, beta: float, seeds: list[int], steps: int = 20000, lr: float = 1e-2,
               width: int | None = None) -> dict:
    """Train one network per seed (module docstring); returns the final parameters and objectives."""
    data, L, act = dictionary.data, dictionary.depth, dictionary.activation
    width = width or int(min(64, max(8, 2 * data.n)))
    params = random_network(data, L, act, width, seeds)
    minimise(params, lambda p: objective_and_gradient(p, data.x, data.y, L, act, beta), steps, lr, "adam",
             final_lr=lr * 1e-2)
    return {"params": params, "objectives": objective(params, data.x, data.y, L, act, beta), "width": width,
            "steps": steps, "lr": lr}


def reflection_points(x: np.ndarray, kinks, tol: float) -> list[dict]:
    """Kinks strictly inside the data range, within ``tol`` of a reflection ``2 x_j - x_i`` (``i != j``) and
    farther than ``tol`` from every data point (a kink outside the data range does not shape the fit)."""
    out = []
    for k in kinks:
        if k <= x[0] + tol or k >= x[-1] - tol or np.any(np.abs(x - k) <= tol):
            continue
        refl = 2 * x[None, :] - x[:, None]          # [i, j] = 2 x_j - x_i
        hit = np.argwhere((np.abs(refl - k) <= tol) & ~np.eye(len(x), dtype=bool))
        if len(hit):
            i, j = hit[0]
            out.append({"kink": float(k), "of": float(x[i]), "about": float(x[j])})
    return out


def trained_features(dictionary: Dictionary, params: dict, row: int, share: float = 1e-3) -> list[dict]:
    """Active units of one trained network, each matched to its nearest dictionary column."""
    from .network import describe_column

    data, L, act = dictionary.data, dictionary.depth, dictionary.activation
    W, B = params["W"][row], params["B"][row]
    out_w = params["alpha"][row] * (params["amp"][row] if "amp" in params else 1.0)
    D = dictionary.matrix - dictionary.matrix.mean(axis=0)
    norms = np.linalg.norm(D, axis=0)
    Dn = D / np.where(norms > 0, norms, 1.0)
    contrib = []
    for u in range(len(out_w)):
        v = out_w[u] * unit_function(W[u], B[u], L, act)(data.x)
        contrib.append(v - v.mean())
    total = max(float(np.linalg.norm(data.y - data.y.mean())), 1e-300)
    scale = data.scale
    tol = 1e-3 * max(float(data.x[-1] - data.x[0]), 1e-300)
    feats = []
    for u, v in enumerate(contrib):
        size = float(np.linalg.norm(v))
        if size <= share * total:
            continue
        cos = np.abs(Dn.T @ (v / size)) if Dn.shape[1] else np.zeros(0)
        best = int(np.argmax(cos)) if len(cos) else -1
        kinks = unit_kinks(W[u], B[u], L, act, scale)
        col = describe_column(dictionary, best) if best >= 0 else None
        feats.append({"unit": int(u), "norm": size, "column": best,
                      "formula": col["formula"] if col else None,
                      "column_reflection": col["reflection"]["formula"] if col and col["reflection"] else None,
                      "match_distance": float(np.sqrt(max(0.0, 2 - 2 * cos[best]))) if best >= 0 else None,
                      "breakpoints": kinks,
                      "reflections": reflection_points(data.x, kinks, tol) if L == 4 else []})
    return feats


def compare_with_optimum(dictionary: Dictionary, runs: dict, optimum: float, lower: float) -> dict:
    """The ``training`` block of the JSON contract (module docstring)."""
    objs = np.asarray(runs["objectives"], dtype=float)
    reached = objs <= optimum + REACH * max(abs(optimum), 1e-12)
    violations = objs < lower - 1e-12 * max(1.0, abs(lower))
    per_run = [trained_features(dictionary, runs["params"], r) for r in range(len(objs))]
    return {"runs": int(len(objs)), "objectives": [float(o) for o in objs], "reached": int(reached.sum()),
            "reached_share": float(reached.mean()) if len(objs) else 0.0,
            "lower_bound_violations": int(violations.sum()), "optimum": float(optimum), "lower_bound": float(lower),
            "reach_tolerance": REACH, "width": runs["width"], "steps": runs["steps"], "lr": runs["lr"],
            "features": per_run,
            "reflections": [sorted({r["kink"] for f in feats for r in f["reflections"]}) for feats in per_run],
            "reflection_columns": [sum(1 for f in feats if f["column_reflection"]) for feats in per_run]}


__all__ = ["train_runs", "compare_with_optimum", "random_network", "trained_features", "reflection_points"]
