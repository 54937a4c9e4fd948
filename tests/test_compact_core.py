"""The theory on a band-limited compact group through the one path (issue 24; docs/theory.md section 13): the model,
its derived energy and block flows, the generated reduced flow, the landscape engine and the study, each checked
against the independent brute force (Haar integrals by the quadrature exact to band 2L, neuron/bruteforce.py)."""
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symflow
from symflow.cli import main
from symflow.dynamics.flow import FlowEvaluator
from symflow.dynamics.initial import uniform
from symflow.dynamics.state import FourierState
from symflow.errors import ModelError, SymflowError
from symflow.groups.compact import signals
from symflow.groups.compact.fourier import fourier as quadrature_fourier
from symflow.neuron import bruteforce
from symflow.neuron.points import stack
from symflow.testing.command_matrix import compact_cases, run_case
from symflow.theory.model import Model

#: (group, band limit): small enough for the brute force's N^2 D grid in a test.
SMALL = [("SO(2)", 3), ("O(2)", 2), ("SO(3)", 2), ("O(3)", 1)]
VARIANTS = [{}, {"shared": True}, {"spheres": "joint"}, {"constraint": "none"}]


def G(name, L):
    return symflow.group(name, bandlimit=L)


@pytest.mark.parametrize("name,L", SMALL)
def test_coordinates_are_an_orthonormal_basis_and_their_fourier_is_the_quadratures(name, L):
    g = G(name, L)
    E, w = g.quadrature()
    Phi = signals.basis_values(g, E)
    assert np.abs(Phi.T @ (w[:, None] * Phi) - np.eye(g.coordinates)).max() < 1e-12
    x = np.random.default_rng(0).normal(size=(3, g.coordinates))
    blocks = g.fourier(x)
    for k in range(3):
        by_quadrature = quadrature_fourier(g, Phi @ x[k])
        assert max(np.abs(by_quadrature[i] - blocks[i][k]).max() for i in range(len(g.irreps))) < 1e-12
    assert np.abs(symflow.groups.inverse_fourier(g, blocks, real=True) - x).max() < 1e-12
    from symflow.groups.fourier import orbit_shares

    shares = orbit_shares(g, x)
    assert np.allclose(shares.sum(axis=-1), 1)


@pytest.mark.parametrize("name,L", SMALL)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "default")
def test_generated_flow_equals_the_quadrature_brute_force(name, L, variant):
    """The key claim: the finite model's block kernels with n = 1 are the flow of the Haar-integral energy."""
    m = Model(G(name, L), **variant)
    state = uniform(m, 6, seed=3)
    omega, velocity = FlowEvaluator(m).evaluate(state.data)
    x = stack(m, state.to_parameters())
    v = stack(m, FourierState(state.layout, velocity).to_parameters())
    assert np.abs(omega - bruteforce.energy(m, x)).max() < 1e-12
    assert np.abs(v - bruteforce.riemannian_gradient(m, x)).max() < 1e-12


def test_brute_force_is_the_orbit_energy_tensor_on_one_orbit():
    """Independent of the Fourier layer: on one orbit's span the brute force is theory/compact.py's tensor T."""
    from symflow.theory.compact import energy_tensor

    g = G("SO(3)", 2)
    m = Model(g)
    o = g.orbits[2]
    s = signals.orbit_slices(g)[2]
    T = energy_tensor(g, o)
    rng = np.random.default_rng(1)
    vecs = [rng.normal(size=s.stop - s.start) for _ in range(3)]
    x = np.zeros(3 * g.coordinates)
    for i, v in enumerate(vecs):       # theta1, theta2, xi
        x[i * g.coordinates + s.start:i * g.coordinates + s.stop] = v
    want = np.einsum("ijk,i,j,k->", T, vecs[2], vecs[0], vecs[1])
    assert abs(bruteforce.energy(m, x) - want) < 1e-12


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(SMALL), shared=st.booleans(), seed=st.integers(0, 10 ** 6))
def test_flow_keeps_norms_and_raises_the_energy(case, shared, seed):
    """As for finite groups: along the reduced flow every sphere keeps norm 1 and the energy never decreases."""
    m = Model(G(*case), shared=shared)
    r = symflow.simulate(m, width=4, seed=seed, t_eval=np.linspace(0, 20, 9), stop_at_equilibrium=False)
    norms = np.stack([r.state(k).norms() for k in range(len(r.t))])
    assert np.abs(norms - 1).max() < 1e-8
    omega = np.stack([r.flow.omega(r.state(k).data) for k in range(len(r.t))])
    assert np.all(np.diff(omega, axis=0) >= -1e-10)


def test_derived_energy_and_block_flows_pass_the_brute_force_check(monkeypatch):
    from symflow.theory import bandlimited

    for name, L in SMALL:
        report = Model(G(name, L)).energy().verify(points=2)
        assert report.passed, report.summary()
    monkeypatch.setattr(bandlimited, "CHECK_ENTRIES", 10 ** 5)   # SO(3): band 1 has 18^2 x 10 entries, band 2 more
    far = Model(G("SO(3)", 3)).energy().verify(points=1)     # checked at the largest band the grid allows
    assert far.passed and far.bandlimit == 1 and "checked at band limit 1, not 3" in far.summary()


def test_compact_models_refuse_what_has_no_band_limited_version():
    g = G("SO(3)", 2)
    with pytest.raises(ModelError, match="cross-entropy"):
        Model(g, loss="mse")
    with pytest.raises(ModelError, match="quadratic"):
        Model(g, activation="z**2+z**3")
    assert Model(g).key() == "SO(3)/L2;" + Model(g).settings_key()
    assert Model(g).to_dict()["bandlimit"] == 2


def test_landscape_engine_finds_the_band_limited_equilibria():
    from symflow.landscape import landscape
    from symflow.theory.compact import compact_rates

    g = G("SO(2)", 2)
    result = landscape(Model(g), starts=16, seed=0)
    assert sum(a.count for a in result.attractors) + result.unconverged == 16
    rates = {tuple(o["irreps"]): o for o in compact_rates(g)["orbits"]}
    for a in result.attractors:
        (o,) = a.orbits
        assert a.source == "constructed" and a.stable and a.rank == 1
        assert abs(a.energy - (o.size * o.dim) ** -0.5) < 1e-12
        want = np.sort(np.repeat(*zip(*[(e["rate"], e["multiplicity"]) for e in rates[tuple(result.labels(a))]["spectrum"]])))
        assert np.allclose(np.sort(a.eigenvalues), want, atol=1e-9)
    data = result.to_json()
    assert data["bandlimit"] == 2 and data["order"] is None and "Haar" in data["normalisation"]


def test_derive_json_on_a_compact_group(capsys):
    assert main(["derive", "O(2)", "--bandlimit", "2", "--json", "--points", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bandlimit"] == 2 and out["order"] is None and out["proof"]["passed"]
    assert {"group", "order", "abelian", "energy", "proof", "flows", "trivial_flow", "closed_form", "versions"} <= set(out)
    assert all("/n" not in line for f in out["flows"] for line in f["text"])


def test_study_of_a_band_limited_population(tmp_path):
    from symflow.study import run_study

    s = run_study("O(2)", width=16, seed=1, bandlimit=1)
    rows = {p.name: p for p in s.predictions}
    assert not s.disagreed, [p.name for p in s.disagreed]
    shares = [p for p in s.predictions if p.section == "basins"]
    assert abs(sum(p.measured for p in shares) - 1) < 1e-12
    assert any(name.startswith("basin of") for name in rows)
    assert s.settings["bandlimit"] == 1


@pytest.mark.parametrize("case", compact_cases("O(2)", 1) + compact_cases("SO(2)", 2),
                         ids=lambda c: f"{c.command}-{c.group}")
def test_every_command_on_compact_groups_works_or_refuses_in_one_line(case, tmp_path):
    outcome = run_case(main, case, tmp_path)
    assert outcome.problem is None, outcome.problem
    if case.command in ("group", "derive", "rates", "landscape", "codegen", "study"):
        assert outcome.code == 0, outcome.stderr[-2000:]
    else:
        assert outcome.code in (0, 2)


@pytest.mark.parametrize("argv,words", [
    (["derive", "SO(3)"], "--bandlimit"),
    (["landscape", "O(3)", "--bandlimit", "x"], "--bandlimit must be"),
    (["study", "SO(2)", "--bandlimit", "201"], "--bandlimit must be"),
    (["simulate", "SO(3)", "--bandlimit", "2"], "compact group"),
    (["derive", "SO(3)", "--bandlimit", "20"], "time budget"),        # block flows up to d = 41, ~d^5 each
])
def test_bad_compact_input_is_one_line_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and words in err[0]


def test_bandlimit_zero_has_nothing_to_learn():
    from symflow.landscape import landscape

    with pytest.raises(SymflowError, match="only the trivial irrep"):
        landscape(Model(G("SO(3)", 0)), starts=4)
