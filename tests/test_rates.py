"""Rates: derived tangent spectra vs finite differences of the brute-force flow, closed forms,
stability, the JSON contract of ``symflow rates`` and the time-unit conversion."""
import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symflow
from symflow.cli import main
from symflow.errors import SymflowError
from symflow.groups.group import Group
from symflow.groups.irrep import Irrep
from symflow.neuron import bruteforce
from symflow.theory import equilibria, rates
from symflow.theory.model import Model
from symflow.theory.symbols import N
from symflow.theory.timescale import TimeScale, time_unit

SMALL = ["Z5", "Z6", "Z2xZ4", "D4", "D5", "Q8", "Dic3", "S3", "A4", "F21"]
VARIANTS = [(False, "separate"), (True, "separate"), (False, "joint")]


def fd_tangent_jacobian(eq, h=1e-5):
    """Central finite differences of bruteforce.flow along an orthonormal tangent basis."""
    v = eq.model
    n = eq.group.order
    _, B = rates.tangent_jacobian(eq)

    def F(x):
        if v.shared:
            th, xi = x[:n], x[n:]
            d, _, dx = bruteforce.flow(eq.group, th, th, xi, shared=True)
            return np.concatenate([d, dx])
        d1, d2, dx = bruteforce.flow(eq.group, x[:n], x[n:2 * n], x[2 * n:], spheres=v.spheres)
        return np.concatenate([d1, d2, dx])

    p = np.concatenate([eq.point[0], eq.point[2]]) if v.shared else np.concatenate(eq.point)
    cols = [(F(p + h * b) - F(p - h * b)) / (2 * h) for b in B.T]
    return B.T @ np.column_stack(cols)


def derived_rates(spec):
    return spec.rates / spec.equilibrium.omega_star_float


@pytest.mark.parametrize("name", ["Z7", "D5", "Q8", "Dic3", "F21", "S4"])
@pytest.mark.parametrize("shared,spheres", VARIANTS)
def test_spectrum_matches_finite_differences_of_the_brute_force_flow(name, shared, spheres):
    for eq in equilibria.orbit_equilibria(Model(name, shared=shared, spheres=spheres)):
        spec = rates.spectrum(eq, verify=False)  # derived only; compared here independently
        J = fd_tangent_jacobian(eq)
        om = eq.omega_star_float
        assert np.abs(J - J.T).max() <= 1e-6 * om  # a Riemannian Hessian
        fd = np.sort(np.linalg.eigvalsh((J + J.T) / 2)) / om
        assert fd.shape == derived_rates(spec).shape == (spec.dimension,)
        assert np.abs(fd - derived_rates(spec)).max() <= 1e-6
        Ja, _ = rates.tangent_jacobian(eq)  # the analytic Cayley-table Hessian
        assert np.abs(Ja - J).max() <= 1e-6 * om


def test_z7_shared_spectrum_from_theory():
    spec = rates.spectrum(Model("Z7", shared=True), 1)
    assert spec.by_rate() == [(-5, 1), (-2, 5), (-1, 5), (0, 1)]
    assert [m.mode for m in spec.mode("phase alignment")] == ["phase alignment"]
    assert spec.mode("phase alignment")[0].units == -5
    assert spec.mode("trivial component (theta)")[0].units == -2
    assert spec.mode("symmetry zero modes")[0].multiplicity == 1
    assert spec.stable and spec.verified
    assert spec.mode("phase alignment")[0].exact == -5 * sp.sqrt(14) / 98


def test_unshared_abelian_closed_form_in_n():
    cf = rates.orbit_closed_form(Model("Z7"), 1, "complex")
    assert cf.modes == [(-3, 1, "phase alignment"),
                        (-1, 3 * N - 9, "losing irreps (theta1, theta2, xi)"),
                        (-1, 3, "trivial component (theta1, theta2, xi)"),
                        (0, 2, "symmetry zero modes")]
    assert sp.simplify(cf.omega_star - 1 / (sp.sqrt(2) * N ** sp.Rational(3, 2))) == 0
    assert cf.rates[0][0] == sp.simplify(-3 / (sp.sqrt(2) * N ** sp.Rational(3, 2)))
    shared = rates.orbit_closed_form(Model("Z7", shared=True), 1, "complex")
    assert [(u, m) for u, m, _ in shared.modes] == [(-5, 1), (-2, N - 3), (-2, 1), (-1, N - 3), (-1, 1), (0, 1)]
    real = rates.orbit_closed_form(Model("Z6"), 1, "real")
    assert [(u, m) for u, m, _ in real.modes] == [(-1, 3 * N - 6), (-1, 3)]
    assert set(rates.abelian_rate_closed_forms(Model("Z6"))) == {"pair", "real"}


@settings(max_examples=10, deadline=None)
@given(st.integers(3, 16), st.sampled_from(VARIANTS))
def test_abelian_closed_form_against_the_brute_force_hessian(n, var):
    shared, spheres = var
    model = Model(f"Z{n}", shared=shared, spheres=spheres)
    for eq in equilibria.orbit_equilibria(model):
        num, cls = rates.numeric_spectrum(eq)
        cf = rates.orbit_closed_form(model, 1, eq.type)
        want = sorted((float(u), int(m)) for u, m, _ in cf.at(n))
        got = {}
        for v, m, _ in num:
            got[round(v, 6)] = got.get(round(v, 6), 0) + m
        merged = {}
        for u, m in want:
            merged[round(u, 6)] = merged.get(round(u, 6), 0) + m
        assert got == merged and cls == "stable"


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(SMALL), st.sampled_from(VARIANTS), st.data())
def test_derived_and_brute_force_spectra_agree(name, var, data):
    shared, spheres = var
    eqs = equilibria.orbit_equilibria(Model(name, shared=shared, spheres=spheres))
    eq = eqs[data.draw(st.integers(0, len(eqs) - 1))]
    spec = rates.spectrum(eq, verify=True)  # raises if the two disagree
    n = eq.group.order
    assert spec.dimension == (2 * n - 2 if shared else (3 * n - 2 if spheres == "joint" else 3 * n - 3))
    assert spec.stable and all(m.rate <= 0 for m in spec.modes)
    for m in spec.modes:
        assert m.exact is not None and m.rate == pytest.approx(float(m.exact), rel=1e-14, abs=1e-300)


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(SMALL), st.data())
def test_spectrum_is_invariant_under_translations(name, data):
    """Left translation of (theta1, xi) and right translation of (theta2, xi) keep the spectrum."""
    G = symflow.group(name)
    eqs = equilibria.orbit_equilibria(Model(G))
    eq = eqs[data.draw(st.integers(0, len(eqs) - 1))]
    a, c = data.draw(st.integers(0, G.order - 1)), data.draw(st.integers(0, G.order - 1))
    T = G.table
    t1, t2, xi = eq.point
    moved = (t1[T[a]], t2[T[:, c]], xi[T[a]][T[:, c]])
    J0, _ = rates.tangent_jacobian(eq)
    J1, _ = rates.tangent_jacobian(Model(G), point=moved)
    assert np.allclose(np.linalg.eigvalsh(J0), np.linalg.eigvalsh(J1), atol=1e-12 * eq.omega_star_float + 1e-15)


def test_quaternionic_orbits():
    spec = rates.spectrum(Model("Q8"), "rho_1")
    eq = spec.equilibrium
    assert eq.type == "quaternionic" and eq.omega_star == sp.sqrt(2) / 64
    assert eq.omega_star == 1 / (sp.sqrt(2 * 2) * 8 ** sp.Rational(3, 2))
    assert spec.by_rate() == [(-3, 3), (-1, 12), (0, 6)]
    assert spec.mode("symmetry zero modes")[0].multiplicity == 6 and spec.stable
    shared = rates.spectrum(Model("Q8", shared=True), "rho_1")
    assert shared.by_rate() == [(-5, 3), (-2, 4), (-1, 4), (0, 3)]
    assert shared.mode("zero modes (manifold of maxima)")[0].multiplicity == 3 and shared.stable


def test_shared_quaternionic_zero_modes_lead_to_other_maxima():
    """Moving along a non-symmetry zero mode and ascending lands on a different equilibrium
    with the same energy (theta_hat = r q, xi_hat = r q^2 for unit quaternions q)."""
    eq = equilibria.equilibrium(Model("Q8", shared=True), "rho_1")
    J, B = rates.tangent_jacobian(eq)
    w, V = np.linalg.eigh(J)
    om, G = eq.omega_star_float, eq.group
    zero = B @ V[:, np.abs(w) < 1e-9 * om]
    assert zero.shape[1] == 3
    th, xi = eq.point[0] + 0.3 * zero[:8, 0], eq.point[2] + 0.3 * zero[8:, 0]
    th, xi = th / np.linalg.norm(th), xi / np.linalg.norm(xi)
    for _ in range(4000):
        d, _, dx = bruteforce.flow(G, th, th, xi, shared=True)
        th, xi = th + 5 * d, xi + 5 * dx
        th, xi = th / np.linalg.norm(th), xi / np.linalg.norm(xi)
    assert bruteforce.omega(G, th, th, xi) == pytest.approx(om, rel=1e-10)
    assert np.linalg.norm(th - eq.point[0]) > 0.05


def test_nonabelian_surds_and_joint_balance():
    spec = rates.spectrum(Model("D5", shared=True), "rho_1")
    units = {m.units for m in spec.mode("rotational alignment")}
    assert units == {-2 - sp.sqrt(2), -2, -2 + sp.sqrt(2)}
    joint = rates.spectrum(Model("S4", spheres="joint"), "[3, 1]")
    assert joint.mode("magnitude balance")[0].units == -4
    assert joint.equilibrium.omega_star == sp.sqrt(2) / 576


def test_real_type_complex_form_spectrum_is_verified():
    D4 = symflow.group("D4")
    U = np.array([[1, 1j], [1, -1j]]) / np.sqrt(2)
    G = Group(order=8, labels=D4.labels, identity=0, name="D4c", table=D4.table,
              irreps_factory=lambda G: [Irrep(G, r.label, numeric=r.matrices if r.dim == 1 else U @ r.matrices @ U.conj().T)
                                        for r in D4.irreps])
    spec = rates.spectrum(G, "rho_1", verify=True)
    assert spec.by_rate() == rates.spectrum(D4, "rho_1").by_rate()


def test_report_json_contract():
    rep = rates.rates_report(Model("F21"))
    assert set(rep) == {"group", "shared", "spheres", "time_unit", "orbits"}
    assert rep["group"] == "F21" and rep["shared"] is False and rep["spheres"] == "separate"
    assert rep["time_unit"] == "c=1"
    assert [o["irreps"] for o in rep["orbits"]] == [["chi_1", "chi_2"], ["rho_1", "rho_3"]]
    for o in rep["orbits"]:
        assert set(o) == {"irreps", "dim", "orbit_size", "omega_star", "omega_star_exact", "stable", "spectrum"}
        assert isinstance(o["omega_star"], float) and isinstance(o["stable"], bool)
        assert float(sp.sympify(o["omega_star_exact"])) == pytest.approx(o["omega_star"], rel=1e-14)
        assert sum(m["multiplicity"] for m in o["spectrum"]) == 3 * 21 - 3
        for m in o["spectrum"]:
            assert set(m) == {"rate", "exact", "multiplicity", "mode"}
            assert isinstance(m["rate"], float) and isinstance(m["multiplicity"], int) and isinstance(m["mode"], str)
            assert float(sp.sympify(m["exact"])) == pytest.approx(m["rate"], rel=1e-14, abs=1e-300)
    json.dumps(rep)


def test_cli_json_and_table(capsys):
    assert main(["rates", "Z7", "--shared", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["shared"] is True and len(rep["orbits"]) == 3
    spec = rep["orbits"][0]["spectrum"]
    assert [(round(m["rate"] / rep["orbits"][0]["omega_star"], 9), m["multiplicity"]) for m in spec] == \
        [(-5, 1), (-2, 4), (-2, 1), (-1, 4), (-1, 1), (0, 1)]
    assert main(["rates", "F21", "--lr", "0.1", "--width", "512", "--scale", "1"]) == 0
    out = capsys.readouterr().out
    assert "sqrt(14)/882" in out and "e-fold" in out and "rotational alignment" in out


@pytest.mark.parametrize("argv,needle", [
    (["rates", "Z7", "--lr", "0.1"], "go together"),
    (["rates", "Z7", "--spheres", "both"], "separate' or 'joint"),
    (["rates", "Z7", "--shared", "--spheres", "joint"], "unshared"),
    (["rates", "Q9"], "unknown group"),
    (["rates", "Z7", "--lr", "-1", "--width", "8", "--scale", "1"], "positive"),
    (["rates", "Z7", "--lr", "1", "--width", "8", "--scale", "1", "--reduction", "median"], "'mean' or 'sum'"),
])
def test_cli_errors_are_one_clean_line(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_timescale():
    assert time_unit(width=100, scale=0.5) == pytest.approx(0.01)
    assert time_unit(width=100, scale=0.5, reduction="sum", n=7) == pytest.approx(0.49)
    ts = TimeScale(lr=0.1, width=100, scale=0.5)
    assert ts.steps(1.0) == pytest.approx(1000.0)
    assert ts.per_step(-3.0) == pytest.approx(-0.003)
    assert ts.e_folding_steps(-2.0) == pytest.approx(500.0) and ts.e_folding_steps(0.0) == float("inf")
    with pytest.raises(SymflowError, match="needs the group order"):
        TimeScale(lr=0.1, width=100, scale=0.5, reduction="sum")
    with pytest.raises(SymflowError, match="positive integer"):
        TimeScale(lr=0.1, width=0, scale=0.5)
    with pytest.raises(SymflowError, match="positive finite"):
        TimeScale(lr=float("nan"), width=3, scale=0.5)


def test_repr_latex_and_errors():
    spec = rates.spectrum(Model("F21"), 1)
    assert "phase alignment" in repr(spec) and "stable" in repr(spec)
    assert "\\Omega^*" in spec._repr_latex_()
    cf = rates.orbit_closed_form(Model("F21"), 3, "complex")
    assert "rotational alignment" in repr(cf) and "\\Omega^*(n)" in cf._repr_latex_()
    with pytest.raises(SymflowError, match="even dimension"):
        rates.orbit_closed_form(Model("Q8"), 3, "quaternionic")
    with pytest.raises(SymflowError, match="orbit type must be"):
        rates.orbit_closed_form(Model("Q8"), 2, "symplectic")
    with pytest.raises(SymflowError, match="trivial irrep"):
        rates.spectrum(Model("Z5"), 0)


def test_verification_catches_a_wrong_rate():
    eq = equilibria.equilibrium(Model("F21"), "rho_1")
    derived = rates.orbit_closed_form(Model("F21"), 3, "complex").at(21)
    numeric, _ = rates.numeric_spectrum(eq)
    rates._compare(eq, derived, numeric)
    wrong = [(v * (1 + 1e-7) if lab == "rotational alignment" else v, m, lab) for v, m, lab in numeric]
    with pytest.raises(SymflowError, match="disagree"):
        rates._compare(eq, derived, wrong)
