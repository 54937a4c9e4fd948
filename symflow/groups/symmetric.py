"""Symmetric groups ``S_n`` (``n = 1..7``) with exact irreps in Young's orthogonal form.

Element order: the permutations of ``0..n-1`` in **lexicographic order of their array form**
``(p(0), ..., p(n-1))``; index ``0`` is the identity. Labels are cycle notation without fixed
points, e.g. ``"(0 1 2)(3 4)"``; the identity is ``"e"``.

Product convention: ``(p*q)(x) = p(q(x))`` (apply ``q`` first), so ``table[i, j]`` is the index
of ``p_i o p_j``.

Irreps are labelled by partitions ``"[3, 1]"`` in reverse lexicographic order (``[n]`` = trivial
first, ``[1, ..., 1]`` = sign last). The basis of irrep ``lambda`` is its standard Young
tableaux (entries ``0..n-1``), sorted lexicographically by their row word (the row of entry
``0``, of entry ``1``, ...). **Young's orthogonal form**: with contents ``c(i) = col(i) - row(i)``
and axial distance ``r = c(k+1) - c(k)`` for the adjacent transposition ``s_k = (k k+1)``,

    rho(s_k) T = (1/r) T + sqrt(1 - 1/r^2) (s_k T),

where ``s_k T`` swaps the entries ``k, k+1`` (the second term is absent when ``s_k T`` is not
standard, i.e. ``r = +-1``). So ``[n]`` (all in one row, ``r = 1``) is trivial and ``[1^n]`` is the
sign. All matrices are real orthogonal.

Numeric matrices are built by products along reduced words: every permutation ``g != e`` is
``s_k * h`` for a shorter ``h`` (breadth-first search on the Cayley graph of the ``s_k``), and
``rho(s_k h) = rho(s_k) rho(h)``. Exact matrices follow the same words with exact integer
arithmetic in ``Q(sqrt 2, sqrt 3, sqrt 5, sqrt 7)`` (:mod:`symflow.groups.multiquadratic`), built
lazily on first use (for ``S_7`` they are large: a 35-dim irrep needs about 0.8 GB of integer
arrays). Characters of ``S_n`` are integers; the exact character table comes from
:attr:`Irrep.exact_character`.
"""
from __future__ import annotations

from functools import lru_cache
from math import factorial, lcm

import numpy as np

from . import multiquadratic as mq
from .group import Group
from .integers import prime_factors
from .irrep import Irrep
from .permutations import cycle_label, cycle_type, permutation_array, permutation_inverse, permutation_rank

#: Largest supported degree (S_7 has 5040 elements).
MAX_DEGREE = 7


def set_permutation_structure(group: Group, P: np.ndarray) -> list[tuple[int, ...]]:
    """Precompute the element orders (lcm of cycle lengths) and commutativity of a group of
    permutations ``P`` (rows in element order) so no Cayley table is needed for them; returns
    the cycle types. (``Group``'s cached properties are plain instance attributes once set.)
    The caller sets ``group.classes`` (cycle types split in ``A_n``), ordered by smallest member
    with sorted members, as :attr:`Group.classes` does.
    """
    types = [cycle_type(p) for p in P.tolist()]
    group.element_orders = np.array([lcm(*t) if t else 1 for t in types], dtype=np.int64)
    group.is_abelian = bool(np.array_equal(group.table, group.table.T)) if group.order <= 720 else False
    return types


# ---------------------------------------------------------------------- the group
def symmetric_group(n: int) -> Group:
    """``S_n`` on ``0..n-1`` (``1 <= n <= 7``); see the module docstring for order and product."""
    n = int(n)
    if not 1 <= n <= MAX_DEGREE:
        raise ValueError(f"S_n is supported for 1 <= n <= {MAX_DEGREE}, got n = {n}")
    P = permutation_array(n)
    order = len(P)
    labels = [cycle_label(p) for p in P.tolist()]

    def multiply(i, j):
        i, j = np.broadcast_arrays(np.asarray(i), np.asarray(j))
        return permutation_rank(np.take_along_axis(P[i], P[j], axis=-1))

    table = None
    if order <= 720:
        table = multiply(np.arange(order)[:, None], np.arange(order)[None, :])
    group = Group(order=order, labels=labels, identity=0, name=f"S{n}", table=table,
                  multiply=None if table is not None else multiply, inverse=permutation_inverse(P, permutation_rank),
                  irreps_factory=_symmetric_irreps, family="symmetric",
                  info={"n": n, "permutations": P})
    types = set_permutation_structure(group, P)
    by_type: dict = {}
    for i, t in enumerate(types):
        by_type.setdefault(t, []).append(i)
    group.classes = sorted(by_type.values(), key=lambda c: c[0])
    return group


# ---------------------------------------------------------------------- partitions, tableaux
def partitions(n: int) -> list[tuple[int, ...]]:
    """Partitions of ``n`` in reverse lexicographic order (``(n,)`` first, ``(1,)*n`` last)."""
    out = []

    def rec(rest, maxpart, prefix):
        if rest == 0:
            out.append(tuple(prefix))
            return
        for k in range(min(rest, maxpart), 0, -1):
            rec(rest - k, k, prefix + [k])

    rec(n, n, [])
    return out


def conjugate_partition(shape) -> tuple[int, ...]:
    shape = tuple(shape)
    return tuple(sum(1 for s in shape if s > j) for j in range(shape[0])) if shape else ()


def partition_label(shape) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


@lru_cache(maxsize=None)
def standard_tableaux(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Standard Young tableaux of ``shape`` as row words ``w`` (``w[i]`` = row of entry ``i``),
    sorted lexicographically."""
    n = sum(shape)
    out = []

    def rec(word, lengths):
        if len(word) == n:
            out.append(tuple(word))
            return
        for r in range(len(shape)):
            if lengths[r] < shape[r] and (r == 0 or lengths[r - 1] > lengths[r]):
                lengths[r] += 1
                word.append(r)
                rec(word, lengths)
                word.pop()
                lengths[r] -= 1

    rec([], [0] * len(shape))
    return sorted(out)


def _contents(word) -> list[int]:
    """Content ``col - row`` of each entry of the tableau with row word ``word``."""
    filled: dict[int, int] = {}
    out = []
    for r in word:
        c = filled.get(r, 0)
        filled[r] = c + 1
        out.append(c - r)
    return out


@lru_cache(maxsize=None)
def young_generator_data(shape: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each ``k = 0..n-2``: ``(r, partner)`` arrays over the tableaux: axial distance
    ``r = c(k+1) - c(k)`` and the index of ``s_k T`` (``-1`` when it is not standard)."""
    tabs = standard_tableaux(shape)
    index = {t: a for a, t in enumerate(tabs)}
    n = sum(shape)
    conts = [_contents(t) for t in tabs]
    data = []
    for k in range(n - 1):
        r = np.array([c[k + 1] - c[k] for c in conts], dtype=np.int64)
        partner = np.full(len(tabs), -1, dtype=np.int64)
        for a, t in enumerate(tabs):
            if abs(r[a]) > 1:
                w = list(t)
                w[k], w[k + 1] = w[k + 1], w[k]
                partner[a] = index[tuple(w)]
        data.append((r, partner))
    return data


def young_generator_matrices(shape) -> list[np.ndarray]:
    """Numeric ``rho(s_k)``, ``k = 0..n-2``, in Young's orthogonal form."""
    shape = tuple(shape)
    d = len(standard_tableaux(shape))
    mats = []
    for r, partner in young_generator_data(shape):
        m = np.diag(1.0 / r)
        for a in range(d):
            if partner[a] >= 0:
                m[a, partner[a]] = np.sqrt(1.0 - 1.0 / r[a] ** 2)
        mats.append(m)
    return mats


@lru_cache(maxsize=None)
def reduced_words(n: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Breadth-first words: a list of steps ``(k, targets, parents)`` meaning
    ``element[targets] = s_k * element[parents]``, in an order where parents come first."""
    P = permutation_array(n)
    order = len(P)
    if n < 2:
        return []
    gens = []
    for k in range(n - 1):
        s = np.arange(n)
        s[k], s[k + 1] = k + 1, k
        gens.append(s)
    seen = np.zeros(order, dtype=bool)
    seen[0] = True
    frontier = np.array([0])
    steps = []
    while len(frontier):
        nxt = []
        for k, s in enumerate(gens):
            prod = permutation_rank(s[P[frontier]])  # (s_k o h)(x) = s_k(h(x))
            new = ~seen[prod]
            # a product may appear twice in one step: keep its first occurrence
            tg, first = np.unique(prod[new], return_index=True)
            if len(tg):
                pa = frontier[new][first]
                seen[tg] = True
                steps.append((k, tg, pa))
                nxt.append(tg)
        frontier = np.concatenate(nxt) if nxt else np.array([], dtype=np.int64)
    assert seen.all()
    return steps


@lru_cache(maxsize=None)
def young_numeric(shape: tuple[int, ...]) -> np.ndarray:
    """``rho_lambda(g)`` for every ``g in S_n`` (element order), shape ``(n!, d, d)``, real."""
    n = sum(shape)
    d = len(standard_tableaux(shape))
    # rho(s_k) has at most two non-zeros per row: row a of rho(s_k) M is
    # M[a] / r_a + sqrt(1 - 1/r_a^2) M[partner_a]
    rows = []
    for r, partner in young_generator_data(shape):
        off = np.where(partner >= 0, np.sqrt(np.maximum(1.0 - 1.0 / r.astype(float) ** 2, 0.0)), 0.0)
        rows.append((1.0 / r, off, np.where(partner >= 0, partner, np.arange(d))))
    out = np.zeros((factorial(n), d, d))
    out[0] = np.eye(d)
    for k, tg, pa in reduced_words(n):
        diag, off, prt = rows[k]
        M = out[pa]
        out[tg] = diag[None, :, None] * M + off[None, :, None] * M[:, prt, :]
    out.setflags(write=False)
    return out


def young_basis(n: int) -> mq.Basis:
    """The multiquadratic basis for ``S_n``'s exact matrices (primes dividing some ``r^2 - 1``)."""
    primes = sorted({p for r in range(2, max(n, 2)) for p in prime_factors(r * r - 1)})
    return mq.Basis(primes)


@lru_cache(maxsize=None)
def young_exact(shape: tuple[int, ...]) -> tuple[mq.Basis, np.ndarray, np.ndarray]:
    """Exact ``rho_lambda(g)`` for every ``g``: ``(basis, num, den)`` with ``num`` of shape
    ``(n!, B, d, d)`` (integers) and ``den`` of shape ``(n!,)``; value
    ``sum_b num[g, b] sqrt(basis_b) / den[g]``."""
    n = sum(shape)
    basis = young_basis(n)
    B = basis.size
    d = len(standard_tableaux(shape))
    # per generator: integer coefficients over the common denominator L
    gen_data = []
    for r, partner in young_generator_data(shape):
        L = lcm(*[abs(int(x)) for x in r])
        diag = np.array([L // int(x) for x in r], dtype=np.int64)  # L * (1/r), sign included
        off = np.zeros(d, dtype=np.int64)
        src = np.tile(np.arange(B)[:, None], (1, d))
        factor = np.ones((B, d), dtype=np.int64)
        for a in range(d):
            if partner[a] >= 0:
                s, q = mq.monomial_sqrt(int(r[a]))
                off[a] = L // abs(int(r[a])) * s
                src[:, a], factor[:, a] = basis.sqrt_action(basis.mask(q))
        prt = np.where(partner >= 0, partner, np.arange(d))
        gen_data.append((L, diag, off, src, factor, prt))
    num = np.zeros((factorial(n), B, d, d), dtype=np.int64)
    den = np.ones(factorial(n), dtype=np.int64)
    num[0, 0] = np.eye(d, dtype=np.int64)
    for k, tg, pa in reduced_words(n):
        L, diag, off, src, factor, prt = gen_data[k]
        M = num[pa]
        new = (diag[None, None, :, None] * M
               + (off[None, None, :, None] * factor[None, :, :, None]) * M[:, src, prt[None, :], :])
        new, dd = mq.reduce_fractions(new, den[pa] * L)
        if new.dtype == object or mq.maybe_promote(new).dtype == object:
            raise OverflowError(f"exact Young matrices of {shape} exceed int64")  # pragma: no cover
        num[tg] = new
        den[tg] = dd
    return basis, num, den


# ---------------------------------------------------------------------- the irreps
def _symmetric_irreps(group: Group) -> list[Irrep]:
    n = group.info["n"]
    irreps = []
    for shape in partitions(n):
        mats = young_numeric(shape)

        def exact(shape=shape):
            basis, num, den = young_exact(shape)
            return mq.to_sympy_matrices(basis, num, den)

        irreps.append(Irrep(group, partition_label(shape), numeric=mats.astype(complex), exact=exact,
                            meta={"partition": shape, "basis": "standard Young tableaux (row words)"}))
    return irreps
