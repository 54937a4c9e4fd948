"""Li2 on the core (issue 20): the training mask is part of the model, non-polynomial activations go through
the brute force, the landscape engine's ascent search and spectrum analysis, the analytic MSE Hessian."""
import json

import numpy as np
import pytest

import symflow
from symflow.cli import main
from symflow.errors import ModelError, SymflowError
from symflow.landscape import landscape
from symflow.landscape.search import ascend, mse_hessians, newton_batch, tangent_operators
from symflow.li2.core import li2_model, training_mask
from symflow.li2.maxima import maxima
from symflow.neuron import bruteforce
from symflow.theory.model import Model


def test_the_mask_is_part_of_the_model_and_its_key():
    G = symflow.group("S3")
    a, b = training_mask(G, 0.6, 0), training_mask(G, 0.6, 1)
    ma, mb = Model(G, loss="mse", mask=a), Model(G, loss="mse", mask=b)
    assert ma.key() != mb.key() and ma != mb and ma == Model(G, loss="mse", mask=a.copy())
    assert ma.key() != Model(G, loss="mse").key() and "mask" in ma.to_dict()
    assert Model(G, loss="mse", mask=np.ones((6, 6), bool)) == Model(G, loss="mse")   # the full table
    assert "mask" not in Model(G, loss="mse").to_dict()
    with pytest.raises(ModelError, match="MSE"):
        Model(G, mask=a)
    with pytest.raises(ModelError, match="full table"):
        ma.require_block_flow()
    with pytest.raises(ModelError, match="training mask"):
        ma.energy()
    with pytest.raises(ModelError, match="shape"):
        Model(G, loss="mse", mask=np.ones((5, 5), bool))


def test_non_polynomial_activations_are_for_the_mse_model_only():
    with pytest.raises(ModelError, match="not a polynomial"):
        Model("Z5", activation="relu")
    m = Model("Z5", loss="mse", activation="relu")
    assert m.activation_text == "relu" and not m.is_bilinear and "relu" in m.key()
    with pytest.raises(ModelError, match="not a polynomial"):
        m.require_block_flow()
    with pytest.raises(ModelError):
        m.energy()


@pytest.mark.parametrize("name,fraction,act,shared", [("S3", 0.6, None, False), ("Q8", 1.0, None, False),
                                                      ("Z5", 0.7, "z^2+z^3", False), ("D4", 0.7, None, True),
                                                      ("Z6", 1.0, "z**3 + z**2", True)])
def test_the_analytic_mse_hessian_is_the_complex_step_one(name, fraction, act, shared):
    G = symflow.group(name)
    mask = training_mask(G, fraction, 1) if fraction < 1 else None
    with pytest.warns(symflow.ScopeWarning) if (shared and not G.is_abelian) else _nothing():
        m = Model(G, loss="mse", activation=act, shared=shared, mask=mask)
    x = np.random.default_rng(0).normal(size=(3, len(m.vector_names) * G.order))
    want = np.stack([bruteforce.hessian(m, p) for p in x])
    np.testing.assert_allclose(mse_hessians(m, x), want, rtol=1e-11, atol=1e-11 * np.abs(want).max())


def test_silu_hessian_by_central_differences_agrees_with_the_analytic_one():
    G = symflow.group("S3")
    m = li2_model(G, training_mask(G, 0.6, 2), "silu")
    x = np.random.default_rng(1).normal(size=(2, 12))
    want = np.stack([bruteforce.hessian(m, p) for p in x])          # central differences of the gradient
    np.testing.assert_allclose(mse_hessians(m, x), want, rtol=1e-6, atol=1e-8 * np.abs(want).max())


def test_tangent_operator_and_batched_newton_reach_rounding_level():
    G = symflow.group("S3")
    m = li2_model(G, training_mask(G, 0.6, 0))
    run = ascend(m, np.random.default_rng(0).normal(size=(8, 12)), tol=1e-6)
    A, g = tangent_operators(m, run.points)
    assert np.allclose(np.einsum("mdk,md->mk", A, run.points), 0, atol=1e-10)    # radial: in the kernel
    x, r = newton_batch(m, run.points, 1e-12)
    assert np.all(r <= 1e-12) and np.allclose(bruteforce.energy(m, x), run.energies, rtol=1e-9)


def test_the_ascent_search_finds_the_flow_kinds():
    m = Model("S3", loss="mse")
    flow = landscape(m, starts=24, seed=0, search="flow")
    asc = landscape(m, starts=24, seed=0, search="ascent")
    key = lambda L: sorted((tuple(L.labels(a)), a.energy_exact, a.symmetry_dimension + a.family_dimension
                            + a.degenerate_dimension, a.stable) for a in L.attractors)
    assert key(flow) == key(asc) and asc.unconverged == 0


def test_masked_landscape_gives_stable_stationary_maxima_and_li2_rows():
    G = symflow.group("S3")
    mask = training_mask(G, 0.6, 0)
    model = li2_model(G, mask)
    L = landscape(model, starts=32, seed=0, analysis="spectrum")            # search auto: the ascent
    assert L.unconverged == 0 and L.attractors
    for a in L.attractors:
        x = np.concatenate([a.representative["u"], a.representative["v"]])
        assert bruteforce.energy(model, x) == pytest.approx(a.energy, rel=1e-12)
        assert np.linalg.norm(bruteforce.riemannian_gradient(model, x)) <= 1e-10 * a.energy
        assert a.stable and a.family_dimension is None and len(a.eigenvalues) == 11
    rows = maxima(G, starts=32, seed=0, mask=mask)["maxima"]
    assert sorted(r.energy for r in rows) == sorted(a.energy for a in L.attractors)
    assert sum(r.count for r in rows) == 32


def test_bad_search_and_analysis_and_flow_on_a_masked_model_are_one_line_errors():
    G = symflow.group("Z5")
    m = li2_model(G, training_mask(G, 0.6, 0))
    with pytest.raises(ModelError, match="full table"):
        landscape(m, starts=4, search="flow")
    with pytest.raises(SymflowError, match="search must be"):
        landscape(m, starts=4, search="newton")
    with pytest.raises(SymflowError, match="analysis must be"):
        landscape(m, starts=4, analysis="deep")


@pytest.mark.parametrize("act", ["relu", "silu"])
def test_li2_command_runs_with_relu_and_silu(act, capsys):
    assert main(["li2", "Q8", "--activation", act, "--starts", "16", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["activation"] == act and data["maxima"]
    assert sum(m["basin"]["count"] for m in data["maxima"]) + data["unconverged"] == 16
    for m in data["maxima"]:
        assert {"orbit", "dim", "type", "energy", "energy_exact", "flat_dimension", "stable", "basin"} <= set(m)
        assert m["energy_exact"] is None


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
