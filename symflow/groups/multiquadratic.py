"""Exact arrays over a multiquadratic field ``Q(sqrt p_1, ..., sqrt p_m)`` as integer arrays.

A number is ``sum_S c_S sqrt(p_S)`` over the ``2^m`` subsets ``S`` of the primes (``p_S`` their
product, a squarefree integer), with rational ``c_S``. An array of such numbers is stored as an
integer numerator array ``num`` of shape ``(..., 2^m, *shape)`` and one positive denominator per
leading index. ``-1`` may be used as a "prime": ``sqrt(-1) = i``, so Gaussian coefficients are
included (needed for the split irreps of ``A_n``).

The product of basis elements is ``sqrt(p_S) sqrt(p_T) = (prod_{p in S and T} p) sqrt(p_{S xor T})``;
multiplying by a monomial ``c sqrt(p_Q)`` therefore permutes and scales the basis axis, which is
all that Young's orthogonal form needs (its generators have one or two monomials per row). This
makes exact products along a word as cheap as integer array arithmetic. SymPy is imported only to
convert to SymPy values (:attr:`Basis.sympy`, :func:`to_sympy_matrices`).
"""
from __future__ import annotations

from functools import cached_property, reduce
from math import gcd

import numpy as np

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
