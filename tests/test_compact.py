"""Compact groups with a band limit (issue 24): SO(2), O(2), SO(3), O(3), their quadrature and Fourier transform,
finite subgroups and branching rules, and the command line on them."""
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symflow
from symflow.cli import main
from symflow.errors import SymflowError
from symflow.groups.compact import COMPACT_NAMES, fourier, inverse_fourier, plancherel
from symflow.groups.compact import rotations as rot
from symflow.groups.compact.subgroups import (POLYHEDRAL, branching, close_matrices, embedding, lowest_bands,
                                              matrix_table, subgroup_generators)
from symflow.groups.orbits import IrrepOrbit

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
names = st.sampled_from(COMPACT_NAMES)
bandlimits = st.integers(0, 3)


def G_of(name, L):
    return symflow.group(name, bandlimit=L)


# ---------------------------------------------------------------------- the groups
def test_irreps_ids_labels_dims_types():
    G = G_of("SO(3)", 3)
    assert [(r.id, r.label, r.dim, r.type) for r in G.irreps] == [(l, f"D^{l}", 2 * l + 1, "real") for l in range(4)]
    S = G_of("SO(2)", 2)
    assert [r.label for r in S.irreps] == ["chi_0", "chi_1", "chi_-1", "chi_2", "chi_-2"]
    assert [(tuple(o), o.type, o.frequency_label) for o in S.orbits][1] == ((1, 2), "complex", "k=1/-1")
    assert all(isinstance(o, IrrepOrbit) for o in S.orbits) and S.orbits[0].is_trivial
    O2 = G_of("O(2)", 2)
    assert [(r.label, r.dim) for r in O2.irreps] == [("psi_{0,0}", 1), ("psi_{1,0}", 1), ("psi_{1,1}", 2),
                                                     ("psi_{1,2}", 2)]
    assert [r.label for r in G_of("O(3)", 1).irreps] == ["D^0+", "D^0-", "D^1+", "D^1-"]
    assert symflow.group("so3", bandlimit="2") is symflow.group("SO(3)", bandlimit=2)


@pytest.mark.parametrize("call, words", [(("SO(3)",), "--bandlimit"), (("SO(3)", -1), "0 <= L"),
                                         (("O(2)", "x"), "--bandlimit"), (("O(2)", [1]), "--bandlimit"),
                                         (("F21", 2), "compact groups")])
def test_bad_band_limits_are_one_line_errors(call, words):
    with pytest.raises(SymflowError, match=words) as exc:
        symflow.group(*call)
    assert "\n" not in str(exc.value)


def test_d1_is_the_rotation_and_the_exact_matrices_agree():
    """``D^1(R) = P R P^T`` (``P``: (x, y, z) -> (y, z, x)); SymPy's exact Wigner D equals the numeric one."""
    R = G_of("SO(3)", 1).random_elements(6)
    P = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert np.allclose(rot.wigner_D_real(1, R), P @ R @ P.T)
    import sympy as sp

    E = rot.wigner_D_exact(1, sp.pi / 3, sp.pi / 4, sp.pi / 5)
    assert np.allclose(np.array(E.evalf(), dtype=float), rot.wigner_D_real_euler(1, np.pi / 3, np.pi / 4, np.pi / 5))


def test_exact_matrices_of_the_circle_groups():
    import sympy as sp

    S, O2 = G_of("SO(2)", 3), G_of("O(2)", 3)
    phi = sp.Rational(2, 7) * sp.pi
    R = rot.rotation_2d(float(phi))
    assert np.isclose(complex(S.exact_matrix("chi_-2", phi)[0, 0]), S.irrep("chi_-2").matrices(R[None])[0, 0, 0])
    for refl in (False, True):
        M = R @ rot.FLIP if refl else R
        for r in O2.irreps:
            assert np.allclose(np.array(O2.exact_matrix(r.id, phi, refl).evalf(), dtype=float), r.matrices(M[None])[0])


def test_compact_groups_are_refused_where_a_finite_group_is_needed():
    # the GC model takes a compact group (tests/test_compact_core.py); what needs a finite table refuses it
    with pytest.raises(SymflowError, match="compact group"):
        symflow.groups.as_group(G_of("SO(3)", 2))
    with pytest.raises(SymflowError, match="compact group"):
        symflow.Model(G_of("SO(3)", 2), loss="mse")


def test_euler_angles_round_trip_including_the_poles():
    R = np.concatenate([G_of("SO(3)", 0).random_elements(20), rot.rotation_z(np.array([0.3, 2.0])),
                        rot.rotation_z(np.array([0.7])) @ rot.rotation_y(np.pi)])
    assert np.allclose(rot.euler_to_matrix(*rot.matrix_to_euler(R)), R)


@SETTINGS
@given(name=names, L=bandlimits, seed=st.integers(0, 10 ** 6))
def test_homomorphism_unitarity_and_characters(name, L, seed):
    G = G_of(name, L)
    X, Y = G.random_elements(4, seed), G.random_elements(4, seed + 1)
    for r in G.irreps:
        A, B = r.matrices(X), r.matrices(Y)
        assert np.allclose(r.matrices(X @ Y), A @ B)
        assert np.allclose(np.conj(np.swapaxes(A, 1, 2)) @ A, np.eye(r.dim))
        assert np.allclose(r.character(X), np.trace(A, axis1=1, axis2=2))


@SETTINGS
@given(t=st.floats(0.01, np.pi), l=st.integers(0, 12))
def test_character_closed_form(t, l):
    """``chi_l(t) = sin((2l+1)t/2) / sin(t/2)`` against the trace of the numeric ``D^l``."""
    closed = np.sin((2 * l + 1) * t / 2) / np.sin(t / 2)
    assert np.isclose(rot.so3_character(l, t), closed)
    R = rot.axis_angle([1.0, 2.0, -0.5], t)
    assert np.isclose(np.trace(rot.wigner_D_real(l, R)), closed)


@SETTINGS
@given(name=names, L=bandlimits)
def test_orthogonality_under_the_quadrature(name, L):
    """``int rho_ab conj sigma_cd dg = delta_{rho sigma} delta_ac delta_bd / d`` exactly on the band-2L rule."""
    G = G_of(name, L)
    E, w = G.quadrature()
    assert np.isclose(w.sum(), 1)
    mats = [r.matrices(E) for r in G.irreps]
    for r, A in zip(G.irreps, mats):
        for s, B in zip(G.irreps, mats):
            gram = np.einsum("j,jab,jcd->abcd", w, A, B.conj())
            want = np.einsum("ac,bd->abcd", np.eye(r.dim), np.eye(r.dim)) / r.dim if r.id == s.id else 0
            assert np.allclose(gram, want, atol=1e-12)


def test_haar_against_monte_carlo():
    """The quadrature weights are the Haar probability: the mean of ``|tr R|^2`` (= 1 + 1 for D^0 + D^1... i.e.
    ``int chi_1^2 = 1``) agrees with Haar samples from quaternions."""
    G = G_of("SO(3)", 2)
    E, w = G.quadrature()
    chi = G.irreps[1].character
    assert np.isclose(np.sum(w * chi(E) ** 2), 1)
    assert abs(np.mean(chi(G.random_elements(40000, 3)) ** 2) - 1) < 0.05


@SETTINGS
@given(name=names, L=bandlimits, seed=st.integers(0, 10 ** 6))
def test_fourier_inverse_and_plancherel(name, L, seed):
    """A band-limited ``f = sum d tr(c rho)``: the transform of its samples returns ``c``, and
    ``sum_j w_j |f_j|^2 = sum d ||c||_F^2``."""
    G = G_of(name, L)
    rng = np.random.default_rng(seed)
    c = [rng.normal(size=(r.dim, r.dim)) + (1j * rng.normal(size=(r.dim, r.dim)) if r.type == "complex" else 0)
         for r in G.irreps]
    E, w = G.quadrature()
    f = inverse_fourier(G, c, E)
    back = fourier(G, f)
    assert all(np.allclose(a, b) for a, b in zip(c, back))
    assert np.isclose(np.sum(w * np.abs(f) ** 2), plancherel(G, back))


# ---------------------------------------------------------------------- subgroups and branching
@pytest.mark.parametrize("name, order", [("T", 12), ("O", 24), ("I", 60)])
def test_polyhedral_groups_have_the_right_tables(name, order):
    """The matrices of T, O, I form groups isomorphic to symflow's A4, S4, A5 (an explicit isomorphism)."""
    H, mats = embedding("SO(3)", name)
    assert H.name == POLYHEDRAL[name] and len(mats) == order
    assert np.allclose(mats @ np.swapaxes(mats, 1, 2), np.eye(3)) and np.allclose(np.linalg.det(mats), 1)
    T = H.table
    assert np.allclose(mats[T], np.einsum("iab,jbc->ijac", mats, mats))


def test_polyhedral_groups_against_gap_idgroup():
    from symflow.groups import gap as gapmod

    if not gapmod.gap_available():   # the gap extra is part of the project's environment
        pytest.fail("GAP (passagemath-gap) is not importable")
    for name, want in [("T", (12, 3)), ("O", (24, 12)), ("I", (60, 5))]:
        mats = close_matrices(subgroup_generators("SO(3)", POLYHEDRAL[name]))
        named = symflow.group(POLYHEDRAL[name])
        assert gapmod.gap_id_group(matrix_table(mats)) == want == gapmod.gap_id_group(named.table)


SUBGROUPS = [("SO(2)", "Z5"), ("O(2)", "Z4"), ("O(2)", "D3"), ("SO(3)", "Z3"), ("SO(3)", "D4"), ("SO(3)", "A4"),
             ("SO(3)", "S4"), ("SO(3)", "A5"), ("O(3)", "I")]


@SETTINGS
@given(pair=st.sampled_from(SUBGROUPS), L=st.integers(0, 8))
def test_branching_multiplicities_are_integers_whose_dimensions_add_up(pair, L):
    b = branching(G_of(pair[0], L), pair[1])
    m = b.multiplicities
    assert m.dtype.kind == "i" and (m >= 0).all()
    assert (m @ np.array(b.subgroup.dims) == np.array(b.group.dims)).all()


def test_icosahedral_branching_and_lowest_l():
    data = branching(G_of("SO(3)", 6), "A5").to_json()
    assert set(data) == {"group", "subgroup", "bandlimit", "restrictions"}
    dims = [[e["dim"] for e in r["into"] for _ in range(e["multiplicity"])] for r in data["restrictions"]]
    assert [sorted(d) for d in dims] == [[1], [3], [5], [3, 4], [4, 5], [3, 3, 5], [1, 3, 4, 5]]
    assert sorted(b for b, _ in lowest_bands("SO(3)", "A5")) == [0, 1, 2, 3, 3]
    assert [b for b, _ in lowest_bands("SO(2)", "Z6")] == [0, 1, 2, 3, 2, 1]


# ---------------------------------------------------------------------- the command line
def run_cli(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_branching_json_contract(capsys):
    rc, out, _ = run_cli(capsys, "branching", "SO(3)", "A5", "--bandlimit", "3", "--json")
    data = json.loads(out)
    assert rc == 0 and data["group"] == "SO(3)" and data["subgroup"] == "A5" and data["bandlimit"] == 3
    r = data["restrictions"][3]
    assert (r["irrep"], r["l"], r["dim"]) == ("D^3", 3, 7)
    assert sorted(e["dim"] * e["multiplicity"] for e in r["into"]) == [3, 4]


def test_cli_group_compact_and_inside(capsys):
    rc, out, _ = run_cli(capsys, "group", "SO(3)", "--bandlimit", "2", "--json")
    assert rc == 0 and [r["label"] for r in json.loads(out)["irreps"]] == ["D^0", "D^1", "D^2"]
    rc, out, _ = run_cli(capsys, "group", "A5", "--in", "SO(3)", "--json")
    assert rc == 0 and sorted(r["lowest_band"] for r in json.loads(out)["irreps"]) == [0, 1, 2, 3, 3]
    rc, out, _ = run_cli(capsys, "groups")
    assert "SO(3)" in out and "O(2)" in out


@pytest.mark.parametrize("argv, words", [
    (["group", "SO(3)"], "--bandlimit"), (["group", "SO(3)", "--bandlimit", "-1"], "--bandlimit"),
    (["group", "F21", "--bandlimit", "2"], "finite group"), (["branching", "SO(3)", "A6", "--bandlimit", "2"], "A5"),
    (["rates", "SO(3)", "--bandlimit", "2", "--shared"], "--shared is not implemented"),
    # derive, codegen, landscape and study work on compact groups (tests/test_compact_core.py); the rest say why not
    (["derive", "SO(3)", "--bandlimit", "2", "--loss", "mse"], "cross-entropy"),
    (["simulate", "SO(3)", "--bandlimit", "2"], "is a compact group"),
    (["verify", "SO(3)", "--bandlimit", "2"], "is a compact group"),
    (["li2", "SO(3)", "--bandlimit", "2"], "is a compact group"),
    (["theories", "SO(3)", "--bandlimit", "2"], "is a compact group"),
    (["lottery", "SO(3)"], "is a compact group"), (["lottery", "SO(3)", "--bandlimit", "2"], "is a compact group"),
])
def test_cli_one_line_refusals(capsys, argv, words):
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2 and words in err and err.strip().count("\n") == 0


# ---------------------------------------------------------------------- GC's energy on the compact group
@pytest.mark.parametrize("name, L", [("SO(2)", 2), ("O(2)", 2), ("SO(3)", 2), ("O(3)", 1)])
def test_measured_orbit_energy_is_the_scaled_gc_value(name, L):
    """The maximum of Omega over unit L^2 functions on one orbit (quadrature, parameter space) is (k d)^(-1/2)."""
    from symflow.theory.compact import orbit_energy, predicted_energy

    G = G_of(name, L)
    for o in G.orbits[1:]:
        assert np.isclose(orbit_energy(G, o, starts=4), predicted_energy(o), rtol=1e-6), o.label


def test_subgroup_limits_match_when_the_restriction_is_irreducible():
    """n^(3/2) Omega* of a finite subgroup's orbit equals the compact value of the lowest irrep containing it exactly
    when that irrep restricts to it with the same dimension and type (Z8 < SO(2), D6 < O(2), A4 < SO(3))."""
    from symflow.theory.compact import subgroup_limits

    for compact, sub in [("SO(2)", "Z8"), ("O(2)", "D6"), ("SO(3)", "A4")]:
        rows = subgroup_limits(compact, sub, measure_band=2)
        C = G_of(compact, 4)
        for r in rows:
            co = next(o for o in C.orbits if o.label == r["compact_irrep"])
            same = co.dim == r["dim"] and co.doubling == {"real": 1, "complex": 2, "quaternionic": 2}[r["type"]]
            assert np.isclose(r["scaled_omega_star"], r["compact_predicted"]) == same, r
            if r["compact_measured"] is not None:
                assert np.isclose(r["compact_measured"], r["compact_predicted"], rtol=1e-6)


@pytest.mark.parametrize("compact, L, irrep, finite, orbit", [
    ("SO(2)", 1, "chi_1", "Z8", 1), ("O(2)", 1, "psi_{1,1}", "D6", 4), ("SO(3)", 1, "D^1", "A4", 1),
    ("SO(3)", 2, "D^2", "A5", 2)])
def test_in_orbit_spectrum_equals_the_finite_engines(compact, L, irrep, finite, orbit):
    """The tangent spectrum measured on the compact orbit's span (units of Omega*) equals the in-orbit part of the
    finite engine's exact spectrum (without the modes into other irreps) for a finite subgroup whose irrep is the
    restriction (same dimension and type): SO(2) chi_1 ~ Z8 chi_1, O(2) psi_{1,1} ~ D6 rho_1, D^1 ~ A4, D^2 ~ A5."""
    from symflow.theory.compact import orbit_spectrum

    G = G_of(compact, L)
    measured = orbit_spectrum(G, next(o for o in G.orbits if G.irrep(irrep).id in o))
    data = symflow.spectrum(symflow.Model(finite), orbit).to_json()
    want: dict = {}
    for mode in data["spectrum"]:
        if not mode["mode"].startswith(("losing irreps", "trivial component")):
            key = float(np.round(mode["rate"] / data["omega_star"], 6)) + 0.0
            want[key] = want.get(key, 0) + mode["multiplicity"]
    assert measured == want


def test_cli_rates_on_a_compact_group_keeps_the_contract(capsys):
    """``rates SO(3) --bandlimit 2 --json``: the finite contract's keys (plus bandlimit, normalisation); per orbit
    Omega* = d^(-1/2) and the in-orbit rates of A4's [3, 1] for D^1; the mode counts fill the tangent space."""
    rc, out, _ = run_cli(capsys, "rates", "F21", "--json", "--no-verify")
    finite = json.loads(out)
    rc, out, _ = run_cli(capsys, "rates", "SO(3)", "--bandlimit", "2", "--json")
    data = json.loads(out)
    assert rc == 0 and set(finite) <= set(data) and set(finite["orbits"][0]) == set(data["orbits"][0])
    assert set(finite["orbits"][0]["spectrum"][0]) == set(data["orbits"][0]["spectrum"][0])
    G = G_of("SO(3)", 2)
    for o, rec in zip(G.orbits[1:], data["orbits"]):
        assert np.isclose(rec["omega_star"], o.dim ** -0.5) and rec["stable"]
        # tangent space of three unit spheres in the band-limited L^2(G): 3 (sum_l (2l+1)^2 - 1)
        assert sum(e["multiplicity"] for e in rec["spectrum"]) == 3 * (sum(d * d for d in G.dims) - 1)
    d1 = {e["mode"]: e["multiplicity"] for e in data["orbits"][0]["spectrum"]}
    assert d1["rotational alignment"] == 6 and d1["rank reduction"] == 12 and d1["symmetry zero modes"] == 6


@SETTINGS
@given(case=st.sampled_from([("SO(2)", 1), ("O(2)", 2), ("SO(3)", 1), ("SO(3)", 2), ("O(3)", 1)]),
       seed=st.integers(0, 10 ** 6))
def test_the_flow_keeps_norms_and_raises_the_energy(case, seed):
    """On an orbit's span, ``F = grad Omega - Omega nu`` (each factor on its unit L^2 sphere) is tangent
    (``nu . F_nu = 0``: norms are kept) and ``dOmega/dt = sum_nu grad_nu Omega . F_nu = sum |F_nu|^2 >= 0``."""
    from symflow.theory.compact import energy_tensor

    G = G_of(*case)
    T = energy_tensor(G, G.orbits[-1])
    x, y, z = (v / np.linalg.norm(v) for v in np.random.default_rng(seed).normal(size=(3, T.shape[0])))
    omega = np.einsum("ijk,i,j,k->", T, x, y, z)
    grads = [np.einsum("ijk,j,k->i", T, y, z), np.einsum("ijk,i,k->j", T, x, z), np.einsum("ijk,i,j->k", T, x, y)]
    flows = [g - omega * v for g, v in zip(grads, (x, y, z))]
    assert all(abs(v @ f) < 1e-12 for v, f in zip((x, y, z), flows))
    assert np.isclose(sum(g @ f for g, f in zip(grads, flows)), sum(f @ f for f in flows))
