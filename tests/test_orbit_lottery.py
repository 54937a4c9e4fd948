"""The orbit lottery (symflow/dynamics/lottery.py, docs/theory.md section 14): each neuron's orbit predicted from
its initial Fourier blocks, checked against the simulated sphere flow from the same start (never against itself),
on groups held aside while the predictor was designed (design set: Z7, S3, D4, Q8). Floors are below the
agreement measured by bench/bench_lottery_orbits.py (1024 neurons, seed 0) with margin."""
import json

import numpy as np
import pytest

from symflow.cli import main
from symflow.dynamics import initial, simulate
from symflow.dynamics.lottery import exact_decoupling, predict_orbits, predicted_basins, simulated_orbits
from symflow.errors import ModelError
from symflow.statistics import wilson_interval
from symflow.theory.model import Model


def _agreement(model, width, seed):
    init = initial.uniform(model, width, seed)
    lot = predict_orbits(model, init)
    sim = simulated_orbits(simulate(model, init=init))
    return lot, sim, int(np.sum(lot.winner == sim))


@pytest.mark.parametrize("name", ["D5", "Dic3"])
def test_exact_reduction_agrees_with_the_simulated_flow_unshared(name):
    # unshared, separate spheres: the reduction is exact; measured 1.000 on 1024 neurons (D5, Dic3)
    model = Model(name)
    assert exact_decoupling(model)
    lot, sim, hits = _agreement(model, 96, seed=7)
    assert hits >= 94, (hits, lot.winner[lot.winner != sim], sim[lot.winner != sim])


@pytest.mark.parametrize("setting", [{"shared": True}, {"spheres": "joint"}])
def test_frozen_multiplier_agrees_with_the_simulated_flow(setting):
    # shared / joint: an approximation (Lambda = 0); measured on Z5 (1024 neurons) 0.986 shared, 0.985 joint;
    # floor 0.9 on 128
    model = Model("Z5", **setting)
    assert not exact_decoupling(model)
    init = initial.uniform(model, 128, 3)
    lot = predict_orbits(model, init, coupling="frozen")
    sim = simulated_orbits(simulate(model, init=init))
    hits = int(np.sum(lot.winner == sim))
    assert hits / 128 >= 0.9, hits
    assert wilson_interval(hits, 128)[1] > 0.95


def test_dead_neurons_are_predicted_where_the_flow_has_them():
    # Z2 shared: the flow leaves about 30 % of the neurons at Omega = 0 (docs/theory.md section 8)
    lot, sim, hits = _agreement(Model("Z2", shared=True), 128, seed=0)
    assert 0.1 < np.mean(sim < 0) < 0.5 and 0.1 < np.mean(lot.winner < 0) < 0.5
    assert hits / 128 >= 0.9


def test_predicted_basins_are_shares_of_the_predictor():
    b = predicted_basins(Model("S3"), samples=64, seed=0)
    assert b["fractions"][0] == 0 and abs(b["fractions"].sum() + b["dead"] - 1) < 1e-12
    assert b["lottery"].width == 64


def test_the_predictor_refuses_what_it_is_not_derived_for():
    with pytest.raises(ModelError, match="quadratic"):
        predict_orbits(Model("S3", activation="z**3"), initial.uniform(Model("S3"), 2, 0))


def test_command_json_contract(capsys):
    assert main(["lottery", "S3", "--width", "12", "--samples", "32", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"group", "shared", "width", "seed", "agreement", "basins"} <= set(data)
    assert data["group"] == "S3" and data["shared"] is False and data["width"] == 12 and data["seed"] == 0
    a = data["agreement"]
    assert 0 <= a["fraction"] <= 1 and a["ci95"][0] <= a["fraction"] <= a["ci95"][1]
    assert [r["orbit"] for r in data["basins"]] and all({"orbit", "dim", "predicted", "measured", "ci95"} <= set(r)
                                                        for r in data["basins"])
    assert abs(sum(r["measured"] for r in data["basins"]) - 1) < 1e-12
    labels = data["neurons"]["orbit_labels"]
    assert len(data["neurons"]["predicted"]) == 12 and all(-1 <= k < len(labels) for k in data["neurons"]["simulated"])


def test_command_orbit_mode_on_zp_and_human_output(capsys):
    assert main(["lottery", "Z5", "--orbits", "--shared", "--width", "8", "--samples", "16"]) == 0
    out = capsys.readouterr().out
    assert "Orbit lottery" in out and "agreement" in out


@pytest.mark.parametrize("argv,needle", [(["lottery", "Z1"], "trivial group"),
                                         (["lottery", "S3", "--t-max", "3"], "modular-addition lottery"),
                                         (["lottery", "S3", "--samples", "0"], "--samples"),
                                         (["lottery", "S3", "--shared", "--spheres", "joint"], "joint"),
                                         (["lottery", "Q9"], "Q9")])
def test_bad_input_is_one_line_exit_2(argv, needle, capsys):
    assert main(argv + ["--width", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_the_multipliers_are_read_from_the_derived_flow():
    from symflow.dynamics.lottery import multiplier_degrees

    assert multiplier_degrees(Model("S3")) == {"theta1": 1, "theta2": 1, "xi": 1}
    assert multiplier_degrees(Model("S3", shared=True)) == {"theta": 2, "xi": 1}
    assert multiplier_degrees(Model("S3", spheres="joint")) == {"theta1": 2, "theta2": 2, "xi": 1}
    assert exact_decoupling(Model("D4")) and not exact_decoupling(Model("D4", shared=True))


def test_block_blowup_times_match_MA_quadrature_on_abelian_blocks():
    # the shared abelian block follows alpha' = (1/n) alpha beta cos D, beta' = (1/2n) alpha^2 cos D, ...
    # (docs/theory.md section 4 without the -Omega terms): MA's ODE with p = 1/(2n), whose blow-up time
    # symflow.theory.blowup computes by quadrature, independently of the RK4 integration of the kernels
    # (measured: relative error 3.5e-5, 2.4e-6, 1.6e-7 at steps 0.1, 0.05, 0.025: fourth order)
    from symflow.theory.blowup import blowup_time

    model = Model("Z7", shared=True)
    init = initial.uniform(model, 6, 5)
    lot = predict_orbits(model, init, race=False, rtol=1e-9, step=0.025, max_steps=4000, coupling="frozen")
    th, xi = init.blocks("theta")[1][:, :, 0, 0], init.blocks("xi")[1][:, :, 0, 0]
    for m in range(6):
        for o in model.group.orbits[1:]:
            k = o[0]
            D = 2 * np.angle(th[m, k]) - np.angle(xi[m, k])
            T = blowup_time(2 * abs(th[m, k]), 2 * abs(xi[m, k]), D, p=1 / 14)
            assert abs(lot.times[m, o.id] / T - 1) < 1e-6, (m, k, lot.times[m, o.id], T)


def test_an_interrupted_simulation_makes_no_comparison(monkeypatch, capsys):
    import symflow.dynamics.drivers as drivers

    real = drivers.simulate

    def interrupted(*a, **k):
        res = real(*a, **k)
        res.interrupted = True
        return res

    monkeypatch.setattr(drivers, "simulate", interrupted)
    assert main(["lottery", "S3", "--width", "6", "--samples", "8", "--json"]) == 130
    data = json.loads(capsys.readouterr().out)
    assert data["agreement"]["fraction"] is None and data["comparison"].startswith("not made")
    assert all(r["measured"] is None for r in data["basins"])


def test_unshared_sphere_flow_is_the_normalised_unconstrained_flow_in_parameter_space():
    # the reduction's claim, checked on the Cayley table (symflow.neuron.bruteforce), not on the block flows:
    # v' = grad Omega(v) keeps |theta1| = |theta2| = |xi| = R, and v / R follows the sphere flow with dt = R dtau
    from scipy.integrate import solve_ivp

    from symflow.groups import group
    from symflow.neuron.bruteforce import euclidean_gradients

    G = group("S3")
    n = G.order
    rng = np.random.default_rng(2)
    u0 = rng.standard_normal((3, n))
    u0 /= np.linalg.norm(u0, axis=1, keepdims=True)

    def unconstrained(tau, y):
        v = y[:-1].reshape(3, n)
        return np.concatenate([np.concatenate(euclidean_gradients(G, *v)), [np.linalg.norm(v[0])]])

    def sphere(t, y):
        u = y.reshape(3, n)
        g = np.stack(euclidean_gradients(G, *u))
        om = np.sum(u[2] * g[2])
        return (g - om * u).ravel()

    tau1 = 0.6 * n ** 2
    a = solve_ivp(unconstrained, (0, tau1), np.concatenate([u0.ravel(), [0.0]]), rtol=1e-11, atol=1e-13)
    v, t1 = a.y[:-1, -1].reshape(3, n), a.y[-1, -1]
    R = np.linalg.norm(v, axis=1)
    assert np.allclose(R, R[0], rtol=1e-8) and R[0] > 1.01
    b = solve_ivp(sphere, (0, t1), u0.ravel(), rtol=1e-11, atol=1e-13)
    assert np.abs(b.y[:, -1].reshape(3, n) - v / R[:, None]).max() < 1e-7
