"""Exact values from numbers: roots of unity, cyclotomic sums and recognition of numeric entries.

The one place where symflow turns numbers into exact SymPy values (the numeric path never imports
this module; :class:`~symflow.groups.irrep.Irrep` imports it only when exact values are asked for).

* :func:`root_of_unity` ``(k, m)``: ``exp(2 pi i k / m)`` in the simplest SymPy form;
  :func:`exact_from_complex` recognises a numeric root of unity of known order;
  :func:`cyclotomic_sum` ``sum_k exp(2 pi i k / m)`` (exact characters from eigenvalues).
* :func:`recognise_number` (and :func:`recognise_matrix`, entry by entry) tries, in order, and accepts a candidate only if it reproduces the
  number to ``tol`` (default ``1e-9``):

  1. ``0``; a root of unity ``exp(2 pi i k / m)`` with ``m <= 24`` (when ``|z| = 1`` and ``z`` is
     not real);
  2. for the real and imaginary parts separately: a rational ``p/q`` with ``q <= 1000``; a square
     root ``+-sqrt(p/q)``; a root of an integer quadratic ``a x^2 + b x + c`` (``mpmath.pslq``,
     coefficients ``<= 2000``), i.e. ``r + s sqrt(t)``; ``cos(pi k/m)`` or ``sin(pi k/m)`` times a
     small rational (``m <= 24``);
  3. otherwise a 15-digit ``sympy.Float`` and an :class:`UnrecognisedNumberWarning`.
"""
from __future__ import annotations

import warnings
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

import mpmath
import numpy as np
import sympy as sp

from ..errors import SymflowError

#: Tolerance for recognising a numeric eigenvalue as an exact root of unity.
ROOT_OF_UNITY_TOL = 1e-6


def root_of_unity(k: int, m: int) -> sp.Expr:
    """Exact ``exp(2 pi i k / m)`` in the simplest SymPy form (radicals when SymPy finds them)."""
    k %= m
    if k == 0:
        return sp.Integer(1)
    frac = sp.Rational(2 * k, m)
    if frac == 1:
        return sp.Integer(-1)
    if frac in (sp.Rational(1, 2), sp.Rational(3, 2)):
        return sp.I if frac == sp.Rational(1, 2) else -sp.I
    z = sp.exp(sp.I * sp.pi * frac)
    if m in (3, 4, 6, 8, 12):
        z = sp.nsimplify(sp.expand_complex(z))
    return z


def root_of_unity_matrices(exponents, m: int) -> list:
    """Exact ``1 x 1`` matrices ``[[exp(2 pi i e / m)]]`` for the integer exponents ``e`` (1-dim irreps)."""
    return [sp.Matrix([[root_of_unity(int(e), m)]]) for e in exponents]


def exact_from_complex(value: complex, order: int) -> sp.Expr:
    """Exact value of ``value`` known to be a root of unity of order dividing ``order``."""
    ang = np.angle(value) * order / (2 * np.pi)
    k = int(np.round(ang))
    if abs(ang - k) > ROOT_OF_UNITY_TOL or abs(abs(value) - 1) > 1e-6:
        raise SymflowError(f"{value} is not a {order}-th root of unity within {ROOT_OF_UNITY_TOL}")
    return root_of_unity(k, order)


def cyclotomic_sum(ks: Sequence[int], m: int) -> sp.Expr:
    """Exact ``sum_k exp(2 pi i k / m)``, simplified to radicals where SymPy can."""
    expr = sp.Add(*[root_of_unity(int(k), m) for k in ks])
    if expr.is_number and expr.is_rational:
        return expr
    return simplified(expr)


def simplified(expr: sp.Expr) -> sp.Expr:
    """``expr`` rewritten in radicals by ``nsimplify`` when that is numerically identical (30 digits)."""
    simp = sp.nsimplify(sp.expand_complex(expr), rational=False)
    if abs(complex(sp.N(simp, 30)) - complex(sp.N(expr, 30))) < 1e-20:
        return simp
    return expr  # pragma: no cover


#: Default acceptance tolerance.
TOL = 1e-9
MAX_DENOMINATOR = 1000


_TRIG_KEYS = [(f, k, m) for m in range(2, 25) for k in range(1, m) for f in (sp.cos, sp.sin)
              if abs(np.cos(np.pi * k / m) if f is sp.cos else np.sin(np.pi * k / m)) > 1e-12]
_TRIG_VALUES = np.array([np.cos(np.pi * k / m) if f is sp.cos else np.sin(np.pi * k / m)
                         for f, k, m in _TRIG_KEYS])


class UnrecognisedNumberWarning(UserWarning):
    """A numeric entry could not be recognised exactly; a Float was returned instead."""


def _ok(expr, x: float, tol: float) -> bool:
    try:
        return abs(complex(sp.N(expr, 30)) - x) < tol
    except (TypeError, ValueError):  # pragma: no cover
        return False


def _rational(x: float, tol: float):
    f = Fraction(x).limit_denominator(MAX_DENOMINATOR)
    if abs(float(f) - x) < tol:
        return sp.Rational(f.numerator, f.denominator)
    return None


def recognise_real(x: float, tol: float = TOL):
    """Exact real number equal to ``x`` to ``tol``, or ``None`` (memoised)."""
    return _recognise_real(float(x), float(tol))


@lru_cache(maxsize=65536)
def _recognise_real(x: float, tol: float):
    if abs(x) < tol:
        return sp.Integer(0)
    q = _rational(x, tol)
    if q is not None:
        return q
    sq = _rational(x * x, tol * tol + 2 * abs(x) * tol / 4)
    if sq is not None and sq > 0:
        cand = sp.sign(x) * sp.sqrt(sq)
        if _ok(cand, x, tol):
            return cand
    with mpmath.workdps(15):
        rel = mpmath.pslq([mpmath.mpf(x) ** 2, mpmath.mpf(x), mpmath.mpf(1)], tol=1e-11,
                          maxcoeff=2000, maxsteps=200)
    if rel is not None and rel[0] != 0:
        z = sp.Symbol("z")
        a, b, c = (int(v) for v in rel)
        for root in sp.roots(sp.Poly(a * z ** 2 + b * z + c, z)):
            root = sp.radsimp(root)
            if root.is_real and _ok(root, x, tol):
                return root
    # r * cos(pi k / m) or r * sin(pi k / m) with a small rational r: screened with numpy first
    ratio = x / _TRIG_VALUES
    for den in range(1, 13):
        scaled = ratio * den
        hits = np.nonzero((np.abs(scaled - np.round(scaled)) < tol * den * 10)
                          & (np.abs(np.round(scaled)) <= 12) & (np.round(scaled) != 0))[0]
        for h in hits:
            f, k, m = _TRIG_KEYS[h]
            cand = sp.Rational(int(np.round(scaled[h])), den) * f(sp.pi * sp.Rational(k, m))
            if _ok(cand, x, tol):
                return cand
    return None


def recognise_number(z: complex, tol: float = TOL) -> sp.Expr:
    """Exact SymPy value of the numeric entry ``z`` (see the module docstring)."""
    z = complex(z)
    if abs(z.imag) < tol:
        val = recognise_real(z.real, tol)
        if val is not None:
            return val
    else:
        if abs(abs(z) - 1) < tol:
            ang = np.angle(z) / (2 * np.pi)
            for m in range(3, 25):
                k = int(np.round(ang * m))
                if abs(ang * m - k) < tol:
                    return root_of_unity(k, m)
        re = recognise_real(z.real, tol)
        im = recognise_real(z.imag, tol)
        if re is not None and im is not None:
            return re + sp.I * im
    warnings.warn(f"could not recognise {z} exactly; using a Float", UnrecognisedNumberWarning, stacklevel=2)
    if abs(z.imag) < tol:
        return sp.Float(z.real, 15)
    return sp.Float(z.real, 15) + sp.I * sp.Float(z.imag, 15)


def recognise_matrix(m: np.ndarray, tol: float = TOL) -> sp.Matrix:
    """Exact SymPy matrix of the numeric matrix ``m``, entry by entry (:func:`recognise_number`)."""
    return sp.Matrix([[recognise_number(v, tol) for v in row] for row in np.asarray(m)])


#: Largest degree and coefficient of the minimal polynomials :func:`recognise_algebraic` looks for.
ALGEBRAIC_MAX_DEGREE = 4
ALGEBRAIC_MAX_COEFF = 10 ** 12


def recognise_algebraic(x, digits: int | None = None, max_degree: int = ALGEBRAIC_MAX_DEGREE):
    """Exact real algebraic number equal to the high-precision ``x`` (an ``mpmath.mpf``), or ``None``.

    Looks for an integer polynomial of degree ``<= max_degree`` with coefficients ``<=
    ALGEBRAIC_MAX_COEFF`` that ``x`` satisfies to ``10^-(digits - 5)`` (``mpmath.findpoly``; with
    ``digits`` well above the coefficient size the relation is not a numeric accident), then returns
    the real root of that polynomial nearest ``x`` in radicals (``sympy.roots``), accepted only if it
    reproduces ``x`` to the same tolerance. Example: ``sqrt(10)/200`` from 40 digits of ``0.0158...``.
    """
    digits = digits or mpmath.mp.dps
    with mpmath.workdps(digits):
        x = mpmath.mpf(x)
        tol = mpmath.mpf(10) ** (-(digits - 5))
        if abs(x) < tol:
            return sp.Integer(0)
        z = sp.Symbol("z")
        for deg in range(1, max_degree + 1):
            coeffs = mpmath.findpoly(x, deg, maxcoeff=ALGEBRAIC_MAX_COEFF, tol=tol)
            if coeffs is None:
                continue
            poly = sp.Poly([int(c) for c in coeffs], z)
            for factor, _ in sp.factor_list(poly.as_expr())[1]:
                fp = sp.Poly(factor, z)
                if abs(mpmath.polyval([int(c) for c in fp.all_coeffs()], x)) > tol * max(1, abs(x)) ** fp.degree() * 10 ** 6:
                    continue
                for root in sp.roots(fp, z):
                    if not root.is_real:
                        continue
                    root = sp.radsimp(sp.nsimplify(root))
                    if abs(mpmath.mpf(sp.N(root, digits + 5)) - x) < tol:
                        return root
    return None
