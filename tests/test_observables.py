"""Observables and initial conditions: cross-checked against independent parameter-space
computations (real Fourier basis, SVD of explicit blocks) and validated inputs."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from symflow.dynamics import FourierState, initial, observables as ob, simulate
from symflow.errors import SymflowError
from symflow.theory import Model


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMFLOW_CACHE", str(tmp_path_factory.mktemp("symflow_cache")))
        yield


@settings(max_examples=15, deadline=None)
@given(group=st.sampled_from(["Z7", "Z2xZ4", "D5", "F21", "Q8", "S4", "Dic3"]), seed=st.integers(0, 2 ** 31))
def test_orbit_energy_equals_real_fourier_basis_energy(group, seed):
    model = Model(group)
    state = initial.uniform(model, 4, seed)
    params = state.to_parameters()
    G = model.group
    basis = G.real_fourier_basis
    energy = ob.orbit_energy(state, normalised=False)
    layout = state.layout
    # map layout orbits to the basis orbits (same irrep index tuples; fft groups: frequencies = irreps)
    for nm in model.vector_names:
        ref = basis.orbit_energy(params[nm])
        ref_by_orbit = {tuple(sorted(o)): ref[:, k] for k, o in enumerate(basis.orbits)}
        for o in layout.orbits:
            irreps = tuple(sorted(_irrep_index(G, layout, s) for s in layout.orbit_slots_of(o)))
            np.testing.assert_allclose(energy[nm][:, o.id], ref_by_orbit[irreps], atol=1e-12)
        np.testing.assert_allclose(ob.orbit_energy(state)[nm].sum(axis=1), 1.0, atol=1e-12)


def _irrep_index(G, layout, slot):
    if layout.fft:
        return slot
    d, pos = layout.slot_position(slot)
    return G.irreps_by_dim[d][pos]


def test_rank_ratio_and_alignment_against_explicit_blocks():
    model = Model("F21")
    state = initial.uniform(model, 6, 1)
    dom = ob.dominant_orbit(state)
    ratios = ob.rank_ratio(state, dom)
    cos = ob.alignment(state, dom)
    G = model.group
    lay = state.layout
    for m in range(6):
        slot = lay.orbit_slots_of(lay.orbits[dom[m]])[0]
        irrep = _irrep_index(G, lay, slot)
        blocks = {nm: state.coefficients(nm)[irrep][m] for nm in model.vector_names}
        for nm, b in blocks.items():
            s = np.linalg.svd(b, compute_uv=False)
            expect = s[1] / s[0] if len(s) > 1 else 0.0
            assert abs(ratios[nm][m] - expect) < 1e-12
        X, T1, T2 = blocks["xi"], blocks["theta1"], blocks["theta2"]

        def c(A, B):
            return np.real(np.vdot(A, B)) / (np.linalg.norm(A) * np.linalg.norm(B))

        np.testing.assert_allclose(cos[m], [c(X, T2 @ T1), c(T1, T2.conj().T @ X), c(T2, X @ T1.conj().T)], atol=1e-12)


def test_single_orbit_start_and_ipr():
    model = Model("F21")
    lay = FourierState.from_parameters(model, initial.gaussian_parameters(model, 1, 0)).layout
    target = next(o for o in lay.orbits if o.dim == 3)
    state = initial.single_orbit(model, 5, seed=2, orbit=target.label.split("/")[0])
    share = ob.orbit_share(state)
    np.testing.assert_allclose(share[:, target.id], 1.0, atol=1e-12)
    assert np.all(ob.dominant_orbit(state) == target.id)
    np.testing.assert_allclose(ob.ipr(state), 1.0, atol=1e-12)
    np.testing.assert_allclose(state.norms(), 1.0, atol=1e-12)
    noisy = initial.single_orbit(model, 5, seed=2, orbit=target.id, noise=0.5)
    assert np.all(ob.ipr(noisy) < 1.0)
    uni = initial.uniform(model, 200, 0)
    assert 1 / (len(lay.orbits) - 1) <= ob.ipr(uni).mean() < 1.0


def test_single_frequency_and_phases_at_equilibrium():
    model = Model("Z11")
    state = initial.single_frequency(model, 4, seed=0, k=3)
    assert np.all(ob.dominant_orbit(state) == 3)
    res = simulate(model, width=8, seed=0, progress=False)
    ph = ob.phases(res.final_state)
    assert np.abs(ph["D"]).max() < 1e-6  # rotational alignment: phi1 + phi2 - psi = 0
    with pytest.raises(SymflowError, match="abelian"):
        initial.single_frequency(Model("D5"), 2, 0, k=1)
    with pytest.raises(SymflowError, match="frequency"):
        initial.single_frequency(model, 2, 0, k=11)


def test_equilibrium_observables_match_theory_for_f21():
    res = simulate("F21", width=32, seed=0, progress=False)
    table = res.observables()
    s = res.summary()
    assert s["aligned_fraction"] == 1.0
    lay = res.final_state.layout
    # THEORY section 3: Omega*(rho) = (|O| d)^-1/2 n^-3/2 (0.0073478 for the 1-dim pair, 0.0042422 for 3-dim)
    for m, k in enumerate(table["dominant_orbit"]):
        o = lay.orbits[k]
        expect = (o.size * o.dim) ** -0.5 * 21 ** -1.5
        assert abs(table["omega"][m] - expect) < 1e-7
    assert abs(sum(s["fractions"].values()) - 1.0) < 1e-12
    json.dumps(s)


def test_uniform_start_is_reproducible_and_on_the_spheres():
    for kw in ({}, {"spheres": "joint"}, {"shared": True}):
        model = Model("D4", **kw)
        a, b, c = (initial.uniform(model, 3, s) for s in (7, 7, 8))
        np.testing.assert_array_equal(a.data, b.data)
        assert not np.allclose(a.data, c.data)
        np.testing.assert_allclose(a.norms(), 1.0, atol=1e-13)
        assert a.norms().shape[1] == len(model.neuron.sphere_groups)


def test_initial_condition_validation():
    model = Model("Z5")
    with pytest.raises(SymflowError, match="width 0"):
        initial.uniform(model, 0, 0)
    with pytest.raises(SymflowError, match="width"):
        initial.uniform(model, True, 0)
    with pytest.raises(SymflowError, match="seed"):
        initial.uniform(model, 2, -1)
    good = {nm: np.ones((2, 5)) for nm in model.vector_names}
    bad = dict(good, xi=np.full((2, 5), np.nan))
    with pytest.raises(SymflowError, match="non-finite"):
        initial.from_parameters(model, bad)
    with pytest.raises(SymflowError, match="zero"):
        initial.from_parameters(model, dict(good, xi=np.zeros((2, 5))))
    with pytest.raises(SymflowError, match="shape"):
        initial.from_parameters(model, dict(good, xi=np.ones((2, 4))))
    with pytest.raises(SymflowError, match="missing"):
        initial.from_parameters(model, {"theta1": good["theta1"]})
    with pytest.raises(SymflowError, match="real"):
        initial.from_parameters(model, dict(good, xi=np.ones((2, 5)) * 1j))
    with pytest.raises(SymflowError, match="width 0"):
        initial.from_parameters(model, {nm: np.ones((0, 5)) for nm in model.vector_names})
    with pytest.raises(SymflowError, match="orbit"):
        initial.single_orbit(model, 2, 0, orbit="nope")
    with pytest.raises(SymflowError, match="orbit"):
        initial.single_orbit(model, 2, 0, orbit=17)
    with pytest.raises(SymflowError, match="init"):
        initial.initial_state(model, 2, 0, init="random")
    st_ = initial.from_parameters(model, good)
    np.testing.assert_allclose(st_.norms(), 1.0)


def test_user_arrays_through_simulate():
    model = Model("D5", shared=True)
    rng = np.random.default_rng(3)
    arrays = {"theta": rng.standard_normal((3, 10)), "xi": rng.standard_normal((3, 10))}
    res = simulate(model, init=arrays, t_end=50.0, n_save=2, progress=False)
    np.testing.assert_allclose(res.theta1[0], arrays["theta"] / np.linalg.norm(arrays["theta"], axis=1, keepdims=True),
                               atol=1e-13)
    assert res.width == 3
