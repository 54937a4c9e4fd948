"""Matrix-level structure of a block expression, recovered exactly from its entries.

The theory engine hands over a block flow entry by entry (``drive[xi][i, j] = (1/n) sum_k
theta2_i_k theta1_k_j``). For large blocks (``d`` up to 16 for S6) the entry-level code has
``O(d^3)`` scalar terms, so the generator prints the same expression as batched matrix products.
This module finds that matrix form:

    E = sum_k c_k(n) W_k            (matrix-valued: drive)
    E = sum_k c_k(n) tr(W_k)        (scalar: omega_block)

where each word ``W_k`` is a product of atoms ``X, X^T, conj(X), X^H`` of the blocks ``X``.

Recognition: every monomial of ``E`` fixes which blocks (and which conjugates) a word may contain;
all orderings and transpositions of those factors are the candidate words (traces up to cyclic
rotation and transposition). The coefficients ``c_k(n)`` are solved exactly from evaluations at
random Gaussian-integer points (all arithmetic exact: integers below ``2^50``). The identity
``E = sum c_k W_k`` is then confirmed exactly at ``VERIFY_POINTS`` fresh random points; by the
Schwartz-Zippel lemma a false identity survives with probability at most ``(deg/(2R+1))^points``
(``R`` the sampling radius, typically about ``10^3``, ``deg <= 4``), i.e. below ``1e-8``.
Expressions that are not of this form give ``None`` (the generator then prints entry-level code).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import sympy as sp
from sympy.polys.domains import QQ_I
from sympy.polys.matrices import DomainMatrix
from sympy.polys.matrices.exceptions import DMNonInvertibleMatrixError

#: Fresh random points at which a recognised matrix form is confirmed exactly.
VERIFY_POINTS = 3
#: Give up (entry-level code) when a monomial type has more candidate words than this.
MAX_CANDIDATES = 400

#: Atom operations: identity, transpose, entrywise conjugate, conjugate transpose.
OPS = ("", "T", "conj", "H")
_TRANSPOSE_OF = {"": "T", "T": "", "conj": "H", "H": "conj"}


@dataclass(frozen=True)
class Atom:
    """``op(X)`` for a block ``X`` called ``name``; ``op`` in ``OPS``."""

    name: str
    op: str = ""

    @property
    def is_conjugated(self) -> bool:
        return self.op in ("conj", "H")

    def transposed(self) -> "Atom":
        return Atom(self.name, _TRANSPOSE_OF[self.op])

    def __str__(self) -> str:
        return {"": self.name, "T": f"{self.name}^T", "conj": f"conj({self.name})", "H": f"{self.name}^H"}[self.op]

    def sympy(self, blocks):
        X = sp.Matrix(blocks[self.name])
        return {"": X, "T": X.T, "conj": X.conjugate(), "H": X.H}[self.op]

    def numeric(self, values):
        X = values[self.name]
        if self.op in ("T", "H"):
            X = np.swapaxes(X, -1, -2)
        if self.is_conjugated:
            X = np.conj(X)
        return X


@dataclass(frozen=True)
class Term:
    """``coeff * W`` (matrix form) or ``coeff * tr(W)`` (trace form) for a word ``W`` of atoms."""

    coeff: sp.Expr
    word: tuple

    def __str__(self) -> str:
        return f"({self.coeff}) * " + " ".join(map(str, self.word))


@dataclass(frozen=True)
class MatrixForm:
    """``sum_k c_k W_k`` (``kind="matrix"``) or ``sum_k c_k tr(W_k)`` (``kind="trace"``)."""

    kind: str
    terms: tuple

    def to_sympy(self, blocks):
        """The explicit SymPy matrix (or scalar) this form stands for."""
        d = sp.Matrix(next(iter(blocks.values()))).shape[0]
        total = sp.zeros(d, d) if self.kind == "matrix" else sp.Integer(0)
        for t in self.terms:
            W = _word_sympy(t.word, blocks)
            total = total + t.coeff * (W.trace() if self.kind == "trace" else W)
        return total

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        if self.kind == "trace":
            return " + ".join(f"({t.coeff}) tr(" + " ".join(map(str, t.word)) + ")" for t in self.terms)
        return " + ".join(map(str, self.terms))

    @property
    def words(self) -> list:
        return [t.word for t in self.terms]


def _word_sympy(word, blocks):
    M = word[0].sympy(blocks)
    for a in word[1:]:
        M = M * a.sympy(blocks)
    return M


def _word_numeric(word, values):
    M = word[0].numeric(values)
    for a in word[1:]:
        M = M @ a.numeric(values)
    return M


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
    """All words whose atoms realise the factor multiset ``mtype``.

    Each factor ``(name, conjugated)`` becomes ``X`` or ``X^T`` (``conj(X)`` or ``X^H`` when
    conjugated), in every distinct order. For traces, words equal up to cyclic rotation or to
    transposition (``tr W = tr W^T``) are listed once.
    """
    words = {}
    for order in sorted(set(itertools.permutations(mtype))):
        choices = [("conj", "H") if conj else ("", "T") for _, conj in order]
        for ops in itertools.product(*choices):
            word = tuple(Atom(nm, op) for (nm, _), op in zip(order, ops))
            key = _trace_canonical(word) if kind == "trace" else word
            if key not in words or _preference(word) < _preference(words[key]):
                words[key] = word
            if len(words) > MAX_CANDIDATES:
                raise _Unsupported
    return list(words.values())


def _preference(word):
    """Among equivalent trace words prefer few transposes and a conjugated first factor
    (``tr(X^H R)`` prints as the cheap ``sum(conj(X) * R)``)."""
    return (sum(a.op in ("T", "H") for a in word) - (word[0].op == "H"), [(a.name, a.op) for a in word])


def _trace_canonical(word):
    variants = []
    for w in (word, tuple(a.transposed() for a in reversed(word))):
        for k in range(len(w)):
            variants.append(tuple((a.name, a.op) for a in w[k:] + w[:k]))
    return min(variants)


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
    """The :class:`MatrixForm` of ``expr`` (a ``d x d`` Matrix for ``kind="matrix"``, a scalar for
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
        return MatrixForm(kind, ())
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
            cols = [_word_numeric(w, point).reshape(-1) for w in words]
        else:
            lhs = [sp.expand(entries[0].xreplace(rep))]
            cols = [np.array([np.trace(_word_numeric(w, point))]) for w in words]
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
    form = MatrixForm(kind, terms)

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


# ---------------------------------------------------------------------------- from the engine
def _atoms_of(factor):
    """Atoms of one matrix factor of a ``MatrixSymbol`` expression (``<name>hat`` symbols)."""
    if isinstance(factor, sp.MatrixSymbol):
        return [Atom(_block_name(factor), "")]
    if isinstance(factor, sp.Adjoint) and isinstance(factor.arg, sp.MatrixSymbol):
        return [Atom(_block_name(factor.arg), "H")]
    if isinstance(factor, sp.Transpose) and isinstance(factor.arg, sp.MatrixSymbol):
        return [Atom(_block_name(factor.arg), "T")]
    if isinstance(factor, sp.MatPow) and factor.exp.is_Integer and factor.exp > 0:
        return _atoms_of(factor.base) * int(factor.exp)
    if isinstance(factor, sp.MatMul):
        out = []
        for f in factor.args:
            if not f.is_Matrix:
                raise _Unsupported
            out += _atoms_of(f)
        return out
    raise _Unsupported


def _block_name(ms) -> str:
    return ms.name[:-3] if ms.name.endswith("hat") else ms.name


def from_matrix_expression(expr):
    """:class:`MatrixForm` of a SymPy matrix expression in ``MatrixSymbol`` blocks ``<name>hat``
    (the theory engine's ``BlockFlow.compact_drive``); ``None`` if it is not a sum of products."""
    if isinstance(expr, sp.ZeroMatrix):
        return MatrixForm("matrix", ())
    terms = []
    try:
        for t in (expr.args if isinstance(expr, sp.MatAdd) else (expr,)):
            coeff, mats = sp.Integer(1), []
            for f in (t.args if isinstance(t, sp.MatMul) else (t,)):
                if f.is_Matrix:
                    mats.append(f)
                else:
                    coeff = coeff * f
            if not mats:
                raise _Unsupported
            word = tuple(a for f in mats for a in _atoms_of(f))
            terms.append(Term(sp.factor(coeff), word))
    except _Unsupported:
        return None
    return MatrixForm("matrix", tuple(terms))


def from_trace_words(trace_words):
    """:class:`MatrixForm` (trace kind) of ``[(coef, ((name, power, adjoint), ...)), ...]``, the
    theory engine's ``energy_trace_words`` (``omega_block = sum coef tr(word)``); ``None`` if a
    letter is a pointwise power (not a block of the flow)."""
    terms = []
    for coef, word in trace_words:
        if any(power != 1 for _, power, _ in word):
            return None
        terms.append(Term(sp.factor(sp.sympify(coef)), tuple(Atom(nm, "H" if adj else "") for nm, _, adj in word)))
    return MatrixForm("trace", tuple(terms))
