"""Naming of the SymPy symbols the theory engine derives with.

Three kinds of symbols, one naming rule each (the rule is part of the public interface: the
code generator and the display parse nothing, but humans read these names):

* parameter space, one neuron: real symbols ``theta1_0 .. theta1_{n-1}`` (``<vector>_<g>``,
  ``g`` an element index in the group's element order);
* one generic irrep block of dimension ``d``: complex symbols ``theta1_i_j`` (``<vector>_<i>_<j>``,
  ``0 <= i, j < d``), the entries of ``theta1_hat[rho]``;
* the Fourier coordinates of a specific group: complex symbols ``theta1hat_r_i_j`` (irrep ``r`` in
  ``group.irreps`` order); for the Fourier transform of a pointwise power ``theta1(g)^a`` of a
  higher-degree activation, ``theta1p<a>hat_r_i_j``.

For Wirtinger calculus every complex symbol ``z`` has an independent partner ``conj_z``
(:func:`conjugate_partner`); expressions handed to users carry ``conjugate(z)`` instead.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

#: The group order as a symbol (generic block formulas are derived in terms of it).
N = sp.Symbol("n", positive=True, integer=True)
#: The value of the energy functional of the whole neuron (the radial terms of the flow use it).
OMEGA = sp.Symbol("Omega", real=True)
#: The activation's argument.
Z = sp.Symbol("z")


@lru_cache(maxsize=None)
def parameter_symbols(name: str, n: int) -> tuple:
    """Real symbols ``name_0 .. name_{n-1}`` for one neuron's vector on a group of order ``n``."""
    return tuple(sp.Symbol(f"{name}_{g}", real=True) for g in range(n))


@lru_cache(maxsize=None)
def block_symbols(name: str, d: int) -> sp.ImmutableMatrix:
    """The generic ``d x d`` block ``name_hat[rho]``: complex symbols ``name_i_j``."""
    return sp.ImmutableMatrix(d, d, lambda i, j: sp.Symbol(f"{name}_{i}_{j}", complex=True))


@lru_cache(maxsize=None)
def irrep_block_symbols(name: str, r: int, d: int) -> sp.ImmutableMatrix:
    """Block of irrep ``r`` of a specific group: complex symbols ``namehat_r_i_j``."""
    return sp.ImmutableMatrix(d, d, lambda i, j: sp.Symbol(f"{name}hat_{r}_{i}_{j}", complex=True))


def power_name(name: str, power: int) -> str:
    """Name of the pointwise power ``name(g)^power`` (``theta1`` for power 1, ``theta1p2`` else)."""
    return name if power == 1 else f"{name}p{power}"


@lru_cache(maxsize=None)
def conjugate_partner(s: sp.Symbol) -> sp.Symbol:
    """The independent Wirtinger partner ``conj_<name>`` of a complex symbol."""
    return sp.Symbol(f"conj_{s.name}", complex=True)


def wirtinger_split(expr: sp.Expr, symbols) -> sp.Expr:
    """Replace ``conjugate(s)`` by the independent partner symbol for every ``s`` in ``symbols``."""
    return expr.xreplace({sp.conjugate(s): conjugate_partner(s) for s in symbols})


def wirtinger_join(expr: sp.Expr, symbols) -> sp.Expr:
    """Inverse of :func:`wirtinger_split`: partner symbols back to ``conjugate(s)``."""
    return expr.xreplace({conjugate_partner(s): sp.conjugate(s) for s in symbols})


#: Suffix of the ``MatrixSymbol`` that stands for a vector's Fourier block in compact formulas.
HAT_SUFFIX = "hat"


def hat_matrix(name: str, d: int) -> sp.MatrixSymbol:
    """The block of ``name`` as a ``MatrixSymbol`` ``<name>hat`` (for compact matrix formulas)."""
    return sp.MatrixSymbol(f"{name}{HAT_SUFFIX}", d, d)


def hat_vector(symbol) -> str | None:
    """The vector name of a block symbol made by :func:`hat_matrix` (``theta1hat -> theta1``), else ``None``."""
    name = getattr(symbol, "name", "")
    return name[:-len(HAT_SUFFIX)] if name.endswith(HAT_SUFFIX) and len(name) > len(HAT_SUFFIX) else None
