"""Exact arrays over a multiquadratic field ``Q(sqrt p_1, ..., sqrt p_m)`` as integer arrays.

A number is ``sum_S c_S sqrt(p_S)`` over the ``2^m`` subsets ``S`` of the primes (``p_S`` their
product, a squarefree integer), with rational ``c_S``. An array of such numbers is stored as an
integer numerator array ``num`` of shape ``(..., 2^m, *shape)`` and one positive denominator per
leading index. ``-1`` may be used as a "prime": ``sqrt(-1) = i``, so Gaussian coefficients are
included (needed for the split irreps of ``A_n``).

The product of basis elements is ``sqrt(p_S) sqrt(p_T) = (prod_{p in S and T} p) sqrt(p_{S xor T})``;
multiplying by a monomial ``c sqrt(p_Q)`` therefore permutes and scales the basis axis, which is
all that Young's orthogonal form needs (its generators have one or two monomials per row). This
makes exact products along a word as cheap as integer array arithmetic.

The same basis and multiplication table (:attr:`Basis.products`) serve single exact numbers:
:class:`MultiquadraticField` (elements ``(1/den) sum_S num[S] sqrt(p_S)`` with ``+ - * ** quo`` and an
exact ``is_zero``), one :class:`NumberField` of the exact energy proof (the field is chosen by
:func:`symflow.groups.number_fields.exact_field`). SymPy is imported only to read or write SymPy values
(:attr:`Basis.sympy`, :func:`to_sympy_matrices`, :class:`MultiquadraticField` built from SymPy atoms).
"""
from __future__ import annotations

from fractions import Fraction
from functools import cached_property, reduce
from math import gcd

import numpy as np

from ..errors import SymflowError
from .integers import factorint

#: Numerators above this switch the arithmetic to Python integers (object arrays).
_INT64_SAFE = 2 ** 40


def squarefree_part(m: int) -> tuple[int, int]:
    """``m = s^2 q`` with ``q`` squarefree: returns ``(s, q)`` (``m >= 0``; ``0`` gives ``(1, 0)``)."""
    if m == 0:
        return 1, 0
    s, q = 1, 1
    for p, e in factorint(m).items():
        s *= p ** (e // 2)
        q *= p ** (e % 2)
    return s, q


class Basis:
    """The basis ``sqrt(p_S)`` of ``Q(sqrt p_1, ..., sqrt p_m)`` indexed by bitmasks ``S``."""

    def __init__(self, primes):
        self.primes = tuple(int(p) for p in primes)
        m = len(self.primes)
        self.size = 2 ** m
        self.values = [reduce(lambda a, b: a * b, [self.primes[t] for t in range(m) if b >> t & 1], 1)
                       for b in range(self.size)]
        # numeric sqrt(p_S) (complex when -1 is one of the primes)
        self.numeric = np.array([np.prod([np.sqrt(complex(self.primes[t])) for t in range(m) if b >> t & 1])
                                 if b else 1.0 for b in range(self.size)], dtype=complex)

    @cached_property
    def sympy(self) -> list:
        """SymPy values ``sqrt(p_S)`` of the basis elements."""
        import sympy as sp

        m = len(self.primes)
        return [sp.Mul(*[sp.sqrt(self.primes[t]) for t in range(m) if b >> t & 1]) for b in range(self.size)]

    def mask(self, q: int) -> int:
        """Bitmask of the squarefree integer ``q`` (``q`` may be negative: ``-1`` must be a prime)."""
        out = 0
        for t, p in enumerate(self.primes):
            if p == -1:
                if q < 0:
                    out |= 1 << t
                    q = -q
            elif q % p == 0:
                out |= 1 << t
                q //= p
        if q != 1:
            raise ValueError(f"{q} is not a product of the basis primes {self.primes}")
        return out

    @cached_property
    def products(self) -> list:
        """``products[S][T] = (S xor T, p_{S and T})``: ``sqrt(p_S) sqrt(p_T) = p_{S and T} sqrt(p_{S xor T})``
        (the product of the shared primes), the multiplication table of the basis."""
        B = self.size
        return [[(S ^ T, self.values[S & T]) for T in range(B)] for S in range(B)]

    def sqrt_action(self, mask: int) -> tuple[np.ndarray, np.ndarray]:
        """``(src, factor)`` with ``sqrt(p_Q) * x`` having coefficient ``factor[b] * x[src[b]]`` at ``b``."""
        b = np.arange(self.size)
        src = b ^ mask
        factor = np.ones(self.size, dtype=np.int64)
        for t, p in enumerate(self.primes):
            if mask >> t & 1:
                factor = np.where(b >> t & 1, factor, factor * p)
        return src, factor


def reduce_fractions(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide ``num[k]`` and ``den[k]`` by their common gcd (``num`` has leading axis ``k``)."""
    flat = num.reshape(num.shape[0], -1)
    if flat.dtype == object:
        g = np.array([reduce(gcd, map(int, row), int(d)) for row, d in zip(flat, den)], dtype=object)
    else:
        g = np.gcd(np.gcd.reduce(np.abs(flat), axis=1), den)
    g = np.where(g == 0, 1, g)
    num = num // g.reshape((-1,) + (1,) * (num.ndim - 1))
    den = den // g
    return num, den


def maybe_promote(num: np.ndarray) -> np.ndarray:
    """Switch to Python integers before int64 arithmetic could overflow."""
    if num.dtype != object and num.size and np.abs(num).max() > _INT64_SAFE:
        return num.astype(object)
    return num


def to_sympy_matrices(basis: Basis, num: np.ndarray, den: np.ndarray) -> list:
    """SymPy matrices from ``num`` of shape ``(k, B, d, d)`` and ``den`` of shape ``(k,)``.

    Equal entries share one SymPy expression (built once), which keeps this fast.
    """
    import sympy as sp

    k, B, d, _ = num.shape
    entries = np.moveaxis(num, 1, -1).reshape(k * d * d, B)
    dens = np.repeat(np.asarray(den), d * d)
    if entries.dtype == object:
        keys = [tuple(map(int, row)) + (int(dd),) for row, dd in zip(entries, dens)]
        uniq, inverse = {}, np.empty(len(keys), dtype=np.int64)
        for t, key in enumerate(keys):
            inverse[t] = uniq.setdefault(key, len(uniq))
        rows = list(uniq)
    else:
        stacked = np.concatenate([entries, dens[:, None].astype(entries.dtype)], axis=1)
        rows, inverse = np.unique(stacked, axis=0, return_inverse=True)
        rows = [tuple(map(int, r)) for r in rows]
        inverse = inverse.reshape(-1)
    exprs = []
    for row in rows:
        *coef, dd = row
        exprs.append(sp.Add(*[sp.Rational(c, dd) * basis.sympy[b] for b, c in enumerate(coef) if c]))
    exprs_arr = np.empty(len(exprs), dtype=object)
    exprs_arr[:] = exprs
    vals = exprs_arr[inverse].reshape(k, d * d)
    return [sp.ImmutableMatrix(d, d, list(v)) for v in vals]


def monomial_sqrt(r: int) -> tuple[int, int]:
    """``sqrt(r^2 - 1) = s * sqrt(q)`` for the integer ``|r| >= 1``: returns ``(s, q)``."""
    m = r * r - 1
    if m == 0:
        return 0, 1
    return squarefree_part(m)


# ---------------------------------------------------------------------- exact number-field elements
class NumberField:
    """What the energy proof needs of a number field: exact elements with ``+ - * ** quo`` and
    ``is_zero``, built from exact SymPy numbers (:meth:`convert`), rationals (:meth:`ground`) or
    coefficient vectors in the field's basis (:meth:`coefficients` / :meth:`from_coefficients`)."""

    description = "Q"
    _atom_values: dict

    def convert(self, expr) -> "object":
        """The field element of an exact SymPy number ``expr``."""
        key = expr
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if expr.is_Rational:
            out = self.ground(Fraction(int(expr.p), int(expr.q)))
        elif expr in self._atom_values:
            out = self._atom_values[expr]
        elif expr.is_Add:
            out = self.ground(0)
            for t in expr.args:
                out = out + self.convert(t)
        elif expr.is_Mul:
            out = self.ground(1)
            for t in expr.args:
                out = out * self.convert(t)
        elif expr.is_Pow and expr.exp.is_Integer:
            base = self.convert(expr.base)
            e = int(expr.exp)
            out = base ** abs(e) if e else self.ground(1)
            if e < 0:
                out = self.ground(1).quo(out)
        else:
            raise SymflowError(f"cannot map the exact irrep entry {expr} into a number field")
        self._cache[key] = out
        return out


class NotCyclotomic(Exception):
    """An exact number is not in the field being built (the caller falls back to a larger field)."""


class _MQ:
    """An element ``(1/den) sum_S num[S] sqrt(p_S)`` of a :class:`MultiquadraticField` (reduced)."""

    __slots__ = ("field", "num", "den")

    def __init__(self, field, num, den: int = 1):
        g = gcd(den, *num)
        if g > 1:
            num = [x // g for x in num]
            den //= g
        self.field, self.num, self.den = field, num, den

    @property
    def is_zero(self) -> bool:
        return not any(self.num)

    def __add__(self, other):
        d1, d2 = self.den, other.den
        if d1 == d2:
            return _MQ(self.field, [a + b for a, b in zip(self.num, other.num)], d1)
        return _MQ(self.field, [a * d2 + b * d1 for a, b in zip(self.num, other.num)], d1 * d2)

    def __neg__(self):
        return _MQ(self.field, [-a for a in self.num], self.den)

    def __sub__(self, other):
        return self + (-other)

    def __mul__(self, other):
        table = self.field.products
        out = [0] * len(self.num)
        for S, a in enumerate(self.num):
            if a:
                row = table[S]
                for T, b in enumerate(other.num):
                    if b:
                        U, c = row[T]
                        out[U] += c * a * b
        return _MQ(self.field, out, self.den * other.den)

    def __pow__(self, e: int):
        out, base = self.field.ground(1), self
        while e:
            if e & 1:
                out = out * base
            base = base * base
            e >>= 1
        return out

    def conjugate_by(self, T: int):
        """The Galois conjugate ``sqrt(p) -> -sqrt(p)`` for the primes in the bitmask ``T``."""
        return _MQ(self.field, [-a if bin(S & T).count("1") % 2 else a for S, a in enumerate(self.num)], self.den)

    def quo(self, other):
        """``self / other``: multiply by the product of ``other``'s non-trivial conjugates, divide by its norm."""
        conj = self.field.ground(1)
        for T in range(1, len(other.num)):
            conj = conj * other.conjugate_by(T)
        norm = other * conj                      # rational: only the coefficient of sqrt(p_{}) = 1
        if not norm.num[0]:
            raise ZeroDivisionError("division by zero in a multiquadratic field")
        out = self * conj
        return _MQ(self.field, [a * norm.den for a in out.num], out.den * norm.num[0]) if norm.num[0] > 0 else \
            _MQ(self.field, [-a * norm.den for a in out.num], -out.den * norm.num[0])

    def to_list(self) -> list:
        return [Fraction(a, self.den) for a in self.num]


class MultiquadraticField(NumberField):
    """``Q(sqrt p_1, ..., sqrt p_k [, i])`` when every atom is ``I`` or ``sqrt(rational)``: elements
    in the basis ``sqrt(p_S)`` of :class:`symflow.groups.multiquadratic.Basis` (``i = sqrt(-1)``),
    integer numerators over one denominator; ``x == 0`` is decided by the coefficients."""

    def __init__(self, atoms):
        import sympy as sp

        primes, need_i = set(), False
        for a in atoms:
            if a == sp.I:
                need_i = True
                continue
            if not (a.is_Pow and a.base.is_Rational and a.exp in (sp.Rational(1, 2), sp.Rational(-1, 2))):
                raise NotCyclotomic(a)
            m = int(a.base.p) * int(a.base.q)
            need_i |= m < 0
            primes |= set(factorint(squarefree_part(abs(m))[1]))
        gens = [sp.sqrt(p) for p in sorted(primes)] + ([sp.I] if need_i else [])
        self.description = ("Q(" + ", ".join(sp.sstr(g) for g in gens) + ")") if atoms else "Q"
        self.basis = Basis(sorted(primes) + ([-1] if need_i else []))
        self.products = self.basis.products
        self._cache: dict = {}
        values = {}
        for a in atoms:
            if a == sp.I:
                values[a] = self.monomial(Fraction(1), -1)
                continue
            num, den = int(a.base.p), int(a.base.q)
            square, free = squarefree_part(abs(num * den))      # sqrt(num/den) = (square/den) sqrt(+-free)
            val = self.monomial(Fraction(square, den), free if num > 0 else -free)
            values[a] = self.ground(1).quo(val) if a.exp == sp.Rational(-1, 2) else val
        self._atom_values = values

    def monomial(self, c: Fraction, q: int) -> _MQ:
        """``c sqrt(q)`` for a squarefree integer ``q`` (``q < 0``: ``i sqrt(-q)``)."""
        num = [0] * self.basis.size
        num[self.basis.mask(q)] = int(c.numerator)
        return _MQ(self, num, int(c.denominator))

    def ground(self, q) -> _MQ:
        q = Fraction(q)
        return self.monomial(q, 1)

    @property
    def degree(self) -> int:
        return self.basis.size

    def coefficients(self, elem: _MQ, size: int) -> list:
        return elem.to_list()

    def from_coefficients(self, ints) -> _MQ:
        return _MQ(self, [int(x) for x in ints], 1)
