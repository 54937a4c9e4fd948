"""Equilibria per irrep orbit: exact Omega*, stationarity, global maximality on the orbit.

Every claim is checked against the brute-force Cayley-table reference (symflow.neuron.bruteforce):
the energy and flow at the constructed point, and the maximum of Omega over the orbit's real
isotypic component found by projected gradient ascent from random starts.
"""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symflow
from symflow.errors import ModelError, SymflowError
from symflow.groups.fourier import real_fourier_basis
from symflow.groups.group import Group
from symflow.groups.irrep import Irrep
from symflow.neuron import bruteforce
from symflow.theory import equilibria
from symflow.theory.model import Model

SMALL = ["Z5", "Z6", "Z2xZ4", "D4", "D5", "Q8", "Dic3", "S3", "A4", "F21"]


def test_f21_energies_match_theory():
    eqs = equilibria.orbit_equilibria(Model("F21"))
    assert [e.dim for e in eqs] == [1, 3]
    assert [e.orbit_size for e in eqs] == [2, 2]
    assert [str(e.omega_star) for e in eqs] == ["sqrt(42)/882", "sqrt(14)/882"]
    # THEORY: 0.0073478 (1-dim pair) and 0.0042422 (3-dim pair)
    assert eqs[0].omega_star_float == pytest.approx(0.0073478, abs=5e-8)
    assert eqs[1].omega_star_float == pytest.approx(0.0042422, abs=5e-8)
    # the guess sqrt(2)/2 * 21^(-3/2) is the 1-dim pair's value, not the 3-dim pair's
    assert sp.simplify(eqs[0].omega_star - sp.sqrt(2) / 2 * sp.Integer(21) ** sp.Rational(-3, 2)) == 0


@pytest.mark.parametrize("name", ["Z7", "Z6", "D5", "Q8", "Dic3", "S4", "A4", "F21"])
@pytest.mark.parametrize("shared,spheres", [(False, "separate"), (True, "separate"), (False, "joint")])
def test_point_is_stationary_with_the_exact_energy(name, shared, spheres):
    for eq in equilibria.orbit_equilibria(Model(name, shared=shared, spheres=spheres)):
        G = eq.group
        n, d, k = G.order, eq.dim, (2 if eq.type in ("complex", "quaternionic") else 1)
        formula = 1 / (sp.sqrt(k * d) * sp.Integer(n) ** sp.Rational(3, 2)) / (2 if spheres == "joint" else 1)
        assert sp.simplify(eq.omega_star - formula) == 0
        assert float(bruteforce.omega(G, *eq.point)) == pytest.approx(eq.omega_star_float, rel=1e-12)
        assert eq.residual() <= 1e-12 and eq.is_stationary()
        t1, t2, xi = eq.point
        if spheres == "joint":
            assert np.dot(t1, t1) + np.dot(t2, t2) == pytest.approx(1, abs=1e-13)
        else:
            assert np.linalg.norm(t1) == pytest.approx(1, abs=1e-13)
            assert np.linalg.norm(t2) == pytest.approx(1, abs=1e-13)
        assert np.linalg.norm(xi) == pytest.approx(1, abs=1e-13)


@pytest.mark.parametrize("name,shared", [("Z7", False), ("F21", False), ("Q8", False), ("Q8", True), ("D5", True)])
def test_exact_stationarity_from_the_derived_block_flow(name, shared):
    for eq in equilibria.orbit_equilibria(Model(name, shared=shared)):
        assert eq.is_stationary(exact=True)


def test_exact_stationarity_detects_a_wrong_point():
    eq = equilibria.orbit_equilibria(Model("F21"))[1]
    blocks = dict(eq.fourier_blocks)
    wrong = blocks["xi"].copy()
    wrong[0, 1] = wrong[0, 0]
    eq.__dict__["fourier_blocks"] = {**blocks, "xi": wrong}
    assert not eq.exact_stationarity()


def test_exact_vector_matches_the_numeric_point():
    for name in ["Z7", "D5", "F21", "Q8"]:
        for eq in equilibria.orbit_equilibria(Model(name)):
            exact = np.array([complex(sp.N(v, 30)) for v in eq.exact_vector()])
            assert np.abs(exact.imag).max() < 1e-25
            assert np.allclose(exact.real, eq.vector, atol=1e-14, rtol=0)
            assert sum(v ** 2 for v in eq.exact_vector()).equals(1)


def test_quaternionic_blocks_are_a_scaled_projector():
    for name in ["Q8", "Dic3", "Dic5"]:
        eqs = [e for e in equilibria.orbit_equilibria(Model(name)) if e.type == "quaternionic"]
        assert eqs
        for eq in eqs:
            B = eq.fourier_blocks["xi"]
            r = 1 / sp.sqrt(2 * eq.group.order * eq.dim)
            P = (B / r).applyfunc(sp.simplify)
            assert (P * P - P).applyfunc(sp.simplify) == sp.zeros(eq.dim, eq.dim)
            assert P.rank() == 2  # no rank-one block for a real signal
            hat = eq.group.fourier(eq.vector)[eq.orbit[0]]
            assert np.allclose(hat, np.array(B.evalf(), dtype=complex), atol=1e-14)


# ---------------------------------------------------------------- Omega* is the orbit maximum
def ascend_on_orbit(G, orbit_index, shared, spheres, starts=6, iters=1500, seed=0):
    """Projected gradient ascent of the brute-force Omega from random starts in V_O."""
    rfb = real_fourier_basis(G)
    Q = rfb.matrix[:, rfb.slices[orbit_index]]
    if Q.shape[1] == 1:  # V_O is a line: the sphere meets it in +-v, enumerate the signs
        v = Q[:, 0] / (np.sqrt(2) if spheres == "joint" else 1)
        signs = np.array([(a, a if shared else b, c) for a in (1, -1) for b in (1, -1) for c in (1, -1)])
        return bruteforce.omega(G, signs[:, :1] * v, signs[:, 1:2] * v, signs[:, 2:] * Q[:, 0])
    rng = np.random.default_rng(seed)

    def rand():
        v = rng.standard_normal((starts, Q.shape[1])) @ Q.T
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    t1, t2, xi = rand(), rand(), rand()
    if shared:
        t2 = t1
    if spheres == "joint":
        s = np.sqrt(np.sum(t1 ** 2, -1, keepdims=True) + np.sum(t2 ** 2, -1, keepdims=True))
        t1, t2 = t1 / s, t2 / s
    scale = 1 / (G.order ** -1.5)
    for _ in range(iters):
        d1, d2, dx = bruteforce.flow(G, t1, t2, xi, shared=shared, spheres=spheres)
        t1, t2, xi = t1 + 0.3 * scale * d1, t2 + 0.3 * scale * d2, xi + 0.3 * scale * dx
        t1, t2, xi = t1 @ Q @ Q.T, t2 @ Q @ Q.T, xi @ Q @ Q.T
        xi = xi / np.linalg.norm(xi, axis=-1, keepdims=True)
        if spheres == "joint":
            s = np.sqrt(np.sum(t1 ** 2, -1, keepdims=True) + np.sum(t2 ** 2, -1, keepdims=True))
            t1, t2 = t1 / s, t2 / s
        else:
            t1 = t1 / np.linalg.norm(t1, axis=-1, keepdims=True)
            t2 = t1 if shared else t2 / np.linalg.norm(t2, axis=-1, keepdims=True)
    return bruteforce.omega(G, t1, t2, xi)


@pytest.mark.parametrize("name,shared,spheres", [
    ("Z7", False, "separate"), ("Z7", True, "separate"), ("D5", False, "separate"), ("D4", False, "joint"),
    ("Q8", False, "separate"), ("Q8", True, "separate"), ("F21", False, "separate"), ("S4", False, "separate"),
])
def test_omega_star_is_the_maximum_on_the_orbit(name, shared, spheres):
    for eq in equilibria.orbit_equilibria(Model(name, shared=shared, spheres=spheres)):
        found = ascend_on_orbit(eq.group, eq.orbit_index, shared, spheres)
        om = eq.omega_star_float
        assert found.max() <= om * (1 + 1e-9), (eq, found)
        assert found.max() >= om * (1 - 1e-6), (eq, found)


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(SMALL), st.sampled_from([(False, "separate"), (True, "separate"), (False, "joint")]),
       st.integers(0, 10 ** 6))
def test_random_orbit_points_never_beat_omega_star(name, var, seed):
    """Omega at random points of V_O (on the spheres) never exceeds Omega*."""
    shared, spheres = var
    G = symflow.group(name)
    rfb = real_fourier_basis(G)
    rng = np.random.default_rng(seed)
    for eq in equilibria.orbit_equilibria(Model(G, shared=shared, spheres=spheres)):
        Q = rfb.matrix[:, rfb.slices[eq.orbit_index]]
        v = rng.standard_normal((3, 16, Q.shape[1])) @ Q.T
        v /= np.linalg.norm(v, axis=-1, keepdims=True)
        t1, t2, xi = v
        if shared:
            t2 = t1
        if spheres == "joint":
            t1, t2 = t1 / np.sqrt(2), t2 / np.sqrt(2)
        assert bruteforce.omega(G, t1, t2, xi).max() <= eq.omega_star_float * (1 + 1e-12)


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(SMALL), st.data())
def test_translates_of_the_equilibrium_are_equilibria(name, data):
    """Equivariance: (theta1(a g), theta2, xi(a g)) and (theta1, theta2(g c), xi(g c)) stay stationary."""
    G = symflow.group(name)
    eqs = equilibria.orbit_equilibria(Model(G))
    eq = eqs[data.draw(st.integers(0, len(eqs) - 1))]
    a, c = data.draw(st.integers(0, G.order - 1)), data.draw(st.integers(0, G.order - 1))
    t1, t2, xi = eq.point
    T = G.table
    t1a, xia = t1[T[a]], xi[T[a]]
    t2c, xic = t2[T[:, c]], xia[T[:, c]]
    d = bruteforce.flow(G, t1a, t2c, xic)
    assert max(np.abs(x).max() for x in d) <= 1e-12
    assert bruteforce.omega(G, t1a, t2c, xic) == pytest.approx(eq.omega_star_float, rel=1e-12)


# ---------------------------------------------------------------- real type given by complex matrices
def test_real_type_irrep_in_complex_form_is_refined_numerically():
    D4 = symflow.group("D4")
    U = np.array([[1, 1j], [1, -1j]]) / np.sqrt(2)

    def factory(G):
        out = []
        for r in D4.irreps:
            m = r.matrices if r.dim == 1 else U @ r.matrices @ U.conj().T
            out.append(Irrep(G, r.label, numeric=m))
        return out

    G = Group(order=8, labels=D4.labels, identity=0, name="D4c", table=D4.table, irreps_factory=factory)
    eq = equilibria.equilibrium(G, "rho_1")
    assert not G.irreps[eq.orbit[0]].is_real_matrix and not eq.exact_construction
    assert eq.type == "real" and eq.residual() <= 1e-12
    assert eq.omega_star == sp.Rational(1, 32)
    with pytest.raises(SymflowError, match="no exact form"):
        eq.exact_vector()


# ---------------------------------------------------------------- errors
def test_bad_orbits_and_models_raise_clear_errors():
    m = Model("Z7")
    with pytest.raises(SymflowError, match="trivial irrep"):
        equilibria.equilibrium(m, 0)
    with pytest.raises(SymflowError, match="orbit index"):
        equilibria.equilibrium(m, 9)
    with pytest.raises(SymflowError, match="no irrep labelled"):
        equilibria.equilibrium(m, "rho_9")
    with pytest.raises(SymflowError, match="not an irrep orbit"):
        equilibria.equilibrium(m, (1, 2))
    with pytest.raises(SymflowError, match="Accepted forms"):
        equilibria.equilibrium(m, 1.5)
    assert equilibria.equilibrium(m, "chi_6").orbit == (1, 6)
    assert equilibria.equilibrium(m, (6, 1)).orbit == (1, 6)
    with pytest.raises(ModelError, match="cross-entropy"):
        equilibria.orbit_equilibria(Model("Z7", loss="mse"))
    with pytest.raises(ModelError, match="no sphere"):
        equilibria.orbit_equilibria(Model("Z7", constraint="none"))
    with pytest.raises(ModelError, match="quadratic"):
        equilibria.orbit_equilibria(Model("Z7", activation="z**2+z**3"))
    with pytest.raises(ModelError, match="Model, a Group or a group name"):
        equilibria.orbit_equilibria(3.0)


def test_repr_and_latex():
    eq = equilibria.orbit_equilibria(Model("F21"))[1]
    assert "F21" in repr(eq) and "sqrt(14)/882" in repr(eq) and "complex" in repr(eq)
    tex = eq._repr_latex_()
    assert tex.startswith("$") and "\\Omega^*" in tex and "\\sqrt{14}" in tex
