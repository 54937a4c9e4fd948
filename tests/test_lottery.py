"""Lottery ticket: blow-up-time prediction vs gradient-flow simulation on tiny cases, and the CLI."""
import json

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from symflow.cli import main
from symflow.errors import SymflowError
from symflow.modular.lottery import (dominant_frequency, predict_winners, random_start, run_lottery,
                                     simulate_gradient_flow, single_frequency_start)
from symflow.theory.blowup import blowup_time
from symflow.codegen import modular_rates
from symflow.theory.modular import ModularAdditionODE


def _neuron(p, comps):
    """theta, xi of one neuron from {k: (alpha, beta, phi, psi)}."""
    j = np.arange(p)
    th, xi = np.zeros(p), np.zeros(p)
    for k, (a, b, ph, ps) in comps.items():
        th += a * np.cos(2 * np.pi * k * j / p + ph)
        xi += b * np.cos(2 * np.pi * k * j / p + ps)
    return th, xi


@settings(max_examples=20, deadline=None)
@given(a1=st.floats(0.01, 1), b1=st.floats(0.01, 1), d1=st.floats(-3, 3),
       a2=st.floats(0.01, 1), b2=st.floats(0.01, 1), d2=st.floats(-3, 3))
@example(a1=0.010000000000000002, b1=0.01, d1=0.0, a2=0.01, b2=0.01, d2=0.0)  # an exact tie T2 = T5
def test_prediction_is_earliest_blowup(a1, b1, d1, a2, b2, d2):
    p = 11
    th, xi = _neuron(p, {2: (a1, b1, 0.4, 0.8 - d1), 5: (a2, b2, -1.0, -2.0 - d2)})
    pr = predict_winners(th, xi)
    T2, T5 = blowup_time(a1, b1, d1, p), blowup_time(a2, b2, d2, p)
    assert abs(pr.times[0, 1] - T2) < 1e-9 * T2 and abs(pr.times[0, 4] - T5) < 1e-9 * T5
    assert np.isinf(pr.times[0, [0, 2, 3]]).all()  # zero amplitude: never blows up
    # the winner blows up first (a tie to the 1e-9 precision above may go either way)
    assert pr.winner[0] in (2, 5) and {2: T2, 5: T5}[pr.winner[0]] <= min(T2, T5) * (1 + 2e-9)
    if abs(T2 - T5) > 2e-9 * max(T2, T5):
        assert pr.winner[0] == (2 if T2 < T5 else 5)
    assert pr.margin[0] >= 1


def test_no_frequency_no_winner():
    pr = predict_winners(np.ones((1, 5)), np.ones((1, 5)))
    assert pr.winner[0] == 0 and np.isinf(pr.winner_time[0])


def test_linear_flow_is_the_decoupled_ode():
    """Parameter-space small-logit flow == the derived per-frequency ODE, amplitude by amplitude."""
    p, M = 7, 4
    th, xi = random_start(p, M, 0.05, seed=3)
    run = simulate_gradient_flow(th, xi, model="linear", stop_logit=1.0, rtol=1e-9, progress=False)
    pr = predict_winners(th, xi)
    assert run.t < pr.winner_time.min()  # stopped before the earliest blow-up
    f = modular_rates(ModularAdditionODE())

    def rhs(t, y):
        a, b, d = y.reshape(3, -1)
        da, db, dd, _, _ = f(a, b, d, p)
        return np.concatenate([da, db, dd])

    y0 = np.concatenate([pr.alpha.ravel(), pr.beta.ravel(), pr.D.ravel()])
    sol = solve_ivp(rhs, (0, run.t), y0, method="DOP853", rtol=1e-11, atol=1e-14)
    a_end = sol.y[: pr.alpha.size, -1].reshape(pr.alpha.shape)
    assert np.allclose(run.record_alpha[-1], a_end, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 2])
def test_prediction_vs_simulation_tiny(seed):
    lin = run_lottery(7, 8, 0.05, seed=seed, model="linear", progress=False)
    assert lin.agreement == 1.0
    ce = run_lottery(7, 8, 0.05, seed=seed, model="ce", progress=False)
    assert ce.agreement >= 0.75  # measured 1.0 for seeds 0..2 (full cross-entropy, stop at logit spread 2)
    assert ce.run.stop_reason.startswith("logit spread")
    s = ce.summary()
    assert 0 <= s["baseline_initial_dominant"] <= 1 and s["stop_time"] > 0


def test_single_frequency_start_zero_amplitude_stays_zero():
    res = run_lottery(7, 6, 0.05, seed=0, start="single", progress=False)
    assert res.agreement == 1.0
    assert res.simulated_share.min() > 0.99  # other frequencies stay (near) zero under full CE
    th, xi, k = single_frequency_start(7, 6, 0.05, seed=0)
    assert np.array_equal(dominant_frequency(th, xi)[0], k)


def test_result_json_and_files(tmp_path):
    res = run_lottery(5, 3, 0.05, seed=1, progress=False)
    data = json.loads(json.dumps(res.to_json()))
    assert data["parameters"]["p"] == 5 and "versions" in data and len(data["blowup_times"]) == 3
    files = res.save(tmp_path)
    z = np.load(files["npz"])
    assert z["times"].shape == (3, 2) and "agreement" in str(z["metadata"])
    assert "LotteryResult" in repr(res) and res.table().row_count >= 3


@pytest.mark.parametrize("kw", [dict(p=8), dict(width=0), dict(kappa=-1.0), dict(start="none"), dict(model="mse")])
def test_bad_input(kw):
    args = dict(p=5, width=2, kappa=0.1, seed=0, progress=False) | kw
    with pytest.raises(SymflowError):
        run_lottery(**args)


def test_cli(capsys, tmp_path):
    assert main(["lottery", "--p", "5", "--width", "3", "--init", "0.05", "--json", "--out", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert 0 <= data["summary"]["agreement"] <= 1 and (tmp_path / "lottery.json").exists()
    assert main(["lottery", "--p", "5", "--width", "3", "--init", "0.05", "--start", "single"]) == 0
    assert "agreement" in capsys.readouterr().out
    assert main(["lottery", "--p", "6", "--width", "3"]) == 2
    assert "odd integer" in capsys.readouterr().err


# ---------------------------------------------------------------------- issue 12: files and interrupts
def test_save_never_silently_overwrites(tmp_path):
    """LotteryResult.save goes through symflow.outputs.OutputFolder: a user's folder is refused unless
    force=True, an earlier lottery output is replaced whole, an unusable path is one SymflowError."""
    from symflow.outputs import read_marker

    res = run_lottery(5, 3, 0.05, seed=1)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "lottery.json").write_text("the user's own file")
    with pytest.raises(SymflowError, match="refusing to replace"):
        res.save(mine)
    assert (mine / "lottery.json").read_text() == "the user's own file"
    files = res.save(mine, force=True)
    assert json.loads(open(files["json"]).read())["parameters"]["p"] == 5
    assert read_marker(mine)["kind"] == "lottery"
    (mine / "stale.txt").write_text("left by hand")
    res.save(mine)                                   # an earlier lottery output: replaced whole
    assert not (mine / "stale.txt").exists() and (mine / "lottery.npz").exists()
    (tmp_path / "plain").write_text("x")
    with pytest.raises(SymflowError, match="not a folder"):
        res.save(tmp_path / "plain" / "out")
    assert not [p for p in tmp_path.iterdir() if "symflow-tmp" in p.name]


def _interrupt_flow_after(monkeypatch, calls: int):
    """Make the gradient-flow simulation see a Ctrl-C at its ``calls``-th window."""
    import scipy.integrate

    seen = []

    def solve(*a, **k):
        seen.append(1)
        if len(seen) == calls:
            raise KeyboardInterrupt
        return solve_ivp(*a, **k)
    monkeypatch.setattr(scipy.integrate, "solve_ivp", solve)


def test_interrupted_lottery_makes_no_comparison(monkeypatch, capsys, tmp_path):
    _interrupt_flow_after(monkeypatch, 3)
    res = run_lottery(5, 3, 0.05, seed=1)
    assert res.run.interrupted and not res.compared
    s = res.summary()
    assert s["agreement"] is None and s["agreement_decided"] is None
    assert s["comparison"].startswith(f"not made: interrupted at t = {res.run.t:.4g}")
    assert "not made" in str(res.table().caption) and "comparison not made" in repr(res)
    _interrupt_flow_after(monkeypatch, 3)
    assert main(["lottery", "--p", "5", "--width", "3", "--init", "0.05", "--seed", "1", "--out",
                 str(tmp_path / "l")]) == 130
    out = capsys.readouterr().out
    assert "comparison not made: interrupted" in out and "agreement (predicted" not in out
    saved = json.loads((tmp_path / "l" / "lottery.json").read_text())["summary"]
    assert saved["agreement"] is None and saved["comparison"].startswith("not made")
