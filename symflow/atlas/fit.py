"""A fitted description of basin fractions in terms of orbit features (a measurement, not a theorem).

Within one task (group, setting) the starts that converged split over its kinds. The description is a
multinomial logit: kind ``i`` captures the share ``p_i = exp(w . f_i) / sum_j exp(w . f_j)`` of them, with
features ``f_i`` = (log d, log |O|, complex, quaternionic, log(max(Omega n^(3/2), 10^-3)), rank > 1, saddle). ``w``
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
    scaled = max(row["energy"] * n ** 1.5, 1e-3)          # kinds at E = 0 (dead neurons): a floor, not -inf
    return [np.log(d), np.log(size), float(typ == "complex"), float(typ == "quaternionic"), np.log(scaled),
            float(row["rank"] > 1), float(not row["stable"])]


def _tasks(rows) -> dict:
    tasks: dict = {}
    for r in rows:
        tasks.setdefault((r["order"], r["gap_id"], r["setting"]), []).append(r)
    # tasks with at least two kinds and some converged start say something about the split
    return {k: v for k, v in tasks.items() if len(v) > 1 and sum(r["count"] for r in v) > 0}


def _pack(tasks) -> tuple:
    """Padded arrays: features (T, K, f), counts (T, K) (zero on padding), mask (T, K)."""
    K = max(len(v) for v in tasks)
    F = np.zeros((len(tasks), K, len(FEATURES)))
    C = np.zeros((len(tasks), K))
    M = np.zeros((len(tasks), K), bool)
    for t, v in enumerate(tasks):
        F[t, :len(v)] = [features(r) for r in v]
        C[t, :len(v)] = [r["count"] for r in v]
        M[t, :len(v)] = True
    return F, C, M


def _predict(w, F, M) -> np.ndarray:
    z = np.where(M, F @ w, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    e = np.where(M, np.exp(z), 0.0)
    return e / e.sum(axis=1, keepdims=True)


def _fit(packed, ridge: float = 1e-3) -> np.ndarray:
    from scipy.optimize import minimize

    F, C, M = packed
    total = C.sum(axis=1, keepdims=True)

    def loss(w):
        p = _predict(w, F, M)
        value = ridge * w @ w - (C * np.log(np.where(M, np.maximum(p, 1e-300), 1.0))).sum()
        grad = 2 * ridge * w - np.einsum("tk,tkf->f", C - total * p, F)
        return value, grad

    return minimize(loss, np.zeros(F.shape[2]), jac=True, method="L-BFGS-B").x


def _errors(w, packed) -> np.ndarray:
    F, C, M = packed
    measured = C / C.sum(axis=1, keepdims=True)
    return np.abs(_predict(w, F, M) - measured)[M]


def _take(packed, idx) -> tuple:
    return tuple(a[idx] for a in packed)


def fit_basins(rows, leave_group_out: bool = True) -> dict | None:
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
    if leave_group_out and len(groups) > 1:
        owner = np.array([groups.index(k[:2]) for k in keys])
        for i in range(len(groups)):
            loo.extend(_errors(_fit(_take(packed, owner != i)), _take(packed, owner == i)))
    F, C, M = packed
    uniform = np.abs(1 / M.sum(axis=1, keepdims=True) - C / C.sum(axis=1, keepdims=True))[M]
    return {"features": FEATURES, "weights": dict(zip(FEATURES, map(float, w))), "tasks": len(keys),
            "kinds": len(errs), "mae": float(np.mean(errs)), "max_error": float(np.max(errs)),
            "mae_leave_group_out": float(np.mean(loo)) if loo else None, "mae_uniform": float(np.mean(uniform))}
