"""Irreps of the named families (S_n, A_n, Frobenius, dicyclic) and of table groups (numeric).

Every irrep set is checked against brute force: homomorphism, unitarity, sum d^2 = n, Schur
orthogonality of matrix entries and characters, #irreps = #classes, indicators, and the exact
matrices against the numeric ones.
"""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from functools import lru_cache
from itertools import permutations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symflow
from symflow.groups import integers
from symflow.groups.alternating import alternating_group
from symflow.groups.dicyclic import dicyclic_group, quaternion_group
from symflow.groups.dihedral import dihedral_group
from symflow.groups.frobenius import frobenius_group, frobenius_orders
from symflow.groups.group import Group
from symflow.groups.numeric import numeric_character_table, numeric_irreps
from symflow.groups.permutations import permutation_array, permutation_rank
from symflow.groups.recognise import UnrecognisedNumberWarning, recognise_number
from symflow.groups.symmetric import symmetric_group, young_generator_data, young_generator_matrices

ATOL = 1e-9


def bare(G: Group, name: str | None = None) -> Group:
    """The same group as a plain Cayley table (no family constructor): numeric irreps."""
    return Group(order=G.order, labels=G.labels, identity=G.identity, name=name or G.name + "_table",
                 table=G.table)


FAMILIES = {
    "S3": lambda: symmetric_group(3),
    "S4": lambda: symmetric_group(4),
    "S5": lambda: symmetric_group(5),
    "A4": lambda: alternating_group(4),
    "A5": lambda: alternating_group(5),
    "F21": lambda: frobenius_group(7, 3),
    "F20": lambda: frobenius_group(5, 4),
    "F55": lambda: frobenius_group(11, 5),
    "Q8": quaternion_group,
    "Dic3": lambda: dicyclic_group(3),
    "Dic4": lambda: dicyclic_group(4),
}
TABLES = {
    "D5_table": lambda: bare(dihedral_group(5)),
    "D6_table": lambda: bare(dihedral_group(6)),
    "S4_table": lambda: bare(symmetric_group(4)),
    "Q8_table": lambda: bare(quaternion_group()),
    "A4_table": lambda: bare(alternating_group(4)),
    "F21_table": lambda: bare(frobenius_group(7, 3)),
    "A5_table": lambda: bare(alternating_group(5)),
}
ALL = {**FAMILIES, **TABLES}


@lru_cache(maxsize=None)
def grp(name: str) -> Group:
    return ALL[name]()


# ---------------------------------------------------------------------- generic irrep axioms
@pytest.mark.parametrize("name", list(ALL))
def test_homomorphism_and_unitarity(name):
    G = grp(name)
    T = G.table
    for r in G.irreps:
        M = r.matrices
        for g in range(G.order):
            assert np.abs(M[g] @ M - M[T[g]]).max() < ATOL, (r.label, g)
        assert np.abs(np.einsum("gij,gkj->gik", M, M.conj()) - np.eye(r.dim)).max() < ATOL
        assert np.abs(M[G.identity] - np.eye(r.dim)).max() < ATOL


@pytest.mark.parametrize("name", list(ALL))
def test_completeness_and_schur(name):
    G = grp(name)
    n = G.order
    irreps = G.irreps
    assert sum(r.dim ** 2 for r in irreps) == n
    assert len(irreps) == len(G.classes)
    assert irreps[0].is_trivial
    # Schur orthogonality of matrix entries: sqrt(d/n) rho_ij form an orthonormal basis of C^n
    F = np.concatenate([np.sqrt(r.dim / n) * r.matrices.reshape(n, -1) for r in irreps], axis=1)
    assert np.abs(F.conj().T @ F - np.eye(n)).max() < ATOL
    # characters: <chi, psi> = delta
    X = np.array([r.character for r in irreps])
    assert np.abs(X.conj() @ X.T / n - np.eye(len(irreps))).max() < ATOL
    # pairwise inequivalent (distinct characters) and class functions
    for r in irreps:
        for cls in G.classes:
            assert np.ptp(r.character[cls].real) < ATOL and np.ptp(r.character[cls].imag) < ATOL


@pytest.mark.parametrize("name", list(ALL))
def test_real_type_given_by_real_matrices(name):
    G = grp(name)
    for r in G.irreps:
        if r.indicator == 1:
            assert r.is_real_matrix, r.label


@pytest.mark.parametrize("name", list(FAMILIES))
def test_exact_matrices_agree_with_numeric(name):
    G = grp(name)
    rng = np.random.default_rng(1)
    sample = rng.choice(G.order, size=min(G.order, 10), replace=False)
    for r in G.irreps:
        exact = r.exact_matrices
        assert len(exact) == G.order
        for g in sample:
            val = np.array(sp.N(exact[g], 20).tolist(), dtype=complex)
            assert np.abs(val - r.matrices[g]).max() < ATOL, (r.label, g)


def test_exact_matrices_multiply_exactly():
    G = grp("S4")
    T = G.table
    for r in G.irreps:
        E = r.exact_matrices
        for g, h in [(3, 7), (11, 22), (5, 5)]:
            assert sp.simplify(E[g] * E[h] - E[T[g, h]]) == sp.zeros(r.dim, r.dim)


@pytest.mark.parametrize("name", list(ALL))
def test_exact_character_matches_numeric(name):
    G = grp(name)
    C = G.character_table(exact=True)
    num = G.character_table(exact=False)
    assert np.abs(np.array(sp.N(C, 20).tolist(), dtype=complex) - num).max() < 1e-9


# ---------------------------------------------------------------------- indicators
def test_indicators():
    assert [r.indicator for r in grp("Q8").irreps if r.dim == 2] == [-1]
    assert {r.indicator for r in grp("Q8_table").irreps if r.dim == 2} == {-1}
    assert [r.indicator for r in grp("A4").irreps if r.dim == 1 and not r.is_trivial] == [0, 0]
    for name in ("S3", "S4", "S5", "S4_table"):
        assert all(r.indicator == 1 for r in grp(name).irreps)
    dic3 = {r.label: r.indicator for r in grp("Dic3").irreps}
    assert dic3 == {"trivial": 1, "chi_x-": 1, "chi_a-x+i": 0, "chi_a-x-i": 0, "rho_1": -1, "rho_2": 1}
    assert {r.label: r.indicator for r in grp("F21").irreps if r.dim == 3} == {"rho_1": 0, "rho_3": 0}
    assert [r.indicator for r in grp("F20").irreps if r.dim == 4] == [1]
    assert all(r.indicator == 1 for r in grp("A5").irreps)


# ---------------------------------------------------------------------- exact character tables
def _same_table_up_to_order(A, B) -> bool:
    """Equal up to permutations of rows and columns (brute force over column orders)."""
    A, B = np.asarray(A, dtype=complex), np.asarray(B, dtype=complex)
    if A.shape != B.shape:
        return False
    rows_b = sorted(tuple(np.round(r, 9)) for r in B.T.tolist())
    for perm in permutations(range(A.shape[0])):
        if sorted(tuple(np.round(r, 9)) for r in A[list(perm)].T.tolist()) == rows_b:
            return True
    return False


def test_s4_character_table_is_the_known_table():
    C = grp("S4").character_table()
    assert all(v.is_Integer for v in C)
    known = [[1, 1, 1, 1, 1],
             [1, -1, 1, 1, -1],
             [2, 0, 2, -1, 0],
             [3, 1, -1, 0, -1],
             [3, -1, -1, 0, 1]]
    assert _same_table_up_to_order(np.array(C.tolist(), dtype=complex), known)


def test_a5_character_table_has_golden_ratio_entries():
    C = grp("A5").character_table()
    vals = set(C)
    assert (1 + sp.sqrt(5)) / 2 in vals and (1 - sp.sqrt(5)) / 2 in vals
    assert sorted(int(v) for v in C[:, 0]) == [1, 3, 3, 4, 5]


def test_f21_character_table_entries():
    C = grp("F21").character_table()
    assert sp.Rational(-1, 2) + sp.sqrt(7) * sp.I / 2 in set(C)
    assert sorted(int(v) for v in C[:, 0]) == [1, 1, 1, 3, 3]


def test_numeric_character_tables_match_families():
    for fam, tab in [("S4", "S4_table"), ("A5", "A5_table"), ("F21", "F21_table"), ("Q8", "Q8_table")]:
        assert _rows(grp(fam).character_table(exact=False)) == _rows(numeric_character_table(grp(tab))), fam


def _rows(table) -> list:
    """Rows of a character table (columns in group.classes order) as a sorted list, rounded."""
    t = np.asarray(table, dtype=complex)
    return sorted(tuple((round(v.real, 8) + 0.0, round(v.imag, 8) + 0.0) for v in row) for row in t)


# ---------------------------------------------------------------------- S_n specifics
def test_symmetric_element_order_and_product():
    G = symmetric_group(3)
    assert G.labels == ["e", "(1 2)", "(0 1)", "(0 1 2)", "(0 2 1)", "(0 2)"]
    P = permutation_array(4)
    G4 = grp("S4")
    for i in range(0, 24, 5):
        for j in range(24):
            assert G4.table[i, j] == permutation_rank(P[i][P[j]])  # (p*q)(x) = p(q(x))


def test_young_orthogonal_form_convention():
    for shape in [(3, 1), (2, 2), (3, 2, 1)]:
        for (r, partner), m in zip(young_generator_data(shape), young_generator_matrices(shape)):
            assert np.allclose(np.diag(m), 1.0 / r)
            assert np.allclose(m @ m, np.eye(len(m))) and np.allclose(m, m.T)
    labels = [r.label for r in symmetric_group(4).irreps]
    assert labels == ["[4]", "[3, 1]", "[2, 2]", "[2, 1, 1]", "[1, 1, 1, 1]"]
    sign = symmetric_group(4).irreps[-1].character
    assert set(sign.real.round().astype(int)) == {-1, 1}


@pytest.mark.parametrize("n", [6, 7])
def test_larger_symmetric_groups_quick(n):
    G = symmetric_group(n)
    irreps = G.irreps
    assert sum(r.dim ** 2 for r in irreps) == G.order
    assert len(irreps) == len(G.classes)
    rng = np.random.default_rng(n)
    g, h = rng.integers(G.order, size=(2, 20))
    gh = G.multiply(g, h)
    for r in irreps:
        assert np.abs(r.matrices[g] @ r.matrices[h] - r.matrices[gh]).max() < ATOL


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(5))), st.permutations(list(range(5))))
def test_symmetric_homomorphism_random_pairs(p, q):
    G = grp("S5")
    i, j = permutation_rank(np.array(p)), permutation_rank(np.array(q))
    k = permutation_rank(np.array(p)[np.array(q)])
    assert G.table[i, j] == k
    for r in G.irreps:
        assert np.abs(r.matrices[i] @ r.matrices[j] - r.matrices[k]).max() < ATOL


# ---------------------------------------------------------------------- A_n specifics
def test_alternating_splitting():
    A4 = grp("A4")
    assert [r.label for r in A4.irreps] == ["[4]", "[3, 1]", "[2, 2]+", "[2, 2]-"]
    plus, minus = A4.irreps[2], A4.irreps[3]
    assert np.allclose(plus.matrices, minus.matrices.conj())
    A5 = grp("A5")
    assert [r.label for r in A5.irreps] == ["[5]", "[4, 1]", "[3, 2]", "[3, 1, 1]+", "[3, 1, 1]-"]
    assert all(r.is_real_matrix for r in A5.irreps)
    assert A5.labels == [l for l in symmetric_group(5).labels
                         if sum(len(c.split()) - 1 for c in l.strip("()").split(")(")) % 2 == 0 or l == "e"]
    A6 = alternating_group(6)
    assert sorted(r.dim for r in A6.irreps) == [1, 5, 5, 8, 8, 9, 10]
    assert len(A6.classes) == 7


# ---------------------------------------------------------------------- Frobenius specifics
def test_frobenius_orders():
    assert frobenius_orders(20) == [(5, 4)]
    assert frobenius_orders(21) == [(7, 3)]
    assert frobenius_orders(55) == [(11, 5)]
    assert frobenius_orders(57) == [(19, 3)]
    assert frobenius_orders(12) == []
    assert frobenius_orders(1) == []


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([3, 5, 7, 11, 13, 19, 23, 29, 31, 37, 41, 43]), st.integers(2, 42))
def test_frobenius_orders_property(p, q):
    if (p - 1) % q:
        return
    assert (p, q) in frobenius_orders(p * q)
    for pp, qq in frobenius_orders(p * q):
        assert sp.isprime(pp) and pp * qq == p * q and (pp - 1) % qq == 0 and qq > 1


def test_frobenius_elements_and_product():
    G = grp("F21")
    assert G.labels[:8] == ["(1,0)", "(1,1)", "(1,2)", "(1,3)", "(1,4)", "(1,5)", "(1,6)", "(2,0)"]
    assert G.info["H"] == [1, 2, 4]
    idx = {l: i for i, l in enumerate(G.labels)}
    for a, b, a2, b2 in [(2, 1, 4, 3), (4, 6, 4, 5), (1, 3, 2, 2)]:
        prod = G.table[idx[f"({a},{b})"], idx[f"({a2},{b2})"]]
        assert G.labels[prod] == f"({a * a2 % 7},{(b + a * b2) % 7})"
    assert [r.dim for r in G.irreps] == [1, 1, 1, 3, 3]
    F57 = frobenius_group(19, 3)
    assert sorted(r.dim for r in F57.irreps) == [1] * 3 + [3] * 6


# ---------------------------------------------------------------------- dicyclic specifics
def test_quaternion_relations():
    Q = grp("Q8")
    assert Q.labels == ["1", "-1", "i", "-i", "j", "-j", "k", "-k"]
    idx = {l: i for i, l in enumerate(Q.labels)}

    def mul(a, b):
        return Q.labels[Q.table[idx[a], idx[b]]]

    assert mul("i", "j") == "k" and mul("j", "k") == "i" and mul("k", "i") == "j"
    assert mul("i", "i") == mul("j", "j") == mul("k", "k") == "-1"
    assert mul("j", "i") == "-k"


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_dicyclic_presentation(n):
    G = dicyclic_group(n)
    T = G.table
    a, x = 1, 2 * n  # indices of a and x
    assert G.labels[a] == "a" and G.labels[x] == "x"
    power = G.identity
    for _ in range(n):
        power = T[power, a]
    assert T[x, x] == power  # x^2 = a^n
    assert T[T[x, a], G.inverse[x]] == G.inverse[a]  # x a x^-1 = a^-1
    assert G.element_orders[a] == 2 * n
    assert sum(r.dim ** 2 for r in G.irreps) == 4 * n


# ---------------------------------------------------------------------- numeric construction
def test_numeric_irreps_deterministic_and_ordered():
    G1, G2 = bare(symmetric_group(4), "a"), bare(symmetric_group(4), "b")
    R1, R2 = numeric_irreps(G1), numeric_irreps(G2)
    assert [r.label for r in R1] == [f"rho_{i}" for i in range(5)]
    assert [r.dim for r in R1] == [1, 1, 2, 3, 3]
    for r1, r2 in zip(R1, R2):
        assert np.array_equal(r1.matrices, r2.matrices)
    # a complex pair is stored as rho and conj(rho)
    F = grp("F21_table")
    three = [r for r in F.irreps if r.dim == 3]
    assert np.allclose(three[0].matrices, three[1].matrices.conj())


def test_numeric_exact_recognition_of_table_group():
    G = bare(symmetric_group(3), "S3t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnrecognisedNumberWarning)
        for r in G.irreps:
            E = r.exact_matrices
            for g in range(G.order):
                assert np.abs(np.array(sp.N(E[g]).tolist(), dtype=complex) - r.matrices[g]).max() < ATOL
        # characters are recognised exactly whatever the basis
        assert all(v.is_Integer for v in G.character_table())


def test_recognise_number():
    assert recognise_number(0.5) == sp.Rational(1, 2)
    assert recognise_number(np.sqrt(3) / 2) == sp.sqrt(3) / 2
    assert sp.simplify(recognise_number((1 + np.sqrt(5)) / 4) - (1 + sp.sqrt(5)) / 4) == 0
    assert sp.simplify(recognise_number(np.exp(2j * np.pi / 3)) - (-sp.Rational(1, 2) + sp.sqrt(3) * sp.I / 2)) == 0
    assert recognise_number(np.sqrt(2 / 3)) == sp.sqrt(6) / 3
    with pytest.warns(UnrecognisedNumberWarning):
        v = recognise_number(0.123456789123)
    assert abs(float(v) - 0.123456789123) < 1e-12


def test_permutation_groups_structure_matches_generic():
    """S_n / A_n precompute classes, orders, inverses; they must equal the table-based ones."""
    for make in (symmetric_group, alternating_group):
        for n in range(1, 6):
            G = make(n)
            B = bare(G)
            assert G.classes == B.classes
            assert np.array_equal(G.element_orders, B.element_orders)
            assert np.array_equal(G.inverse, B.inverse)
            assert G.is_abelian == B.is_abelian


def _direct_product(G: Group, H: Group) -> Group:
    """``G x H`` with index ``g * |H| + h`` (a plain table group)."""
    n, m = G.order, H.order
    i = np.arange(n * m)
    g, h = i // m, i % m
    table = G.table[g[:, None], g[None, :]] * m + H.table[h[:, None], h[None, :]]
    labels = [f"({G.labels[a]},{H.labels[b]})" for a, b in zip(g, h)]
    return Group(order=n * m, labels=labels, identity=G.identity * m + H.identity,
                 name=f"{G.name}x{H.name}", table=table)


SMALL = {"S3": lambda: symmetric_group(3), "Q8": quaternion_group, "Z3": lambda: frobenius_group(3, 2),
         "D4": lambda: dihedral_group(4), "A4": lambda: alternating_group(4), "Dic3": lambda: dicyclic_group(3)}


@settings(max_examples=8, deadline=None)
@given(st.sampled_from(sorted(SMALL)), st.sampled_from(sorted(SMALL)))
def test_numeric_irreps_of_direct_products(a, b):
    G, H = SMALL[a](), SMALL[b]()
    P = _direct_product(G, H)
    irreps = numeric_irreps(P)
    n = P.order
    assert sum(r.dim ** 2 for r in irreps) == n and len(irreps) == len(P.classes)
    assert irreps[0].is_trivial and [r.dim for r in irreps[1:]] == sorted(r.dim for r in irreps[1:])
    T = P.table
    for r in irreps:
        M = r.matrices
        for g in range(0, n, 3):
            assert np.abs(M[g] @ M - M[T[g]]).max() < ATOL
        if r.indicator == 1:
            assert r.is_real_matrix
    # the indicator of an outer tensor product is the product of the indicators
    ind = sorted(r.indicator for r in irreps)
    expect = sorted(x.indicator * y.indicator for x in G.irreps for y in H.irreps)
    assert ind == expect


# ---------------------------------------------------------------------- numeric matrices vs exact ones
@pytest.mark.parametrize("name", ["Z6", "Z2xZ4", "D5", "D6", "Q8", "Dic3", "Dic4", "F21", "F20", "S4", "A4", "A5"])
def test_numeric_matrices_equal_exact_ones(name):
    """Every family builds its numeric matrices with NumPy; they are its exact SymPy matrices to 1e-12."""
    G = symflow.group(name)
    for r in G.irreps:
        exact = np.array([np.array(sp.N(m, 20).tolist(), dtype=complex) for m in r.exact_matrices])
        assert exact.shape == r.matrices.shape
        assert np.abs(exact - r.matrices).max() < 1e-12, r.label


def test_numeric_path_does_not_import_sympy():
    """Group construction, numeric irreps, orbits and the Fourier transform need NumPy only."""
    code = ("import sys, numpy as np, symflow\n"
            "for name in ['Z7', 'Z3xZ5', 'Z100000', 'D5', 'Q8', 'Dic3', 'S4', 'A5', 'F20', 'F21', 'C7:C3']:\n"
            "    G = symflow.group(name)\n"
            "    if G.order <= 20000:\n"
            "        G.irreps, G.irreps_by_dim, G.conjugate_index, [r.type for r in G.irreps]\n"
            "    G.orbits, G.inverse_fourier(G.fourier(np.ones((2, G.order))))\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'mpmath'))\n"
            "assert not bad, bad[:5]\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(symflow.__file__)))


def test_integers_match_sympy():
    from symflow.groups.multiquadratic import squarefree_part

    assert squarefree_part(0) == (1, 0)
    for m in range(1, 1200):
        assert integers.factorint(m) == sp.factorint(m)
        s, q = squarefree_part(m)
        assert s * s * q == m and all(e == 1 for e in sp.factorint(q).values())
        assert integers.is_prime(m) == sp.isprime(m)
        if sp.isprime(m):
            assert integers.primitive_root(m) == sp.primitive_root(m)


def test_irrep_ids_and_lookup():
    G = symflow.group("F21")
    assert [r.id for r in G.irreps] == list(range(len(G.irreps)))
    assert G.irrep(3) is G.irreps[3]
    assert G.irrep("rho_1") is G.irreps[G.irreps.index(G.irrep("rho_1"))]
    assert G.irrep(G.irreps[2]) is G.irreps[2]
    assert [r.type for r in G.irreps] == ["real", "complex", "complex", "complex", "complex"]
    with pytest.raises(symflow.SymflowError, match="ids 0..4"):
        G.irrep(5)
    with pytest.raises(symflow.SymflowError, match="no irrep labelled"):
        G.irrep("rho_9")
    with pytest.raises(symflow.SymflowError):
        G.irrep(symflow.group("Z3").irreps[0])


def test_permutation_group_labels_are_sympy_cycle_notation():
    from sympy.combinatorics import Permutation

    gens = [Permutation([1, 2, 3, 0, 4]), Permutation([0, 2, 1, 4, 3])]
    G = Group.from_permutations(gens, name="P")
    for label, p in zip(G.labels, G.info["permutations"]):
        cyc = Permutation(p).cyclic_form
        assert label == ("e" if not cyc else "".join("(" + " ".join(map(str, c)) + ")" for c in cyc))
