"""Cayley tables: the group axioms, and tables from a user's data (a table, or permutation generators).

:func:`check_group_axioms` checks closure, identity, inverses and associativity and names the
elements where an axiom fails (:class:`~symflow.errors.GroupAxiomError`); :func:`user_table` reads a
table of indices or labels; :func:`permutation_table` closes permutation generators. They return
plain arrays and labels; :meth:`Group.from_table` and :meth:`Group.from_permutations` build the group.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import GroupAxiomError
from .permutations import PERMUTATION_FORMS, cycle_label, parse_cycles

#: Largest group :func:`permutation_table` closes.
MAX_PERMUTATION_GROUP = 50000


def check_group_axioms(table: np.ndarray, labels: Sequence[str] | None = None) -> int:
    """Check that ``table`` is a group's Cayley table; return the identity's index.

    Raises :class:`GroupAxiomError` naming the failing axiom and the elements involved.
    """
    t = np.asarray(table)
    if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] == 0:
        raise GroupAxiomError(f"a Cayley table must be a non-empty square n x n array, got shape {t.shape}")
    n = t.shape[0]
    name = (lambda i: str(labels[i])) if labels is not None else (lambda i: str(i))
    if not np.issubdtype(t.dtype, np.integer):
        raise GroupAxiomError("Cayley table entries must be integer element indices 0..n-1")
    bad = np.argwhere((t < 0) | (t >= n))
    if len(bad):
        i, j = bad[0]
        raise GroupAxiomError(
            f"closure fails: {name(i)} * {name(j)} = {t[i, j]}, which is not an element index 0..{n-1}")
    ids = [e for e in range(n) if np.array_equal(t[e], np.arange(n)) and np.array_equal(t[:, e], np.arange(n))]
    if not ids:
        raise GroupAxiomError("identity fails: no element e with e*g = g*e = g for every g")
    e = ids[0]
    for i in range(n):
        if not (t[i] == e).any() or not (t[:, i] == e).any():
            raise GroupAxiomError(f"inverses fail: {name(i)} has no two-sided inverse")
        j = int(np.nonzero(t[i] == e)[0][0])
        if t[j, i] != e:
            raise GroupAxiomError(f"inverses fail: {name(i)}*{name(j)} = e but {name(j)}*{name(i)} != e")
    # associativity: (a b) c == a (b c) for all triples, vectorised per a
    for a in range(n):
        left = t[t[a][:, None], np.arange(n)[None, :]]  # (a b) c, indexed [b, c]
        right = t[a][t]  # a (b c)
        if not np.array_equal(left, right):
            b, c = np.argwhere(left != right)[0]
            raise GroupAxiomError(
                f"associativity fails: ({name(a)}*{name(b)})*{name(c)} != {name(a)}*({name(b)}*{name(c)})")
    return e


def generating_set(table, identity: int = 0) -> list[int]:
    """A small generating set of the group with Cayley ``table`` (greedy: add the first element outside the
    subgroup generated so far)."""
    T = np.asarray(table)
    gens: list[int] = []
    inside = np.zeros(len(T), dtype=bool)
    inside[identity] = True
    for g in range(len(T)):
        if inside[g]:
            continue
        gens.append(g)
        frontier = np.nonzero(inside)[0]
        while len(frontier):
            new = np.unique(T[np.ix_(frontier, gens)].ravel())
            new = new[~inside[new]]
            inside[new] = True
            frontier = new
    return gens


def user_table(table, labels=None, identity=None) -> tuple[np.ndarray, list[str], int]:
    """``(table, labels, identity)`` from a user's Cayley table ``table[i][j] = index of g_i * g_j``.

    Accepts a nested list or an integer array of element indices ``0..n-1``, or a table of
    labels together with ``labels`` (then entries are looked up by label); checks every axiom.
    """
    raw = np.asarray(table, dtype=object)
    if raw.ndim != 2:
        raise GroupAxiomError(f"a Cayley table must be a square n x n array, got {raw.ndim} dimension(s)")
    if labels is not None and not all(isinstance(v, (int, np.integer)) for v in raw.flat):
        index = {str(l): i for i, l in enumerate(labels)}
        try:
            raw = np.vectorize(lambda v: index[str(v)], otypes=[np.int64])(raw)
        except KeyError as exc:
            raise GroupAxiomError(f"closure fails: table entry {exc.args[0]!r} is not one of the labels") from None
    try:
        t = np.asarray(raw, dtype=np.int64)
    except (TypeError, ValueError):
        raise GroupAxiomError("Cayley table entries must be integer indices 0..n-1 (or labels with labels=...)") from None
    if not np.array_equal(t, raw.astype(np.float64)):
        raise GroupAxiomError("Cayley table entries must be integers")
    n = t.shape[0]
    labels = [str(l) for l in labels] if labels is not None else [str(i) for i in range(n)]
    if len(labels) != n:
        raise GroupAxiomError(f"{len(labels)} labels for a {n} x {n} table")
    e = check_group_axioms(t, labels)
    if identity is not None and identity != e:
        raise GroupAxiomError(f"identity fails: element {labels[identity]} is not the identity ({labels[e]} is)")
    return t, labels, e


def _as_array_form(p, degree=None):
    if isinstance(p, str):
        arr = list(parse_cycles(p))
    elif hasattr(p, "array_form"):
        arr = list(p.array_form)
    else:
        try:
            arr = [int(x) for x in p]
            if any(a != x for a, x in zip(arr, p)):
                raise ValueError
        except (TypeError, ValueError):
            raise GroupAxiomError(f"cannot read the permutation {p!r}; accepted: {PERMUTATION_FORMS}") from None
    if degree is not None and len(arr) < degree:
        arr += list(range(len(arr), degree))
    return tuple(arr)


def permutation_table(generators) -> tuple[np.ndarray, list[str], dict]:
    """``(table, labels, info)`` of the group generated by permutations (SymPy ``Permutation``, array
    forms, or cycle notation on ``0..n-1`` such as ``"(0 1 2)(3 4)"``, :func:`~.permutations.parse_cycles`).

    Elements are listed in breadth-first order from the identity over the generators (the identity
    has index 0); product ``(p*q)(x) = p(q(x))``. Labels are cycle notation (identity ``"e"``);
    ``info`` holds the ``degree`` and the array forms (``permutations``).
    """
    gens = [generators] if isinstance(generators, str) else list(generators)
    if not gens:
        raise GroupAxiomError("need at least one permutation generator")
    degree = max(1, max(len(_as_array_form(g)) for g in gens))
    gens = [_as_array_form(g, degree) for g in gens]
    for g in gens:
        if sorted(g) != list(range(degree)):
            raise GroupAxiomError(f"generator {list(g)} is not a permutation of 0..{degree-1}")
    ident = tuple(range(degree))
    elements = [ident]
    index = {ident: 0}
    frontier = [ident]
    while frontier:
        nxt = []
        for h in frontier:
            for g in gens:
                gh = tuple(g[x] for x in h)  # (g*h)(x) = g(h(x))
                if gh not in index:
                    index[gh] = len(elements)
                    elements.append(gh)
                    nxt.append(gh)
                    if len(elements) > MAX_PERMUTATION_GROUP:
                        raise GroupAxiomError(f"the permutation group has more than {MAX_PERMUTATION_GROUP} elements")
        frontier = nxt
    arr = np.array(elements)
    n = len(elements)
    # table[i, j] = index of p_i o p_j
    comp = arr[:, arr]  # comp[i, j, x] = p_i[p_j[x]]
    table = np.empty((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            table[i, j] = index[tuple(comp[i, j])]
    labels = [cycle_label(p) for p in elements]
    return table, labels, {"degree": degree, "permutations": [list(p) for p in elements]}
