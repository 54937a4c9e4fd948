"""symflow.theories (issue 16): FACT, NFA, CRH/PAH, the metrics, the symbolic side, GC/Li2 observables,
the recording and the `symflow theories` command. Every formula is checked against an independent
computation (the network's own gradients, finite differences, SymPy, an L-BFGS stationary point)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import minimize

import symflow
from symflow.cli import main
from symflow.dynamics.network import PairSet, TwoLayerNetwork
from symflow.theories import layers
from symflow.theories.layers import regularised_gradient
from symflow.theories.metrics import cosine, pearson, relative_residual
from symflow.theories.statements import (agop, backward_fact, crh, fact, fact_rhs, matrix_power, nfa, power_law,
                                         power_laws)
from symflow.theories.run import measure, run_theories

ACTS = {"quad": "quad", "relu": "relu",
        "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2)}


def _net(name="S3", width=5, act="quad", loss="ce", shared=False, seed=0, scale=0.5):
    return TwoLayerNetwork(symflow.group(name), width, shared=shared, activation=ACTS[act], scale=float(width),
                           seed=seed, init="gaussian", init_scale=scale, loss=loss)


def _flat(net, names):
    return np.concatenate([net.params[k].ravel() for k in names])


def _set(net, names, x):
    i = 0
    for k in names:
        a = net.params[k]
        a[...] = x[i:i + a.size].reshape(a.shape)
        i += a.size


def lbfgs_stationary(net, lam, reduction="mean", pairs=None):
    """Minimise loss + lam/2 |params|^2 with L-BFGS to gradient ~1e-11 (in place)."""
    names = net.direction_names

    def fun(x):
        _set(net, names, x)
        ev = net.evaluate(pairs, reduction, grads=True)
        g = np.concatenate([(ev.grads[k] + lam * net.params[k]).ravel() for k in names])
        return ev.loss + 0.5 * lam * float(x @ x), g

    res = minimize(fun, _flat(net, names), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 20000, "maxcor": 30})
    _set(net, names, res.x)
    return np.linalg.norm(fun(res.x)[1])


# --------------------------------------------------------------------------- layers
@settings(max_examples=15, deadline=None)
@given(width=st.integers(1, 6), act=st.sampled_from(sorted(ACTS)), loss=st.sampled_from(["ce", "mse"]),
       shared=st.booleans(), seed=st.integers(0, 2 ** 16), reduction=st.sampled_from(["mean", "sum"]))
def test_layer_gradients_are_the_networks(width, act, loss, shared, seed, reduction):
    """grad_W loss = g_b h_a^T equals the network's own analytic gradients (embedding and readout)."""
    net = _net("S3", width, act, loss, shared, seed)
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, 6, size=(17, 2))
    L = layers(net, pairs, reduction)
    g = net.grads(pairs, reduction)
    gW = L["embedding"].grad_W()
    if shared:
        np.testing.assert_allclose(gW, g["theta"], rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(gW, np.concatenate([g["theta1"], g["theta2"]], axis=1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L["readout"].grad_W(), g["xi"].T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L["readout"].h_b.T, net.logits(pairs), rtol=1e-12, atol=1e-12)


def test_mse_network_gradient_matches_finite_differences():
    net = _net("D4", 3, "tanh", "mse", seed=3)
    g = net.grads(None, "sum")
    rng = np.random.default_rng(0)
    for key in ("theta1", "theta2", "xi"):
        d = rng.standard_normal(net.params[key].shape)
        x = net.params[key]
        old = x.copy()
        x += 1e-6 * d
        lp = net.loss(None, "sum")
        x[:] = old - 1e-6 * d
        lm = net.loss(None, "sum")
        x[:] = old
        assert abs((lp - lm) / 2e-6 - np.sum(g[key] * d)) <= 1e-6 * max(1.0, abs(np.sum(g[key] * d)))
    z = net.logits()
    y = net.group.table.ravel()
    assert np.isclose(net.loss(None, "sum"), 0.5 * np.sum((z - np.eye(8)[y]) ** 2))


# --------------------------------------------------------------------------- FACT properties
@settings(max_examples=20, deadline=None)
@given(width=st.integers(1, 6), act=st.sampled_from(sorted(ACTS)), lam=st.floats(1e-4, 1.0),
       seed=st.integers(0, 2 ** 16), loss=st.sampled_from(["ce", "mse"]), reduction=st.sampled_from(["mean", "sum"]))
def test_fact_residual_is_linear_in_the_regularised_gradient(width, act, lam, seed, loss, reduction):
    """Z_a - FACT = W^T grad R / lambda exactly (so |residual| <= |W|_2 |grad R| / lambda), for both layers;
    backward: Z_b - backward FACT = grad R W^T / lambda."""
    net = _net("Z5", width, act, loss, seed=seed)
    for layer in layers(net, None, reduction).values():
        gR = regularised_gradient(layer, lam)
        diff = layer.Z_a() - fact_rhs(layer, lam)
        np.testing.assert_allclose(diff, layer.W.T @ gR / lam, rtol=1e-9, atol=1e-9 * np.abs(diff).max() + 1e-12)
        assert np.linalg.norm(diff) <= np.linalg.norm(layer.W, 2) * np.linalg.norm(gR) / lam * (1 + 1e-9) + 1e-12
        diffb = layer.Z_b() - fact_rhs(layer, lam, backward=True)
        np.testing.assert_allclose(diffb, gR @ layer.W.T / lam, rtol=1e-9, atol=1e-9 * np.abs(diffb).max() + 1e-12)


@settings(max_examples=20, deadline=None)
@given(width=st.integers(1, 6), act=st.sampled_from(sorted(ACTS)), lam=st.floats(1e-4, 1.0),
       seed=st.integers(0, 2 ** 16))
def test_trace_identity(width, act, lam, seed):
    """tr(W^T W) = -(1/(n lambda)) sum_i <grad_h loss_i, h_i> + tr(W^T grad R)/lambda (the last term 0 at a
    critical point)."""
    net = _net("S3", width, act, seed=seed)
    for layer in layers(net).values():
        lhs = np.trace(layer.Z_a())
        n = layer.samples
        per_sample = np.einsum("ip,ip->", layer.g_a / layer.weight, layer.h_a)   # sum_i <grad_h loss_i, h_i>
        rhs = -per_sample / (n * lam) + np.trace(layer.W.T @ regularised_gradient(layer, lam)) / lam
        assert np.isclose(lhs, rhs, rtol=1e-9, atol=1e-9 * abs(lhs))


@settings(max_examples=15, deadline=None)
@given(width=st.integers(1, 5), lam=st.floats(1e-3, 1.0), seed=st.integers(0, 2 ** 16), loss=st.sampled_from(["ce", "mse"]))
def test_duplicating_the_data_leaves_fact_unchanged(width, lam, seed, loss):
    net = _net("S3", width, "quad", loss, seed=seed)
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, 6, size=(11, 2))
    once = layers(net, pairs)
    twice = layers(net, np.concatenate([pairs, pairs]))
    for name in once:
        for back in (False, True):
            np.testing.assert_allclose(fact_rhs(twice[name], lam, back), fact_rhs(once[name], lam, back),
                                       rtol=1e-11, atol=1e-13)


@settings(max_examples=15, deadline=None)
@given(width=st.integers(1, 6), act=st.sampled_from(sorted(ACTS)), seed=st.integers(0, 2 ** 16),
       shared=st.booleans())
def test_bias_free_identities_hold_to_rounding(width, act, seed, shared):
    net = _net("D3", width, act, shared=shared, seed=seed)
    for layer in layers(net).values():
        W = layer.W
        Hb, Ga = layer.H_b(), layer.G_a()
        assert relative_residual(Hb, W @ layer.H_a() @ W.T) < 1e-12
        assert relative_residual(Ga, W.T @ layer.G_b() @ W) < 1e-12


def test_fact_holds_to_1e6_at_an_lbfgs_stationary_point():
    """L-BFGS on a small group-composition network (S3, width 4, CE, mean loss): FACT and backward FACT
    on both layers to 1e-6; the symbolic coefficients for the other conventions agree too."""
    lam = 0.01
    net = _net("S3", 4, "quad", seed=1, scale=0.5)
    gnorm = lbfgs_stationary(net, lam)
    assert gnorm < 1e-8
    assert net.accuracy() == 1.0 and np.linalg.norm(net.xi) > 1      # a learned point, not the origin
    rows = {r.key: r.value for r in measure(net, lam, observables=False)}
    for layer in ("embedding", "readout"):
        assert rows[("FACT", layer)] < 1e-6
        assert rows[("backward FACT", layer)] < 1e-6
    # the sum convention with lambda |W|^2: the same point is critical for sum-loss with decay lam*P/2
    from symflow.theories.symbolic import fact_coefficient
    import sympy as sp

    P = 36
    L = layers(net, None, "sum")["embedding"]
    kappa = float(fact_coefficient("sum", "full").subs({sp.Symbol("lambda", positive=True): lam * P / 2}))
    assert relative_residual(L.Z_a(), kappa * (L.g_a @ L.h_a.T)) < 1e-6
    kappa_mean = float(fact_coefficient("mean", "half").subs({sp.Symbol("P", positive=True): P,
                                                              sp.Symbol("lambda", positive=True): lam}))
    assert relative_residual(L.Z_a(), kappa_mean * (L.g_a @ L.h_a.T)) < 1e-6


def test_fact_holds_with_coupled_decay_and_fails_with_adamw():
    """The finding the report must show, on this task: Adam with L2 converges to a critical point of the
    regularised loss (FACT to optimisation error, premise met after the final phase); AdamW's fixed point is not
    one (FACT's residual is large and its premise not met)."""
    out = {}
    for opt in ("adam", "adamw"):
        R = run_theories("Z5", weight_decay=0.01, optimizer=opt, steps=6000, lr=0.005, width=8, points=3,
                         stationary_steps=20000)
        out[opt] = {r.key: r for r in R.rows}
    for layer in ("embedding", "readout"):
        assert out["adam"][("FACT", layer)].value < 0.02 and out["adam"][("FACT", layer)].verdict == "holds"
        assert out["adamw"][("FACT", layer)].value > 0.2
        assert out["adamw"][("FACT", layer)].verdict == "premise not met"


# --------------------------------------------------------------------------- metrics
def _orthogonal(rng, k):
    q, r = np.linalg.qr(rng.standard_normal((k, k)))
    return q * np.sign(np.diag(r))


@settings(max_examples=30, deadline=None)
@given(k=st.integers(2, 6), seed=st.integers(0, 2 ** 16))
def test_cosine_is_basis_invariant(k, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((k, k)), rng.standard_normal((k, k))
    Q = _orthogonal(rng, k)
    assert np.isclose(cosine(Q @ A @ Q.T, Q @ B @ Q.T), cosine(A, B), atol=1e-12)
    assert np.isclose(relative_residual(Q @ A @ Q.T, Q @ B @ Q.T), relative_residual(A, B), rtol=1e-10)


def test_pearson_is_not_basis_invariant():
    """Documented in metrics.py: pearson(I + E, I + 2E) = 1, but after the rotation that sends the all-ones
    direction to e_1 the entries no longer correlate perfectly."""
    k = 4
    E = np.ones((k, k))
    A, B = np.eye(k) + E, np.eye(k) + 2 * E
    assert np.isclose(pearson(A, B), 1.0)
    u = np.ones(k) / np.sqrt(k)
    v = u - np.eye(k)[0]
    Q = np.eye(k) - 2 * np.outer(v, v) / (v @ v)     # Householder: u -> e_1
    assert abs(pearson(Q @ A @ Q.T, Q @ B @ Q.T) - 1.0) > 1e-3
    assert np.isclose(cosine(Q @ A @ Q.T, Q @ B @ Q.T), cosine(A, B))


@settings(max_examples=20, deadline=None)
@given(k=st.integers(2, 6), seed=st.integers(0, 2 ** 16))
def test_pearson_changes_under_some_rotation(k, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((k, k)), rng.standard_normal((k, k))
    A, B = A + A.T + 3 * np.ones((k, k)), B + B.T
    vals = [pearson(Q @ A @ Q.T, Q @ B @ Q.T) for Q in (_orthogonal(rng, k) for _ in range(8))]
    assert np.ptp(vals + [pearson(A, B)]) > 1e-6


# --------------------------------------------------------------------------- NFA, CRH, PAH
def test_agop_matches_finite_difference_jacobians():
    net = _net("S3", 3, "tanh", seed=2)
    L = layers(net)["embedding"]
    x = L.h_a
    W2 = L.W.copy()

    def f(h_a):
        h = W2 @ h_a
        return net.xi.T @ ((net.a / net.width)[:, None] * np.tanh(h))

    acc = np.zeros((x.shape[0], x.shape[0]))
    eps = 1e-6
    for p in range(x.shape[1]):
        J = np.stack([(f(x[:, [p]] + eps * e[:, None]) - f(x[:, [p]] - eps * e[:, None]))[:, 0] / (2 * eps)
                      for e in np.eye(x.shape[0])], axis=1)
        acc += J.T @ J
    np.testing.assert_allclose(agop(net, L), acc / x.shape[1], rtol=1e-6, atol=1e-9)
    R = layers(net)["readout"]
    np.testing.assert_allclose(agop(net, R), R.W.T @ R.W)


def test_power_law_recovers_exponents_and_the_identities_shift_them():
    rng = np.random.default_rng(0)
    U = _orthogonal(rng, 8)
    z = np.exp(rng.uniform(-2, 2, 8))
    Z = (U * z) @ U.T
    for alpha in (0.5, 1.0, 2.0):
        fit = power_law(matrix_power(Z, alpha), Z, boot=100)
        assert abs(fit.exponent - alpha) < 1e-8 and fit.ci95[0] - 1e-8 <= alpha <= fit.ci95[1] + 1e-8
    # a layer whose H_a = Z_a^p, G_b = Z_b^q' exactly: H_b ~ Z_b^(p+1), G_a ~ Z_a^(q'+1)
    from symflow.theories.layers import Layer

    W = rng.standard_normal((6, 6))
    Za, Zb = W.T @ W, W @ W.T
    ha = np.linalg.cholesky(matrix_power(Za, 0.5) + 1e-14 * np.eye(6)) * np.sqrt(50)
    ha = np.concatenate([ha, np.zeros((6, 44))], axis=1)
    gb = np.linalg.cholesky(matrix_power(Zb, 1.5) + 1e-14 * np.eye(6)) * np.sqrt(50)
    gb = np.concatenate([gb, np.zeros((6, 44))], axis=1)
    layer = Layer("x", W, ha, W @ ha, gb, 1.0)
    p, q, pp, qq = (f.exponent for f in power_laws(layer, boot=50))
    assert abs(p - 0.5) < 1e-6 and abs(pp - 1.5) < 1e-6 and abs(qq - 1.5) < 1e-6 and abs(q - 2.5) < 1e-6


def test_exponent_table_is_generated_and_consistent():
    from symflow.theories.statements import CRH_ALIGNMENTS
    from symflow.theories.symbolic import bias_free_identities, exponent_table

    assert bias_free_identities()
    rows = exponent_table()
    assert len(rows) == 15                                     # all pairs of the six alignments
    for row in rows:
        if row["status"] == "determined":
            for name in row["pair"]:
                # the two assumed alignments hold exactly ("any": both sides are multiples of I)
                assert row["relations"][name] in ("1", "any")
    statuses = {tuple(r["pair"]): r["status"] for r in rows}
    assert statuses[("H_a~Z_a", "H_b~Z_b")] == "inconsistent"     # p = 1 and p + 1 = 1
    assert {r["pair"][0] for r in rows} <= {a[0] for a in CRH_ALIGNMENTS}


def test_crh_holds_exactly_on_a_constructed_layer():
    from symflow.theories.layers import Layer

    rng = np.random.default_rng(1)
    W = _orthogonal(rng, 5) * 2.0                                # Z_a = Z_b = 4 I
    h = _orthogonal(rng, 5) * np.sqrt(5)                         # H_a = I
    layer = Layer("x", W, h, W @ h, W @ h, 1.0)
    assert all(abs(st.value - 1) < 1e-12 for st in crh(layer))
    assert abs(nfa(_net(), layers(_net())["readout"]).value) <= 1


# --------------------------------------------------------------------------- GC / Li2 observables
def test_gc_observables_at_a_gc_equilibrium():
    from symflow.theory.equilibria import equilibrium
    from symflow.theory.model import Model
    from symflow.theories.observables import gc_observables, li2_observables

    G = symflow.group("S3")
    eq = [equilibrium(Model(G), o.id) for o in G.orbits if not o.is_trivial]
    t1 = np.stack([e.point[0] for e in eq] * 2)
    t2 = np.stack([e.point[1] for e in eq] * 2)
    xi = np.stack([e.point[2] for e in eq] * 2)
    net = TwoLayerNetwork.from_params(G, 3 * t1, 2 * t2, 0.5 * xi)   # the observables normalise
    gc = gc_observables(net)
    assert gc["aligned_fraction"] == 1.0 and gc["omega_error"] < 1e-9 and gc["concentration"] > 1 - 1e-9
    li = li2_observables(net)
    assert 0.0 <= li["maximum_fraction"] <= li["critical_fraction"] <= 1.0


# --------------------------------------------------------------------------- command
def test_cli_json_contract_and_report(tmp_path, capsys):
    out = tmp_path / "th"
    rc = main(["theories", "Z3", "--steps", "300", "--width", "4", "--points", "3", "--sweep", "0.01,0.1",
               "--stationary-steps", "2000",
               "--json", "--out", str(out)])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"group", "settings", "theories"}
    names = {t["name"] for t in data["theories"]}
    assert {"FACT", "backward FACT", "NFA", "CRH H_a~Z_a", "CRH H_b~G_b", "GC aligned", "GC Omega*",
            "Li2 maxima"} <= names
    for t in data["theories"]:
        assert set(t) >= {"name", "statement", "layer", "metric", "value", "tolerance", "holds", "over_training",
                          "verdict", "premise", "premise_met", "premise_gap", "stationarity_gap"}
        assert all(len(p) == 2 for p in t["over_training"])
        assert (t["holds"] is None) == (not t["premise_met"]) == (t["verdict"] == "premise not met")
    assert data["training"]["stationary_phase"]["steps"] <= 2000
    assert set(data["training"]["stationarity_gap"]) == {"embedding", "readout"}
    assert all("stationarity_gap" in r and "premise_met" in r for r in data["weight_decay_sweep"])
    assert [r["weight_decay"] for r in data["weight_decay_sweep"]] == [0.003, 0.01, 0.1]   # with the main run
    assert (out / "report.md").exists() and (out / "theories.json").exists()
    report = (out / "report.md").read_text()
    assert "FACT" in report
    import re

    for block in report.split("\n\n"):                # every markdown table keeps its column count
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            assert len({len(re.split(r"(?<!\\)\|", line)) for line in rows}) == 1, rows


@pytest.mark.parametrize("argv", [["theories", "S3", "--weight-decay", "0"], ["theories", "S3", "--optimizer", "sgdx"],
                                  ["theories", "S3", "--steps", "ten"], ["theories", "S3", "--loss", "l1"],
                                  ["theories", "S3", "--sweep", "0.1,x"], ["theories", "NOPE"],
                                  ["theories", "S3", "--stationary-steps", "-1"],
                                  ["theories", "S3", "--stationary-steps", "many"]])
def test_cli_bad_input_is_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err


def test_ctrl_c_keeps_what_is_complete(tmp_path, monkeypatch, capsys):
    """Ctrl-C during training: the report of the steps done is written, marked interrupted; exit 130."""
    import symflow.theories.run as run_mod

    real = run_mod.measure
    calls = []

    def interrupting(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(run_mod, "measure", interrupting)
    out = tmp_path / "th"
    assert main(["theories", "Z3", "--steps", "400", "--width", "3", "--points", "4", "--no-progress",
                 "--out", str(out)]) == 130
    marker = json.loads((out / ".symflow-output.json").read_text())
    assert marker["interrupted"] is True and marker["kind"] == "theories"
    data = json.loads((out / "theories.json").read_text())
    assert data["interrupted"] is True
    assert all(len(t["over_training"]) >= 1 for t in data["theories"] if t["name"] == "FACT")


def test_record_at_chosen_steps_and_the_collapse_note():
    R = run_theories("Z3", weight_decay=0.01, steps=100, width=3, record_at=[10, 50], stationary_steps=0)
    assert [s for s, _ in R.over_training[("FACT", "embedding")]] == [0, 10, 50, 100]
    assert R.training["notes"] == [] and R.training["steps_done"] == 100
    C = run_theories("Z5", weight_decay=2.0, optimizer="gd", lr=0.2, steps=400, width=3, points=2,
                     stationary_steps=1000)
    assert C.training["accuracy"] < 0.5 and "collapsed" in C.training["notes"][0]
    with pytest.raises(symflow.errors.SymflowError):
        run_theories("Z3", steps=10, record_at=[20])


_STATIONARY = {}


def _stationary_net():
    if not _STATIONARY:
        net = _net("S3", 4, "quad", seed=1, scale=0.5)
        lbfgs_stationary(net, 0.01)
        _STATIONARY["net"] = net
    return _STATIONARY["net"].copy()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2 ** 16))
def test_fact_residual_shrinks_linearly_towards_a_stationary_point(seed):
    """Moving the weights a distance t off an L-BFGS stationary point: the FACT residual and the regularised
    gradient both scale like t (ratio ~10 per decade of t), so residual / |grad R| stays bounded."""
    lam = 0.01
    rng = np.random.default_rng(seed)
    base = _stationary_net()
    dirs = {k: rng.standard_normal(v.shape) for k, v in base.params.items() if k != "a"}
    res, grad = [], []
    for t in (1e-3, 1e-4):
        net = base.copy()
        for k, d in dirs.items():
            net.params[k] += t * d / np.linalg.norm(d)
        L = layers(net)["embedding"]
        res.append(relative_residual(L.Z_a(), fact_rhs(L, lam)))
        grad.append(np.linalg.norm(regularised_gradient(L, lam)))
    assert 7 < res[0] / res[1] < 13 and 7 < grad[0] / grad[1] < 13


# --------------------------------------------------------------------------- premises (issue 22)
def test_verdict_logic_says_premise_not_met_on_a_non_stationary_network():
    """A freshly initialised network is far from stationary: FACT, backward FACT and CRH rows get no verdict
    ('premise not met', holds None) and carry the measured gap; at an L-BFGS stationary point the same rows are
    judged and FACT holds."""
    from symflow.theories.premises import STATIONARITY_TOL, stationarity_gap

    lam = 0.01
    net = _net("S3", 4, "quad", seed=1, scale=0.5)
    rows = measure(net, lam, observables=False)
    gaps = stationarity_gap(net, lam)
    assert min(gaps.values()) > 10 * STATIONARITY_TOL
    for r in rows:
        if r.name in ("FACT", "backward FACT") or r.name.startswith("CRH"):
            assert r.premise.met is False and r.holds is None and r.verdict == "premise not met"
            assert r.premise.gap == pytest.approx(gaps[r.layer]) and r.stationarity_gap == pytest.approx(gaps[r.layer])
        elif r.name == "NFA":
            assert r.premise.met and r.holds is not None
        elif r.name == "gradient":
            assert r.value == pytest.approx(gaps[r.layer]) and r.holds is False
    lbfgs_stationary(net, lam)
    for r in measure(net, lam, observables=False):
        if r.name in ("FACT", "backward FACT"):
            assert r.premise.met and r.holds is True and r.verdict == "holds"
        if r.name.startswith("CRH"):
            assert r.premise.met and r.holds in (True, False)


def test_verdict_is_none_exactly_when_the_premise_fails():
    from symflow.theories.premises import Premise
    from symflow.theories.run import Row

    met, unmet = Premise("p", True, 0.001, 0.01), Premise("p", False, 0.5, 0.01)
    assert Row("FACT", "", "x", "relative_residual", 0.9, 0.05, "<=", met).verdict == "fails"
    assert Row("FACT", "", "x", "relative_residual", 0.01, 0.05, "<=", met).verdict == "holds"
    for value in (0.01, 0.9, float("nan")):
        r = Row("FACT", "", "x", "relative_residual", value, 0.05, "<=", unmet)
        assert r.holds is None and r.verdict == "premise not met"


@settings(max_examples=15, deadline=None)
@given(width=st.integers(1, 6), act=st.sampled_from(sorted(ACTS)), lam=st.floats(1e-4, 1.0),
       seed=st.integers(0, 2 ** 16), loss=st.sampled_from(["ce", "mse"]))
def test_fact_residual_is_bounded_by_gap_times_sqrt_rank(width, act, lam, seed, loss):
    """|W^T grad R|_F / (lambda |W^T W|_F) <= gap |W|_F / |W|_2 <= gap sqrt(rank W) (premises.py): at the
    stationarity tolerance FACT's residual is at most 0.01 sqrt(rank)."""
    from symflow.theories.premises import stationarity_gap

    net = _net("Z5", width, act, loss, seed=seed)
    gaps = stationarity_gap(net, lam)
    for name, L in layers(net).items():
        gap = gaps[name]
        rank = np.linalg.matrix_rank(L.W)
        for st_ in (fact(L, lam), backward_fact(L, lam)):
            assert st_.value <= gap * np.sqrt(max(rank, 1)) * (1 + 1e-9) + 1e-12


def test_training_gap_groups_match_the_layer_gap_and_gd_reaches_the_tolerance():
    """training.stationarity_gap over (theta1+theta2, xi) is |grad_W R|_F / |lambda W|_F of the layers computed
    from their per-sample inputs and gradients; train_to_stationarity (full-batch GD, coupled decay) brings it
    below the tolerance, after which FACT holds with its premise met."""
    from symflow.dynamics.training import stationarity_gap as training_gap, train_to_stationarity
    from symflow.theories.premises import stationarity_gap

    lam = 0.01
    net = _net("Z5", 4, "quad", seed=2, scale=0.5)
    g = training_gap(net, lam, groups=(("theta1", "theta2"), ("xi",)))
    L = layers(net)
    for key, name in (("theta1+theta2", "embedding"), ("xi", "readout")):
        independent = np.linalg.norm(regularised_gradient(L[name], lam)) / (lam * np.linalg.norm(L[name].W))
        assert g[key] == pytest.approx(independent, rel=1e-10)
        assert stationarity_gap(net, lam)[name] == g[key]
    phase = train_to_stationarity(net, lam, tol=1e-3, lr=1.0, max_steps=40000,
                                  groups=(("theta1", "theta2"), ("xi",)))
    assert phase.reached and phase.gap <= 1e-3 and phase.steps > 0
    rows = {r.key: r for r in measure(net, lam, observables=False)}
    for layer in ("embedding", "readout"):
        assert rows[("FACT", layer)].premise.met and rows[("FACT", layer)].holds
        assert rows[("FACT", layer)].value <= 1e-3 * 4


def test_train_to_stationarity_halves_a_diverging_step():
    from symflow.dynamics.training import train_to_stationarity

    net = _net("Z5", 4, "quad", seed=2, scale=0.5)
    phase = train_to_stationarity(net, 0.01, tol=1e-2, lr=1e4, max_steps=3000, chunk=500)
    assert phase.lr < 1e4 and all(np.all(np.isfinite(v)) for v in net.params.values())


def test_gc_and_li2_premises():
    """GC's Stage I: small logits (met at a tiny initialisation, not after training); Li2's stage needs MSE."""
    from symflow.theories.premises import gc_stage_one, li2_stage

    small = _net("Z5", 4, "quad", seed=0, scale=0.01)
    assert gc_stage_one(small).met and not gc_stage_one(_net("Z5", 4, "quad", seed=0, scale=3.0)).met
    assert not li2_stage(small).met and li2_stage(small).gap is None                 # CE loss
    mse = _net("Z5", 4, "quad", loss="mse", seed=0, scale=0.01)
    pr = li2_stage(mse)
    assert pr.met and pr.gap < 1e-3                     # tiny outputs: the residual is the target


def test_fact_holds_after_the_final_phase_with_gd_and_cannot_with_adamw():
    """The issue's case: GD with coupled decay, trained to stationarity, meets FACT's premise and FACT holds;
    AdamW reaches a stationary point of the loss alone (decoupled decay), where the coupled gap is ~1: premise
    not met, no verdict, and the note says why."""
    R = run_theories("Z5", weight_decay=0.01, optimizer="sgd", steps=2000, lr=0.1, width=6, points=2,
                     stationary_steps=40000)
    rows = {r.key: r for r in R.rows}
    assert R.stationary.reached and R.training["stationary_phase"]["reached"]
    for layer in ("embedding", "readout"):
        assert rows[("FACT", layer)].verdict == "holds" and rows[("gradient", layer)].value <= 0.01
    W = run_theories("Z5", weight_decay=0.01, optimizer="adamw", steps=3000, lr=0.01, width=6, points=2,
                     stationary_steps=3000)
    rows = {r.key: r for r in W.rows}
    for layer in ("embedding", "readout"):
        assert rows[("FACT", layer)].verdict == "premise not met"
        assert rows[("FACT", layer)].premise.gap > 0.5
    assert any("decoupled" in n for n in W.training["notes"])
    data = W.to_json()
    fact_rows = [t for t in data["theories"] if t["name"] == "FACT"]
    assert all(t["holds"] is None and t["premise_met"] is False and t["stationarity_gap"] > 0.5 for t in fact_rows)


def test_ctrl_c_in_the_final_phase_keeps_what_is_measured(tmp_path, monkeypatch):
    """Ctrl-C during the final full-batch phase: the measurement of the point reached is written, exit 130."""
    import symflow.dynamics.training as training

    real = training.stationarity_gap
    calls = []

    def interrupting(*a, **kw):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(training, "stationarity_gap", interrupting)
    out = tmp_path / "th"
    assert main(["theories", "Z3", "--steps", "200", "--width", "3", "--points", "2", "--sweep", "none",
                 "--no-progress", "--out", str(out)]) == 130
    data = json.loads((out / "theories.json").read_text())
    assert data["interrupted"] is True and data["training"]["stationary_phase"]["interrupted"] is True
    assert all(t["premise"] and "premise_met" in t for t in data["theories"])


def test_weight_decay_figure_draws_each_decay_once(tmp_path, capsys, saved_tick_labels):
    # issue 21: a sweep holding the main run's decay (0.003) trained it again and drew its tick label twice
    rc = main(["theories", "Z3", "--steps", "50", "--width", "4", "--points", "2", "--sweep", "0.001,0.003,0.01,0.01",
               "--json", "--no-progress", "--out", str(tmp_path / "th")])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["weight_decay"] for r in data["weight_decay_sweep"]] == [0.001, 0.003, 0.01]
    assert not saved_tick_labels.problems("weight_decay.png")


def test_distinct_tick_labels_keep_close_decays_apart():
    from symflow.theories.report import distinct_labels

    assert distinct_labels([0.001, 0.003]) == ["0.001", "0.003"]
    assert distinct_labels([0.00301, 0.00302]) == ["0.00301", "0.00302"]


def test_theories_on_the_trivial_group_is_a_one_line_error(capsys):
    assert main(["theories", "Z1", "--steps", "10", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Z1 is the trivial group" in err and err.strip().count("\n") == 0
