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

Substituting by plain names. The engine's symbols carry assumptions (``n`` is a positive integer,
``Omega`` real, parameters real or complex), and SymPy matches symbols by name *and* assumptions:
``expr.subs(sympy.Symbol("n"), 7)`` silently changes nothing. Use :func:`subs` (names, checked
against the expression) or :func:`symbol` (the engine's own symbol for a name):

>>> expr = N * OMEGA + Z
>>> subs(expr, n=7, Omega=2)
z + 14
>>> expr.subs(symbol("n"), 7) == expr.subs(N, 7)
True
>>> subs(expr, m=7)
Traceback (most recent call last):
...
symflow.errors.SymflowError: the expression has no symbol named 'm'; its symbols are Omega, n, z
"""
from __future__ import annotations

import re
from functools import lru_cache

import sympy as sp

from ..errors import SymflowError

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


#: The naming rules of the module docstring, as patterns: (regular expression, assumptions, meaning).
_NAMED = {"n": N, "Omega": OMEGA, "z": Z}
_PATTERNS = ((re.compile(r"conj_\w+"), {"complex": True}, "conj_<symbol>"),
             (re.compile(r"[A-Za-z]\w*?hat_\d+_\d+_\d+"), {"complex": True}, "<vector>hat_<r>_<i>_<j>"),
             (re.compile(r"[A-Za-z][A-Za-z0-9]*_\d+_\d+"), {"complex": True}, "<vector>_<i>_<j>"),
             (re.compile(r"[A-Za-z][A-Za-z0-9]*_\d+"), {"real": True}, "<vector>_<g>"))


def symbol(name: str) -> sp.Symbol:
    """The engine's symbol called ``name``, with its assumptions: ``"n"`` (:data:`N`), ``"Omega"``,
    ``"z"``, or a name of the rules above (``theta1_3`` real, ``xi_0_1`` / ``theta1hat_2_0_0`` /
    ``conj_...`` complex). Any other name is a :class:`~symflow.errors.SymflowError` naming the forms."""
    if isinstance(name, sp.Symbol):
        name = name.name
    if name in _NAMED:
        return _NAMED[name]
    for pattern, assumptions, _ in _PATTERNS:
        if isinstance(name, str) and pattern.fullmatch(name):
            return sp.Symbol(name, **assumptions)
    forms = ", ".join(["n", "Omega", "z"] + [form for _, _, form in _PATTERNS])
    raise SymflowError(f"{name!r} is not a symbol of the theory engine; its symbols are named {forms}")


def subs(expr, values: dict | None = None, **names):
    """``expr`` with symbols given by plain name replaced: ``subs(expr, n=7)`` or
    ``subs(expr, {"n": 7, "Omega": w})`` (keys may also be SymPy symbols, matched by name).

    Each name must be one of the expression's symbols (``expr`` a SymPy expression, a matrix or a
    dict of them, e.g. ``model.block_flow(1).rhs``); an unknown name is a
    :class:`~symflow.errors.SymflowError` listing the symbols there are, never a silent no-op."""
    given = {}
    for key, value in {**(values or {}), **names}.items():
        given[key.name if isinstance(key, sp.Symbol) else str(key)] = value
    parts = list(expr.values()) if isinstance(expr, dict) else [expr]
    free = set()
    for part in parts:
        symbols = getattr(part, "free_symbols", None)
        if symbols is None:
            raise SymflowError(f"subs needs a SymPy expression, matrix or dict of them, got {type(part).__name__}")
        free |= symbols
    by_name = {s.name: s for s in free if isinstance(s, sp.Symbol)}
    unknown = [k for k in given if k not in by_name]
    if unknown:
        have = ", ".join(sorted(by_name)) or "none"
        raise SymflowError(f"the expression has no symbol named {unknown[0]!r}; its symbols are {have}")
    mapping = {by_name[k]: v for k, v in given.items()}
    if isinstance(expr, dict):
        return {k: v.subs(mapping) for k, v in expr.items()}
    return expr.subs(mapping)
