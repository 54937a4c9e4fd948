"""Li2's Thm 3 (nodes for a perfect fit) and Thm 5 (focused versus spreading memorisation) side by side with
what symflow measures (symflow/li2/fit.py, symflow/li2/memorisation.py; docs/theory.md section 11)."""
import json

import numpy as np
import pytest
import sympy as sp

import symflow
from symflow.cli import main
from symflow.li2.core import li2_model
from symflow.li2.fit import (full_table_fraction, least_squares_fit, orbit_maxima, perfect_fit_nodes,
                             thm3_node_count)
from symflow.li2.memorisation import SampledTarget, phi, phi_criterion, thm5_regime
from symflow.neuron.activation import as_activation


# ---------------------------------------------------------------- Thm 3: the count
@pytest.mark.parametrize("name, expected", [("S3", 34), ("D4", 38), ("D5", 66), ("Z7", 12)])
def test_thm3_count_from_the_complex_irrep_dimensions(name, expected):
    g = symflow.group(name)
    dims = [r.dim for r in g.irreps]                       # every complex irrep (a complex pair lists both)
    assert sum(d * d for d in dims) == g.order             # Burnside: these are all of them
    assert 2 * sum(d ** 4 for d in dims[1:]) == expected
    c = thm3_node_count(g)
    assert c["total"] == expected and c["kappa"] == len(dims) - 1
    assert c["total"] <= c["bound"] == 2 * ((g.order - c["kappa"]) ** 2 + c["kappa"] - 1)
    if name == "Z7":
        assert c["total"] == 2 * (g.order - 1)             # abelian: 2 (M - 1)


def test_least_squares_width_on_S3_lies_between_the_d2_and_d4_counts():
    """Measured 21 = 20 (2-d irrep) + 1 (sign): more than a d^2 count (2 sum d^2 = 10) could supply, at most
    Thm 3's 2 sum d^4 = 34; with the d^2 count of nodes the fit fails, with the d^4 count it is perfect."""
    g = symflow.group("S3")
    r = perfect_fit_nodes(g)
    assert r["total"] == 21 and r["thm3_total"] == 34
    assert {o["orbit"]: (o["nodes"], o["feature_span"], o["thm3_nodes"]) for o in r["orbits"]} == \
        {"[2, 1]": (20, 20, 32), "[1, 1, 1]": (1, 1, 2)}
    d2 = thm3_node_count(g, power=2)
    assert d2["total"] == 10 < r["total"] <= thm3_node_count(g)["total"]
    P = li2_model(g)
    orbit = {o.label: o for o in g.orbits}

    def fit(power):                                      # 2 d^power generic maxima on every nontrivial orbit
        nodes = [orbit_maxima(g, orbit[o["orbit"]], o["thm3_nodes"], 7) for o in thm3_node_count(g, power)["orbits"]]
        return least_squares_fit(P, np.concatenate(nodes))["residual"]

    assert fit(2) > 1e-3 and fit(4) < 1e-6


def test_full_table_fraction_trains_on_every_entry():
    from symflow.li2.core import training_mask

    for n in (2, 6, 10, 23):
        assert training_mask(symflow.group(f"Z{n}"), full_table_fraction(n)).all() and full_table_fraction(n) < 1


# ---------------------------------------------------------------- Thm 5: the criterion and the regimes
@pytest.mark.parametrize("name, shape, predicted", [("x^2", "constant", "focused"), ("x^3", "increasing", "focused"),
                                                   ("relu", "decreasing", "spreading"),
                                                   ("silu", "decreasing", "spreading"),
                                                   ("tanh", "decreasing", "spreading")])
def test_phi_criterion_per_activation(name, shape, predicted):
    c = phi_criterion(name)
    assert (c["activation"], c["phi"], c["predicted"]) == (name, shape, predicted)


def test_phi_of_the_powers_and_of_tanh_against_sympy():
    z = sp.Symbol("z", positive=True)
    x = np.array([0.1, 0.7, 2.5])
    for name, expr in (("x^2", z ** 2), ("x^3", z ** 3), ("tanh", sp.tanh(z))):
        ref = sp.lambdify(z, sp.diff(expr, z) / z, "numpy")(x)
        assert np.allclose(phi(name, x), ref, rtol=1e-12)
    assert as_activation("x^3") is as_activation("z**3") and as_activation("cube").coefficients == ((3, 1, 1),)


def test_thm5_regime_x2_focuses_on_the_likeliest_sample_relu_spreads_in_proportion():
    g = symflow.group("Z5")
    q = thm5_regime(g, "x^2", starts=8, steps=1500)
    assert q["regime"] == "focused" and q["share_on_argmax_p"] == 1.0
    assert q["s_top_median"] == pytest.approx(np.sqrt(2), rel=1e-6)
    r = thm5_regime(g, "relu", starts=8, steps=1500)
    assert r["regime"] == "spread" and r["participation_median"] > 3
    # ReLU's maximum independently: s = sqrt 2 p / |p| (Cauchy-Schwarz on sum p s, sum s^2 = 2)
    p = np.array([0.1, 0.15, 0.2, 0.25, 0.3])
    T = SampledTarget(g, p, activation="relu")
    x, *_ = T.ascend(np.random.default_rng(1).normal(size=(6, 10)), steps=3000)
    s = T.pre(x)
    s = s * np.sign(s.sum(axis=1, keepdims=True))
    best = np.argmin(np.abs(s - np.sqrt(2) * p / np.linalg.norm(p)).max(axis=1))
    assert np.allclose(s[best], np.sqrt(2) * p / np.linalg.norm(p), atol=1e-5)


def test_sampled_target_gradient_is_the_derivative():
    g = symflow.group("S3")
    rng = np.random.default_rng(0)
    for act in ("x^3", "tanh", "silu"):
        T = SampledTarget(g, rng.uniform(0.5, 1, 6), target=2, activation=act)
        x, d = rng.normal(size=12), rng.normal(size=12)
        h = 1e-6
        fd = (T.energy_gradient(x + h * d)[0] - T.energy_gradient(x - h * d)[0]) / (2 * h)
        assert abs(fd - T.energy_gradient(x)[1] @ d) <= 1e-6 * max(1.0, abs(fd))


# ---------------------------------------------------------------- the command
def test_li2_nodes_json_carries_thm3(capsys):
    assert main(["li2", "S3", "--starts", "8", "--nodes", "--json"]) == 0
    nd = json.loads(capsys.readouterr().out)["nodes"]
    assert (nd["total"], nd["thm3_total"], nd["thm3_bound"]) == (21, 34, 34)
    assert main(["li2", "S3", "--trained"]) == 2
    err = capsys.readouterr().err
    assert "--nodes" in err and err.strip().count("\n") == 0


def test_trained_network_fits_the_S3_table_with_fewer_nodes_than_the_counts():
    """Trained through the public run_li2_grokking (whole table, Adam lr 0.01, no decay): 16 nodes reach
    Y_hat = Y~ (measured width 9, below 21 generic maxima and Thm 3's 34); 6 nodes stall (relative MSE 0.3)."""
    from symflow.li2.fit import trained_fit, trained_perfect_fit_width

    assert trained_fit("S3", 6, seed=0)["relative_mse"] > 0.1
    r = trained_perfect_fit_width("S3", [6, 16], seeds=(0, 1))
    assert r["width_mse"] == r["width_all_seeds"] == 16 and [w["width"] for w in r["widths"]] == [6, 16]
    assert all(run["relative_mse"] <= 1e-4 for run in r["widths"][1]["runs"])
