r"""How many hidden nodes a perfect fit needs (Li2's Thm 3), checked by least squares.

Nodes are local maxima of the full-table energy on one irrep orbit each: seeded Gaussian starts
projected on the orbit's isotypic subspace (``P_rho f(g) = (d/n) sum_k chi(k g^-1) f(k)`` summed over the
orbit, applied to ``u`` and ``v``) and brought to a maximum by the landscape's ascent
(:func:`symflow.landscape.search.ascend` on :func:`~symflow.li2.core.li2_model`). The network's
output layer ``V`` (with a bias) is fitted by least squares to the one-hot targets on the training
entries (:func:`least_squares_fit`); the fit is perfect when the residual of the centred targets is zero
to rounding. Per nontrivial orbit ``k_rho`` is the least number of that orbit's nodes for which the fit
of the whole table is perfect while every other orbit has ``NODE_CAP(d)`` nodes; the total is the sum.
"""
from __future__ import annotations

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
    for o in group.orbits:
        if o.is_trivial:
            continue
        rows.append({"orbit": o.label, "dim": o.dim, "type": o.type, "nodes": counts[o.id]})
    total = sum(counts.values())
    check = least_squares_fit(prob, np.concatenate([pools[k][:c] for k, c in counts.items()]))
    return {"group": group.name, "orbits": rows, "total": total, "residual": check["residual"],
            "accuracy": check["train_accuracy"]}
