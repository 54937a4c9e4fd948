"""Permutations of ``0..n-1`` in array form ``(p(0), ..., p(n-1))``: lexicographic enumeration and
rank, cycle notation, cycle type, sign, inverses. Product convention ``(p*q)(x) = p(q(x))``.

Shared by the symmetric and alternating families and by groups built from permutation generators.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import permutations
from math import factorial

import re

import numpy as np

from ..errors import GroupAxiomError

#: The accepted forms of one permutation generator, named in every error about one.
PERMUTATION_FORMS = ("cycle notation on the points 0..n-1 as the labels print it, e.g. '(0 1 2)(3 4)' "
                     "(commas allowed; 'e' or '()' is the identity), an array form such as [1, 2, 0], "
                     "or a SymPy Permutation")

@lru_cache(maxsize=None)
def permutation_array(n: int) -> np.ndarray:
    """All permutations of ``0..n-1`` in lexicographic order, shape ``(n!, n)``."""
    if n == 0:
        return np.zeros((1, 0), dtype=np.int64)
    return np.array(list(permutations(range(n))), dtype=np.int64)


def permutation_rank(p: np.ndarray) -> np.ndarray:
    """Lexicographic rank of permutations ``p`` (shape ``(..., n)``): the inverse of
    :func:`permutation_array`."""
    p = np.asarray(p)
    n = p.shape[-1]
    if n == 0:
        return np.zeros(p.shape[:-1], dtype=np.int64)
    weights = np.array([factorial(n - 1 - a) for a in range(n)], dtype=np.int64)
    lehmer = np.zeros(p.shape[:-1] + (n,), dtype=np.int64)
    for a in range(n - 1):
        lehmer[..., a] = (p[..., a + 1:] < p[..., a:a + 1]).sum(-1)
    return (lehmer * weights).sum(-1)


def cycle_label(p) -> str:
    """Cycle notation of a permutation in array form (fixed points omitted, identity ``e``)."""
    p = list(p)
    seen = [False] * len(p)
    out = []
    for s in range(len(p)):
        if seen[s] or p[s] == s:
            seen[s] = True
            continue
        cyc, x = [], s
        while not seen[x]:
            seen[x] = True
            cyc.append(x)
            x = p[x]
        out.append("(" + " ".join(map(str, cyc)) + ")")
    return "".join(out) or "e"


def cycle_type(p) -> tuple[int, ...]:
    """Cycle lengths of a permutation, sorted decreasingly (fixed points included)."""
    p = list(p)
    seen = [False] * len(p)
    lengths = []
    for s in range(len(p)):
        if not seen[s]:
            k, x = 0, s
            while not seen[x]:
                seen[x] = True
                x = p[x]
                k += 1
            lengths.append(k)
    return tuple(sorted(lengths, reverse=True))


def permutation_sign(P: np.ndarray) -> np.ndarray:
    """Sign ``+-1`` of each permutation in ``P`` (shape ``(k, n)``)."""
    n = P.shape[-1]
    inv = np.zeros(P.shape[:-1], dtype=np.int64)
    for a in range(n - 1):
        inv += (P[..., a + 1:] < P[..., a:a + 1]).sum(-1)
    return np.where(inv % 2 == 0, 1, -1)


def permutation_inverse(P: np.ndarray, rank=None) -> np.ndarray:
    """Index of each permutation's inverse (``rank`` maps array forms to indices)."""
    inv = np.argsort(P, axis=1)
    if rank is None:
        index = {tuple(p): i for i, p in enumerate(P.tolist())}
        return np.array([index[tuple(q)] for q in inv.tolist()], dtype=np.int64)
    return np.asarray(rank(inv), dtype=np.int64)


_CYCLE = re.compile(r"\(([^()]*)\)")


def parse_cycles(text: str) -> tuple:
    """The array form of a permutation written in cycle notation on ``0..n-1`` (``"(0 1 2)(3 4)"``,
    commas allowed, ``"e"`` or ``"()"`` the identity; cycles compose right to left as the product
    ``(p*q)(x) = p(q(x))``); the degree is the largest point + 1. Anything else is a
    :class:`~symflow.errors.GroupAxiomError` naming the accepted forms.

    >>> parse_cycles("(0 1 2)(3 4)")
    (1, 2, 0, 4, 3)
    """
    src = str(text)
    body = src.strip()

    def bad(why: str) -> GroupAxiomError:
        return GroupAxiomError(f"cannot read the permutation {src!r}: {why}; accepted: {PERMUTATION_FORMS}")

    if body in ("e", "()", ""):
        if body == "":
            raise bad("it is empty")
        return ()
    cycles, pos = [], 0
    for m in _CYCLE.finditer(body):
        if body[pos:m.start()].strip():
            raise bad(f"unexpected text {body[pos:m.start()].strip()!r} outside the parentheses")
        items = [x for x in re.split(r"[\s,]+", m.group(1).strip()) if x]
        points = []
        for x in items:
            if not x.isdigit():
                raise bad(f"{x!r} is not a point 0, 1, 2, ...")
            points.append(int(x))
        if len(set(points)) != len(points):
            raise bad(f"the cycle ({m.group(1).strip()}) repeats a point")
        cycles.append(points)
        pos = m.end()
    if body[pos:].strip() or not cycles:
        rest = body[pos:].strip()
        raise bad("unbalanced parentheses" if "(" in rest or ")" in rest else f"unexpected text {rest!r}")
    degree = max((max(c) + 1 for c in cycles if c), default=0)
    perm = list(range(degree))
    for cyc in reversed(cycles):   # rightmost cycle acts first
        step = {a: b for a, b in zip(cyc, cyc[1:] + cyc[:1])}
        perm = [step.get(x, x) for x in perm]
    return tuple(perm)
