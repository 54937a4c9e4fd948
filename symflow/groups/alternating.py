"""Alternating groups ``A_n`` (``n = 1..7``) with exact irreps by restriction and splitting.

Element order: the even permutations of ``0..n-1`` in **lexicographic order of their array
form** (the order of :func:`symflow.groups.symmetric.symmetric_group` with the odd permutations
removed); index ``0`` is the identity. Labels are cycle notation, product ``(p*q)(x) = p(q(x))``.

Irreps (Clifford theory for the index-2 subgroup ``A_n < S_n``), from Young's orthogonal form
``rho_lambda`` of :mod:`symflow.groups.symmetric`:

* ``lambda != lambda'`` (conjugate partition): ``rho_lambda`` and ``rho_lambda' = sign x rho_lambda``
  restrict to the same irrep of ``A_n``; it is listed once, under the partition that comes first in
  reverse lexicographic order (label ``"[3, 1]"``). Real orthogonal.
* ``lambda = lambda'``: the restriction splits into two irreps of dimension ``d/2``. The
  intertwiner ``J`` with ``J rho(g) = sign(g) rho(g) J`` is a signed permutation matrix sending the
  tableau ``T`` to its transpose ``T'``, ``J e_T = eps_T e_T'``, normalised by ``eps = +1`` on the
  first tableau; ``J^2 = c I`` with ``c = +-1``. ``J`` (if ``c = 1``) or ``iJ`` (if ``c = -1``)
  commutes with ``rho(A_n)``; its ``+1`` eigenspace gives ``"[2, 2]+"`` and its ``-1`` eigenspace
  ``"[2, 2]-"``, in the orthonormal bases ``(e_T +- gamma_T e_T')/sqrt(2)`` (``T`` before ``T'``,
  ``gamma_T = eps_T`` or ``i eps_T``). For ``c = 1`` the pieces are real orthogonal (real
  characters, e.g. ``A_5``'s two 3-dim irreps with ``(1 +- sqrt 5)/2``); for ``c = -1`` they are a
  complex conjugate pair (e.g. ``A_4``'s ``[2, 2]+-`` with cube roots of unity).

Exact matrices use the same integer arithmetic over ``Q(i, sqrt 2, sqrt 3, ...)`` as ``S_n``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import multiquadratic as mq
from .group import Group
from .irrep import Irrep
from .permutations import (cycle_label, permutation_array, permutation_inverse, permutation_rank,
                           permutation_sign)
from .symmetric import (MAX_DEGREE, conjugate_partition, partition_label, partitions,
                        set_permutation_structure, standard_tableaux, young_exact, young_numeric)


@lru_cache(maxsize=None)
def even_indices(n: int) -> np.ndarray:
    """Indices (in ``S_n``'s element order) of the even permutations, increasing."""
    return np.nonzero(permutation_sign(permutation_array(n)) == 1)[0]


def alternating_group(n: int) -> Group:
    """``A_n`` on ``0..n-1`` (``1 <= n <= 7``); see the module docstring for order and product."""
    n = int(n)
    if not 1 <= n <= MAX_DEGREE:
        raise ValueError(f"A_n is supported for 1 <= n <= {MAX_DEGREE}, got n = {n}")
    even = even_indices(n)
    P = permutation_array(n)[even]
    order = len(P)
    s_to_a = np.full(len(permutation_array(n)), -1, dtype=np.int64)
    s_to_a[even] = np.arange(order)
    labels = [cycle_label(p) for p in P.tolist()]

    def multiply(i, j):
        i, j = np.broadcast_arrays(np.asarray(i), np.asarray(j))
        return s_to_a[permutation_rank(np.take_along_axis(P[i], P[j], axis=-1))]

    table = None
    if order <= 360:
        table = multiply(np.arange(order)[:, None], np.arange(order)[None, :])
    group = Group(order=order, labels=labels, identity=0, name=f"A{n}", table=table,
                  multiply=None if table is not None else multiply,
                  inverse=permutation_inverse(P, lambda q: s_to_a[permutation_rank(q)]),
                  irreps_factory=_alternating_irreps, family="alternating",
                  info={"n": n, "permutations": P, "even_in_Sn": even})
    types = set_permutation_structure(group, P)
    # classes: S_n classes of even type; split by conjugating with A_n
    inv = np.argsort(P, axis=1)
    by_type: dict = {}
    for i, t in enumerate(types):
        by_type.setdefault(t, []).append(i)
    classes = []
    for members in by_type.values():
        rest = set(members)
        while rest:
            x = min(rest)
            conj = np.take_along_axis(P, P[x][inv], axis=1)  # a x a^-1 for every a in A_n
            orbit = np.unique(s_to_a[permutation_rank(conj)])
            classes.append([int(c) for c in orbit])
            rest -= set(classes[-1])
    group.classes = sorted(classes, key=lambda c: c[0])
    return group


# ---------------------------------------------------------------------- splitting data
def _transpose_word(word) -> tuple[int, ...]:
    """Row word of the transposed tableau (row of each entry becomes its column)."""
    filled: dict[int, int] = {}
    out = []
    for r in word:
        c = filled.get(r, 0)
        filled[r] = c + 1
        out.append(c)
    return tuple(out)


@lru_cache(maxsize=None)
def split_data(shape: tuple[int, ...]):
    """For a self-conjugate ``shape``: ``(pairs, eps, c)`` where ``pairs`` lists ``(T, T')``
    index pairs with ``T < T'``, ``eps[T]`` the sign of ``J e_T = eps_T e_T'`` and ``J^2 = c I``."""
    n = sum(shape)
    tabs = standard_tableaux(shape)
    index = {t: a for a, t in enumerate(tabs)}
    d = len(tabs)
    tr = np.array([index[_transpose_word(t)] for t in tabs])
    # numeric intertwiner J = sum_g sign(g) rho(g) X rho(g)^T, X supported on T -> T'
    R = young_numeric(shape)
    sign = permutation_sign(permutation_array(n)).astype(float)
    rng = np.random.default_rng(12345)
    X = np.zeros((d, d))
    X[tr, np.arange(d)] = rng.standard_normal(d) + 3.0
    J = np.einsum("g,gij,jk,glk->il", sign, R, X, R, optimize=True)
    J /= J[tr[0], 0]
    eps = np.array([J[tr[a], a] for a in range(d)])
    rounded = np.round(eps)
    Jexact = np.zeros((d, d))
    Jexact[tr, np.arange(d)] = rounded
    if np.abs(J - Jexact).max() > 1e-8 or not set(np.abs(rounded)) <= {1.0}:
        raise AssertionError(f"intertwiner of {shape} is not a signed permutation")  # pragma: no cover
    c = int(round(rounded[0] * rounded[tr[0]]))
    pairs = [(a, int(tr[a])) for a in range(d) if a < tr[a]]
    return pairs, rounded.astype(np.int64), c


def _split_basis(shape, sign: int) -> np.ndarray:
    """Orthonormal basis ``V`` (``d x d/2``) of the ``sign`` eigenspace of ``J`` or ``iJ``."""
    pairs, eps, c = split_data(shape)
    d = 2 * len(pairs)
    V = np.zeros((d, len(pairs)), dtype=complex)
    for col, (a, b) in enumerate(pairs):
        gamma = eps[a] * (1 if c == 1 else 1j)
        V[a, col] = 1 / np.sqrt(2)
        V[b, col] = sign * gamma / np.sqrt(2)
    return V


def _split_exact(shape, sign: int, even: np.ndarray):
    """Exact ``V^* rho(g) V`` for even ``g``: ``(basis, num, den)`` over ``Q(i, sqrt ...)``."""
    basis, num, den = young_exact(shape)
    pairs, eps, c = split_data(shape)
    num, den = num[even], den[even]
    T = np.array([a for a, _ in pairs])
    Tp = np.array([b for _, b in pairs])
    g = sign * eps[T]  # gamma_T = g (c = 1) or i g (c = -1)
    gcol = g[None, None, None, :]
    grow = g[None, None, :, None]
    if c == 1:
        W = num[..., T] + gcol * num[..., Tp]  # rho V (times sqrt 2)
        X = W[..., T, :] + grow * W[..., Tp, :]  # V^* rho V (times 2)
        out_num = X
        out_basis = basis
    else:
        # W = rho V: real part rho[:, T], imaginary part g rho[:, T']
        W_re, W_im = num[..., T], gcol * num[..., Tp]
        # V^* W: rows T plus conj(i g) = -i g times rows T'
        X_re = W_re[..., T, :] + grow * W_im[..., Tp, :]
        X_im = W_im[..., T, :] - grow * W_re[..., Tp, :]
        out_basis = mq.Basis(basis.primes + (-1,))
        out_num = np.concatenate([X_re, X_im], axis=1)
    out_num, out_den = mq.reduce_fractions(out_num, den * 2)
    return out_basis, out_num, out_den


def _alternating_irreps(group: Group) -> list[Irrep]:
    n = group.info["n"]
    even = group.info["even_in_Sn"]
    irreps = []
    parts = partitions(n)
    for shape in parts:
        conj = conjugate_partition(shape)
        if conj != shape or n == 1:  # (A_1 = S_1: nothing to split)
            if parts.index(conj) < parts.index(shape):
                continue
            mats = young_numeric(shape)[even]

            def exact(shape=shape):
                basis, num, den = young_exact(shape)
                return mq.to_sympy_matrices(basis, num[even], den[even])

            irreps.append(Irrep(group, partition_label(shape), numeric=mats.astype(complex), exact=exact,
                                meta={"partition": shape, "restricted_from": partition_label(shape)}))
            continue
        R = young_numeric(shape)[even]
        for sgn, tag in ((1, "+"), (-1, "-")):
            V = _split_basis(shape, sgn)
            mats = np.einsum("ai,gab,bj->gij", V.conj(), R, V, optimize=True)
            if np.abs(mats.imag).max() < 1e-12:
                mats = mats.real.astype(complex)

            def exact(shape=shape, sgn=sgn):
                return mq.to_sympy_matrices(*_split_exact(shape, sgn, even))

            irreps.append(Irrep(group, partition_label(shape) + tag, numeric=mats, exact=exact,
                                meta={"partition": shape, "split": tag, "J_squared": split_data(shape)[2]}))
    return irreps
