r"""How many hidden nodes a perfect fit needs (Li2's Thm 3), checked by least squares.

Nodes are local maxima of the full-table energy on one irrep orbit each: seeded Gaussian starts
projected on the orbit's isotypic subspace (``P_rho f(g) = (d/n) sum_k chi(k g^-1) f(k)`` summed over the
orbit, applied to ``u`` and ``v``) and brought to a maximum by the landscape's ascent
(:func:`symflow.landscape.search.ascend` on :func:`~symflow.li2.core.li2_model`). The network's
output layer ``V`` (with a bias) is fitted by least squares to the one-hot targets on the training
entries (:func:`least_squares_fit`); the fit is perfect when the residual of the centred targets is zero
to rounding. Per nontrivial orbit ``k_rho`` is the least number of that orbit's nodes for which the fit
of the whole table is perfect while every other orbit has ``NODE_CAP(d)`` nodes; the total is the sum.

Li2's Thm 3 side by side (:func:`thm3_node_count`): over C, ``K = 2 sum_{k != 0} d_k^4`` nodes (``d_k`` the
dimensions of the nontrivial *complex* irreps: one per real or quaternionic orbit, two per complex pair)
suffice, by ``d_k^4 = dim End(H_k)`` rank-one products ``u u^*`` on the isotypic space ``H_k`` (``dim H_k = d_k^2``)
each made from a pair ``[u; +-P u]`` whose squares cancel. The measured count per orbit is a different
quantity: the dimension of the real span of the orbit maxima's features ``sigma(u_a + v_b)`` without the
constants (:func:`feature_span_dimension`); ``m`` generic vectors of an ``S``-dimensional space span a fixed
target subspace only when ``m >= S``, so the least count for generic maxima is ``S``. The trained network
(:func:`trained_perfect_fit_width`) is not restricted to maxima and is measured separately.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import SymflowError
from ..landscape.search import ascend
from .core import features, li2_model, training_entries
from .derive import orbit_shares

#: Residual (relative to the centred targets) below which a fit is perfect.
PERFECT = 1e-6


def NODE_CAP(orbit) -> int:
    """Nodes per orbit tried at most: the orbit's part of the feature span has at most
    ``D^4 + D^2 (D^2 + 1) - 2`` real dimensions (cross terms ``u_a v_b`` and the squares ``u_a^2``,
    ``v_b^2`` without their constants; ``D`` the real dimension, ``d`` or ``2 d`` for a pair), capped at 200."""
    D = orbit.dim * (2 if orbit.type != "real" else 1)
    return min(D ** 4 + D * D * (D * D + 1), 200)


def isotypic_projector(group, orbit) -> np.ndarray:
    """Real ``(n, n)`` matrix of the projection on the orbit's isotypic subspace."""
    n = group.order
    T, inv = np.asarray(group.table), np.asarray(group.inverse)
    P = np.zeros((n, n), dtype=complex)
    for i in orbit:
        rho = group.irreps[i]
        chi = rho.character if not callable(rho.character) else rho.character()
        chi = np.asarray(chi)
        P += rho.dim / n * chi[T[np.arange(n)[None, :], inv[np.arange(n)][:, None]]]
    return P.real


def orbit_maxima(group, orbit, count: int, seed: int = 0, activation: str = "x^2") -> np.ndarray:
    """``count`` local maxima (full table) supported on ``orbit``, shape ``(count, 2n)``."""
    n = group.order
    P = isotypic_projector(group, orbit)
    x = np.random.default_rng(seed).normal(size=(count, 2 * n))
    x = np.concatenate([x[:, :n] @ P.T, x[:, n:] @ P.T], axis=1)
    x = ascend(li2_model(group, None, activation), x, steps=2000).points
    sh = orbit_shares(group, x)[:, orbit.id]
    if np.any(sh < 0.99):
        raise SymflowError(f"{group.name}: the ascent left the orbit {orbit.label} (share {sh.min():.3f})")
    return x


def least_squares_fit(model, nodes, train=None, test=None) -> dict:
    """Fit ``V`` (and a bias) by least squares on the training entries of Li2's ``model``
    (:func:`~symflow.li2.core.li2_model`); report the relative residual of the centred training targets and
    train/test accuracy (argmax of the output)."""
    n = model.group.order
    T = np.asarray(model.group.table).reshape(-1)
    train = training_entries(model) if train is None else np.asarray(train)
    F = features(model, nodes)                                     # (n^2, m)
    A = np.concatenate([F, np.ones((F.shape[0], 1))], axis=1)
    Y = np.eye(n)[T]
    Vb, *_ = np.linalg.lstsq(A[train], Y[train], rcond=None)
    out = A @ Vb
    Yc = Y[train] - Y[train].mean(axis=0)
    R = out[train] - Y[train]
    res = float(np.linalg.norm(R) / max(np.linalg.norm(Yc), 1e-300))
    acc = lambda idx: float(np.mean(np.argmax(out[idx], axis=1) == T[idx])) if len(idx) else float("nan")
    test = np.setdiff1d(np.arange(n * n), train) if test is None else np.asarray(test)
    return {"residual": res, "train_accuracy": acc(train), "test_accuracy": acc(test), "V": Vb}


def complex_irreps(orbit) -> int:
    """How many complex irreps an orbit of real irreps carries: 2 for a complex pair (``rho``, ``rho-bar``), else 1."""
    return 2 if orbit.type == "complex" else 1


def thm3_node_count(group, power: int = 4) -> dict:
    """Li2's Thm 3 count ``K = 2 sum_{k != 0} d_k^power`` (``power = 4``; other powers only to compare forms) over
    the nontrivial complex irreps, per orbit (``2 c d^power``, ``c`` = :func:`complex_irreps`), and the paper's
    bound ``2 [(M - kappa)^2 + kappa - 1]`` (``kappa`` nontrivial complex irreps, ``M = |G|``)."""
    rows = [{"orbit": o.label, "dim": o.dim, "type": o.type, "complex_irreps": complex_irreps(o),
             "thm3_nodes": 2 * complex_irreps(o) * o.dim ** power} for o in group.orbits if not o.is_trivial]
    kappa = sum(r["complex_irreps"] for r in rows)
    M = group.order
    return {"orbits": rows, "total": sum(r["thm3_nodes"] for r in rows), "kappa": kappa,
            "bound": 2 * ((M - kappa) ** 2 + kappa - 1), "formula": f"2 sum_(k != 0) d_k^{power}"}


def feature_span_dimension(model, nodes, tol: float = 1e-8) -> int:
    """Dimension of the real span of the nodes' features ``sigma(X w)`` on the whole table, constants removed
    (rank of the column-centred feature matrix, relative tolerance ``tol``)."""
    F = features(model, nodes)
    F = F - F.mean(axis=0)
    sv = np.linalg.svd(F, compute_uv=False)
    return int(np.sum(sv > tol * max(sv[0], 1e-300))) if sv.size else 0


def perfect_fit_nodes(group, seed: int = 0) -> dict:
    """Per nontrivial orbit the least node count for a perfect fit (module doc), and the total."""
    prob = li2_model(group)
    pools = {o.id: orbit_maxima(group, o, NODE_CAP(o), seed + o.id) for o in group.orbits if not o.is_trivial}
    full = np.concatenate(list(pools.values()))
    base = least_squares_fit(prob, full)
    if base["residual"] > PERFECT:
        raise SymflowError(f"{group.name}: no perfect fit even with {len(full)} maxima nodes "
                           f"(residual {base['residual']:.2g})")
    counts = {}
    for oid, pool in pools.items():
        others = [p for k, p in pools.items() if k != oid]
        lo = 0
        for k in range(1, len(pool) + 1):
            nodes = np.concatenate(others + [pool[:k]])
            if least_squares_fit(prob, nodes)["residual"] <= PERFECT:
                lo = k
                break
        counts[oid] = lo
    rows = []
    thm3 = {r["orbit"]: r for r in thm3_node_count(group)["orbits"]}
    for o in group.orbits:
        if o.is_trivial:
            continue
        rows.append({"orbit": o.label, "dim": o.dim, "type": o.type, "nodes": counts[o.id],
                     "feature_span": feature_span_dimension(prob, pools[o.id]),
                     "complex_irreps": complex_irreps(o), "thm3_nodes": thm3[o.label]["thm3_nodes"]})
    total = sum(counts.values())
    check = least_squares_fit(prob, np.concatenate([pools[k][:c] for k, c in counts.items()]))
    count = thm3_node_count(group)
    return {"group": group.name, "orbits": rows, "total": total, "residual": check["residual"],
            "accuracy": check["train_accuracy"], "thm3_total": count["total"], "thm3_bound": count["bound"],
            "thm3_formula": count["formula"]}


#: Relative centred MSE (loss over its value ``(1 - 1/n)/2`` at ``Y_hat = 0``) below which a trained network fits.
TRAINED_PERFECT = 1e-4


def full_table_fraction(n: int) -> float:
    """A training fraction below 1 (what :class:`~symflow.li2.grok.Li2GrokConfig` accepts) whose training mask is
    the whole table: ``round(f n^2) = n^2`` for ``f = 1 - 1/(4 n^2)`` (:func:`~symflow.li2.core.training_mask`)."""
    return 1.0 - 1.0 / (4 * n * n)


def trained_fit(name: str, width: int, seed: int = 0, steps: int = 3000, lr: float = 1e-2,
                weight_decay: float = 0.0) -> dict:
    """Li2's network of ``width`` nodes trained on the whole table of group ``name`` through the public
    :func:`symflow.li2.grok.run_li2_grokking`: its train accuracy (argmax of the raw output ``sigma(XW)V``, as
    that API reports it) and its relative centred MSE ``L / ((1 - 1/n)/2)``, ``L = 1/(2N) ||P (Y - Y_hat)||^2``."""
    from ..groups import group as make_group
    from .grok import Li2GrokConfig, run_li2_grokking

    n = make_group(name).order
    cfg = Li2GrokConfig(group=name, frac=full_table_fraction(n), width=int(width), lr=lr,
                        weight_decay=weight_decay, steps=int(steps), seed=int(seed), record_every=int(steps))
    with warnings.catch_warnings(), np.errstate(all="ignore"):     # no test entries: its metrics are empty means
        warnings.simplefilter("ignore", RuntimeWarning)
        final = run_li2_grokking(cfg)["final"]
    return {"seed": int(seed), "train_accuracy": float(final["train_acc"]),
            "relative_mse": float(final["train_loss"] / (0.5 * (1 - 1 / n)))}


def trained_perfect_fit_width(name: str, widths, seeds=(0, 1, 2), steps: int = 3000, lr: float = 1e-2,
                              weight_decay: float = 0.0, tol: float = TRAINED_PERFECT) -> dict:
    """Smallest width at which Li2's trained network fits the whole table (:func:`trained_fit` per seed), scanning
    ``widths`` upwards and stopping at the first width where every seed fits: ``width_mse`` (some seed reaches
    relative MSE ``<= tol``: ``Y_hat = Y~``, Thm 3's statement), ``width_perfect`` (some seed also has train
    accuracy 1), ``width_all_seeds`` (every seed reaches the MSE); with the runs per width and the budget."""
    rows = []
    for w in sorted(int(w) for w in widths):
        runs = [trained_fit(name, w, s, steps, lr, weight_decay) for s in seeds]
        rows.append({"width": w, "runs": runs,
                     "mse_fits": sum(r["relative_mse"] <= tol for r in runs),
                     "perfect": sum(r["relative_mse"] <= tol and r["train_accuracy"] == 1.0 for r in runs)})
        if rows[-1]["mse_fits"] == len(runs):
            break
    first = lambda key, k=1: next((r["width"] for r in rows if r[key] >= k), None)
    return {"group": name, "width_mse": first("mse_fits"), "width_perfect": first("perfect"),
            "width_all_seeds": first("mse_fits", len(tuple(seeds))), "tolerance": tol, "widths": rows,
            "training": {"steps": int(steps), "lr": lr, "weight_decay": weight_decay, "optimizer": "adam",
                         "seeds": [int(s) for s in seeds], "fraction": "the whole table"}}
