"""Irreducible unitary representations with exact (SymPy) and numeric (NumPy) matrices.

An :class:`Irrep` of a :class:`~symflow.groups.group.Group` ``G`` holds ``rho(g)`` for every
element ``g`` in the group's element order. The exact matrices are SymPy objects (roots of
unity, square roots); the numeric array ``matrices`` of shape ``(n, d, d)`` is derived from them
once (or built directly by the family for speed) and cached.

Exact characters are recognised from the numeric matrices without symbolic matrix products:
``chi(g) = sum of the eigenvalues of rho(g)``, each an ``ord(g)``-th root of unity, so rounding
``angle * ord(g) / (2 pi)`` to an integer gives the eigenvalue exactly (tolerance 1e-6 on the
rounding; an ambiguous rounding raises).
"""
from __future__ import annotations

from functools import cached_property
from typing import Callable, Sequence

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
    simp = sp.nsimplify(sp.expand_complex(expr), rational=False)
    # only accept the simplification if it is numerically identical
    if abs(complex(sp.N(simp, 30)) - complex(sp.N(expr, 30))) < 1e-20:
        return simp
    return expr  # pragma: no cover


class Irrep:
    """One irreducible unitary representation of a finite group.

    Parameters
    ----------
    group : Group
    label : str
        Readable name (``chi_3``, ``[3, 1]``, ``rho_2``...).
    numeric : (n, d, d) complex array, optional
        ``rho(g)`` for every element; derived from ``exact`` when omitted.
    exact : list of sympy.Matrix, or callable returning one, optional
        Exact matrices ``rho(g)``. A callable is evaluated lazily on first use.
    exact_generators : dict, optional
        Informational: exact images of generators (shown by ``describe``).
    """

    def __init__(self, group, label: str, numeric: np.ndarray | None = None,
                 exact: list | Callable[[], list] | None = None, meta: dict | None = None):
        self.group = group
        self.label = label
        self.meta = dict(meta or {})
        self._exact = exact
        if numeric is None:
            if exact is None:
                raise SymflowError(f"irrep {label}: needs numeric or exact matrices")
            numeric = np.array([np.array(sp.N(m, 20).tolist(), dtype=complex)
                                for m in self.exact_matrices], dtype=complex)
        numeric = np.asarray(numeric, dtype=complex)
        if numeric.ndim != 3 or numeric.shape[0] != group.order or numeric.shape[1] != numeric.shape[2]:
            raise SymflowError(f"irrep {label}: numeric matrices must have shape (n, d, d), got {numeric.shape}")
        self.matrices = numeric

    @property
    def dim(self) -> int:
        return int(self.matrices.shape[1])

    @property
    def d(self) -> int:
        return self.dim

    @property
    def exact_matrices(self) -> list:
        """Exact SymPy matrices ``rho(g)`` in element order (computed lazily)."""
        if self._exact is None:
            self._exact = [self._recognise_matrix(m) for m in self.matrices]
        elif callable(self._exact):
            self._exact = list(self._exact())
        return self._exact

    def _recognise_matrix(self, m: np.ndarray) -> sp.Matrix:
        """Exact recognition of a numeric matrix entry by entry (for numeric constructions)."""
        from .recognise import recognise_number

        return sp.Matrix([[recognise_number(v) for v in row] for row in m])

    @cached_property
    def character(self) -> np.ndarray:
        """Numeric character ``chi(g) = tr rho(g)``, shape ``(n,)``."""
        return np.trace(self.matrices, axis1=1, axis2=2)

    @cached_property
    def exact_character(self) -> list:
        """Exact character values per element, recognised from eigenvalues (see module doc)."""
        orders = self.group.element_orders
        out: list = [None] * self.group.order
        for cls in self.group.classes:
            g = cls[0]
            m = int(orders[g])
            if self.dim == 1:
                val = exact_from_complex(self.matrices[g, 0, 0], m)
            else:
                eig = np.linalg.eigvals(self.matrices[g])
                ks = []
                for ev in eig:
                    ang = np.angle(ev) * m / (2 * np.pi)
                    k = int(np.round(ang))
                    if abs(ang - k) > ROOT_OF_UNITY_TOL:
                        raise SymflowError(f"irrep {self.label}: eigenvalue {ev} of rho({g}) is not a root of unity")
                    ks.append(k)
                val = cyclotomic_sum(ks, m)
            for h in cls:
                out[h] = val
        return out

    @cached_property
    def indicator(self) -> int:
        """Frobenius-Schur indicator ``(1/n) sum_g chi(g^2)``: +1 real, 0 complex, -1 quaternionic."""
        val = self.character[self.group.squares].sum() / self.group.order
        k = int(np.round(val.real))
        if abs(val - k) > 1e-8 or k not in (-1, 0, 1):
            raise SymflowError(f"irrep {self.label}: indicator {val} is not -1, 0 or 1")
        return k

    @property
    def type(self) -> str:
        return {1: "real", 0: "complex", -1: "quaternionic"}[self.indicator]

    @cached_property
    def is_trivial(self) -> bool:
        return self.dim == 1 and bool(np.allclose(self.matrices[:, 0, 0], 1))

    @cached_property
    def is_real_matrix(self) -> bool:
        """True when the numeric matrices are real (orthogonal)."""
        return bool(np.abs(self.matrices.imag).max() < 1e-12)

    def __repr__(self) -> str:
        return f"<Irrep {self.label} of {self.group.name}: dim {self.dim}, {self.type}>"

    def _repr_latex_(self) -> str:
        return f"$\\rho_{{{sp.latex(sp.Symbol(self.label))}}}: \\dim {self.dim},\\ \\text{{{self.type}}}$"
