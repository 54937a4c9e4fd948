r"""The sample-size law, measured: for a training fraction ``p`` of the table, do the full-data maxima
survive as generalising maxima of the empirical energy ``E_S``?

Per group, fraction ``p`` and random subset ``k`` (:func:`symflow.li2.core.training_mask`, seed
``seed + 1000 k + i``): starts are (a) full-data maxima, one per sampled nontrivial orbit
(:func:`symflow.li2.fit.orbit_maxima`; at most ``MAX_ORBITS`` orbits, sampled), and (b) ``random``
Gaussian starts; each is brought to a maximum of ``E_S`` by sphere ascent. A maximum is *generalising*
when its support is one irrep orbit (:func:`generalising`: the norm outside its dominant orbit is at most
10 % of a random vector's), else *memorising*. For groups of order ``<= TEST_MAX_ORDER`` the network built from ``NODE_CAP`` ascended
maxima per orbit (fitted ``V`` by least squares on the training entries) gives the test accuracy.

``p_c_by_dim`` uses the grid crossing only. ``p_c`` of a subset sequence ``k``: where the generalising share of the maxima-started nodes reaches
1/2, bracketed on the grid and refined by ``bisect`` bisection steps (each on a fresh random subset); over ``K`` sequences its mean with a
normal 95 % interval. Fits: ``log p_c = log c + alpha log(log M / M)`` over groups (and ``c`` with
``alpha = 1``), beside the public code's ``p = 2.7482 log M / M`` (``critical_ratio_multiplier`` in
``ssl/real-dataset/cogo/config/dyn_madd.yaml``) and, per irrep dimension, ``p_c(d)``.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..progress import progress_bar
from ..validation import integer, nontrivial_group
from ..landscape.search import ascend
from .core import li2_model, training_mask
from .derive import orbit_shares
from .fit import NODE_CAP, least_squares_fit, orbit_maxima

GENERALISING_SHARE = 0.9
MAX_ORBITS = 8
TEST_MAX_ORDER = 30
#: The public code's empirical constant: train fraction ``2.7482 log M / M``.
CODE_CONSTANT = 2.7482


def default_fractions(M: int, points: int = 9) -> list:
    """``points`` fractions spaced geometrically from ``0.5 log M / M`` to 1 (the transition must lie inside
    the grid: measured ``p_c`` is 0.5-0.7 for M <= 61, above the code's ``2.7482 log M / M``)."""
    base = min(0.5, 0.5 * math.log(M) / M)
    return sorted({float(round(f, 5)) for f in np.geomspace(base, 1.0, points)})


def generalising(group, x) -> np.ndarray:
    """Per node: at most ``1 - GENERALISING_SHARE`` of the leak a random vector has outside its dominant
    orbit, ``1 - share <= (1 - GENERALISING_SHARE) (1 - w)`` with ``w = k d^2 / n`` the orbit's Plancherel
    weight (for Z_p: share >= ~0.9; an orbit holding most of the group algebra, as F55's 5-dimensional
    pair with w = 50/55, needs far more)."""
    sh = orbit_shares(group, x)
    w = np.array([sum(group.irreps[i].dim ** 2 for i in o) / group.order for o in group.orbits])
    j = sh.argmax(axis=1)
    return (1 - sh.max(axis=1)) <= (1 - GENERALISING_SHARE) * (1 - w[j])


def _generalising_share(group, p, starts, random, steps, seed) -> float:
    prob = li2_model(group, training_mask(group, p, seed))
    x = ascend(prob, starts, steps=steps).points
    return float(generalising(group, x).mean())


def measure(group, fractions=None, subsets: int = 4, seed: int = 0, random: int = 8, steps: int = 300,
            progress: bool = False, bisect: int = 3) -> dict:
    """The transition for one group (module doc): per fraction the generalising shares and test accuracy
    (mean over subsets), and ``p_c`` per subset sequence with its mean and 95 % interval."""
    t0 = time.perf_counter()
    subsets = integer(subsets, "subsets", minimum=1)
    nontrivial_group(group, "the sample-size law")
    n = group.order
    fr = default_fractions(n) if fractions is None else sorted(float(f) for f in fractions)
    rng = np.random.default_rng(seed)
    orbits = [o for o in group.orbits if not o.is_trivial]
    pick = orbits if len(orbits) <= MAX_ORBITS else [orbits[i] for i in sorted(rng.choice(len(orbits), MAX_ORBITS, replace=False))]
    starts = np.concatenate([orbit_maxima(group, o, 1, seed + o.id) for o in pick])
    dims = np.array([o.dim for o in pick])
    test_nodes = None
    if n <= TEST_MAX_ORDER:
        test_nodes = np.concatenate([orbit_maxima(group, o, NODE_CAP(o), seed + 7 + o.id) for o in orbits])
    gen = np.zeros((subsets, len(fr)))
    gen_rand = np.zeros((subsets, len(fr)))
    gen_dim = {int(d): np.zeros((subsets, len(fr))) for d in set(dims.tolist())}
    acc = np.full((subsets, len(fr)), np.nan)
    with progress_bar(f"{group.name} subsets", total=subsets * len(fr), enabled=progress, counts=True) as bar:
        for k in range(subsets):
            for i, p in enumerate(fr):
                mask = training_mask(group, p, seed + 1000 * k + i)
                prob = li2_model(group, mask)
                x0 = np.concatenate([starts, np.random.default_rng(seed + 1000 * k + i).normal(size=(random, 2 * n))])
                x = ascend(prob, x0, steps=steps).points
                ok = generalising(group, x)
                m = len(starts)
                gen[k, i] = ok[:m].mean()
                gen_rand[k, i] = ok[m:].mean() if random else np.nan
                for d in gen_dim:
                    gen_dim[d][k, i] = ok[:m][dims == d].mean()
                if test_nodes is not None:
                    xt = ascend(prob, test_nodes, steps=steps).points
                    acc[k, i] = least_squares_fit(prob, xt)["test_accuracy"] if p < 1 else 1.0
                bar.advance()
    pc = np.array([crossing(fr, gen[k]) for k in range(subsets)])
    width = np.zeros(subsets)
    # refine each sequence's crossing by bisection between its bracketing grid points (fresh subsets)
    for k in range(subsets):
        i = next((j for j in range(len(fr)) if gen[k, j] >= 0.5), None)
        if i is None or i == 0:
            continue
        lo, hi = fr[i - 1], fr[i]
        for b in range(bisect):
            mid = 0.5 * (lo + hi)
            if _generalising_share(group, mid, starts, random, steps, seed + 1000 * k + 500 + b) >= 0.5:
                hi = mid
            else:
                lo = mid
        pc[k] = 0.5 * (lo + hi)
        width[k] = 0.5 * (hi - lo)
    out = {"group": group.name, "order": n, "fractions": fr, "subsets": subsets, "seed": seed,
           "generalising": gen.mean(0).tolist(), "generalising_random": gen_rand.mean(0).tolist(),
           "generalising_by_dim": {str(d): v.mean(0).tolist() for d, v in gen_dim.items()},
           "test_accuracy": None if test_nodes is None else np.nanmean(acc, 0).tolist(),
           "p_c": summary(pc, resolution=float(width.max())),
           "p_c_by_dim": {str(d): summary(np.array([crossing(fr, v[k]) for k in range(subsets)])) for d, v in gen_dim.items()},
           "log_M_over_M": math.log(n) / n, "code_prediction": min(1.0, CODE_CONSTANT * math.log(n) / n),
           "wall_time": None}
    out["wall_time"] = time.perf_counter() - t0
    return out


def crossing(fractions, share, level: float = 0.5) -> float:
    """First fraction where ``share`` reaches ``level`` (linear interpolation on the grid); NaN if never,
    the first grid point if already there."""
    f, s = np.asarray(fractions, float), np.asarray(share, float)
    for i in range(len(f)):
        if s[i] >= level:
            if i == 0:
                return float(f[0])
            a, b = s[i - 1], s[i]
            return float(f[i - 1] + (level - a) / (b - a) * (f[i] - f[i - 1]))
    return float("nan")


def summary(values, resolution: float = 0.0) -> dict:
    """Mean and 95 % interval (normal, over the values) widened by the bisection ``resolution`` (half the
    final bracket: identical brackets otherwise give a zero-width interval)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"mean": None, "ci95": [None, None], "values": [], "missing": int(np.size(values))}
    m = float(v.mean())
    h = (1.96 * float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else 0.0) + resolution
    return {"mean": m, "ci95": [m - h, m + h], "values": v.tolist(), "missing": int(np.size(values) - len(v)),
            "resolution": resolution}


def fit_law(rows) -> dict:
    """Fits over groups: ``p_c = c (log M / M)^alpha`` (free alpha), ``c`` at ``alpha = 1``; beside the code's
    constant. Needs two groups with a finite ``p_c``."""
    pts = [(r["log_M_over_M"], r["p_c"]["mean"]) for r in rows if r["p_c"]["mean"] is not None]
    if len(pts) < 2:
        return {"alpha": None, "c": None, "c_alpha1": None, "code_constant": CODE_CONSTANT, "groups": len(pts)}
    x = np.log([p[0] for p in pts])
    y = np.log([p[1] for p in pts])
    alpha, logc = np.polyfit(x, y, 1)
    c1 = float(np.exp(np.mean(y - x)))
    return {"alpha": float(alpha), "c": float(np.exp(logc)), "c_alpha1": c1, "code_constant": CODE_CONSTANT,
            "groups": len(pts)}


def fit_dimension(rows) -> dict:
    """``p_c(d) / (log M / M) = c d^beta`` over every group's per-dimension ``p_c``."""
    pts = [(int(d), s["mean"] / r["log_M_over_M"]) for r in rows for d, s in r["p_c_by_dim"].items()
           if s["mean"] is not None]
    ds = sorted({d for d, _ in pts})
    if len(ds) < 2:
        return {"beta": None, "points": pts}
    beta, logc = np.polyfit(np.log([d for d, _ in pts]), np.log([c for _, c in pts]), 1)
    return {"beta": float(beta), "c": float(np.exp(logc)), "points": pts}
