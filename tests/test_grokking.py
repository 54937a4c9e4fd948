"""Grokking: stage detector on synthetic curves, progress measures, mechanism read-out, smoke tests."""
import json
import os
import runpy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symflow.cli import main
from symflow.errors import SymflowError
from symflow.modular.grokking import GrokConfig, detect_stages, progress_measures, run_grokking
from symflow.modular.mechanism import (activation_swap, flawed_indicator_fit, flawed_indicator_template,
                                       ideal_network, mechanism_report, network_logits,
                                       single_frequency_projection)
from symflow.modular.report import has_matplotlib, write_grokking_report

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _sig(t, t0, width):
    return 1.0 / (1.0 + np.exp(-(t - t0) / width))


# ---------------------------------------------------------------------- stage detector
@settings(max_examples=25, deadline=None)
@given(t_mem=st.integers(100, 800), delay=st.integers(300, 3000), base=st.floats(0.0, 0.4),
       noise_seed=st.integers(0, 1000))
def test_stage_detector_on_synthetic_grokking(t_mem, delay, base, noise_seed):
    step = np.arange(0, 6001, 20)
    train = np.clip(_sig(step, t_mem, 15) + 0.002, 0, 1)
    test = base + (1 - base) * _sig(step, t_mem + delay, 40)
    rng = np.random.default_rng(noise_seed)
    test = np.clip(test + rng.uniform(-0.01, 0.01, len(step)) * (test < 0.9), 0, 1)  # small noise, before the end
    test[step > t_mem + delay + 400] = 1.0
    s = detect_stages(step, train, test)
    assert abs(s.memorised - (t_mem + 15 * np.log(0.99 / 0.01))) <= 40      # train acc crosses 0.99
    assert abs(s.generalised - (t_mem + delay + 40 * np.log((0.95 - base) / (1 - 0.95)))) <= 60
    assert s.perfect is not None and s.perfect >= s.generalised
    assert s.grokking


def test_stage_detector_dips_and_no_grokking():
    step = np.arange(0, 1000, 10)
    train = _sig(step, 200, 10)
    train[30] = 0.5  # a transient dip after the first crossing: the sustained crossing comes later
    s = detect_stages(step, train, train)  # test follows train: generalisation with memorisation
    assert s.memorised > 300 and not s.grokking
    flat = detect_stages(step, train, np.full(len(step), 0.3))
    assert flat.generalised is None and flat.perfect is None and not flat.grokking
    assert "incomplete" in flat.describe()[1][0]
    with pytest.raises(SymflowError):
        detect_stages(step, train, np.full(len(step), np.nan))
    with pytest.raises(SymflowError):
        detect_stages(step[:3], train, train)


# ---------------------------------------------------------------------- measures and mechanism
def test_progress_measures_single_frequency_and_random():
    th, xi = ideal_network(11, 3)
    m = progress_measures(th, th, xi)
    assert abs(m["ipr"] - 1) < 1e-12 and m["mean_abs_sin_D"] < 1e-12 and abs(m["dominant_share"] - 1) < 1e-12
    rng = np.random.default_rng(0)
    r = progress_measures(*rng.standard_normal((3, 20, 11)))
    assert r["ipr"] < 0.5 and r["mean_abs_sin_D"] > 0.3


@pytest.mark.parametrize("p,R", [(7, 3), (11, 5), (13, 8)])
def test_ideal_network_is_exact_flawed_indicator(p, R):
    th, xi = ideal_network(p, R)
    fit = flawed_indicator_fit(network_logits(th, th, xi))
    assert np.allclose(fit.coef, np.array([2, 1, 1]) * p * R / 8, rtol=1e-10)
    assert fit.r2 > 1 - 1e-10 and fit.correlation > 1 - 1e-10 and fit.accuracy == 1.0
    assert abs(fit.margin - 0.5) < 1e-9  # ghost peaks at half height: the 2:1 margin
    swap = activation_swap(th, None, xi)
    assert all(acc == 1.0 for acc, parity in swap.values() if parity == "even")
    assert all(acc < 0.3 for acc, parity in swap.values() if parity == "odd")


def test_unshared_ideal_network_has_no_ghost_peaks():
    p, R = 11, 3
    j = np.arange(p)
    rows1, rows2, rowsx = [], [], []
    for k in range(1, (p - 1) // 2 + 1):
        for a in range(R):
            for b in range(R):
                f1, f2 = 2 * np.pi * a / R, 2 * np.pi * b / R
                w = 2 * np.pi * k / p
                rows1.append(np.cos(w * j + f1))
                rows2.append(np.cos(w * j + f2))
                rowsx.append(np.cos(w * j + f1 + f2))
    fit = flawed_indicator_fit(network_logits(np.array(rows1), np.array(rows2), np.array(rowsx)))
    assert fit.accuracy == 1.0 and abs(fit.coef[1]) < 1e-9 * fit.coef[0] and fit.r2 > 1 - 1e-10


def test_mechanism_report_and_projection():
    th, xi = ideal_network(7, 3)
    rng = np.random.default_rng(1)
    noisy = th + 0.05 * rng.standard_normal(th.shape)
    rep = mechanism_report(noisy, None, xi)
    assert rep.fit.accuracy == 1.0 and rep.mean_abs_sin_D < 0.1 and rep.frequencies_used == [1, 2, 3]
    proj = single_frequency_projection(noisy, noisy, xi)
    assert np.allclose(proj[2], xi, atol=1e-12)
    assert "FlawedIndicatorFit" in repr(rep) and "mathbb" in rep._repr_latex_()
    json.dumps(rep.to_json())


@pytest.mark.parametrize("bad", [np.zeros((5, 5)), np.zeros((4, 4, 3)), np.full((3, 3, 3), np.nan)])
def test_flawed_indicator_bad_input(bad):
    with pytest.raises(SymflowError):
        flawed_indicator_fit(bad)


def test_template_and_ideal_bad_input():
    T = flawed_indicator_template(5)
    assert T[1, 1, 2] == 4 and T[1, 2, 3] == 2 and T[1, 2, 2] == 1 and T[1, 2, 4] == 1
    with pytest.raises(SymflowError):
        ideal_network(11, 4)  # e^{4 i phi} would not average out


# ---------------------------------------------------------------------- smoke tests
def test_grokking_smoke(tmp_path):
    res = run_grokking(progress=False, p=11, width=32, steps=120, frac=0.6, record_every=20)
    n = len(res.history.step)
    assert n == 7 and all(len(v) == n for v in res.measures.values())
    assert res.config.to_json()["record_every"] == 20 and "numpy" in res.versions
    files = write_grokking_report(res, tmp_path)
    text = Path(files["report"]).read_text()
    assert "## Stages" in text and "Rule:" in text
    assert ("figure" in files) == has_matplotlib()
    if not has_matplotlib():
        assert "matplotlib is not installed" in text
    data = json.loads(Path(files["json"]).read_text())
    assert data["config"]["p"] == 11 and len(data["curves"]["ipr"]) == n
    z = np.load(files["npz"])
    assert z["final_theta"].shape == (32, 11) and "stages" in str(z["metadata"])


@pytest.mark.parametrize("kw", [dict(frac=1.0), dict(p=10), dict(act="tanh"), dict(steps=0), dict(weight_decay=-1.0)])
def test_grok_config_errors(kw):
    with pytest.raises(SymflowError):
        GrokConfig(**kw).validate()


def test_grok_cli(capsys, tmp_path):
    argv = ["grok", "--p", "11", "--frac", "0.6", "--weight-decay", "1", "--steps", "60", "--width", "16",
            "--out", str(tmp_path)]
    assert main(argv + ["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["steps"] == 60 and (tmp_path / "report.md").exists()
    assert main(argv) == 0 and "stage" in capsys.readouterr().out
    assert main(["grok", "--frac", "1.5", "--out", str(tmp_path)]) == 2
    assert "frac" in capsys.readouterr().err


@pytest.mark.parametrize("script", ["z23_lottery.py", "z23_grokking.py"])
def test_examples_fast(script, capsys, tmp_path, monkeypatch):
    argv = ["--fast"] + (["--out", str(tmp_path)] if "grok" in script else [])
    monkeypatch.setattr("sys.argv", [script] + argv)
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out = capsys.readouterr().out
    assert ("confirmed" in out and "agreement" in out) if "lottery" in script else ("100 %" in out)


# ---------------------------------------------------------------------- issue 12: files and interrupts
@pytest.fixture(scope="module")
def small_run():
    return run_grokking(p=11, width=16, steps=40, frac=0.6, record_every=10)


def test_report_never_silently_overwrites(small_run, tmp_path):
    """write_grokking_report goes through symflow.outputs.OutputFolder: a user's folder is refused unless
    force=True, an earlier grok output is replaced whole, an unusable path is one SymflowError."""
    from symflow.outputs import read_marker

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.md").write_text("the user's own report")
    with pytest.raises(SymflowError, match="refusing to replace"):
        write_grokking_report(small_run, mine)
    assert (mine / "report.md").read_text() == "the user's own report"
    files = write_grokking_report(small_run, mine, force=True)
    assert Path(files["report"]).parent == mine and "# Grokking on Z_11" in (mine / "report.md").read_text()
    assert read_marker(mine)["kind"] == "grok"
    umask = os.umask(0)
    os.umask(umask)
    assert mine.stat().st_mode & 0o777 == 0o777 & ~umask     # an output folder is not private (mkdtemp's 0700)
    (mine / "stale.png").write_text("an earlier figure")
    write_grokking_report(small_run, mine)          # an earlier grok output: replaced whole
    assert not (mine / "stale.png").exists() and (mine / "metrics.json").exists()
    (tmp_path / "plain").write_text("x")
    with pytest.raises(SymflowError, match="not a folder"):
        write_grokking_report(small_run, tmp_path / "plain" / "out")
    assert not [p for p in tmp_path.iterdir() if "symflow-tmp" in p.name]


def _interrupt_training_at(monkeypatch, call: int):
    """A Ctrl-C inside the ``call``-th evaluation of the network (once)."""
    from symflow.dynamics.network import TwoLayerNetwork

    real, seen = TwoLayerNetwork.evaluate, []

    def evaluate(self, *a, **k):
        seen.append(1)
        if len(seen) == call:
            raise KeyboardInterrupt
        return real(self, *a, **k)
    monkeypatch.setattr(TwoLayerNetwork, "evaluate", evaluate)


def test_interrupted_grok_makes_no_verdict(monkeypatch, capsys, tmp_path):
    _interrupt_training_at(monkeypatch, 25)
    res = run_grokking(p=11, width=16, steps=400, frac=0.6, record_every=5)
    assert res.interrupted
    reached = int(res.history.step[-1])
    assert res.stages.grokking is None and res.stages.interrupted == (reached, 400)
    assert res.stages.verdict == f"no verdict: interrupted at step {reached} of 400 (the stage rule needs the whole run)"
    data = res.to_json()["stages"]
    assert data["grokking"] is None and data["interrupted_at_step"] == reached
    files = write_grokking_report(res, tmp_path / "g")
    text = Path(files["report"]).read_text()
    assert "no verdict: interrupted at step" in text and "interrupted run" in text
    assert "no grokking by the stated rule" not in text and "did **not** reach" not in text
    _interrupt_training_at(monkeypatch, 25)
    assert main(["grok", "--p", "11", "--width", "16", "--steps", "400", "--frac", "0.6", "--out",
                 str(tmp_path / "g2")]) == 130
    out = capsys.readouterr().out
    assert "no verdict" in out and "grokking by the stated rule" not in out and "<" not in out


def test_grok_curves_have_labelled_stage_lines(small_run):
    """Issue 12: the stage lines on grok's curves carry labels (a legend names each detected stage)."""
    pytest.importorskip("matplotlib")   # the plot extra; CI installs it
    import matplotlib.pyplot as plt

    from symflow.modular.report import STAGE_LINES, figure

    import copy
    import dataclasses

    res = copy.copy(small_run)
    res.stages = dataclasses.replace(small_run.stages, memorised=10, generalised=20, perfect=30)
    fig = figure(res)
    try:
        detected = [(attr, label) for attr, _, label in STAGE_LINES]
        for ax in fig.axes:
            labels = ax.get_legend_handles_labels()[1]
            for attr, label in detected:
                assert any(lab.startswith(label) for lab in labels), (ax.get_title(), labels)
            assert ax.get_xlabel() == "step"
    finally:
        plt.close(fig)
