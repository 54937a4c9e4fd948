"""Full two-layer network in parameter space: gradients, training loop, Stage II, and the key
cross-check that small-scale projected GD follows the reduced flow (brute-force RK4)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from scipy.special import logsumexp

import symflow
import symflow.neuron
from symflow.errors import IntegrationError, ModelError, SymflowError
from symflow.theory.model import Model
from symflow.dynamics import initial, simulate
from symflow.dynamics.reduced import ReducedFlow
from symflow.dynamics.network import PairSet, TwoLayerNetwork, as_pairs, split_pairs
from symflow.dynamics.training import TrainingHistory, retract, sphere_blocks, train
from symflow.dynamics.stage2 import (Stage2Prediction, aligned_population, ideal_margin, measured_margin,
                                     simulate_stage2, theory_scale_curve, theory_time_to_loss)
from symflow.neuron import bruteforce as bf

SMALL = ["Z5", "D3", "Z2xZ3"]


def _net(name, width=4, **kw):
    return TwoLayerNetwork(symflow.group(name), width, **kw)


def _directional_fd(net, pairs, reduction, key, direction, eps=1e-6):
    x = net.params[key]
    old = x.copy()
    x += eps * direction
    lp = net.loss(pairs, reduction)
    x[:] = old - eps * direction
    lm = net.loss(pairs, reduction)
    x[:] = old
    return (lp - lm) / (2 * eps)


# --------------------------------------------------------------------------- forward / gradients
@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(SMALL), shared=st.booleans(), act=st.sampled_from(["quad", "relu"]),
       reduction=st.sampled_from(["mean", "sum"]), subset=st.booleans(), per_neuron=st.booleans(),
       seed=st.integers(0, 10 ** 6))
def test_gradients_match_finite_differences(name, shared, act, reduction, subset, per_neuron, seed):
    G = symflow.group(name)
    net = TwoLayerNetwork(G, 3, shared=shared, activation=act, per_neuron_scale=per_neuron, scale=2.0, seed=seed)
    if per_neuron:
        net.params["a"][:] = [0.5, 1.5, 3.0]
    pairs = split_pairs(G, 0.6, seed)[0] if subset else None
    g = net.grads(pairs, reduction)
    assert set(g) == set(net.params)
    rng = np.random.default_rng(seed)
    for key, x in net.params.items():
        d = rng.standard_normal(x.shape)
        if key == "a" and not per_neuron:
            d = np.ones_like(x)          # tied scale: derivative is the sum
        fd = _directional_fd(net, pairs, reduction, key, d)
        an = float(np.sum(g[key] * d))
        assert abs(fd - an) <= 1e-5 * max(abs(an), 1e-3 * abs(net.loss(pairs, reduction)) + 1e-12)


def test_logits_match_explicit_sum_and_loss_matches_scipy():
    G = symflow.group("D3")
    net = TwoLayerNetwork(G, 5, activation="relu", per_neuron_scale=True, scale=np.linspace(0.5, 2, 5), seed=2)
    perm = np.random.default_rng(0).permutation(36)
    pairs = PairSet.all(G).pairs[perm]                     # the whole table, not row-major: generic path
    z = net.logits(pairs)
    M = net.width
    for p, (g1, g2) in enumerate(pairs):
        ref = sum(net.a[m] * net.xi[m] * max(net.theta1[m, g1] + net.theta2[m, g2], 0.0) for m in range(M)) / M
        np.testing.assert_allclose(z[p], ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(net.logits()[perm], z, rtol=1e-12)   # the row-major fast path agrees
    y = G.table[pairs[:, 0], pairs[:, 1]]
    ce = logsumexp(z, axis=1) - z[np.arange(len(y)), y]
    assert net.loss(pairs, "mean") == pytest.approx(ce.mean(), rel=1e-12)
    assert net.loss(pairs, "sum") == pytest.approx(ce.sum(), rel=1e-12)
    assert net.accuracy(pairs) == pytest.approx(np.mean(z.argmax(1) == y))


def test_sympy_activation_and_callable_with_derivative():
    z = sp.Symbol("z")
    net = _net("Z5", 3, activation=z ** 3 + z, seed=1)
    g = net.grads()
    d = np.random.default_rng(1).standard_normal(net.theta1.shape)
    assert float(np.sum(g["theta1"] * d)) == pytest.approx(_directional_fd(net, None, "mean", "theta1", d), rel=1e-6)

    def cube(x):
        return x ** 3
    cube.derivative = lambda x: 3 * x ** 2
    net2 = _net("Z5", 3, activation=cube, seed=1)
    net3 = _net("Z5", 3, activation=(cube, cube.derivative), seed=1)
    np.testing.assert_allclose(net2.grads()["xi"], net3.grads()["xi"])


def test_small_logit_loss_is_energy_functional():
    """CE ~ log n - (2/M) sum_m a Omega_m (THEORY section 2), error O(a^2)."""
    G = symflow.group("D5")
    err = {}
    for a in (1e-2, 1e-3):
        net = TwoLayerNetwork(G, 6, scale=a, seed=4)
        pred = np.log(G.order) - 2 * a / net.width * net.energy().sum()
        err[a] = abs(net.loss() - pred)
        assert err[a] < 1e-2 * a ** 2
        assert abs(net.loss() - np.log(G.order)) > 100 * err[a]
    assert err[1e-2] / err[1e-3] == pytest.approx(100, rel=0.05)          # the remainder is O(a^2)


def test_float32_agrees_with_float64_and_keeps_its_dtype():
    G = symflow.group("D5")
    n64 = TwoLayerNetwork(G, 16, scale=0.5, seed=3)
    n32 = TwoLayerNetwork(G, 16, scale=0.5, seed=3, dtype="float32")
    g64, g32 = n64.grads(), n32.grads()
    for k in g64:
        assert g32[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], rtol=0, atol=1e-5 * np.abs(g64[k]).max())
    train(n32, 5, 50.0, optimizer="adam", progress=False)
    assert all(v.dtype == np.float32 for v in n32.params.values())


def test_group_from_cayley_table():
    G = symflow.group("D3")
    net_t = TwoLayerNetwork(G.table.tolist(), 3, seed=5)
    net_g = TwoLayerNetwork(G, 3, seed=5)
    assert net_t.loss() == pytest.approx(net_g.loss(), rel=1e-14)


# --------------------------------------------------------------------------- the key cross-check
def _rk4_bruteforce(G, th1, th2, xi, t_end, dt, shared, spheres):
    y = [th1.copy(), th2.copy(), xi.copy()]
    steps = int(round(t_end / dt))
    h = t_end / steps

    def f(y):
        return bf.flow(G, y[0], y[1], y[2], shared=shared, spheres=spheres)

    for _ in range(steps):
        k1 = f(y)
        k2 = f([u + h / 2 * v for u, v in zip(y, k1)])
        k3 = f([u + h / 2 * v for u, v in zip(y, k2)])
        k4 = f([u + h * v for u, v in zip(y, k3)])
        y = [u + h / 6 * (a + 2 * b + 2 * c + d) for u, a, b, c, d in zip(y, k1, k2, k3, k4)]
    return y


@pytest.mark.parametrize("name,shared,spheres,reduction,t_end", [
    ("D5", False, "separate", "mean", 30.0),
    ("Z7", True, "separate", "mean", 30.0),
    ("D5", False, "joint", "sum", 30.0),
    ("F21", False, "separate", "mean", 150.0),
])
def test_projected_gd_follows_reduced_flow(name, shared, spheres, reduction, t_end):
    """Small a: network projected GD for steps = t/(lr c) matches RK4 on bruteforce.flow."""
    G = symflow.group(name)
    net = TwoLayerNetwork(G, 3, shared=shared, scale=1e-3, seed=3)
    retract(net.params, sphere_blocks(net, spheres, net.direction_names))
    start = [net.theta1.copy(), net.theta2.copy(), net.xi.copy()]
    c = net.reduced_time_unit(reduction)
    dt = t_end / 600
    hist = train(net, 600, dt / c, constraint=spheres, reduction=reduction, progress=False, snapshots=False)
    assert hist.reduced_time[-1] == pytest.approx(t_end)
    ref = _rk4_bruteforce(G, *start, t_end, t_end / 300, shared, spheres)
    for got, want, s in zip((net.theta1, net.theta2, net.xi), ref, start):
        assert np.linalg.norm(want - s) > 0.05                     # the flow really moved
        assert np.linalg.norm(got - want) / np.linalg.norm(want) < 1e-2


@pytest.mark.parametrize("name", ["D5", "F21"])
def test_matches_generated_reduced_flow(name):
    """Same start, mapped through the Fourier state of symflow.dynamics: RK4 on the generated
    reduced right-hand side, mapped back to parameter space, equals the network's trajectory."""
    model = Model.coerce(name)
    flow = ReducedFlow(model)
    net = TwoLayerNetwork(name, 3, scale=1e-3, seed=7)
    state = initial.from_parameters(model, {k: v.copy() for k, v in net.neuron.public_arrays(net.params).items()},
                                    normalise=False)
    y, t_end, N = state.data.copy(), 60.0, 300
    h = t_end / N
    for _ in range(N):
        k1 = flow.rhs(y)
        k2 = flow.rhs(y + h / 2 * k1)
        k3 = flow.rhs(y + h / 2 * k2)
        k4 = flow.rhs(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    ref = flow.state(y).to_parameters()
    train(net, 1200, t_end / 1200 / net.reduced_time_unit(), progress=False, snapshots=False)
    for k, want in ref.items():
        assert np.linalg.norm(net.params[k] - want) / np.linalg.norm(want) < 1e-2


def test_matches_reduced_simulator():
    res = simulate("D5", width=3, seed=7, t_end=20.0)
    th1, th2, xi = (np.asarray(getattr(res, k)) for k in ("theta1", "theta2", "xi"))
    t = np.asarray(res.t)
    G = symflow.group("D5")
    net = TwoLayerNetwork.from_params(G, th1[0], th2[0], xi[0], scale=1e-3)
    c = net.reduced_time_unit()
    steps = 800
    train(net, steps, t[-1] / steps / c, progress=False, snapshots=False)
    for got, want in zip((net.theta1, net.theta2, net.xi), (th1[-1], th2[-1], xi[-1])):
        assert np.linalg.norm(got - want) / np.linalg.norm(want) < 1e-2


def test_ma_network_follows_the_four_variable_ode():
    """MA setting (shared, no 1/M, summed CE, small init): one single-frequency neuron of Z7 follows
    alpha' = 2p alpha beta cos D, beta' = p alpha^2 cos D, phi' = -2p beta sin D,
    psi' = p alpha^2/beta sin D (THEORY section 5) until its amplitude has grown fivefold."""
    from scipy.integrate import solve_ivp

    p, kappa, phi, psi = 7, 1e-3, 0.3, -0.2
    j = np.arange(p)
    w = 2 * np.pi / p
    net = TwoLayerNetwork.from_params("Z7", kappa * np.cos(w * j + phi)[None], None,
                                      kappa * np.cos(w * j + psi)[None], scale=1.0)

    def rhs(t, y):
        a, b, ph, ps = y
        D = 2 * ph - ps
        return [2 * p * a * b * np.cos(D), p * a * a * np.cos(D), -2 * p * b * np.sin(D), p * a * a / b * np.sin(D)]

    grown = lambda t, y: y[0] - 5 * kappa  # noqa: E731
    grown.terminal = True
    T = solve_ivp(rhs, (0, 1e3 / kappa), [kappa, kappa, phi, psi], rtol=1e-10, atol=1e-16, events=grown).t[-1]
    sol = solve_ivp(rhs, (0, T), [kappa, kappa, phi, psi], rtol=1e-10, atol=1e-16, dense_output=True)
    hist = train(net, 1000, T / 1000, constraint="none", reduction="sum", record_every=250, progress=False)
    for k, step in enumerate(hist.step):
        ct, cx = np.fft.fft(hist.snapshots["theta"][k][0]), np.fft.fft(hist.snapshots["xi"][k][0])
        a, b, ph, ps = sol.sol(step * T / 1000)
        assert 2 * abs(ct[1]) / p == pytest.approx(a, rel=1e-2)
        assert 2 * abs(cx[1]) / p == pytest.approx(b, rel=1e-2)
        assert abs(np.angle(np.exp(1j * (2 * np.angle(ct[1]) - np.angle(cx[1]) - (2 * ph - ps))))) < 1e-3
        assert np.abs(ct[[0, 2, 3]]).max() < 1e-6 * abs(ct[1])        # a frequency at zero stays zero


# --------------------------------------------------------------------------- training loop
@settings(max_examples=12, deadline=None)
@given(constraint=st.sampled_from(["separate", "joint"]), optimizer=st.sampled_from(["gd", "sgd", "adam"]),
       shared=st.booleans(), seed=st.integers(0, 1000))
def test_constraints_keep_unit_spheres_and_frozen_scale(constraint, optimizer, shared, seed):
    net = _net("Z5", 4, shared=shared, scale=0.3, seed=seed, init="gaussian", init_scale=2.0)
    hist = train(net, 15, 0.05 if optimizer == "adam" else 5.0, optimizer=optimizer, constraint=constraint,
                 batch_size=10 if optimizer == "sgd" else None, seed=seed, record_every=5, progress=False)
    for block in sphere_blocks(net, constraint, net.direction_names):
        norms = np.sqrt(sum((hist.snapshots[k] ** 2).sum(-1) for k in block))
        np.testing.assert_allclose(norms, 1.0, atol=1e-12)
    np.testing.assert_array_equal(hist.snapshots["a"], 0.3)
    assert list(hist.step) == [0, 5, 10, 15]


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("spheres", ["separate", "joint"])
def test_train_speaks_the_neurons_language(spheres, shared):
    """``constraint="sphere", spheres=s`` is the older ``constraint=s``: same iterates, same metadata;
    the sphere blocks are the Neuron's sphere groups."""
    old, new = (_net("D3", 3, shared=shared, seed=2, init="gaussian") for _ in range(2))
    h_old = train(old, 8, 2.0, constraint=spheres, record_every=4, progress=False)
    h_new = train(new, 8, 2.0, constraint="sphere", spheres=spheres, record_every=4, progress=False)
    for k in old.params:
        np.testing.assert_array_equal(old.params[k], new.params[k])
    assert h_old.metadata["training"]["constraint"] == h_new.metadata["training"]["constraint"] == spheres
    neuron = symflow.neuron.Neuron(shared=shared, spheres=None if shared else spheres)
    assert sphere_blocks(new, "sphere", new.direction_names, spheres) == list(neuron.sphere_groups)
    assert new.direction_names == neuron.vector_names
    assert sphere_blocks(new, "none", new.direction_names) == []


def test_stage2_trains_only_scale_and_adam_step_formula():
    net = aligned_population("Z5", phases=3, scale=0.5)
    before = {k: v.copy() for k, v in net.params.items()}
    simulate_stage2(net, 5, 1.0, progress=False)
    for k in net.direction_names:
        np.testing.assert_array_equal(net.params[k], before[k])
    assert np.all(net.a > 0.5) and np.ptp(net.a) == 0

    net = _net("Z5", 3, seed=1, init="gaussian", init_scale=0.3)
    g = net.grads()
    x0 = {k: v.copy() for k, v in net.params.items()}
    train(net, 1, 0.01, optimizer="adam", constraint="none", progress=False)
    for k in net.direction_names:         # first Adam step: -lr * g / (|g| + eps)
        np.testing.assert_allclose(net.params[k], x0[k] - 0.01 * g[k] / (np.abs(g[k]) + 1e-8), rtol=1e-10)


def test_sgd_is_seeded():
    G = symflow.group("Z5")
    runs = []
    for seed in (1, 1, 2):
        net = TwoLayerNetwork(G, 3, seed=0)
        train(net, 10, 3.0, optimizer="sgd", batch_size=7, seed=seed, progress=False)
        runs.append(net.xi.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_split_pairs_and_history_roundtrip(tmp_path):
    G = symflow.group("Z7")
    tr, te = split_pairs(G, 0.5, seed=3)
    assert len(tr) + len(te) == 49 and len(tr) == 24
    assert not set(map(tuple, tr)) & set(map(tuple, te))
    np.testing.assert_array_equal(split_pairs(G, 0.5, seed=3)[0], tr)
    net = TwoLayerNetwork.modular_addition(G, 12, init_scale=0.1, seed=0)
    hist = train(net, 60, 0.02, optimizer="adamw", constraint="none", weight_decay=1e-3, reduction="sum",
                 train_pairs=tr, test_pairs=te, record_every=20, progress=False)
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert np.all(np.isfinite(hist.test_loss)) and np.all((0 <= hist.test_acc) & (hist.test_acc <= 1))
    path = hist.save(tmp_path / "h.npz")
    back = TrainingHistory.load(path)
    np.testing.assert_array_equal(back.train_loss, hist.train_loss)
    np.testing.assert_array_equal(back.snapshots["theta"], hist.snapshots["theta"])
    assert back.metadata["training"]["optimizer"] == "adamw"
    assert back.metadata["versions"]["numpy"] == np.__version__
    assert back.metadata["network"]["seed"] == 0
    assert "adamw" in repr(back)


def test_interrupt_returns_history_and_callback_can_stop():
    net = _net("Z5", 3, seed=0)

    def interrupt(step, network):
        if step >= 20:
            raise KeyboardInterrupt

    hist = train(net, 1000, 1.0, record_every=10, callback=interrupt, progress=False)
    assert hist.interrupted and hist.step[-1] == 20 and len(hist.snapshots["xi"]) == len(hist)
    hist = train(_net("Z5", 3), 1000, 1.0, record_every=10, callback=lambda s, n: s >= 30, progress=False)
    assert not hist.interrupted and hist.step[-1] == 30


def test_divergence_names_the_step():
    net = TwoLayerNetwork.modular_addition("Z5", 8, init_scale=1.0, seed=0)
    with pytest.raises(IntegrationError, match=r"diverged at step \d+.*lower lr") as info:
        train(net, 200, 50.0, constraint="none", reduction="sum", record_every=1, progress=False)
    assert info.value.history.step[-1] == info.value.step - 1


@pytest.mark.parametrize("call,match", [
    (lambda: _net("Z5", 0), "width must be a positive integer"),
    (lambda: _net("Z5", 3, activation="tanhh"), "accepted"),
    (lambda: _net("Z5", 3, activation=np.tanh), "derivative"),
    (lambda: _net("Z5", 3, init="uniform"), "init must be one of"),
    (lambda: _net("Z5", 3, scale=-1.0), "scale a must be positive"),
    (lambda: _net("Z5", 3, dtype="int8"), "dtype must be"),
    (lambda: TwoLayerNetwork(3.5, 3), "cannot use float as a group"),
    (lambda: train(_net("Z5"), 10, 0.0), "lr must be a positive"),
    (lambda: train(_net("Z5"), 10, -1.0), "lr must be a positive"),
    (lambda: train(_net("Z5"), 10, 1.0, optimizer="lbfgs"), "optimizer must be one of"),
    (lambda: train(_net("Z5"), 10, 1.0, batch_size=5), "full-batch"),
    (lambda: train(_net("Z5"), 10, 1.0, optimizer="sgd"), "needs batch_size"),
    (lambda: train(_net("Z5"), 10, 1.0, optimizer="sgd", batch_size=100), r"batch_size must be an integer in 1\.\.25"),
    (lambda: train(_net("Z5"), 10, 1.0, constraint="ball"), "constraint must be one of"),
    (lambda: train(_net("Z5"), 10, 1.0, constraint="joint", spheres="separate"), "contradicts"),
    (lambda: train(_net("Z5"), 10, 1.0, spheres="both"), "spheres must be"),
    (lambda: train(_net("Z5"), 10, 1.0, blas_threads=0), "blas_threads must be"),
    (lambda: train(_net("Z5"), 10, 1.0, trainable=("W",)), "trainable must name"),
    (lambda: _net("Z5").loss(reduction="max"), "reduction must be"),
    (lambda: _net("Z5").loss(np.array([[0, 5]])), r"must lie in 0\.\.4"),
    (lambda: _net("Z5").loss(np.array([0, 1, 2])), r"\(P, 2\)"),
    (lambda: split_pairs("Z5", 0.0), r"frac must be in \(0, 1\]"),
    (lambda: aligned_population("D5"), "abelian group of odd order"),
])
def test_clear_errors(call, match):
    with pytest.raises(SymflowError, match=match):
        call()


def test_non_finite_parameters_are_reported():
    net = _net("Z5", 3)
    net.params["xi"][0, 0] = np.nan
    with pytest.raises(ModelError, match="non-finite"):
        net.loss()


# --------------------------------------------------------------------------- read-out and Stage II
def test_alignment_readout_on_equilibria_and_random():
    net = aligned_population("Z7", phases=3)
    al = net.alignment()
    assert al.aligned_fraction() == 1.0
    np.testing.assert_allclose(al.concentration, 1.0, atol=1e-12)
    np.testing.assert_allclose(net.energy(), 2 ** -0.5 * 7 ** -1.5, rtol=1e-12)   # Omega* (THEORY 3)
    rnd = _net("F21", 50, seed=0).alignment()
    assert rnd.aligned_fraction() < 0.1 and rnd.sigma_ratio.max() > 0.1
    assert "aligned fraction" in repr(rnd)


@pytest.mark.parametrize("name", ["D5", "Z7"])
def test_stage1_training_reaches_gc_equilibria(name):
    """Each trained neuron: one orbit, rank one, aligned, Omega = (|O| d)^-1/2 n^-3/2 (THEORY 3)."""
    G = symflow.group(name)
    net = TwoLayerNetwork(G, 8, scale=1e-2, seed=0)
    train(net, 1000, 2.0 / net.reduced_time_unit(), record_every=1000, progress=False, snapshots=False)
    al = net.alignment()
    assert al.aligned_fraction() == 1.0 and al.concentration.min() > 0.999
    n = G.order
    star = np.array([(len(G.orbits[o]) * G.irreps[G.orbits[o][0]].dim) ** -0.5 * n ** -1.5 for o in al.orbit])
    np.testing.assert_allclose(net.energy(), star, rtol=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_stage2_tied_scale_matches_closed_form(reduction):
    net = aligned_population("Z7", phases=3, scale=0.2)
    kappa, spread = measured_margin(net)
    assert kappa == pytest.approx(ideal_margin(7), rel=1e-12) and spread < 1e-12
    pred = Stage2Prediction.for_network(net, reduction)
    lr = 0.05 / pred.rate
    hist = simulate_stage2(net, 2000, lr, reduction=reduction, record_every=200, progress=False)
    t = hist.step * lr
    np.testing.assert_allclose(hist.scale, pred.scale(t), rtol=2e-3)
    np.testing.assert_allclose(hist.train_loss, pred.loss(t), rtol=5e-3)
    eps = float(pred.loss(t[-1]))
    assert pred.time_to_loss(eps) == pytest.approx(t[-1], rel=1e-9)
    assert theory_time_to_loss(eps, 7) > 0      # THEORY's stated form is computable (compared in the report)


def test_stage2_theory_units():
    """THEORY's forms hold at leading order for the margin u in time tau (summed loss)."""
    n = 7
    pred = Stage2Prediction(n, ideal_margin(n), 0.0, "sum")
    assert pred.theory_time(1.0) == pytest.approx(2.0 / (n - 1) ** 2)
    t = np.array([1e4, 1e6])
    np.testing.assert_allclose(pred.margin(t) / theory_scale_curve(pred.theory_time(t), n), 1.0, rtol=1e-3)
    for eps in (0.1, 0.01):
        tau = pred.theory_time(pred.time_to_loss(eps))
        assert tau == pytest.approx(n / eps, rel=0.02)
        assert tau == pytest.approx(theory_time_to_loss(eps, n), rel=0.03)


def test_stage2_per_neuron_scale_is_width_times_slower():
    net = aligned_population("Z5", phases=3, scale=0.2, per_neuron_scale=True)
    pred = Stage2Prediction.for_network(net)
    assert pred.width == net.width
    lr = 0.05 / pred.rate
    hist = simulate_stage2(net, 1000, lr, record_every=250, progress=False)
    np.testing.assert_allclose(hist.snapshots["a"][-1], hist.snapshots["a"][-1][0], rtol=1e-10)
    np.testing.assert_allclose(hist.scale, pred.scale(hist.step * lr), rtol=2e-3)


def test_repr_and_latex():
    net = _net("D5", 4, shared=True, activation="relu", scale=0.5)
    assert "D5" in repr(net) and "shared" in repr(net) and "relu" in repr(net)
    assert net._repr_latex_().startswith("$f(g_1,g_2)") and r"\max" in net._repr_latex_()
    assert "u(t) ~ log" in repr(Stage2Prediction(7, ideal_margin(7), 0.1))
    assert "full table" in repr(as_pairs(net.group, None))
