"""Irreducible unitary representations with numeric (NumPy) and exact (SymPy) matrices.

An :class:`Irrep` of a :class:`~symflow.groups.group.Group` ``G`` holds ``rho(g)`` for every
element ``g`` in the group's element order: the numeric array ``matrices`` of shape ``(n, d, d)``
(built directly by every family with NumPy) and, on demand, the exact SymPy matrices (roots of
unity, square roots). It carries its stable ``id`` (its index in ``group.irreps``, as escnn's
``group.irrep(id)``) and its ``type`` (``"real"``, ``"complex"`` or ``"quaternionic"`` from the
Frobenius-Schur indicator, :data:`~symflow.groups.orbits.TYPE_OF_INDICATOR`).

SymPy is imported only when exact values are asked for (:attr:`Irrep.exact_matrices`,
:attr:`Irrep.exact_character`), through :mod:`symflow.groups.recognise`; the numeric path
(matrices, characters, indicators) needs NumPy only.

Exact characters are recognised from the numeric matrices without symbolic matrix products:
``chi(g) = sum of the eigenvalues of rho(g)``, each an ``ord(g)``-th root of unity, so rounding
``angle * ord(g) / (2 pi)`` to an integer gives the eigenvalue exactly (tolerance 1e-6 on the
rounding; an ambiguous rounding raises).
"""
from __future__ import annotations

from functools import cached_property
from typing import Callable

import numpy as np

from ..errors import SymflowError
from .orbits import TYPE_OF_INDICATOR


class Irrep:
    """One irreducible unitary representation of a finite group.

    Parameters
    ----------
    group : Group
    label : str
        Readable name (``chi_3``, ``[3, 1]``, ``rho_2``...).
    numeric : (n, d, d) complex array
        ``rho(g)`` for every element.
    exact : list of sympy.Matrix, or callable returning one, optional
        Exact matrices ``rho(g)``. A callable is evaluated lazily on first use; without it the
        exact matrices are recognised entry by entry from the numeric ones.
    meta : dict, optional
        Informational construction data (partition, frequency, ...).

    ``id`` is the irrep's index in ``group.irreps``; :attr:`Group.irreps` sets it.
    """

    #: Index in ``group.irreps`` (set by :attr:`Group.irreps`; ``None`` for a detached irrep).
    id: int | None = None

    def __init__(self, group, label: str, numeric: np.ndarray,
                 exact: list | Callable[[], list] | None = None, meta: dict | None = None):
        self.group = group
        self.label = label
        self.meta = dict(meta or {})
        self._exact = exact
        numeric = np.asarray(numeric, dtype=complex)
        if numeric.ndim != 3 or numeric.shape[0] != group.order or numeric.shape[1] != numeric.shape[2]:
            raise SymflowError(f"irrep {label}: numeric matrices must have shape (n, d, d), got {numeric.shape}")
        self.matrices = numeric

    @property
    def dim(self) -> int:
        return int(self.matrices.shape[1])

    @property
    def exact_matrices(self) -> list:
        """Exact SymPy matrices ``rho(g)`` in element order (computed lazily)."""
        if self._exact is None:
            from .recognise import recognise_matrix

            self._exact = [recognise_matrix(m) for m in self.matrices]
        elif callable(self._exact):
            self._exact = list(self._exact())
        return self._exact

    @cached_property
    def character(self) -> np.ndarray:
        """Numeric character ``chi(g) = tr rho(g)``, shape ``(n,)``."""
        return np.trace(self.matrices, axis1=1, axis2=2)

    @cached_property
    def exact_character(self) -> list:
        """Exact character values per element, recognised from the eigenvalues (see module doc)."""
        from .recognise import ROOT_OF_UNITY_TOL, cyclotomic_sum, exact_from_complex

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
        return frobenius_schur_indicator(self.group, self.character, f"irrep {self.label}")

    @property
    def type(self) -> str:
        """``"real"``, ``"complex"`` or ``"quaternionic"`` (indicator ``+1``, ``0``, ``-1``)."""
        return TYPE_OF_INDICATOR[self.indicator]

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
        import sympy as sp

        return f"$\\rho_{{{sp.latex(sp.Symbol(self.label))}}}: \\dim {self.dim},\\ \\text{{{self.type}}}$"


def frobenius_schur_indicator(group, character: np.ndarray, what: str = "character") -> int:
    """``(1/n) sum_g chi(g^2)`` of a character given per element: +1 real type, 0 complex,
    -1 quaternionic; raises :class:`SymflowError` when it is not one of them (to 1e-8)."""
    val = character[group.squares].sum() / group.order
    k = int(np.round(val.real))
    if abs(val - k) > 1e-8 or k not in (-1, 0, 1):
        raise SymflowError(f"{what}: indicator {val} is not -1, 0 or 1")
    return k


def exact_roots_of_unity(exponents, m: int) -> Callable[[], list]:
    """The deferred ``exact`` argument of a 1-dim :class:`Irrep` with values ``exp(2 pi i e / m)``:
    a callable building the SymPy ``[[...]]`` matrices on first use (SymPy is imported then)."""
    def build() -> list:
        from .recognise import root_of_unity_matrices

        return root_of_unity_matrices(exponents, m)

    return build
