"""The reduced Fourier flow against the brute-force parameter-space flow, and the simulate API.

The reference is symflow.neuron.bruteforce (sums over the Cayley table, no Fourier analysis).
Agreement is to rounding: relative 1e-10 on velocities, absolute 1e-14 on Omega.
"""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from symflow.dynamics import FourierState, ReducedFlow, SimulationResult, initial, run_until_aligned, simulate
from symflow.errors import IntegrationError, ModelError, SymflowError
from symflow.neuron import bruteforce
from symflow.theory import Model


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMFLOW_CACHE", str(tmp_path_factory.mktemp("symflow_cache")))
        yield


GROUPS = ["Z7", "Z3xZ5", "Z2xZ4", "D4", "D5", "S3", "F21", "Q8", "A4", "Dic3"]
VARIANTS = [dict(), dict(shared=True), dict(spheres="joint")]


def _reference(model, p):
    G = model.group
    if model.shared:
        d, _, dx = bruteforce.flow(G, p["theta"], p["theta"], p["xi"], shared=True)
        return {"theta": d, "xi": dx}, bruteforce.omega(G, p["theta"], p["theta"], p["xi"])
    d1, d2, dx = bruteforce.flow(G, p["theta1"], p["theta2"], p["xi"], spheres=model.spheres)
    return {"theta1": d1, "theta2": d2, "xi": dx}, bruteforce.omega(G, p["theta1"], p["theta2"], p["xi"])


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("variant", VARIANTS, ids=["unshared", "shared", "joint"])
def test_reduced_flow_mapped_back_equals_bruteforce_flow(group, variant):
    model = Model(group, **variant)
    flow = ReducedFlow(model)
    state = initial.uniform(model, 4, seed=11)
    params = state.to_parameters()
    ref, om_ref = _reference(model, params)
    vel = flow.velocity_parameters(state)
    for nm in model.vector_names:
        scale = np.abs(ref[nm]).max()
        assert np.abs(vel[nm] - ref[nm]).max() <= 1e-10 * scale
    np.testing.assert_allclose(flow.omega(state.data), om_ref, atol=1e-14, rtol=0)


@settings(max_examples=15, deadline=None)
@given(group=st.sampled_from(["Z6", "D3", "F21", "Q8"]), variant=st.sampled_from([0, 1, 2]),
       style=st.sampled_from(["entries", "matrix"]), seed=st.integers(0, 2 ** 31))
def test_reduced_flow_property_random_states(group, variant, style, seed):
    model = Model(group, **VARIANTS[variant])
    flow = ReducedFlow(model, style=style)
    rng = np.random.default_rng(seed)
    n = model.group.order
    # arbitrary (not normalised) real vectors: the flow formula is a polynomial field on R^n
    p = {nm: rng.standard_normal((3, n)) for nm in model.vector_names}
    p = initial._normalise(model, p)
    state = FourierState.from_parameters(model, p)
    ref, om_ref = _reference(model, state.to_parameters())
    vel = flow.velocity_parameters(state)
    for nm in model.vector_names:
        assert np.abs(vel[nm] - ref[nm]).max() <= 1e-10 * np.abs(ref[nm]).max()
    np.testing.assert_allclose(flow.omega(state.data), om_ref, atol=1e-14, rtol=0)


def test_abelian_large_group_uses_fft_blocks_only():
    model = Model("Z1009", shared=True)
    flow = ReducedFlow(model)
    assert flow.layout.counts == {1: 1009} and flow.layout.fft
    state = initial.uniform(model, 2, seed=0)
    p = state.to_parameters()
    ref, om_ref = _reference(model, p)
    vel = flow.velocity_parameters(state)
    for nm in model.vector_names:
        assert np.abs(vel[nm] - ref[nm]).max() <= 1e-9 * np.abs(ref[nm]).max()


@pytest.mark.parametrize("group", ["Z8", "Z9"])
def test_half_spectrum_evaluation_equals_full_evaluation(group):
    for kw in VARIANTS:
        model = Model(group, **kw)
        half, full = ReducedFlow(model), ReducedFlow(model, use_symmetry=False)
        assert half.half_spectrum and not full.half_spectrum
        y = initial.uniform(model, 3, 4).data
        (o1, v1), (o2, v2) = half.evaluate(y), full.evaluate(y)
        np.testing.assert_allclose(o1, o2, rtol=1e-13)
        assert np.abs(v1 - v2).max() <= 1e-13 * np.abs(v2).max()
        y = y * np.exp(0.2j)
        with pytest.raises(IntegrationError, match="reality constraint"):
            half.evaluate(y)


def test_imaginary_energy_is_an_error_never_dropped():
    model = Model("F21")
    flow = ReducedFlow(model)
    state = initial.uniform(model, 2, seed=0)
    data = state.data.copy()
    data *= np.exp(0.3j)  # a phase rotation of every coefficient breaks the reality constraint
    with pytest.raises(IntegrationError, match="reality constraint"):
        flow.evaluate(data)
    data = state.data.copy()
    data[0, 1] = np.nan
    with pytest.raises(IntegrationError, match="non-finite"):
        flow.evaluate(data)


def test_to_parameters_refuses_complex_states():
    model = Model("D5")
    state = initial.uniform(model, 2, seed=0)
    state.data[:] *= 1j
    with pytest.raises(SymflowError, match="imaginary"):
        state.to_parameters()


# ---------------------------------------------------------------------------- simulate API
def test_simulate_npz_contract_round_trip(tmp_path):
    model = Model("F21")
    res = simulate(model, width=6, seed=3, t_end=4000.0, n_save=5, progress=False)
    assert res.t.shape == (5,) and res.t[0] == 0 and res.t[-1] == 4000.0
    G = model.group
    for nm in ("theta1", "theta2", "xi"):
        assert getattr(res, nm).shape == (5, 6, G.order)
    assert res.omega.shape == (5, 6)
    # the saved vectors are the parameter-space vectors on the unit spheres
    np.testing.assert_allclose(np.linalg.norm(res.xi, axis=-1), 1.0, atol=1e-12)
    # Omega recorded equals the brute-force energy of the recorded vectors
    om = bruteforce.omega(G, res.theta1, res.theta2, res.xi)
    np.testing.assert_allclose(res.omega, om, atol=1e-13)
    path = res.save(tmp_path / "run.npz")
    with np.load(path) as z:
        assert set(z.files) >= {"t", "theta1", "theta2", "xi", "omega", "metadata", "equilibrium_time"}
        meta = json.loads(str(z["metadata"]))
    assert meta["seed"] == 3 and meta["width"] == 6 and meta["model"]["group"] == "F21"
    assert meta["versions"]["sympy"] and meta["versions"]["numpy"] and meta["integrator"]["method"] == "geometric"
    assert meta["integrator"]["rtol"] > 0 and meta["gtol"] > 0 and len(meta["codegen"]["expression_hash"]) == 64
    back = SimulationResult.load(path)
    np.testing.assert_array_equal(back.theta1, res.theta1)
    assert back.model.key() == model.key()
    assert back.summary()["width"] == 6


def test_simulate_element_order_is_group_json_order():
    # the first saved state equals the uniform initial condition built in parameter space
    model = Model("D4")
    res = simulate(model, width=3, seed=5, t_end=10.0, n_save=2, progress=False)
    p0 = initial._normalise(model, initial.gaussian_parameters(model, 3, 5))
    np.testing.assert_allclose(res.theta1[0], p0["theta1"], atol=1e-13)
    elements = model.group.to_json()["elements"]
    assert len(elements) == res.theta1.shape[-1]


def test_shared_simulation_has_equal_thetas_and_reaches_equilibrium():
    res = simulate("Z7", width=8, seed=2, shared=True, progress=False)
    np.testing.assert_array_equal(res.theta1, res.theta2)
    assert res.stopped_early and np.all(np.isfinite(res.equilibrium_time))
    s = res.summary()
    assert s["aligned_fraction"] == 1.0
    # THEORY section 3: shared abelian equilibrium energy 2^-1/2 n^-3/2
    np.testing.assert_allclose(res.omega[-1], 2 ** -0.5 * 7 ** -1.5, rtol=1e-6)
    json.dumps(s)


@pytest.mark.parametrize("method", ["DOP853", "LSODA", "RK45"])
def test_scipy_methods_agree_with_geometric(method):
    a = simulate("D5", width=4, seed=1, t_end=300.0, n_save=3, progress=False, stop_at_equilibrium=False)
    b = simulate("D5", width=4, seed=1, t_end=300.0, n_save=3, method=method, progress=False,
                 stop_at_equilibrium=False)
    np.testing.assert_allclose(b.xi, a.xi, atol=1e-5)
    assert b.metadata["integrator"]["method"] == method


def test_simulate_input_errors():
    with pytest.raises(SymflowError, match="width"):
        simulate("Z7", width=0, progress=False)
    with pytest.raises(SymflowError, match="width"):
        simulate("Z7", width=2.5, progress=False)
    for bad in (float("nan"), float("inf"), -1.0, 0.0):
        with pytest.raises(SymflowError, match="t_end"):
            simulate("Z7", width=2, t_end=bad, progress=False)
    with pytest.raises(SymflowError, match="unknown group"):
        simulate("Y7", width=2, progress=False)
    with pytest.raises(SymflowError, match="method"):
        simulate("Z7", width=2, method="euler", progress=False)
    with pytest.raises(SymflowError, match="t_eval"):
        simulate("Z7", width=2, t_eval=[0, 2, 1], progress=False)
    with pytest.raises(ModelError, match="cross-entropy"):
        simulate(Model("Z7", loss="mse"), width=2, progress=False)
    with pytest.raises(ModelError, match="quadratic"):
        simulate(Model("Z7", activation="z**2+z**3"), width=2, progress=False)


def test_require_convergence_raises_with_partial_result():
    with pytest.raises(IntegrationError, match="did not reach") as exc:
        simulate("F21", width=4, seed=0, t_end=10.0, n_save=2, require_convergence=True, progress=False)
    assert exc.value.result.t[-1] == 10.0


def test_interrupt_returns_what_was_computed(tmp_path):
    calls = []

    def callback(t, y):
        calls.append(t)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return False

    res = simulate("D5", width=4, seed=0, t_end=500.0, n_save=6, progress=False, callback=callback,
                   stop_at_equilibrium=False)
    assert res.interrupted and len(res.t) == 3 and res.theta1.shape[0] == 3
    res.save(tmp_path / "partial.npz")
    assert SimulationResult.load(tmp_path / "partial.npz").metadata["interrupted"] is True


def test_run_until_aligned_reports_time_and_steps():
    run = run_until_aligned("D5", width=16, seed=0)
    assert run.fraction >= 0.95 and run.time > 0 and run.steps > 0 and run.wall_time > 0
    assert set(run.as_dict()) == {"time", "aligned_fraction", "steps", "rhs_evaluations", "wall_time_s"}
    with pytest.raises(IntegrationError, match="aligned"):
        run_until_aligned("D5", width=16, seed=0, t_max=5.0, check_every=1.0)


def test_simulate_cli_smoke(tmp_path, capsys):
    from symflow.cli import main

    out = tmp_path / "z7.npz"
    rc = main(["simulate", "Z7", "--width", "4", "--seed", "1", "--t-end", "200", "--n-save", "3",
               "--save", str(out), "--json", "--no-progress"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["width"] == 4 and summary["seed"] == 1 and summary["saved"] == str(out)
    with np.load(out) as z:
        assert z["theta1"].shape == (3, 4, 7)
    assert main(["simulate", "Z7", "--width", "0", "--no-progress"]) == 2
    assert main(["simulate", "Z7", "--t-end", "inf", "--no-progress"]) == 2
    assert main(["simulate", "Z7", "--init", "orbit:2", "--width", "2", "--t-end", "10", "--no-progress"]) == 0
    assert main(["simulate", "Z7", "--init", "weird", "--no-progress"]) == 2


# ---------------------------------------------------------------------------- fast alignment check
def test_hermitian_eigenvalues_closed_forms():
    from symflow.dynamics.alignment import hermitian_eigvals as _hermitian_eigvals

    rng = np.random.default_rng(3)
    for d in (1, 2, 3, 4, 5):
        B = rng.standard_normal((50, d, d)) + 1j * rng.standard_normal((50, d, d))
        B[:10] = B[:10, :, :1] @ B[:10, :1, :]            # rank one
        G = np.conj(np.swapaxes(B, -1, -2)) @ B
        ref = np.linalg.eigvalsh(G)[..., ::-1]
        # the trigonometric solution loses sqrt(eps) of the largest eigenvalue at degenerate pairs
        np.testing.assert_allclose(_hermitian_eigvals(G), ref, rtol=0, atol=1e-7 * np.abs(ref).max())


def test_rank_ratio_matches_svd_near_the_threshold():
    from symflow.dynamics.alignment import rank_ratio

    def _rank_ratio(B):
        return rank_ratio(B, method="eig")

    rng = np.random.default_rng(5)
    for d in (2, 3, 4):
        U = np.linalg.qr(rng.standard_normal((200, d, d)) + 1j * rng.standard_normal((200, d, d)))[0]
        V = np.linalg.qr(rng.standard_normal((200, d, d)) + 1j * rng.standard_normal((200, d, d)))[0]
        s = np.zeros((200, d))
        s[:, 0] = rng.uniform(0.5, 2.0, 200)
        s[:, 1] = s[:, 0] * rng.uniform(0.09, 0.11, 200)
        s[:, 2:] = s[:, 1:2] * rng.uniform(0, 1, (200, d - 2))
        B = U @ (s[..., None] * V)
        np.testing.assert_allclose(_rank_ratio(B), s[:, 1] / s[:, 0], rtol=0, atol=1e-9)


@pytest.mark.parametrize("group", ["F21", "S4", "D5", "Z9"])
def test_aligned_eig_ratio_is_the_svd_criterion(group):
    """run_until_aligned's stop (closed-form eigenvalue ratio) decides as the SVD observables do."""
    from symflow.dynamics import observables

    def aligned_mask(st, rank, cos):
        return observables.aligned(st, rank_threshold=rank, cosine_threshold=cos, method="eig")

    res = simulate(group, width=24, seed=1, n_save=6, t_end=15.0 * Model(group).group.order ** 2, progress=False,
                   stop_at_equilibrium=False)
    seen = set()
    for k in range(len(res.t)):
        st = res.state(k)
        for rank, cos in ((0.1, 0.99), (0.3, 0.9)):
            fast = aligned_mask(st, rank, cos)
            np.testing.assert_array_equal(fast, observables.aligned(st, rank_threshold=rank, cosine_threshold=cos))
            seen.add(float(fast.mean()))
    assert len(seen) > 1   # the check saw partly aligned populations


def test_run_until_aligned_refines_the_crossing_and_keeps_two_states():
    run = run_until_aligned("D5", width=16, seed=0, check_every=40.0, refine=3)
    coarse = run_until_aligned("D5", width=16, seed=0, check_every=40.0, refine=0)
    assert coarse.time - 40.0 <= run.time - 1e-9 <= coarse.time - 0 and run.fraction >= 0.95
    assert (run.time / 5.0) == pytest.approx(round(run.time / 5.0))      # a multiple of 40 / 2^3
    assert run.result.t.tolist() == [0.0, run.time] and run.result.theta1.shape == (2, 16, 10)
    assert run.evaluations > coarse.evaluations and run.wall_time > 0
    with pytest.raises(TypeError, match="unexpected"):
        run_until_aligned("D5", width=4, t_end=3.0)


def test_simulate_chooses_workers_by_size():
    from symflow.dynamics.drivers import AUTO_WORKERS_MIN, auto_workers

    assert auto_workers(8, 100) == 1
    assert auto_workers(AUTO_WORKERS_MIN, 1) >= 1
    res = simulate("Z7", width=4, seed=0, t_end=50.0, n_save=2, progress=False)
    assert res.metadata["workers"] == 1


# ---------------------------------------------------------------------------- kernel backends
@pytest.mark.parametrize("group, shared", [("Z7", False), ("Z2xZ4", True), ("F21", False), ("S4", False), ("Q8", True)])
def test_lambdify_backend_through_the_evaluator_equals_generated_kernels(group, shared):
    """The one evaluator gives the same flow with either kernel backend (full rows, cyclic half
    spectrum and compact rows alike)."""
    model = Model(group, shared=shared)
    y = initial.uniform(model, 5, 11).data
    gen, lam = ReducedFlow(model), ReducedFlow(model, backend="lambdify")
    assert lam.kernels.styles == {d: "lambdify" for d in lam.layout.dims}
    om_g, v_g = gen.evaluate(y)
    om_l, v_l = lam.evaluate(y)
    np.testing.assert_allclose(om_l, om_g, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(v_l, v_g, rtol=0, atol=1e-10 * np.abs(v_g).max())
    cg, cl = gen.compact_flow(), lam.compact_flow()
    assert (cg is None) == (cl is None)
    if cg is not None:
        np.testing.assert_allclose(cl.evaluate(cl.compress(y))[1], cg.evaluate(cg.compress(y))[1], rtol=0,
                                   atol=1e-10 * np.abs(v_g).max())


def test_unknown_kernel_backend_is_refused():
    with pytest.raises(SymflowError, match="backend"):
        ReducedFlow(Model("Z5"), backend="numba")
