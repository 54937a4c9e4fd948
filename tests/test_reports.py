"""Issue 12, "Reports": what ``symflow study`` writes says exactly what was compared.

* every ``summary.json`` row carries its ``section`` and ``verdict``; the file has ``totals``
  (rows per verdict) and ``warnings``; every earlier key is kept (the contract only grows);
* a row the theory does not state (Stage II on non-abelian groups, basin fractions, ...) is a
  measurement without a predicted value and tolerance;
* ``study --strict`` exits 1 when a prediction disagrees (0 otherwise; 130 after Ctrl-C);
* a width too small for population claims is a warning (report.md, stderr, ``warnings``);
* figures: y labels on ``rates.png``, a colour key on ``phases.png``, no placeholder values in
  ``alignment.png`` (read from the matplotlib objects, not from pixels);
* no object reprs (``<Class ...>``) in a report;
* ``study --loss mse``: Li2's model, the CE theorems shown as measurements or not covered.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from symflow.cli import main
from symflow.errors import SymflowError
from symflow.study import Prediction, run_study
from symflow.study import claims
from symflow.study.predictions import VERDICTS
from symflow.study.report import fmt, report_markdown

ROOT = Path(__file__).resolve().parents[1]
OLD_KEYS = {"group", "width", "seed", "settings", "predictions"}
OLD_ROW_KEYS = {"name", "predicted", "measured", "tolerance", "agrees", "detail"}
REPR = re.compile(r"<[A-Za-z_][\w.]* |object at 0x")


def _cli(tmp, *argv):
    out = tmp / "out"
    rc = main(["study", *argv, "--out", str(out), "--no-progress"])
    return rc, out


@pytest.fixture(scope="module")
def f21(tmp_path_factory):
    """``symflow study F21 --no-figures`` (the default width)."""
    rc, out = _cli(tmp_path_factory.mktemp("f21"), "F21", "--no-figures")
    assert rc == 0
    return json.loads((out / "summary.json").read_text()), (out / "report.md").read_text()


@pytest.fixture(scope="module")
def z6(tmp_path_factory):
    """``symflow study Z6`` (figures included)."""
    rc, out = _cli(tmp_path_factory.mktemp("z6"), "Z6")
    assert rc == 0
    return json.loads((out / "summary.json").read_text()), (out / "report.md").read_text()


@pytest.fixture(scope="module")
def z5():
    return run_study("Z5", width=64, seed=1, progress=False)


# ------------------------------------------------------------------ 1. sections and totals
def test_summary_rows_carry_section_and_file_has_totals(f21, z6):
    for summary, _ in (f21, z6):
        assert OLD_KEYS | {"totals", "warnings"} <= set(summary)
        rows = summary["predictions"]
        assert rows and all(OLD_ROW_KEYS | {"section", "verdict"} <= set(r) for r in rows)
        assert all(isinstance(r["section"], str) and r["section"] for r in rows)
        assert all(r["verdict"] in VERDICTS for r in rows)
        totals = summary["totals"]
        for v in VERDICTS:
            assert totals[v] == sum(r["verdict"] == v for r in rows), v
        assert totals["rows"] == len(rows)
        # the verdict is the old "agrees" field spelled out
        assert all((r["agrees"] is True) == (r["verdict"] == "agrees") for r in rows)
        assert all((r["agrees"] is False) == (r["verdict"] == "disagrees") for r in rows)
    sections = {r["section"] for r in z6[0]["predictions"]}
    assert {"end state", "energies", "rates", "basins", "stage II"} <= sections
    assert "Totals:" in z6[1]


def test_f21_summary_is_backward_compatible(f21):
    summary, _ = f21
    assert (summary["group"], summary["width"], summary["seed"]) == ("F21", 512, 0)
    assert summary["settings"]["model"]["loss"] == "ce" and summary["settings"]["spheres"] == "separate"
    for r in summary["predictions"]:
        assert isinstance(r["name"], str) and isinstance(r["detail"], str)
        assert r["agrees"] in (True, False, None)
    assert summary["totals"]["disagrees"] == 0 and summary["totals"]["agrees"] >= 8


# ------------------------------------------------------------------ 2. measurements state no prediction
def test_measurement_rows_have_no_predicted_value_or_tolerance(f21, z6):
    for summary, md in (f21, z6):
        measured = [r for r in summary["predictions"] if r["verdict"] == "measured"]
        assert measured
        for r in measured:
            assert r["predicted"] is None and r["tolerance"] is None and r["agrees"] is None, r["name"]
            assert r["measured"] is not None
            line = next(ln for ln in md.splitlines() if ln.startswith(f"- **{r['name']}**"))
            assert "(measured): measured" in line and "tolerance" not in line.split(".")[0], line
    # Stage II on a non-abelian group: stated by the theory only for abelian groups
    stage2 = [r for r in f21[0]["predictions"] if r["section"] == "stage II"]
    assert stage2 and all(r["verdict"] in ("measured", "not checked") for r in stage2)
    assert all(r["predicted"] is None and r["tolerance"] is None for r in stage2)
    assert any("not a prediction for this model" in r["detail"] for r in stage2)
    table = [ln for ln in f21[1].splitlines() if ln.startswith("| stage II |")]
    assert table and all(ln.split(" | ")[2] == "-" and ln.split(" | ")[4] == "-" for ln in table)


def test_a_measurement_row_drops_a_predicted_value():
    p = Prediction("basin", 0.5, 0.4, "measurement", None, "x", "basins")
    assert (p.predicted, p.tolerance, p.verdict, p.to_json()["verdict"]) == (None, None, "measured", "measured")
    q = Prediction("skipped", 1.0, None, "relative 0.05", None, "too few fits", "rates")
    assert q.verdict == "not checked" and q.predicted == 1.0
    assert Prediction("r", 1.0, 2.0, "exact", False).to_json()["verdict"] == "disagrees"


# ------------------------------------------------------------------ 3. --strict
def test_strict_exits_1_only_when_a_prediction_disagrees(tmp_path, monkeypatch, capsys):
    argv = ("Z5", "--width", "64", "--seed", "1", "--no-figures", "--no-stage2")
    assert _cli(tmp_path / "a", *argv, "--strict")[0] == 0
    monkeypatch.setattr(claims, "RATE_TOL", 1e-15)       # no fitted rate is that exact: rates disagree
    assert _cli(tmp_path / "b", *argv)[0] == 0             # a disagreement is a finding, not a failure...
    rc, out = _cli(tmp_path / "c", *argv, "--strict")
    assert rc == 1                                         # ...unless --strict
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["disagrees"] >= 1
    err = capsys.readouterr().err
    assert "--strict" in err and "disagree" in err


def test_strict_interrupted_still_exits_130(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="200")
    proc = subprocess.Popen([sys.executable, "-m", "symflow", "study", "Z5", "--width", "20000", "--strict",
                             "--no-progress", "--out", str(tmp_path / "s")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    try:
        while "simulating" not in seen:
            line = proc.stderr.readline()
            assert line, f"the command ended before simulating: {seen}"
            seen += line
        time.sleep(1.5)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, seen + err
    assert "Traceback" not in err


# ------------------------------------------------------------------ 4. width warning
def test_small_width_warns_in_report_stderr_and_summary(tmp_path, capsys):
    rc, out = _cli(tmp_path, "D4", "--width", "30", "--no-figures", "--no-stage2")
    assert rc == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(lines) == 1 and "20 per orbit" in lines[0] and "--width 80" in lines[0], err
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["warnings"]) == 1 and "4 non-trivial orbits" in summary["warnings"][0]
    md = (out / "report.md").read_text()
    assert "## Warnings" in md and summary["warnings"][0] in md


def test_wide_enough_population_has_no_warning(z5):
    assert z5.warnings == [] and z5.summary()["warnings"] == []
    assert claims.population_warnings(z5.data.group, 40) == []        # 2 orbits: 20 each
    assert claims.population_warnings(z5.data.group, 39)


# ------------------------------------------------------------------ 5. figures
def _figures(study):
    pytest.importorskip("matplotlib")
    from symflow.study.figures import figure_objects

    return {name: fig for fig, name, _ in figure_objects(study)}


def _plotted_values(fig):
    """Every x and y value drawn in ``fig``: line data and bar/histogram rectangles."""
    from matplotlib.patches import Rectangle

    vals = []
    for ax in fig.axes:
        for line in ax.get_lines():
            vals += [np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)]
        for p in ax.patches:
            if isinstance(p, Rectangle):
                vals.append(np.array([p.get_x(), p.get_x() + p.get_width()]))
    return np.concatenate(vals) if vals else np.array([])


def test_figures_are_labelled_and_have_no_placeholders(z5):
    import matplotlib.pyplot as plt

    figs = _figures(z5)
    try:
        assert {"rates.png", "phases.png", "alignment.png"} <= set(figs)
        rate_axes = [ax for ax in figs["rates.png"].axes if ax.get_visible() and ax.axison]
        assert rate_axes and all(ax.get_ylabel() for ax in rate_axes)
        phases = figs["phases.png"]
        assert phases.legends or any(ax.get_legend() for ax in phases.axes)
        key = (phases.legends or [ax.get_legend() for ax in phases.axes if ax.get_legend()])[0]
        assert any("k=" in t.get_text() for t in key.get_texts())
        vals = _plotted_values(figs["alignment.png"])
        assert vals.size and np.all(vals[np.isfinite(vals)] > -17)
        # Z5's blocks are 1-dimensional: sigma2/sigma1 is exactly 0 and is counted, not drawn at -18
        assert "exactly 0" in figs["alignment.png"].axes[0].get_xlabel()
        for name in ("energy.png", "rates.png"):
            for ax in figs[name].axes:
                for line in ax.get_lines():
                    y = np.asarray(line.get_ydata(), float)
                    assert not np.any(y == 1e-18) and np.all(y[np.isfinite(y)] > 0), name   # no placeholder
    finally:
        plt.close("all")


# ------------------------------------------------------------------ 6. no object reprs
def test_report_values_are_sentences_not_reprs(z5):
    from symflow.modular.mechanism import flawed_indicator_fit, network_logits

    G = z5.data.group
    rng = np.random.default_rng(0)
    fit = flawed_indicator_fit(network_logits(*rng.normal(size=(3, 4, 5))), np.asarray(G.table))
    assert "<" in repr(fit)
    assert not REPR.search(fmt(fit)) and "FlawedIndicatorFit" in fmt(fit)
    assert not REPR.search(fmt(object()))
    z5.predictions.append(Prediction("an object as a measurement", None, fit, None, None, "x", "extra"))
    try:
        assert not REPR.search(report_markdown(z5, ["NOTE none"]))
    finally:
        z5.predictions.pop()


def test_no_object_reprs_in_reports(f21, z6):
    for _, md in (f21, z6):
        assert not REPR.search(md), REPR.search(md)


# ------------------------------------------------------------------ 7. --loss mse
def test_study_mse(tmp_path, capsys):
    rc, out = _cli(tmp_path, "Z5", "--loss", "mse", "--width", "48", "--json")
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    summary = json.loads((out / "summary.json").read_text())
    assert printed["totals"] == summary["totals"]
    assert summary["settings"]["model"]["loss"] == "mse" and summary["settings"]["spheres"] == "joint"
    rows = summary["predictions"]
    # the CE theorems are measurements only; the landscape search's kinds are predictions for any model
    theory = [r for r in rows if r["section"] != "landscape"]
    assert theory and all(r["verdict"] in ("measured", "not checked") for r in theory)
    assert summary["totals"]["disagrees"] == 0
    assert summary["totals"]["agrees"] == sum(r["verdict"] == "agrees" for r in rows if r["section"] == "landscape")
    covered = [r for r in rows if "not covered by the theorem (CE)" in r["detail"]]
    assert {"end state", "rates", "population law (abelian)", "mechanism (abelian)", "stage II"} <= {
        r["section"] for r in covered}
    energy = [r for r in rows if r["section"] == "energies"]
    assert energy and all(r["verdict"] == "measured" and r["measured"] > 0 for r in energy)
    single = next(r for r in rows if r["name"].startswith("every neuron ends on a single orbit"))
    assert single["measured"] == 1.0 and single["predicted"] is None
    md = (out / "report.md").read_text()
    assert "Loss: **mse**" in md and "DISAGREES" not in md


def test_study_mse_nonabelian_and_figures():
    study = run_study("S3", width=16, seed=0, progress=False, loss="mse")
    assert study.settings["model"]["loss"] == "mse" and study.totals["rows"] == len(study.predictions)
    assert not study.disagreed
    assert study.totals["agrees"] == sum(p.agrees is True for p in study.predictions if p.section == "landscape")
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        return
    figs = _figures(study)
    assert "undefined" in figs["alignment.png"].axes[1].get_xlabel()     # no cosines without xi
    plt.close("all")


def test_study_loss_errors(tmp_path, capsys):
    with pytest.raises(SymflowError, match="loss must be one of ce, mse"):
        run_study("Z3", width=4, loss="huber", progress=False)
    assert main(["study", "Z3", "--loss", "huber", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "'ce' or 'mse'" in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "x").exists()
