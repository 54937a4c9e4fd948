"""GAP as the external reference: small groups and character tables (optional ``gap`` extra).

GAP is reached through ``passagemath-gap`` (``pip install "symflow[gap]"``), which ships libgap
as a Python extension: ``import sage.all__sagemath_gap`` must come first, then
``from sage.libs.gap.libgap import libgap``. Without it, every function here raises
:class:`~symflow.errors.SymflowError` naming the install command.

* :func:`small_group` ``(n, k)``: GAP's ``SmallGroup(n, k)`` as a symflow :class:`Group`; the
  element order is GAP's ``Elements(G)`` (sorted, identity first), labels are GAP's words in the
  pc generators ``f1, f2, ...`` (identity ``"e"``); irreps come from the numeric construction.
* :func:`gap_character_table`: GAP's character table of any symflow group, with columns in
  ``group.classes`` order. The group is handed to GAP as the permutation group of its right
  regular action ``x -> x g`` (a homomorphism in GAP's left-to-right convention) on a small
  generating set; each class of symflow is located among GAP's classes through its
  representative. Rows are in GAP's order.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ..errors import SymflowError
from .group import Group
from .recognise import root_of_unity, simplified
from .tables import generating_set

INSTALL_HINT = 'pip install "symflow[gap]"'


@lru_cache(maxsize=1)
def _libgap():
    try:
        import sage.all__sagemath_gap  # noqa: F401  (initialises the Sage/GAP bridge)
        from sage.libs.gap.libgap import libgap
    except ImportError as exc:
        raise SymflowError(f"GAP is not available ({exc}); install the gap extra: {INSTALL_HINT}") from None
    return libgap


def gap_available() -> bool:
    """True when libgap (``passagemath-gap``) can be imported."""
    try:
        _libgap()
    except SymflowError:
        return False
    return True


def small_group(n: int, k: int) -> Group:
    """GAP's ``SmallGroup(n, k)`` (element order: GAP's sorted ``Elements``)."""
    libgap = _libgap()
    n, k = int(n), int(k)
    try:
        number = int(libgap.NumberSmallGroups(n))
    except Exception as exc:  # GAP raises for orders outside the library
        raise SymflowError(f"GAP's small groups library does not cover order {n}: {exc}") from None
    if not 1 <= k <= number:
        raise SymflowError(f"there are {number} groups of order {n} in GAP's library; k = {k} is out of range")
    G = libgap.SmallGroup(n, k)
    elms = libgap.Elements(G)
    table = np.array([[int(x) - 1 for x in row] for row in libgap.MultiplicationTable(elms)], dtype=np.int64)
    one = libgap.One(G)
    identity = next(i for i, x in enumerate(elms) if x == one)
    labels = ["e" if i == identity else str(x) for i, x in enumerate(elms)]
    structure = str(libgap.StructureDescription(G))
    return Group(order=n, labels=labels, identity=identity, name=f"SmallGroup({n},{k})", table=table,
                 family="gap", info={"gap_id": (n, k), "structure": structure})


def _generating_set(group: Group) -> list[int]:
    """A small generating set (:func:`~symflow.groups.tables.generating_set`)."""
    return generating_set(group.table, group.identity)


def _cyclotomic_to_sympy(x, libgap) -> sp.Expr:
    if bool(libgap.IsRat(x)):
        return sp.Rational(str(x))
    N = int(libgap.Conductor(x))
    coeffs = [sp.Rational(str(c)) for c in libgap.CoeffsCyc(x, N)]
    return simplified(sp.Add(*[c * root_of_unity(k, N) for k, c in enumerate(coeffs) if c]))


def gap_character_table(group: Group, exact: bool = True):
    """GAP's character table of ``group``: rows GAP's irreducibles, columns ``group.classes``.

    ``exact=True`` gives a SymPy ``Matrix``, otherwise a complex array.
    """
    libgap = _libgap()
    T = group.table
    if group.order == 1:
        return sp.Matrix([[1]]) if exact else np.ones((1, 1), dtype=complex)
    perms = {g: libgap.PermList([int(v) + 1 for v in T[:, g]]) for g in _generating_set(group)}
    P = libgap.Group(list(perms.values()))
    if int(libgap.Size(P)) != group.order:  # pragma: no cover
        raise SymflowError(f"{group.name}: the regular permutation group has the wrong order")
    reps = [libgap.PermList([int(v) + 1 for v in T[:, c[0]]]) for c in group.classes]
    ctab = libgap.CharacterTable(P)
    locate = libgap.eval("function(T, elts) local cc; cc := ConjugacyClasses(T);"
                         " return List(elts, x -> PositionProperty(cc, c -> x in c)); end")
    cols = [int(i) - 1 for i in locate(ctab, reps)]
    if sorted(cols) != list(range(len(group.classes))):  # pragma: no cover
        raise SymflowError(f"{group.name}: GAP's classes do not match symflow's")
    rows = [list(libgap.ValuesOfClassFunction(chi)) for chi in libgap.Irr(ctab)]
    if exact:
        return sp.Matrix([[_cyclotomic_to_sympy(row[c], libgap) for c in cols] for row in rows])
    return np.array([[complex(sp.N(_cyclotomic_to_sympy(row[c], libgap))) for c in cols] for row in rows])


def gap_id_group(table) -> tuple[int, int]:
    """GAP's ``IdGroup`` of the group with Cayley table ``table`` (handed to GAP as its right regular
    permutation group on a small generating set)."""
    libgap = _libgap()
    T = np.asarray(table)
    identity = int(np.nonzero((T == np.arange(len(T))[None, :]).all(axis=1))[0][0])
    gens = generating_set(T, identity) or [identity]
    P = libgap.Group([libgap.PermList([int(v) + 1 for v in T[:, g]]) for g in gens])
    n, k = libgap.IdGroup(P)
    return int(n), int(k)
