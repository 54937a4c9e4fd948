"""Integrator invariants: norms stay 1 (1e-12), Omega never decreases for small steps, order,
events, chunking, validation."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from symflow.dynamics import GeometricRK, ReducedFlow, ScipyStepper, initial, integrate, make_stepper
from symflow.dynamics.events import Events as _Events
from symflow.dynamics.steppers import ChunkStatus, StepCounts
from symflow.errors import IntegrationError, SymflowError
from symflow.theory import Model


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMFLOW_CACHE", str(tmp_path_factory.mktemp("symflow_cache")))
        yield


CASES = [("Z7", {}), ("Z6", {"shared": True}), ("D5", {"spheres": "joint"}), ("F21", {}), ("Q8", {})]


@settings(max_examples=12, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2 ** 31), adaptive=st.booleans())
def test_geometric_integrator_keeps_norms_to_rounding(case, seed, adaptive):
    group, kw = case
    model = Model(group, **kw)
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 5, seed).data
    stepper = GeometricRK(max_step=0.5 * n ** 1.5) if adaptive else GeometricRK(dt=0.3 * n ** 1.5)
    out = integrate(flow, y0, [0.0, 2.0 * n ** 2, 6.0 * n ** 2], stepper, progress=False,
                    save=lambda t, y: flow.layout.sphere_norms(y))
    for norms in out.saved:
        assert np.abs(norms - 1.0).max() < 1e-12
    assert out.counts.steps > 0


@settings(max_examples=10, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2 ** 31))
def test_omega_is_monotone_along_small_geometric_steps(case, seed):
    group, kw = case
    model = Model(group, **kw)
    flow = ReducedFlow(model)
    n = model.group.order
    y = initial.uniform(model, 4, seed).data
    stepper = GeometricRK(dt=0.05 * n ** 1.5)
    omega = [flow.omega(y)]
    f = flow.rhs(y)
    h = 0.05 * n ** 1.5
    for _ in range(int(8 * n ** 2 / h / 20)):
        for _ in range(20):
            y, f, _ = stepper.rk_step(flow, y, h, f)
        omega.append(flow.omega(y))
    omega = np.array(omega)
    # non-decreasing up to rounding (Omega ~ n^-3/2; rounding ~ 1e-16 of it)
    assert np.all(np.diff(omega, axis=0) >= -1e-13 * n ** -1.5)
    assert np.all(omega[-1] > omega[0])


def test_rk4_fixed_step_is_fourth_order():
    model = Model("D5")
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 2, 4).data
    T = 2.0 * n ** 2
    ref = integrate(flow, y0, [0, T], GeometricRK(rtol=1e-12, atol=1e-15), progress=False).final
    errs = []
    for dt in (T / 40, T / 80):
        y = integrate(flow, y0, [0, T], GeometricRK(dt=dt), progress=False).final
        errs.append(np.abs(y - ref).max())
    ratio = errs[0] / errs[1]
    assert 10 < ratio < 24  # 2^4 = 16 for a fourth-order method


def test_chunking_does_not_change_results():
    model = Model("F21")
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 7, 2).data
    a = integrate(flow, y0, [0, 3 * n ** 2], GeometricRK(dt=0.2 * n ** 1.5), progress=False).final
    b = integrate(flow, y0, [0, 3 * n ** 2], GeometricRK(dt=0.2 * n ** 1.5), progress=False, chunk=2).final
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


def test_equilibrium_event_records_times_and_stops():
    model = Model("Z5", shared=True)
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 3, 0).data
    gtol = 1e-6 * n ** -1.5
    out = integrate(flow, y0, np.linspace(0, 200 * n ** 2, 21), GeometricRK(max_step=0.5 * n ** 1.5),
                    gtol=gtol, progress=False)
    assert out.stopped_early and len(out.t) < 21
    assert np.all(out.equilibrium_time > 0) and np.all(out.equilibrium_time <= out.t[-1])
    assert np.all(flow.speed(flow.rhs(out.final)) < gtol)


def test_scipy_stepper_events_and_lsoda():
    model = Model("Z5")
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 2, 1).data
    for method in ("DOP853", "LSODA"):
        out = integrate(flow, y0, [0, 100 * n ** 2], make_stepper(method, n=n), gtol=1e-5 * n ** -1.5,
                        progress=False)
        assert out.stopped_early and np.all(np.isfinite(out.equilibrium_time))
        assert np.abs(flow.layout.sphere_norms(out.final) - 1).max() < 1e-5


def test_blow_up_of_the_unconstrained_flow_is_an_integration_error():
    model = Model("Z5", constraint="none")
    flow = ReducedFlow(model)
    y0 = initial.uniform(model, 2, 0).data * 5.0
    with pytest.raises(IntegrationError, match="blow-up|underflow"):
        integrate(flow, y0, [0, 1e7], GeometricRK(), progress=False, blowup_norm=1e3)


def test_validation_of_integrator_arguments():
    model = Model("Z5")
    flow = ReducedFlow(model)
    y0 = initial.uniform(model, 2, 0).data
    with pytest.raises(SymflowError, match="increasing"):
        integrate(flow, y0, [0, 2, 1], GeometricRK(), progress=False)
    with pytest.raises(SymflowError, match="finite"):
        integrate(flow, y0, [0, math.inf], GeometricRK(), progress=False)
    for bad in (0, -1e-3, float("nan")):
        with pytest.raises(SymflowError, match="rtol"):
            GeometricRK(rtol=bad)
        with pytest.raises(SymflowError, match="dt"):
            GeometricRK(dt=bad)
    with pytest.raises(SymflowError, match="method"):
        ScipyStepper("Euler")
    with pytest.raises(SymflowError, match="only available"):
        make_stepper("DOP853", dt=1.0)


def test_step_size_underflow_is_reported():
    model = Model("Z5")
    flow = ReducedFlow(model)
    y = initial.uniform(model, 1, 0).data.copy()
    stepper = GeometricRK(rtol=1e-300, atol=1e-300)
    eq = np.full(1, np.nan)
    with pytest.raises(IntegrationError, match="underflow"):
        stepper.bind(flow, y, 0.0, 1e6, ChunkStatus(), _Events(flow, None, None, eq, 0), StepCounts()).run()


# ---------------------------------------------------------------------------- compact rows, blocked arrays,
# per-neuron steps and per-neuron equilibrium
@pytest.mark.parametrize("group,kw", [("Z9", {}), ("Z6", {"shared": True}), ("F21", {}), ("Dic3", {})])
def test_compact_integration_equals_full_integration(group, kw):
    model = Model(group, **kw)
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 6, 5).data
    for stepper in (lambda: GeometricRK(dt=0.2 * n ** 1.5), lambda: GeometricRK(max_step=0.5 * n ** 1.5)):
        a = integrate(flow, y0, [0, 2 * n ** 2, 4 * n ** 2], stepper(), progress=False)
        b = integrate(flow, y0, [0, 2 * n ** 2, 4 * n ** 2], stepper(), progress=False, compact=False)
        assert flow.compact_flow() is not None
        for ya, yb in zip(a.saved, b.saved):
            assert ya.shape == yb.shape == y0.shape            # save and final see full rows
            np.testing.assert_allclose(ya, yb, rtol=0, atol=1e-13)
        assert np.abs(flow.layout.sphere_norms(a.final) - 1).max() < 1e-12
    c = integrate(flow, y0, [0, n ** 2], GeometricRK(), progress=False, save_working=True)
    assert c.saved[-1].shape == (6, flow.compact_flow().layout.size) and c.final.shape == y0.shape


def test_adaptive_steps_are_per_neuron():
    """A neuron's trajectory does not depend on the other neurons integrated with it."""
    model = Model("F21")
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 7, 2).data
    t = [0, 3 * n ** 2, 8 * n ** 2]
    together = integrate(flow, y0, t, GeometricRK(max_step=0.5 * n ** 1.5), progress=False)
    alone = integrate(flow, y0[3:4], t, GeometricRK(max_step=0.5 * n ** 1.5), progress=False)
    chunked = integrate(flow, y0, t, GeometricRK(max_step=0.5 * n ** 1.5), progress=False, chunk=3)
    np.testing.assert_allclose(together.final[3:4], alone.final, rtol=0, atol=1e-14)
    np.testing.assert_allclose(together.final, chunked.final, rtol=0, atol=1e-14)
    assert together.counts.neuron_steps > together.counts.steps


def test_neurons_at_equilibrium_are_frozen_and_saved_as_such():
    model = Model("Z7", shared=True)
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 6, 4).data
    gtol = 1e-6 * n ** -1.5
    times = np.linspace(0, 60 * n ** 2, 61)
    out = integrate(flow, y0, times, GeometricRK(max_step=0.5 * n ** 1.5), gtol=gtol, progress=False,
                    stop_at_equilibrium=False)
    eq = out.equilibrium_time
    assert np.all(np.isfinite(eq)) and len(np.unique(np.round(eq))) > 1   # neurons reach it at different times
    assert np.all(flow.speed(flow.rhs(out.final)) < gtol)
    saved = np.stack(out.saved)                                          # (K, M, L)
    for m in range(6):
        later = np.nonzero(out.t >= eq[m])[0]
        first = later[0]
        assert np.array_equal(saved[first:, m], np.broadcast_to(out.final[m], saved[first:, m].shape))
        assert not np.array_equal(saved[first - 1, m], out.final[m])
    # a frozen state is within gtol / lambda_min of the flow's limit (Plancherel norm; the slowest
    # tangent rate at the shared abelian equilibria is Omega* = 2^-1/2 n^-3/2, THEORY section 3)
    deep = integrate(flow, y0, [0, 120 * n ** 2], GeometricRK(max_step=0.5 * n ** 1.5), gtol=1e-4 * gtol,
                     progress=False)
    d = deep.final - out.final
    assert np.all(np.sqrt(flow.layout.inner(d, d)) <= 1.05 * gtol / (2 ** -0.5 * n ** -1.5))


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forked workers")
def test_workers_give_identical_results():
    model = Model("Z11", shared=True)
    flow = ReducedFlow(model)
    n = model.group.order
    y0 = initial.uniform(model, 12, 0).data
    run = lambda w: integrate(flow, y0, [0, 5 * n ** 2, 50 * n ** 2], GeometricRK(max_step=0.5 * n ** 1.5),  # noqa: E731
                              gtol=1e-6 * n ** -1.5, progress=False, chunk=4, workers=w)
    a, b = run(1), run(2)
    np.testing.assert_array_equal(a.final, b.final)
    np.testing.assert_array_equal(a.equilibrium_time, b.equilibrium_time)
    assert a.counts == b.counts


@pytest.mark.parametrize("stepper", [GeometricRK(max_step=20.0), GeometricRK(dt=5.0), ScipyStepper("RK45")],
                         ids=["adaptive", "rk4", "scipy"])
def test_one_problem_per_stepper(stepper):
    """``method.bind(...)`` is one problem: ``step()`` until finished gives what ``run()`` and the driver give."""
    model = Model("F21")
    flow = ReducedFlow(model)
    y0 = initial.uniform(model, 5, 2).data
    runs = []
    for manual in (True, False):
        y, counts = y0.copy(), StepCounts()
        s = stepper.bind(flow, y, 0.0, 200.0, ChunkStatus(), _Events(flow, None, None, np.full(5, np.nan), 0), counts)
        assert s.status == "running" and s.y is y
        if manual:
            n = 0
            while s.status == "running":
                s.step()
                n += 1
            assert n == counts.steps + counts.rejected
            with pytest.raises(SymflowError, match="finished"):
                s.step()
        else:
            assert s.run() is y
        runs.append((y, counts))
    (a, ca), (b, cb) = runs
    np.testing.assert_array_equal(a, b)
    assert ca == cb and ca.steps > 0
    out = integrate(flow, y0, [0.0, 200.0], stepper, progress=False, compact=False)
    np.testing.assert_array_equal(out.final, a)
    assert out.counts == ca
