"""A fitted description of basin fractions in terms of orbit features (a measurement, not a theorem).

Within one task (group, setting) the starts that converged split over its kinds. The description is a
multinomial logit: kind ``i`` captures the share ``p_i = exp(w . f_i) / sum_j exp(w . f_j)`` of them, with
features ``f_i`` = (log d, log |O|, complex, quaternionic, log(Omega n^(3/2)), rank > 1, saddle). ``w``
maximises the likelihood of the stored counts (starts are independent); its error is the mean absolute
difference between fitted and measured fractions over all kinds of the atlas, in-sample and with each
group left out of the fit (the group's tasks predicted from the others), next to the baseline "every kind
of a task gets the same share".
"""
from __future__ import annotations

import numpy as np

FEATURES = ["log d", "log |O|", "complex", "quaternionic", "log(Omega n^1.5)", "rank > 1", "saddle"]


def features(row: dict) -> list:
    d, size, typ, n = row["orbit_dim"], row["orbit_size"], row["type"], row["order"]
    scaled = max(row["energy"] * n ** 1.5, 1e-12)
    return [np.log(d), np.log(size), float(typ == "complex"), float(typ == "quaternionic"), np.log(scaled),
            float(row["rank"] > 1), float(not row["stable"])]


def _tasks(rows) -> dict:
    tasks: dict = {}
    for r in rows:
        tasks.setdefault((r["order"], r["gap_id"], r["setting"]), []).append(r)
    # tasks with at least two kinds and some converged start say something about the split
    return {k: v for k, v in tasks.items() if len(v) > 1 and sum(r["count"] for r in v) > 0}


def _pack(tasks) -> list:
    return [(np.array([features(r) for r in v]), np.array([r["count"] for r in v], float)) for v in tasks]


def _fit(packed, ridge: float = 1e-3) -> np.ndarray:
    from scipy.optimize import minimize

    def loss(w):
        total, grad = ridge * w @ w, 2 * ridge * w
        for F, c in packed:
            z = F @ w
            z -= z.max()
            p = np.exp(z) / np.exp(z).sum()
            total -= c @ np.log(np.maximum(p, 1e-300))
            grad -= F.T @ (c - c.sum() * p)
        return total, grad

    return minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B").x


def _predict(w, F) -> np.ndarray:
    z = F @ w
    z -= z.max()
    return np.exp(z) / np.exp(z).sum()


def _errors(w, packed) -> list:
    out = []
    for F, c in packed:
        out.extend(np.abs(_predict(w, F) - c / c.sum()))
    return out


def fit_basins(rows) -> dict | None:
    """``{"weights": {feature: w}, "tasks", "kinds", "mae", "mae_leave_group_out", "mae_uniform", "max_error"}``
    from attractor rows (dicts with the ``attractors`` columns), or ``None`` with too few tasks."""
    tasks = _tasks(rows)
    if len(tasks) < 3:
        return None
    keys = list(tasks)
    packed = _pack([tasks[k] for k in keys])
    w = _fit(packed)
    errs = _errors(w, packed)
    groups = sorted({k[:2] for k in keys})
    loo = []
    if len(groups) > 1:
        for g in groups:
            train = [p for k, p in zip(keys, packed) if k[:2] != g]
            test = [p for k, p in zip(keys, packed) if k[:2] == g]
            loo.extend(_errors(_fit(train), test))
    uniform = [abs(1 / len(c) - x / c.sum()) for _, c in packed for x in c]
    return {"features": FEATURES, "weights": dict(zip(FEATURES, map(float, w))), "tasks": len(keys),
            "kinds": len(errs), "mae": float(np.mean(errs)), "max_error": float(np.max(errs)),
            "mae_leave_group_out": float(np.mean(loo)) if loo else None, "mae_uniform": float(np.mean(uniform))}
