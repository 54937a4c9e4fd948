"""The Library of Mirrors (symflow.mirrors, ``symflow mirrors``): dictionaries, exact solutions, proofs, training.

Every closed form is checked against an independent computation: the dictionary's optimum against a
Lasso over a dense grid of breakpoints (the theorem: data breakpoints are enough), the reconstruction
against the Lasso fit, the optimum against randomly sampled networks, the minimum norm at depth 2
against the total variation of the interpolant's slope.
"""
import itertools
import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symflow.cli import main
from symflow.errors import SymflowError
from symflow.mirrors import build_dictionary, make_data, public, run_mirrors
from symflow.mirrors.dictionary import raw_features
from symflow.mirrors.network import objective, reconstruct
from symflow.mirrors.solve import SolverStateError, lasso, lasso_objective, min_norm
from symflow.neuron.activation import PIECEWISE as ACTIVATIONS
from symflow.mirrors.symbolic import (activation_expression, amgm_lemma, feature_expression,
                                      homogeneity_degree, unit_identity, T, X, GAMMA, breakpoint_symbols,
                                      sign_symbols, _pull_positive)

PAPER_X = [0, 4, 5, 7, 10, 11]
PAPER_Y = [0, 0, 0, 2, 3, 3]
FAST = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def small_data(min_n=3, max_n=6):
    """Distinct integer inputs (exact arithmetic under shifts) and integer labels."""
    return st.integers(min_n, max_n).flatmap(lambda n: st.tuples(
        st.lists(st.integers(-20, 20), min_size=n, max_size=n, unique=True),
        st.lists(st.integers(-5, 5), min_size=n, max_size=n)))


def minnorm(x, y, depth=2, activation="relu"):
    d = make_data(x, y)
    D = build_dictionary(d, depth, activation)
    return min_norm(D.matrix, d.y, face=False, x=d.x).objective


# ------------------------------------------------------------------ the paper's example, exactly
def test_paper_example_min_norm_and_reflection():
    d = make_data(PAPER_X, PAPER_Y)
    r2, r3, r4 = (run_mirrors(d, L) for L in (2, 3, 4))
    assert r2["objective"] == pytest.approx(2, abs=1e-9)
    assert r3["objective"] == pytest.approx(1, abs=1e-9)
    assert r4["objective"] == pytest.approx(1, abs=1e-9)
    # the paper's optimum, one capped ramp [5, 8] whose kink 8 = 2*4 - 0 reflects 0 about 4, is on the face
    D4 = r4["_dictionary"]
    (col,) = [c for c in range(D4.distinct) if np.allclose(D4.matrix[:, c], [0, 0, 0, 2, 3, 3])]
    from symflow.mirrors.network import describe_column

    f = describe_column(D4, col)
    assert f["breakpoints"] == pytest.approx([5, 8]) and f["formula"].startswith("capped ramp [5, 8]")
    assert f["reflection"]["point"] == 8 and f["reflection"]["of"] == 0 and f["reflection"]["about"] == 4
    assert f["formula"] in r4["face"] and r4["unique"] is False
    assert any(g["reflection"] for g in r4["features"])
    assert r3["unique"] is True
    for r in (r2, r3, r4):
        for g in r["features"]:                                   # the per-feature proof, symbolic and numeric
            assert g["proof"]["unit_equals_z_F"] and g["proof"]["penalty_equals_beta_abs_z"]
            assert g["proof"]["max_abs_error"] < 1e-12 and g["proof"]["penalty_error"] < 1e-12
        assert r["reconstruction"]["max_abs_error"] < 1e-12
        assert r["reconstruction"]["penalty"] == pytest.approx(r["l1"], rel=1e-12)


def test_raw_column_counts_and_merging():
    d = make_data(PAPER_X, PAPER_Y)
    n = len(PAPER_X)
    for L, raw in ((2, 2 * n), (3, 4 * n ** 2), (4, 16 * n ** 3)):
        D = build_dictionary(d, L)
        assert D.raw == raw and D.distinct + D.vanished <= raw
        assert D.multiplicity.sum() + D.vanished == raw
        B = D.matrix - D.matrix[0]
        assert np.all(np.max(np.abs(B), axis=0) > 0)            # nothing constant left
        for sign in (1, -1):                                      # no two columns equal up to sign and constant
            diff = np.max(np.abs(B[:, :, None] - sign * B[:, None, :]), axis=0)
            np.fill_diagonal(diff, np.inf)
            assert np.min(diff) > 1e-9


# ------------------------------------------------------------------ symbolic proofs
def test_homogeneity_and_identities():
    assert [homogeneity_degree(a) for a in ACTIVATIONS] == [1, 1, 1, 0, 0]
    for L in (2, 3, 4):
        assert unit_identity(L, 1)["proved"] and amgm_lemma(L)["proved"]
    assert unit_identity(2, 0)["proved"]
    relu = activation_expression("relu")
    v = sp.Symbol("v", positive=True)
    for t in (v, -v, sp.Integer(0)):
        assert sp.simplify(activation_expression("abs").subs(T, t) - relu.subs(T, t) - relu.subs(T, -t)) == 0


def test_activation_objects_match_their_printed_sympy_forms():
    """The one activation object's NumPy sigma/sigma' (symflow.neuron.activation) against the SymPy forms
    printed by the code generator, away from the kink; aliases resolve through the one vocabulary."""
    from symflow.mirrors.dictionary import check_setting
    from symflow.mirrors.symbolic import printed_activation
    from symflow.neuron.activation import as_activation

    t = np.random.default_rng(0).normal(size=200) * 3
    for name in ACTIVATIONS:
        (f, df), (g, dg) = (as_activation(name).sigma, as_activation(name).dsigma), printed_activation(name)
        assert np.array_equal(f(t), g(t)) and np.array_equal(df(t), dg(t))
        assert f(np.array([0.0]))[0] == g(np.array([0.0]))[0]      # threshold(0) = sign(0) = 1
    assert check_setting(2, "step") == (2, "threshold") and check_setting(3, "ReLU") == (3, "relu")


def test_unit_identity_is_not_vacuous():
    """A reconstruction with the wrong bias power fails the same proof."""
    sig = sp.Function("sigma")
    a, s = breakpoint_symbols(3), sign_symbols(3)
    h1 = sig(s[0] * GAMMA * X - s[0] * a[0] * GAMMA)
    c2 = feature_expression(2, sigma=sig, at=a[1])
    wrong = GAMMA * sig(s[1] * GAMMA * h1 - s[1] * c2 * GAMMA)          # gamma^1 instead of gamma^2
    sub = {s[0]: 1, s[1]: 1}
    target = GAMMA ** 3 * _pull_positive(feature_expression(3, sigma=sig).subs(sub), sig, 1)
    assert sp.simplify(_pull_positive(wrong.subs(sub), sig, 1) - target) != 0


# ------------------------------------------------------------------ brute force: data breakpoints suffice
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_two_layer_dictionary_beats_every_breakpoint_grid(activation):
    rng = np.random.default_rng(3)
    x = np.sort(rng.choice(np.arange(-10, 11), 6, replace=False)).astype(float)
    y = rng.integers(-3, 4, 6).astype(float)
    d = make_data(x, y)
    best = minnorm(x, y, 2, activation)
    grid = np.linspace(x[0] - 2, x[-1] + 2, 81)
    cols = np.array(list(itertools.product((1, -1), grid)))
    A = raw_features(2, activation, d.x, cols[:, 1:2], cols[:, 0:1].astype(np.int8))
    grid_best = min_norm(A, d.y, face=False).objective
    assert grid_best >= best - 1e-7 * max(1, best)
    for beta in (0.05, 1.0):
        Dm = build_dictionary(d, 2, activation)
        opt = lasso(Dm.matrix, d.y, beta)
        assert lasso(A, d.y, beta).objective >= opt.certificate["lower"] - 1e-9


def test_deep_dictionary_beats_breakpoint_grids():
    x = np.array([0.0, 2, 3, 7, 8])
    y = np.array([1.0, 0, 2, -1, 1])
    d = make_data(x, y)
    for L, g in ((3, 22), (4, 9)):
        best = minnorm(x, y, L)
        grid = np.linspace(-1, 9, g)
        combos = np.array(list(itertools.product(grid, repeat=L - 1)))
        signs = np.array(list(itertools.product((1, -1), repeat=L - 1)), dtype=np.int8)
        a = np.repeat(combos, len(signs), axis=0)
        s = np.tile(signs, (len(combos), 1))
        A = raw_features(L, "relu", d.x, a, s)
        assert min_norm(A, d.y, face=False).objective >= best - 1e-7


# ------------------------------------------------------------------ properties
@FAST
@given(small_data(), st.sampled_from([(2, "relu"), (3, "relu"), (4, "relu"), (2, "abs"), (2, "leaky"),
                                      (2, "threshold"), (2, "sign")]), st.sampled_from([0.0, 0.3]))
def test_reconstruction_is_exact(xy, setting, beta):
    d = make_data(*xy)
    r = run_mirrors(d, *setting, beta=beta)
    assert r["status"] == "optimal"
    rec = r["reconstruction"]
    scale = 1 + np.max(np.abs(d.y)) + r["l1"] * max(1, np.max(np.abs(d.x)))
    assert rec["max_abs_error"] <= 1e-9 * scale and rec["grid_max_abs_error"] <= 1e-9 * scale
    assert rec["penalty"] == pytest.approx(rec["penalty_lasso"], rel=1e-9, abs=1e-12)


@FAST
@given(small_data(), st.sampled_from([2, 3, 4]), st.integers(0, 10 ** 6))
def test_lasso_optimum_is_below_every_sampled_network(xy, depth, seed):
    d = make_data(*xy)
    beta = 0.2
    D = build_dictionary(d, depth)
    opt = lasso(D.matrix, d.y, beta)
    rng = np.random.default_rng(seed)
    m = 6
    params = {"W": rng.normal(size=(50, m, depth - 1)) * 2, "B": rng.normal(size=(50, m, depth - 1)) * 10,
              "alpha": rng.normal(size=(50, m)), "xi": rng.normal(size=50)}
    objs = objective(params, d.x, d.y, depth, "relu", beta)
    assert np.all(objs >= opt.certificate["lower"] - 1e-9)
    # the reconstructed network attains it
    p = reconstruct(D, opt.z, opt.xi)
    batch = {k: np.asarray(v)[None] for k, v in p.items()}
    assert objective(batch, d.x, d.y, depth, "relu", beta)[0] == pytest.approx(opt.objective, rel=1e-9, abs=1e-12)


@FAST
@given(small_data(3, 5))
def test_min_norm_non_increasing_in_depth(xy):
    m2, m3, m4 = (minnorm(*xy, depth=L) for L in (2, 3, 4))
    assert m3 <= m2 * (1 + 1e-7) + 1e-9 and m4 <= m3 * (1 + 1e-7) + 1e-9


@FAST
@given(small_data(), st.integers(-30, 30), st.sampled_from([2, 3, 4]))
def test_translation_invariance_and_scaling_covariance(xy, shift, depth):
    x, y = xy
    base = minnorm(x, y, depth)
    shifted = minnorm([v + shift for v in x], y, depth)
    assert shifted == pytest.approx(base, rel=1e-7, abs=1e-9)
    D0 = build_dictionary(make_data(x, y), depth)
    D1 = build_dictionary(make_data([v + shift for v in x], y), depth)
    assert (D0.raw, D0.distinct, D0.vanished) == (D1.raw, D1.distinct, D1.vanished)
    np.testing.assert_allclose(D1.matrix, D0.matrix, atol=1e-9)            # F(x + c; a + c) = F(x; a)
    D4 = build_dictionary(make_data([4 * v for v in x], y), depth)
    np.testing.assert_allclose(D4.matrix, 4 * D0.matrix, atol=1e-9)        # F(k x; k a) = k F(x; a), k > 0
    assert minnorm([4 * v for v in x], y, depth) == pytest.approx(base / 4, rel=1e-7, abs=1e-9)
    assert minnorm(x, [-3 * v for v in y], depth) == pytest.approx(3 * base, rel=1e-7, abs=1e-9)
    assert minnorm(x, y, 2, "threshold") == pytest.approx(minnorm([4 * v for v in x], y, 2, "threshold"), rel=1e-7,
                                                          abs=1e-9)


@FAST
@given(small_data(), st.randoms(use_true_random=False), st.sampled_from([0.0, 0.5]))
def test_data_order_does_not_matter(xy, rnd, beta):
    x, y = xy
    perm = list(range(len(x)))
    rnd.shuffle(perm)
    a = public(run_mirrors(make_data(x, y), 3, beta=beta))
    b = public(run_mirrors(make_data([x[i] for i in perm], [y[i] for i in perm]), 3, beta=beta))
    assert a["objective"] == pytest.approx(b["objective"], rel=1e-9, abs=1e-12)
    assert a["dictionary"] == b["dictionary"]


@FAST
@given(small_data())
def test_abs_dictionary_in_span_of_relu_dictionary(xy):
    d = make_data(*xy)
    x = d.x
    relu_plus = np.maximum(x[:, None] - x[None, :], 0)
    relu_minus = np.maximum(x[None, :] - x[:, None], 0)
    A_abs = raw_features(2, "abs", x, x[:, None], np.ones((len(x), 1), dtype=np.int8))
    assert np.array_equal(A_abs, relu_plus + relu_minus)
    # hence the ReLU min-norm is at most twice the abs one, and abs = relu+ + relu- column by column
    assert minnorm(*xy, 2, "relu") <= 2 * minnorm(*xy, 2, "abs") * (1 + 1e-7) + 1e-9


@FAST
@given(st.integers(4, 8).flatmap(lambda n: st.tuples(
    st.lists(st.integers(-30, 30), min_size=n, max_size=n, unique=True),
    st.lists(st.integers(-6, 6), min_size=n - 2, max_size=n - 2))))
def test_depth2_min_norm_is_total_variation_of_slope(xy):
    """With equal labels at the two left and the two right points (zero end slopes)."""
    xs, inner = xy
    x = np.sort(np.array(xs, dtype=float))
    y = np.array([inner[0]] + list(inner) + [inner[-1]], dtype=float)
    slopes = np.diff(y) / np.diff(x)
    tv = float(np.sum(np.abs(np.diff(slopes))))
    assert minnorm(x, y, 2) == pytest.approx(tv, rel=1e-7, abs=1e-9)


# ------------------------------------------------------------------ solvers
def test_lasso_scaling_kkt_and_small_beta_against_lp():
    d = make_data(PAPER_X, PAPER_Y)
    for L in (2, 3, 4):
        D = build_dictionary(d, L)
        mn = min_norm(D.matrix, d.y, face=False, x=d.x).objective
        for beta in (1e-3, 0.1, 2.0):
            sol = lasso(D.matrix, d.y, beta)
            assert sol.objective == pytest.approx(lasso_objective(D.matrix, d.y, sol.z, sol.xi, beta))
            assert sol.certificate["gap"] <= 1e-6 * sol.objective
            assert sol.certificate["kkt"]["stationarity"] < 1e-6 and sol.certificate["kkt"]["dual_feasibility"] < 1e-6
            assert sol.objective <= beta * mn * (1 + 1e-9)
        small = lasso(D.matrix, d.y, 1e-4)
        assert small.objective / 1e-4 == pytest.approx(mn, rel=1e-3)


def test_solver_states_are_reported_not_numbers(monkeypatch, capsys):
    with pytest.raises(SolverStateError, match="infeasible"):
        min_norm(np.zeros((3, 0)), np.array([0.0, 1.0, 0.0]), face=False)
    import symflow.mirrors.run as run_module

    def infeasible(*args, **kwargs):
        raise SolverStateError("the minimum-norm interpolation LP is infeasible (HiGHS: test)")

    monkeypatch.setattr(run_module, "min_norm", infeasible)
    assert main(["mirrors", "--x", "0,1,2", "--y", "0,1,0", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert "infeasible" in data["status"] and data["objective"] is None and data["features"] == []


# ------------------------------------------------------------------ training
def test_training_respects_the_lower_bound_and_gradients():
    from symflow.mirrors.network import objective_and_gradient

    d = make_data(PAPER_X, PAPER_Y)
    rng = np.random.default_rng(0)
    for L, act in ((2, "relu"), (3, "relu"), (4, "relu"), (2, "sign"), (2, "leaky")):
        p = {"W": rng.normal(size=(1, 4, L - 1)), "B": rng.normal(size=(1, 4, L - 1)),
             "alpha": rng.normal(size=(1, 4)), "xi": rng.normal(size=1)}
        if act == "sign":
            p["amp"] = rng.normal(size=(1, 4))
        _, g = objective_and_gradient(p, d.x, d.y, L, act, 0.3)
        for k in p:
            idx = (0,) * p[k].ndim
            e = np.zeros_like(p[k])
            e[idx] = 1e-6
            num = (objective({**p, k: p[k] + e}, d.x, d.y, L, act, 0.3)[0]
                   - objective({**p, k: p[k] - e}, d.x, d.y, L, act, 0.3)[0]) / 2e-6
            assert num == pytest.approx(g[k][idx], rel=1e-4, abs=1e-6)
    r = run_mirrors(d, 4, beta=0.1, train=3, steps=1500)
    tr = r["training"]
    assert tr["runs"] == 3 and len(tr["objectives"]) == 3 and tr["lower_bound_violations"] == 0
    assert min(tr["objectives"]) >= r["certificate"]["lower"] - 1e-12
    assert all(f["column"] >= 0 for run in tr["features"] for f in run)


# ------------------------------------------------------------------ command line
def test_cli_json_contract_and_report(tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["mirrors", "--x", ",".join(map(str, PAPER_X)), "--y", ",".join(map(str, PAPER_Y)), "--depth", "4",
                 "--json", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("depth", "activation", "beta", "n", "dictionary", "objective", "l1", "bias", "unique", "features",
                "reconstruction", "training"):
        assert key in data
    assert set(data["dictionary"]) >= {"columns", "distinct"}
    assert set(data["features"][0]) >= {"coefficient", "breakpoints", "reflection", "formula"}
    assert set(data["reconstruction"]) >= {"max_abs_error", "penalty"}
    assert set(data["training"]) >= {"runs", "objectives", "reached", "lower_bound_violations"}
    assert (out / "mirrors.json").exists() and (out / ".symflow-output.json").exists()
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n" + "\n".join(f"{a},{b}" for a, b in zip(PAPER_X, PAPER_Y)) + "\n")
    assert main(["mirrors", str(csv), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["objective"] == pytest.approx(2)


@pytest.mark.parametrize("argv, text", [
    (["--x", "1", "--y", "2"], "at least 2 points"),
    (["--x", "1,1,2", "--y", "2,3,4"], "different y"),
    (["--x", "1,nan", "--y", "1,2"], "NaN"),
    (["--x", "1,2,3", "--y", "1,2"], "same length"),
    (["--x", "1,2", "--y", "1,2", "--activation", "tanh"], "--activation"),
    (["--x", "1,2", "--y", "1,2", "--depth", "5"], "--depth"),
    (["--x", "1,2", "--y", "1,2", "--depth", "3", "--activation", "sign"], "relu only"),
    (["--x", "1,a", "--y", "1,2"], "--x"),
    ([], "no data"),
])
def test_bad_input_is_one_line_exit_2(argv, text, capsys):
    assert main(["mirrors"] + argv) == 2
    err = capsys.readouterr().err
    assert text in err and len(err.strip().splitlines()) == 1


def test_a_dictionary_that_would_not_fit_is_refused_before_allocating(monkeypatch, capsys):
    monkeypatch.setenv("SYMFLOW_MEMORY", "1MB")
    argv = ["mirrors", "--x", ",".join(map(str, range(12))), "--y", ",".join(map(str, range(12))), "--depth", "4"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "27648 raw columns" in err and "--force" in err and len(err.strip().splitlines()) == 1


def test_make_data_refuses_directly():
    with pytest.raises(SymflowError):
        make_data([1.0], [1.0])


def test_minimise_is_the_optimisers_general_interface():
    from symflow.dynamics.training import minimise

    target = np.array([[1.0, -2.0], [0.5, 3.0]])
    for optimizer, lr in (("gd", 0.1), ("adam", 0.05)):
        params = {"w": np.zeros((2, 2))}
        minimise(params, lambda p: (0.5 * np.sum((p["w"] - target) ** 2, axis=1), {"w": p["w"] - target}),
                 3000, lr, optimizer, final_lr=lr / 10)
        np.testing.assert_allclose(params["w"], target, atol=1e-6)
    with pytest.raises(SymflowError):
        minimise({"w": np.zeros(1)}, lambda p: (0.0, {"w": p["w"]}), 10, 0.1, "lbfgs")


@FAST
@given(st.sampled_from([2, 3, 4]), st.integers(0, 10 ** 6))
def test_unit_kinks_against_a_dense_grid(depth, seed):
    """Between consecutive kinks found by piece tracking a unit is affine (checked at 7 points per piece),
    and at every kink its slope changes."""
    from symflow.mirrors.network import unit_function, unit_kinks

    rng = np.random.default_rng(seed)
    W, B = rng.normal(size=depth - 1) * 2, rng.normal(size=depth - 1) * 3
    h = unit_function(W, B, depth, "relu")
    kinks = unit_kinks(W, B, depth, "relu")
    edges = [-50.0] + [k for k in kinks if -50 < k < 50] + [50.0]
    for lo, hi in zip(edges[:-1], edges[1:]):
        t = np.linspace(lo, hi, 7)[1:-1]
        v = h(t)
        assert np.max(np.abs(np.diff(v, 2))) <= 1e-9 * (1 + np.max(np.abs(v)))
    for k in kinks:
        d = 1e-4
        v = h(np.array([k - 2 * d, k - d, k + d, k + 2 * d]))
        assert abs((v[3] - v[2]) - (v[1] - v[0])) > 1e-12
