"""The neuron layer (symflow.neuron): the one activation vocabulary, the stacked geometry on every dtype,
and the brute force's training mask against Li2's own energy on a subset of the table."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest

import symflow
from symflow.errors import ModelError
from symflow.groups import group
from symflow.li2.core import check_activation, training_mask
from symflow.neuron import bruteforce
from symflow.neuron.activation import QUAD, RELU, SILU, as_activation, polynomial_activation_of
from symflow.neuron.geometry import ParameterGeometry, StackedGeometry
from symflow.neuron.points import split, stack
from symflow.theory import Model


@pytest.mark.parametrize("spelling", ["quad", "x^2", "X^2", "z**2", " z^2 ", "sqr", "square", "quadratic"])
def test_every_spelling_of_the_quadratic_is_one_object(spelling):
    assert as_activation(spelling) is QUAD
    assert check_activation(spelling) == "x^2"
    assert Model("Z5", activation=spelling).activation_text == "z**2"


def test_named_activations_and_their_derivatives():
    z = np.linspace(-3, 3, 13)
    h = 1e-6
    for act in (QUAD, RELU, SILU, as_activation("tanh"), as_activation("x^3"), as_activation("z^2+z^3")):
        fd = (act(z + h) - act(z - h)) / (2 * h)
        keep = np.abs(z) > 1e-3                    # the kink of relu
        np.testing.assert_allclose(act.dsigma(z)[keep], fd[keep], rtol=1e-6, atol=1e-8)
    assert as_activation("relu") is RELU and as_activation("SiLU") is SILU
    assert as_activation("x^3") is as_activation("z**3") and as_activation("x**3").name == "z**3"   # one object
    cubic = as_activation("z^2+z^3")
    assert cubic.coefficients == ((3, 1, 1), (2, 1, 1)) and cubic.name == "z**3 + z**2"
    assert Model("Z5", activation="z^2+z^3").activation_text == cubic.text


@pytest.mark.parametrize("bad", ["gelu", "", "z+y", "relu2"])
def test_unknown_activation_is_a_one_line_error_naming_the_forms(bad):
    with pytest.raises(ModelError, match="accepted"):
        as_activation(bad)


def test_the_theory_needs_a_polynomial():
    with pytest.raises(ModelError, match="not a polynomial"):
        polynomial_activation_of("relu")
    with pytest.raises(ModelError, match="not a polynomial"):
        Model("Z5", activation="silu")


def test_network_and_grok_read_the_same_vocabulary():
    from symflow.dynamics.network import TwoLayerNetwork
    from symflow.modular.grokking import GrokConfig

    net = TwoLayerNetwork(group("Z5"), 4, activation="x^2", seed=0)
    assert net.activation is QUAD and net.describe()["activation"] == "quad"
    assert GrokConfig(act="z^2").validate().act == "quad"
    with pytest.raises(symflow.errors.SymflowError, match="'relu' or 'quad'"):
        GrokConfig(act="silu").validate()


def test_stacked_geometry_equals_the_parameter_geometry():
    model = Model("S3", spheres="joint")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 18))
    g = rng.normal(size=(4, 18))
    got = StackedGeometry.of(model).project_tangent(x, g.copy())
    want = ParameterGeometry(model.neuron.sphere_groups).project_tangent(split(model, x.copy()),
                                                                         split(model, g.copy()))
    np.testing.assert_allclose(got, stack(model, want), rtol=1e-13, atol=1e-15)
    y = StackedGeometry.of(model).retract(x.copy())
    norms = StackedGeometry.of(model).sphere_norms(y)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-14)


def test_stacked_geometry_on_mpmath_points():
    model = Model("Z4")
    with mpmath.workdps(40):
        X = np.array([mpmath.mpf(v) for v in np.random.default_rng(1).normal(size=12)], dtype=object)
        StackedGeometry.of(model).retract(X)
        for part in split(model, X).values():
            assert abs(mpmath.fsum(a * a for a in part) - 1) < mpmath.mpf(10) ** -38
        r = bruteforce.riemannian_gradient(model, X)
        inner = mpmath.fsum(a * b for a, b in zip(X[:4], r[:4]))
        assert abs(inner) < mpmath.mpf(10) ** -35


@pytest.mark.parametrize("name,fraction,act,shared", [("S3", 0.6, None, False), ("Z5", 0.5, "z^2+z^3", False),
                                                      ("D4", 0.7, None, True), ("Z6", 1.0, None, False)])
def test_bruteforce_mask_is_li2_energy_on_the_subset(name, fraction, act, shared):
    G = group(name)
    n = G.order
    mask = training_mask(G, fraction, seed=2)
    model = Model(G, loss="mse", activation=act, shared=shared)
    masked = Model(G, loss="mse", activation=act, shared=shared, mask=mask)     # the mask is the model's
    x = np.random.default_rng(3).normal(size=(5, 2 * n))
    if shared:
        x[:, n:] = x[:, :n]
    xs = x[:, :n] if shared else x
    # the written-out sums on the subset (E = 1/2 sum_h (z_h - q_h s)^2), independently here
    H = masked.sigma(x[:, :n, None] + x[:, None, n:]) * mask
    T = np.asarray(G.table)
    z = np.stack([H[:, T == h].sum(axis=1) for h in range(n)], axis=1)
    q = np.bincount(T[mask], minlength=n) / mask.sum()
    want_E = 0.5 * ((z - q * z.sum(axis=1, keepdims=True)) ** 2).sum(axis=1)
    np.testing.assert_allclose(bruteforce.energy(model, xs, mask=mask), want_E, rtol=1e-12)
    np.testing.assert_allclose(bruteforce.energy(masked, xs), want_E, rtol=1e-12)
    d = np.random.default_rng(4).normal(size=xs.shape)
    h = 1e-6
    fd = (bruteforce.energy(masked, xs + h * d) - bruteforce.energy(masked, xs - h * d)) / (2 * h)
    np.testing.assert_allclose((bruteforce.gradient(masked, xs) * d).sum(axis=1), fd, rtol=1e-6)
    np.testing.assert_allclose(bruteforce.gradient(model, xs, mask=mask), bruteforce.gradient(masked, xs),
                               rtol=1e-13, atol=1e-13)
    full = np.ones((n, n), bool)
    np.testing.assert_allclose(bruteforce.energy(model, xs, mask=full), bruteforce.energy(model, xs), rtol=1e-12)


def test_mask_is_refused_for_ce_and_for_a_wrong_shape():
    with pytest.raises(ModelError, match="MSE"):
        bruteforce.energy(Model("Z5"), np.zeros(15), mask=np.ones((5, 5), bool))
    with pytest.raises(ModelError, match="shape"):
        bruteforce.energy(Model("Z5", loss="mse"), np.ones(10), mask=np.ones((4, 4), bool))


@pytest.mark.parametrize("argv,act", [(["grok"], None), (["grok", "--act", "relu"], "relu"),
                                      (["grok", "--activation", "x^2"], "x^2")])
def test_grok_takes_activation_and_the_old_act(argv, act):
    from symflow.cli import build_parser

    assert build_parser().parse_args(argv).act == act    # None: the model's own default (GrokConfig.act)


def test_grok_li2_refuses_an_explicit_other_activation(capsys):
    from symflow.cli import main

    assert main(["grok", "--model", "li2", "--activation", "relu", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "--activation is an option of --model ma only" in err and "x^2" in err and len(err.strip().splitlines()) == 1


def test_activations_pickle():
    import pickle

    for spec in ("quad", "relu", "silu", "z^2+z^3"):
        act = as_activation(spec)
        back = pickle.loads(pickle.dumps(act))
        assert back.name == act.name and back.coefficients == act.coefficients
    assert pickle.loads(pickle.dumps(QUAD)) is QUAD
