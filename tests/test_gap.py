"""Character tables against GAP (skipped when the ``gap`` extra, passagemath-gap, is missing)."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import sympy as sp

from symflow.errors import SymflowError
from symflow.groups import gap as gapmod


def _rows(table) -> list:
    """Rows of a character table (columns in group.classes order), rounded and sorted."""
    t = np.asarray(table, dtype=complex)
    return sorted(tuple((round(v.real, 8) + 0.0, round(v.imag, 8) + 0.0) for v in row) for row in t)


def test_missing_gap_names_the_extra(monkeypatch):
    gapmod._libgap.cache_clear()
    monkeypatch.setitem(sys.modules, "sage.all__sagemath_gap", None)  # makes the import fail
    try:
        with pytest.raises(SymflowError, match=r'pip install "symflow\[gap\]"'):
            gapmod._libgap()
        assert not gapmod.gap_available()
    finally:
        gapmod._libgap.cache_clear()


needs_gap = pytest.mark.skipif(not gapmod.gap_available(), reason="passagemath-gap (symflow[gap]) not installed")


def _groups():
    from symflow.groups.abelian import abelian_group
    from symflow.groups.alternating import alternating_group
    from symflow.groups.dicyclic import dicyclic_group, quaternion_group
    from symflow.groups.dihedral import dihedral_group
    from symflow.groups.frobenius import frobenius_group
    from symflow.groups.group import Group
    from symflow.groups.symmetric import symmetric_group

    s4 = symmetric_group(4)
    return [
        symmetric_group(3), s4, symmetric_group(5), alternating_group(4), alternating_group(5),
        frobenius_group(7, 3), frobenius_group(5, 4), frobenius_group(11, 5), quaternion_group(),
        dicyclic_group(3), dicyclic_group(4), dihedral_group(5), dihedral_group(6),
        abelian_group(2, 4),
        Group(order=24, labels=s4.labels, identity=0, name="S4_table", table=s4.table),
    ]


@needs_gap
@pytest.mark.gap
@pytest.mark.parametrize("G", _groups(), ids=lambda G: G.name)
def test_character_table_matches_gap(G):
    ours = G.character_table(exact=False)
    theirs = gapmod.gap_character_table(G, exact=False)
    assert ours.shape == theirs.shape
    assert _rows(ours) == _rows(theirs)


@needs_gap
@pytest.mark.gap
def test_exact_character_table_matches_gap_exactly():
    from symflow.groups.alternating import alternating_group

    G = alternating_group(5)
    ours = G.character_table()
    theirs = gapmod.gap_character_table(G)
    ours_rows = {tuple(sp.nsimplify(v) for v in ours.row(i)) for i in range(ours.rows)}
    theirs_rows = {tuple(sp.nsimplify(v) for v in theirs.row(i)) for i in range(theirs.rows)}
    assert ours_rows == theirs_rows


@needs_gap
@pytest.mark.gap
@pytest.mark.parametrize("n,k", [(24, 3), (16, 9), (27, 3), (21, 1), (32, 49)])
def test_small_group_numeric_irreps_match_gap(n, k):
    G = gapmod.small_group(n, k)
    assert G.order == n and G.labels[G.identity] == "e"
    T = G.table
    for r in G.irreps:
        M = r.matrices
        for g in range(n):
            assert np.abs(M[g] @ M - M[T[g]]).max() < 1e-9
    assert sum(r.dim ** 2 for r in G.irreps) == n
    assert _rows(G.character_table(exact=False)) == _rows(gapmod.gap_character_table(G, exact=False))


@needs_gap
@pytest.mark.gap
def test_small_group_errors():
    with pytest.raises(SymflowError, match="groups of order 8"):
        gapmod.small_group(8, 6)
    assert gapmod.small_group(24, 3).info["structure"] == "SL(2,3)"
