"""Exact recovery of a block expression's matrix structure from its entries: :func:`recognise`.

The theory engine hands over a block flow entry by entry (``drive[xi][i, j] = (1/n) sum_k
theta2_i_k theta1_k_j``); code generation prints matrix-level code from its matrix form, a
:class:`~symflow.theory.matrix_expr.MatrixExpr`

    E = sum_k c_k(n) W_k            (matrix-valued: drive)
    E = sum_k c_k(n) tr(W_k)        (scalar: omega_block)

with words ``W_k`` of factors ``X`` and ``X^H`` of the blocks ``X``. The engine builds that form
directly (:func:`symflow.theory.trace_calculus.drive_expressions`, :func:`symflow.theory.energy.energy_trace_words`);
this module recovers it for any other expression.

Recognition: every monomial of ``E`` fixes which blocks (and which conjugates) a word may contain;
all orderings of those factors are the candidate words (traces up to cyclic rotation). The
coefficients ``c_k(n)`` are solved exactly from evaluations at random Gaussian-integer points (all
arithmetic exact: integers below ``2^50``). The identity ``E = sum c_k W_k`` is then confirmed
exactly at ``VERIFY_POINTS`` fresh random points; by the Schwartz-Zippel lemma a false identity
survives with probability at most ``(deg/(2R+1))^points`` (``R`` the sampling radius, typically
about ``10^3``, ``deg <= 4``), i.e. below ``1e-8``. Expressions that are not of this form give
``None`` (the generator then prints entry-level code).
"""
from __future__ import annotations

import itertools

import numpy as np
import scipy.linalg
import sympy as sp
from sympy.polys.domains import QQ_I
from sympy.polys.matrices import DomainMatrix
from sympy.polys.matrices.exceptions import DMNonInvertibleMatrixError

from ..theory.matrix_expr import Factor, MatrixExpr, Term, word_value

#: Fresh random points at which a recognised matrix form is confirmed exactly.
VERIFY_POINTS = 3
#: Give up (entry-level code) when a monomial type has more candidate words than this.
MAX_CANDIDATES = 400


# ---------------------------------------------------------------------------- monomial types
class _Unsupported(Exception):
    pass


def _factor_list(term, where):
    """``(coefficient, [(name, conjugated), ...])`` of one monomial; raise if not a monomial."""
    coeff = sp.Integer(1)
    factors = []
    for f in sp.Mul.make_args(term):
        base, exp = f.as_base_exp()
        if base in where:
            if not (exp.is_Integer and exp > 0):
                raise _Unsupported
            factors += [(where[base][0], False)] * int(exp)
        elif isinstance(base, sp.conjugate) and base.args[0] in where:
            if not (exp.is_Integer and exp > 0):
                raise _Unsupported
            factors += [(where[base.args[0]][0], True)] * int(exp)
        elif f.free_symbols & set(where):
            raise _Unsupported
        else:
            coeff = coeff * f
    return coeff, factors


def monomial_types(exprs, where) -> set:
    """Sorted factor multisets ``((name, conjugated), ...)`` of all monomials of ``exprs``."""
    types = set()
    for e in exprs:
        for term in sp.Add.make_args(sp.expand(e)):
            if term == 0:
                continue
            _, factors = _factor_list(term, where)
            if not factors:
                raise _Unsupported  # a constant term is not a matrix product
            types.add(tuple(sorted(factors)))
    return types


def candidate_words(mtype, kind: str) -> list:
    """All words whose factors realise the factor multiset ``mtype``.

    Each ``(name, conjugated)`` becomes the factor ``X`` (``X^H`` when conjugated), in every
    distinct order. For traces, words equal up to cyclic rotation are listed once.
    """
    words = {}
    for order in sorted(set(itertools.permutations(mtype))):
        word = tuple(Factor(nm, 1, conj) for nm, conj in order)
        key = _trace_canonical(word) if kind == "trace" else word
        if key not in words or _preference(word) < _preference(words[key]):
            words[key] = word
        if len(words) > MAX_CANDIDATES:
            raise _Unsupported
    return list(words.values())


def _preference(word):
    """Prefer few adjoints, and for traces a conjugated first factor (``tr(X^H R)`` prints as the
    cheap ``sum(conj(X) * R)``)."""
    return (sum(f.adjoint for f in word) - word[0].adjoint, [(f.name, f.adjoint) for f in word])


def _trace_canonical(word):
    return min(word[k:] + word[:k] for k in range(len(word)))


# ---------------------------------------------------------------------------- recognition
def _sampling_radius(d: int, degree: int) -> int:
    bound = 2.0 ** 50 / max(d, 1) ** max(degree - 1, 0)
    return int(max(2, min(1000, (bound ** (1.0 / max(degree, 1))) / np.sqrt(2))))


def _random_point(rng, names, d, radius):
    return {nm: (rng.integers(-radius, radius + 1, size=(d, d)) + 1j * rng.integers(-radius, radius + 1, size=(d, d)))
            for nm in names}


def _subs_point(point, blocks):
    rep = {}
    for nm, vals in point.items():
        B = blocks[nm]
        for i in range(B.shape[0]):
            for j in range(B.shape[1]):
                v = vals[i, j]
                rep[B[i, j]] = sp.Integer(int(v.real)) + sp.I * sp.Integer(int(v.imag))
    return rep


def _exact(z) -> sp.Expr:
    return sp.Integer(int(round(z.real))) + sp.I * sp.Integer(int(round(z.imag)))


def recognise(expr, block_exprs, kind: str, seed: int = 0):
    """The :class:`~symflow.theory.matrix_expr.MatrixExpr` of ``expr`` (a ``d x d`` Matrix for ``kind="matrix"``, a scalar for
    ``kind="trace"``) in the blocks of ``block_exprs`` (a :class:`BlockExpressions`), or ``None``."""
    blocks = block_exprs.blocks
    d = block_exprs.d
    where = block_exprs.symbol_slices()
    entries = list(sp.Matrix(expr)) if kind == "matrix" else [expr]
    try:
        types = monomial_types(entries, where)
    except _Unsupported:
        return None
    if not types:
        return MatrixExpr(kind, ())
    try:
        words = [w for t in sorted(types) for w in candidate_words(t, kind)]
    except _Unsupported:
        return None
    degree = max(len(t) for t in types)
    radius = _sampling_radius(d, degree)
    rng = np.random.default_rng(seed)
    names = tuple(blocks)

    def evaluate(point):
        rep = _subs_point(point, blocks)
        if kind == "matrix":
            lhs = [sp.expand(e.xreplace(rep)) for e in entries]
            cols = [word_value(w, point).reshape(-1) for w in words]
        else:
            lhs = [sp.expand(entries[0].xreplace(rep))]
            cols = [np.array([np.trace(word_value(w, point))]) for w in words]
        return lhs, np.stack(cols, axis=1)

    # identification: enough equations for the candidates, solved exactly
    rows_per_point = d * d if kind == "matrix" else 1
    n_points = max(1, -(-2 * len(words) // rows_per_point))
    lhs, A = [], []
    for _ in range(n_points):
        l, a = evaluate(_random_point(rng, names, d, radius))
        lhs += l
        A.append(a)
    A = np.concatenate(A, axis=0)
    # independent candidate columns, greedily in order of preference (simplest words first)
    order = sorted(range(len(words)), key=lambda k: _preference(words[k]))
    cols = []
    for k in order:
        if np.linalg.matrix_rank(A[:, cols + [k]]) > len(cols):
            cols.append(k)
    rank = len(cols)
    if rank == 0:
        return None
    _, _, row_piv = scipy.linalg.qr(A[:, cols].T, pivoting=True)
    rows = sorted(row_piv[:rank])
    Asub = DomainMatrix([[QQ_I.from_sympy(_exact(A[r, c])) for c in cols] for r in rows], (rank, rank), QQ_I)
    try:
        Ainv = Asub.inv().to_Matrix()
    except (ValueError, ZeroDivisionError, DMNonInvertibleMatrixError):
        return None
    coeffs = list(Ainv * sp.Matrix([lhs[r] for r in rows]))
    coeffs = [sp.factor(sp.cancel(c)) for c in coeffs]
    terms = tuple(Term(c, words[k]) for c, k in zip(coeffs, cols) if c != 0)
    form = MatrixExpr(kind, terms)

    # every equation used so far, then fresh points: the identity must hold exactly
    def holds(lhs_vals, a_mat):
        chosen = a_mat[:, cols]
        for r, lv in enumerate(lhs_vals):
            rhs = sp.Add(*[coeffs[k] * _exact(chosen[r, k]) for k in range(len(cols)) if coeffs[k] != 0])
            if sp.cancel(lv - rhs) != 0:
                return False
        return True

    if not holds(lhs, A):
        return None
    for _ in range(VERIFY_POINTS):
        l, a = evaluate(_random_point(rng, names, d, radius))
        if not holds(l, a):
            return None
    return form


