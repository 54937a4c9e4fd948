"""A fitted description of basin fractions in terms of orbit features (a measurement, not a theorem).

Within one task (group, setting) the starts that converged split over its kinds. The description is a
multinomial logit: kind ``i`` captures the share ``p_i = exp(w . f_i) / sum_j exp(w . f_j)`` of them, with
features ``f_i`` = (log d, log |O|, complex, quaternionic, log(max(Omega n^(3/2), 10^-3)), rank > 1, saddle). ``w``
maximises the likelihood of the stored counts (starts are independent); its error is the mean absolute
difference between fitted and measured fractions over all kinds of the atlas, in-sample and with each
group left out of the fit (the group's tasks predicted from the others), next to the baseline "every kind
of a task gets the same share".

:func:`compare_with_predictor` puts this description next to the orbit predictor (a derivation, docs/theory.md
section 14; its rows in the ``predicted_basins`` table) and the Plancherel weights ``|O| d^2 / (n - 1)``, all three
per orbit (kinds summed by dominant orbit) against the same measured shares of the converged starts.
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


def fitted_fractions(rows, leave_group_out: bool = True) -> dict:
    """``{(order, gap_id, setting, idx): (in sample, with the kind's group left out or None)}``: the fitted share of
    the converged starts of every kind of the fitted tasks (two or more kinds; a task with one kind gets 1)."""
    tasks = _tasks(rows)
    out = {}
    for r in rows:
        key = (r["order"], r["gap_id"], r["setting"])
        if key not in tasks:          # one kind (or none reached): it holds every converged start
            out[key + (r["idx"],)] = (1.0, 1.0) if r["count"] else (0.0, 0.0)
    if len(tasks) < 3:
        return out
    keys = list(tasks)
    packed = _pack([tasks[k] for k in keys])
    F, C, M = packed
    p_in = _predict(_fit(packed), F, M)
    groups = sorted({k[:2] for k in keys})
    owner = np.array([groups.index(k[:2]) for k in keys])
    p_out = np.full_like(p_in, np.nan)
    if leave_group_out and len(groups) > 1:
        for i in range(len(groups)):
            sel = owner == i
            p_out[sel] = _predict(_fit(_take(packed, ~sel)), F[sel], M[sel])
    for t, k in enumerate(keys):
        for j, r in enumerate(tasks[k]):
            out[k + (r["idx"],)] = (float(p_in[t, j]), None if np.isnan(p_out[t, j]) else float(p_out[t, j]))
    return out


def compare_with_predictor(attractors, predicted, dead_omega: float = 1e-3) -> dict | None:
    """The orbit predictor, this fitted description (in sample and with each group left out) and the Plancherel
    weights, per orbit, against the measured share of the converged starts (kinds summed by dominant orbit; a kind
    at ``Omega n^(3/2) < dead_omega`` or on the trivial orbit only counts as ``dead``, as the predictor's rule), over
    the tasks with stored predictions and converged starts. ``{"tasks", "orbits", "mae": {method: value},
    "max_error": {method: value}}`` (method: ``predictor``, ``fit``, ``fit_leave_group_out``, ``plancherel``,
    ``uniform``), or ``None`` without such tasks."""
    fitted = fitted_fractions(attractors)
    by_task: dict = {}
    for r in attractors:
        by_task.setdefault((r["order"], r["gap_id"], r["setting"]), []).append(r)
    pred_task: dict = {}
    for p in predicted:
        pred_task.setdefault((p["order"], p["gap_id"], p["setting"]), []).append(p)
    errors: dict = {m: [] for m in ("predictor", "fit", "fit_leave_group_out", "plancherel", "uniform")}
    tasks = 0
    for key, prows in pred_task.items():
        kinds = by_task.get(key, [])
        total = sum(r["count"] for r in kinds)
        if not total:
            continue
        tasks += 1
        orbit_of = {lab: p["orbit_id"] for p in prows for lab in p["orbit"]}
        measured, fit_in, fit_out = {}, {}, {}
        for r in kinds:
            dead = not r["orbit"] or r["energy"] < dead_omega * r["order"] ** -1.5
            o = -1 if dead else orbit_of.get(r["orbit"][0], -1)
            measured[o] = measured.get(o, 0) + r["count"] / total
            f = fitted.get(key + (r["idx"],), (None, None))
            fit_in[o] = None if f[0] is None or fit_in.get(o, 0) is None else fit_in.get(o, 0) + f[0]
            fit_out[o] = None if f[1] is None or fit_out.get(o, 0) is None else fit_out.get(o, 0) + f[1]
        live = [p for p in prows if p["orbit_id"] >= 0]
        for p in prows:
            o = p["orbit_id"]
            m = measured.get(o, 0.0)
            errors["predictor"].append(abs(p["predicted"] - m))
            errors["plancherel"].append(abs(p["plancherel"] - m))
            errors["uniform"].append(abs((1 / len(live) if o >= 0 else 0.0) - m))
            fi, fo = (fit_in.get(o, 0.0), fit_out.get(o, 0.0)) if o in measured else (0.0, 0.0)
            if fi is not None:
                errors["fit"].append(abs(fi - m))
            if fo is not None:
                errors["fit_leave_group_out"].append(abs(fo - m))
    if not tasks:
        return None
    return {"tasks": tasks, "orbits": len(errors["predictor"]),
            "mae": {k: float(np.mean(v)) if v else None for k, v in errors.items()},
            "max_error": {k: float(np.max(v)) if v else None for k, v in errors.items()},
            "rows": {k: len(v) for k, v in errors.items()}}


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
