"""Li2's network on the one network class and the one optimiser module, against independent references.

The references here are written from Li2's definition, not from :class:`TwoLayerNetwork`: the one-hot input
matrix ``X = [e_a; e_b]``, ``Y_hat = sigma(X W) V``, the explicit centring matrix ``P = I - 1 1^T / N`` and the
loss ``1/(2N) ||P (Y - Y_hat)||^2``; gradients by central finite differences; Adam with coupled L2 decay
written out as torch's ``Adam`` does it.
"""
from __future__ import annotations

import numpy as np
import pytest

from symflow.dynamics.network import TwoLayerNetwork
from symflow.errors import ModelError
from symflow.groups import group
from symflow.li2.core import training_mask
from symflow.li2.grok import first_layer, li2_network, train_li2


def _reference(G, W, V, mask):
    """Li2's loss by its definition: inputs [e_a; e_b], explicit centring matrix P."""
    n = G.order
    ab = np.argwhere(mask)
    N = len(ab)
    X = np.zeros((N, 2 * n))
    X[np.arange(N), ab[:, 0]] = 1
    X[np.arange(N), n + ab[:, 1]] = 1
    Y = np.eye(n)[np.asarray(G.table)[ab[:, 0], ab[:, 1]]]
    P = np.eye(N) - np.ones((N, N)) / N
    R = P @ (Y - ((X @ W) ** 2) @ V)
    return 0.5 * np.sum(R * R) / N


def _net_from(G, W, V):
    n = G.order
    net = TwoLayerNetwork.li2(G, W.shape[1])
    net.params["theta1"][...] = W[:n].T
    net.params["theta2"][...] = W[n:].T
    net.params["xi"][...] = V
    return net


@pytest.mark.parametrize("name,frac", [("Z7", 0.6), ("S3", 1.0)])
def test_li2_loss_and_gradient_match_the_definition(name, frac):
    G = group(name)
    n, K = G.order, 5
    rng = np.random.default_rng(1)
    W, V = rng.normal(size=(2 * n, K)), rng.normal(size=(K, n))
    mask = training_mask(G, frac, 2)
    net = _net_from(G, W, V)
    ev = net.evaluate(np.argwhere(mask), "mean", grads=True)
    assert ev.loss == pytest.approx(_reference(G, W, V, mask), rel=1e-12)
    # central finite differences of the reference loss, for every entry of W and V
    h = 1e-6
    gW, gV = np.zeros_like(W), np.zeros_like(V)
    for A, g in ((W, gW), (V, gV)):
        for idx in np.ndindex(A.shape):
            old = A[idx]
            A[idx] = old + h
            up = _reference(G, W, V, mask)
            A[idx] = old - h
            g[idx] = (up - _reference(G, W, V, mask)) / (2 * h)
            A[idx] = old
    got_W = np.concatenate([ev.grads["theta1"], ev.grads["theta2"]], axis=1).T
    assert np.allclose(got_W, gW, rtol=1e-6, atol=1e-7)
    assert np.allclose(ev.grads["xi"], gV, rtol=1e-6, atol=1e-7)


def test_centred_loss_differs_from_the_plain_square_loss():
    G = group("Z5")
    net = TwoLayerNetwork.li2(G, 4, seed=0)
    plain = TwoLayerNetwork.from_params(G, net.theta1, net.theta2, net.xi, scale=4.0, loss="mse")
    pairs = np.argwhere(training_mask(G, 0.5, 0))
    assert net.loss(pairs) < plain.loss(pairs)          # centring removes the mean residual
    with pytest.raises(ModelError, match="loss must be one of"):
        TwoLayerNetwork(G, 3, loss="mse centred")


def test_li2_init_is_torch_uniform_in_the_old_draw_order():
    G = group("Z7")
    n, K = G.order, 9
    net = li2_network(G, K, seed=4)
    rng = np.random.default_rng(4)
    W = rng.uniform(-1, 1, size=(2 * n, K)) / np.sqrt(2 * n)
    V = rng.uniform(-1, 1, size=(K, n)) / np.sqrt(K)
    assert np.array_equal(first_layer(net), W.T) and np.array_equal(net.xi, V)
    assert np.all(net.a == K) and net.loss_name == "mse_centred"


def test_training_matches_a_handwritten_adam_with_coupled_decay():
    """The one optimiser module (Adam + coupled L2, full batch) against torch's Adam written out, 40 steps."""
    G = group("Z7")
    n, K, lr, wd, steps = G.order, 16, 1e-2, 1e-3, 40
    mask = training_mask(G, 0.7, 0)
    net = li2_network(G, K, seed=0)
    W, V = first_layer(net).T.copy(), net.xi.copy()
    hist = train_li2(net, mask, steps, lr, wd, record_every=10)
    ab = np.argwhere(mask)
    N = len(ab)
    Y = np.eye(n)[np.asarray(G.table)[ab[:, 0], ab[:, 1]]]
    m = [np.zeros_like(W), np.zeros_like(V)]
    v = [np.zeros_like(W), np.zeros_like(V)]
    losses = []
    for t in range(1, steps + 1):
        pre = W[ab[:, 0]] + W[n + ab[:, 1]]
        R = (pre ** 2) @ V - Y
        R -= R.mean(0)
        losses.append(0.5 * np.sum(R * R) / N)
        gV = (pre ** 2).T @ R / N
        dpre = (R @ V.T) * 2 * pre / N
        gW = np.zeros_like(W)
        np.add.at(gW, ab[:, 0], dpre)
        np.add.at(gW, n + ab[:, 1], dpre)
        for i, (P_, g) in enumerate(((W, gW), (V, gV))):
            g = g + wd * P_
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            P_ -= lr * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
    assert list(hist.step) == [0, 10, 20, 30, 40]
    assert np.allclose(hist.train_loss[:-1], [losses[s] for s in (0, 10, 20, 30)], rtol=1e-9)
    assert np.allclose(first_layer(net), W.T, rtol=1e-8, atol=1e-12)
    assert np.allclose(net.xi, V, rtol=1e-8, atol=1e-12)
    assert hist.train_loss[-1] < hist.train_loss[0]


# ---------------------------------------------------------------- the network's sample-size transition
def test_network_transition_on_z11_in_ci_size():
    """Z11, two run sequences, width 128, a short budget: the trained network does not generalise at 1.5 log M / M
    and does at 0.95; the bisected p_c_network lies between (measured 0.58 with the full config)."""
    from symflow.li2.scaling import NetworkBudget, measure_network

    r = measure_network(group("Z11"), [0.33, 0.95], seeds=2, bisect=2,
                        budget=NetworkBudget(width=128, max_steps=1500, patience=300), seed=0)
    lo, hi = r["test_accuracy"]
    assert lo["mean"] < 0.2 and hi["mean"] > 0.5
    pc = r["p_c_network"]
    assert pc["missing"] == 0 and 0.4 < pc["mean"] < 0.9
    assert pc["ci95"][0] <= pc["mean"] <= pc["ci95"][1]
    assert r["training"]["runs"] == 2 * (2 + 2) and r["training"]["max_steps"] == 1500
    assert all(run["steps"] <= 1500 for run in r["runs"])


def test_li2_scaling_ctrl_c_keeps_the_groups_measured(monkeypatch, capsys):
    import json

    import symflow.li2.scaling as scaling
    from symflow.cli import main

    real = scaling.measure_network
    calls = []

    def measure(G, *args, **kwargs):
        calls.append(G.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(G, *args, **kwargs)

    monkeypatch.setattr(scaling, "measure_network", measure)
    assert main(["li2-scaling", "Z5", "Z7", "--fractions", "0.5,1", "--seeds", "1", "--bisect", "0", "--width", "16",
                 "--max-steps", "200", "--subsets", "1", "--steps", "50", "--json"]) == 130
    data = json.loads(capsys.readouterr().out)
    assert data["interrupted"] and [r["group"] for r in data["groups"]] == ["Z5"]


def test_code_prediction_and_thm4_fit():
    import math

    from symflow.li2.scaling import code_prediction, default_network_fractions, fit_law, fit_thm4

    assert code_prediction(group("Z23")) == pytest.approx(2.7482 * math.log(23) / 23)
    assert code_prediction(group("S4")) == pytest.approx(2.7482 * math.log(24) / 24 * 3 / 2)   # d_max = 3
    assert max(default_network_fractions(group("Z5"))) <= 0.95
    rows = [{"d_max": 1, "log_M_over_M": 0.1, "p_c_network": {"mean": 0.3}},
            {"d_max": 2, "log_M_over_M": 0.05, "p_c_network": {"mean": 0.6}},
            {"d_max": 1, "log_M_over_M": 0.2, "p_c_network": {"mean": None}}]
    f = fit_thm4(rows)
    assert f["C"] == pytest.approx(3.0) and f["groups"] == 2 and f["d"] == "d_max"
    assert fit_law(rows)["groups"] == 2


# ---------------------------------------------------------------- one-hot gather/scatter, centred accuracy, irreps
@pytest.mark.parametrize("name,activation,dtype", [("Z13", "quad", "float64"), ("S4", "relu", "float64"),
                                                   ("S4", "quad", "float32")])
def test_subset_gather_scatter_equal_the_dense_one_hot_pass(name, activation, dtype):
    """The first layer on a subset of the table is a gather of embedding rows and its gradient a sparse sum; both
    equal the dense pass with explicit one-hot matrices ``X = [e_a; e_b]``."""
    G = group(name)
    n = G.order
    net = TwoLayerNetwork(G, 17, activation=activation, seed=3, dtype=dtype, loss="mse_centred")
    pairs = np.argwhere(training_mask(G, 0.4, 5))
    ev = net.evaluate(pairs, "mean", grads=True)
    t1, t2, xi = (net.params[k].astype(float) for k in ("theta1", "theta2", "xi"))
    E1, E2 = np.eye(n)[pairs[:, 0]], np.eye(n)[pairs[:, 1]]
    h = t1 @ E1.T + t2 @ E2.T
    W = (net.a.astype(float) / net.width)[:, None] * xi
    z = net.activation.sigma(h).T @ W
    r = z.copy()
    r[np.arange(len(pairs)), np.asarray(G.table)[pairs[:, 0], pairs[:, 1]]] -= 1
    r = (r - r.mean(0)) / len(pairs)
    dh = (W @ r.T) * net.activation.dsigma(h)
    tol = 1e-12 if dtype == "float64" else 1e-5
    for got, want in ((ev.grads["theta1"], dh @ E1), (ev.grads["theta2"], dh @ E2),
                      (ev.grads["xi"], (net.a[0] / net.width) * net.activation.sigma(h) @ r)):
        assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous
        assert np.max(np.abs(got - want)) <= tol * np.max(np.abs(want))


def test_centred_predictions_remove_the_free_class_offset():
    """The centred loss is blind to ``Y_hat = Y + c``: the raw argmax is then wrong where ``c`` wins, the centred
    prediction (offset fitted on the training entries) right everywhere."""
    from symflow.li2.grok import centred_predictions

    G = group("S3")
    n = G.order
    y = np.asarray(G.table).ravel()
    c = np.zeros(n)
    c[2] = 1.5
    logits = np.eye(n)[y] + c
    mask = training_mask(G, 0.5, 1)
    assert (logits.argmax(1) == y).mean() == pytest.approx(1 / n)
    assert np.array_equal(centred_predictions(logits, y, mask), y)


@pytest.mark.parametrize("name", ["Z7", "S4", "F21", "Q8"])
def test_irrep_recovery_reads_each_orbit_alone(name):
    """The irrep parts ``K_k(h^-1 ab)`` sum to the target; recovery is 1 for the target on any test set, 0 for a
    memoriser (the target on the training entries only), and for orbit k's own part 1 on k and near 0 elsewhere (the
    parts are orthogonal on the whole table; on a test set of 24 entries (Z7) they leak up to 0.07)."""
    from symflow.li2.scaling import irrep_kernels, irrep_recovery

    G = group(name)
    n = G.order
    K = irrep_kernels(G)
    e = int(np.flatnonzero((np.asarray(G.table) == np.arange(n)).all(axis=1))[0])
    assert np.allclose(K.sum(0), np.eye(n)[e], atol=1e-12)
    y = np.asarray(G.table).ravel()
    mask = training_mask(G, 0.5, 0)
    assert all(v == pytest.approx(1.0, abs=1e-9) for v in irrep_recovery(G, np.eye(n)[y], mask).values())
    assert all(abs(v) < 1e-12 for v in irrep_recovery(G, np.eye(n)[y] * mask.ravel()[:, None], mask).values())
    k = next(i for i, o in enumerate(G.orbits) if not o.is_trivial)
    part = K[k][np.asarray(G.table)[np.asarray(G.inverse)].T][y]       # Y_k(a, b, h) = K_k(h^-1 ab)
    got = irrep_recovery(G, part, mask)
    assert got[G.orbits[k].label] == pytest.approx(1.0, abs=1e-9)
    assert all(abs(v) < 0.1 for lab, v in got.items() if lab != G.orbits[k].label)


def test_fit_irrep_dimension_recovers_an_exponent():
    from symflow.li2.scaling import fit_irrep_dimension

    rows = [{"group": g, "log_M_over_M": lm, "irrep_transitions": {"orbits": [
        {"orbit": f"d{d}", "dim": d, "transition": {"mean": 0.3 * d ** 2 * lm}} for d in dims]}}
        for g, lm, dims in (("A", 0.1, (1, 2)), ("B", 0.05, (1, 3, 4)))]
    f = fit_irrep_dimension(rows)
    assert f["beta"] == pytest.approx(2.0) and f["C"] == pytest.approx(0.3)
    assert f["fixed"]["2"]["rms_log_residual"] < 1e-12 < f["fixed"]["1"]["rms_log_residual"]
    w = f["within_group"]
    assert w["beta"] == pytest.approx(2.0) and w["rms_log_residual"] < 1e-12 and w["groups"] == ["A", "B"]


def test_irrep_transitions_on_s3_in_ci_size_and_workers_agree():
    """S3 (irreps of dimension 1 and 2), two sequences, a short budget: every run carries the per-orbit recovery and
    the centred accuracy; the per-irrep transitions and the centred p_c are reported; two worker processes give the
    same runs as one."""
    from symflow.li2.scaling import NetworkBudget, measure_network

    args = (group("S3"), [0.5, 0.95])
    kw = dict(seeds=2, bisect=1, budget=NetworkBudget(width=48, max_steps=400, patience=200), seed=0)
    r = measure_network(*args, **kw)
    r2 = measure_network(*args, workers=2, **kw)
    assert [x["test_acc"] for x in r["runs"]] == [x["test_acc"] for x in r2["runs"]]
    assert r["p_c_network"]["values"] == r2["p_c_network"]["values"]
    assert r2["training"]["workers"] == 2 and r2["training"]["cpu_time_s"] > 0
    orbits = r["irrep_transitions"]["orbits"]
    assert sorted(o["dim"] for o in orbits) == [1, 2]
    for o in orbits:
        assert len(o["recovery"]) == len(o["fractions"]) and o["transition"]["missing"] + len(o["transition"]["values"]) == 2
    for run in r["runs"]:
        assert set(run["irrep_recovery"]) == {o["orbit"] for o in orbits}
        assert 0 <= run["test_acc_centred"] <= 1 and 0 <= run["train_acc_centred"] <= 1 and run["cpu_s"] > 0
    assert "p_c_network_centred" in r and r["p_c_network_centred"]["level"] == 0.5


def test_grok_li2_reports_the_centred_accuracy_beside_the_raw_one():
    """``run_li2_grokking`` adds ``train_acc_centred``/``test_acc_centred`` (curves and final) and keeps the raw keys."""
    from symflow.li2.grok import Li2GrokConfig, run_li2_grokking

    r = run_li2_grokking(Li2GrokConfig(group="Z5", frac=0.6, width=16, steps=20, record_every=10))
    for key in ("train_acc", "test_acc", "train_acc_centred", "test_acc_centred"):
        assert len(r["curves"][key]) == 3 and 0 <= r["final"][key] <= 1
