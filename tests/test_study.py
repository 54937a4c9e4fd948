"""symflow study: the summary contract, the claims on small groups, the CLI, the examples (fast mode)."""
import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from symflow.cli import main
from symflow.dynamics.stage2 import Stage2Prediction, aligned_population, scale_flow, simulate_stage2
from symflow.errors import SymflowError
from symflow.groups import group
from symflow.modular.mechanism import (flawed_indicator_fit, indicator_coefficients, network_logits,
                                       phase_averaged_weights)
from symflow.study import run_study
from symflow.statistics import fit_exponential_rate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ROW_KEYS = {"name", "predicted", "measured", "tolerance", "agrees", "detail"}
#: Keys added by issue 12 (the contract only grows): a row's section and verdict, the file's totals and warnings.
ADDED_ROW_KEYS = {"section", "verdict"}
ADDED_KEYS = {"totals", "warnings"}


@pytest.fixture(scope="module")
def z5():
    return run_study("Z5", width=64, seed=1, progress=False)


@pytest.fixture(scope="module")
def d4():
    return run_study("D4", width=48, seed=2, progress=False, stage2=False)


def test_summary_contract(z5):
    s = json.loads(json.dumps(z5.summary()))
    assert set(s) == {"group", "width", "seed", "settings", "predictions"} | ADDED_KEYS
    assert (s["group"], s["width"], s["seed"]) == ("Z5", 64, 1)
    assert all(set(p) == ROW_KEYS | ADDED_ROW_KEYS for p in s["predictions"])
    assert all(p["agrees"] in (True, False, None) for p in s["predictions"])
    assert s["settings"]["versions"]["sympy"] and s["settings"]["time_unit"] == "c = 1"


def test_stage_one_claims_agree_on_small_groups(z5, d4):
    for study in (z5, d4):
        rows = [p for p in study.predictions if p.section in ("end state", "energies", "rates")]
        assert rows and all(p.agrees for p in rows), [(p.name, p.predicted, p.measured) for p in rows if not p.agrees]
        assert any(p.name.startswith("competition rate") for p in rows)


def test_abelian_rows_present_and_nonabelian_absent(z5, d4):
    sec = {p.section for p in z5.predictions}
    assert {"population law (abelian)", "mechanism (abelian)", "stage II"} <= sec
    assert not {"population law (abelian)", "mechanism (abelian)"} & {p.section for p in d4.predictions}
    # phase alignment exists for complex orbits (Z5), not for the real irreps of D4
    assert any("phase-alignment" in p.name for p in z5.predictions)
    assert not any("phase-alignment" in p.name for p in d4.predictions)


def test_omega_star_rows_use_the_exact_values(z5):
    row = next(p for p in z5.predictions if p.name.startswith("Omega*"))
    assert row.predicted == pytest.approx(np.sqrt(2) / 2 * 5 ** -1.5, rel=1e-12)


def test_basins_are_measurements_with_intervals(d4):
    rows = [p for p in d4.predictions if p.section == "basins" and p.name.startswith("basin fraction")]
    assert rows and all(p.agrees is None and "Wilson" in p.detail for p in rows)
    assert sum(p.measured for p in rows) == pytest.approx(1.0)


# ---------------------------------------------------------------------------- orbit predictor rows (issue 25)
@pytest.fixture(scope="module")
def s3_shared():
    return run_study("S3", width=64, seed=1, shared=True, progress=False, stage2=False)


def _basin_rows(study):
    rows = [p for p in study.predictions if p.section == "basins"]
    measured = [p for p in rows if p.name.startswith("basin fraction of ")]
    predicted = [p for p in rows if p.name.startswith("predicted basin fraction of ")]
    agreement = [p for p in rows if p.name == "per-neuron agreement of the orbit predictor"]
    return rows, measured, predicted, agreement


@pytest.mark.parametrize("which,bias", [("z5", 0.001), ("s3_shared", 0.002)])
def test_predicted_basin_rows_follow_each_measured_row(which, bias, request):
    study = request.getfixturevalue(which)
    rows, measured, predicted, agreement = _basin_rows(study)
    assert measured and len(predicted) >= len(measured) and len(agreement) == 1
    for m in measured:   # each measured row is followed by the predicted row of the same orbit
        nxt = rows[rows.index(m) + 1]
        assert nxt.name == "predicted " + m.name
    for p in predicted:
        assert p.verdict in ("agrees", "DISAGREES") and 0.0 <= p.predicted <= 1.0
        assert (abs(p.predicted - p.measured) <= p.tolerance) == p.agrees
        assert "Wilson half-width" in p.detail and f"stated bias {bias:g}" in p.detail and "4096" in p.detail
        assert p.tolerance > bias
    a = agreement[0]
    assert a.predicted == 0.95 and a.agrees is True and 0.0 <= a.measured <= 1.0 and "Wilson" in a.detail
    # shared embeddings on S3 lie outside GC's theorem, but not outside the predictor: the rows keep their verdicts
    assert all(p.agrees is not None for p in predicted + agreement)
    s = json.loads(json.dumps(study.summary()))
    assert all(set(p) == ROW_KEYS | ADDED_ROW_KEYS for p in s["predictions"])


def test_a_shifted_predicted_basin_disagrees(monkeypatch):
    import symflow.dynamics.lottery as lottery

    real = lottery.predicted_basins

    def shifted(model, samples=4096, seed=0, **options):
        out = real(model, samples, seed, **options)
        f = out["fractions"].copy()
        f[1], f[2] = f[1] + 0.4, f[2] - 0.4       # Z5: move 0.4 of the basin from one orbit to the other
        return {**out, "fractions": f}

    monkeypatch.setattr(lottery, "predicted_basins", shifted)
    study = run_study("Z5", width=64, seed=1, progress=False, stage2=False)
    _, _, predicted, agreement = _basin_rows(study)
    assert [p.verdict for p in predicted] == ["DISAGREES", "DISAGREES"]
    assert agreement[0].agrees is True          # the per-neuron row uses predict_orbits, not the basins
    assert study.totals["disagrees"] >= 2


def test_predictor_rows_not_checked_for_mse():
    study = run_study("Z5", width=16, seed=0, loss="mse", progress=False, stage2=False)
    _, measured, predicted, agreement = _basin_rows(study)
    assert measured and len(predicted) == len(measured)
    assert all(p.verdict == "not checked" and "cross-entropy" in p.detail for p in predicted + agreement)


def test_same_seed_same_summary():
    a = run_study("Z3", width=16, seed=3, progress=False, stage2=False).summary()
    b = run_study("Z3", width=16, seed=3, progress=False, stage2=False).summary()
    strip = lambda s: [{k: v for k, v in p.items()} for p in s["predictions"]]  # noqa: E731
    assert strip(a) == strip(b)


def test_write_report_and_cli(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["study", "Z3", "--width", "24", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "agree" in text and "report.md" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["group"] == "Z3" and summary["predictions"]
    md = (out / "report.md").read_text()
    assert "| prediction |" in md and "## Settings" in md
    try:
        import matplotlib  # noqa: F401
        assert (out / "figures" / "energy.png").exists() and "figures/energy.png" in md
    except ImportError:
        assert "plot extra" in md


def test_report_notes_missing_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    study = run_study("Z3", width=8, seed=0, progress=False, stage2=False)
    md = (study.write(tmp_path / "r") / "report.md").read_text()
    assert "matplotlib" in md and "plot extra" in md


def test_cli_json_and_bad_input(capsys, tmp_path):
    assert main(["study", "Z3", "--width", "8", "--json", "--no-figures", "--no-stage2", "--out", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["width"] == 8
    assert main(["study", "Zed3", "--out", str(tmp_path)]) == 2
    assert "unknown group" in capsys.readouterr().err
    assert main(["study", "Z3", "--width", "0", "--out", str(tmp_path)]) == 2
    assert "width" in capsys.readouterr().err
    with pytest.raises(SymflowError, match="t_end"):
        run_study("Z3", width=4, t_end=float("nan"), progress=False)


# ---------------------------------------------------------------------------- building blocks
def test_scale_flow_matches_closed_form_and_gradient_descent():
    net = aligned_population("Z7", scale=1.0)
    pred = Stage2Prediction.for_network(net, "sum")
    t = np.linspace(0, 2000, 21)
    flow = scale_flow(net, t, "sum")
    assert np.max(np.abs(flow.a - pred.scale(t)) / pred.scale(t)) < 1e-8
    assert flow.loss[-1] == pytest.approx(float(pred.loss(t[-1])), rel=1e-8)
    gd = aligned_population("Z7", scale=1.0)
    simulate_stage2(gd, 2000, 0.1, reduction="sum", progress=False)
    assert gd.a.mean() == pytest.approx(np.interp(200, t, flow.a), rel=1e-3)


def test_phase_averaged_weights_are_211_shared_and_200_unshared():
    assert tuple(map(float, phase_averaged_weights(True))) == (0.5, 0.25, 0.25)
    assert tuple(map(float, phase_averaged_weights(False))) == (0.5, 0.0, 0.0)


def test_per_neuron_indicator_coefficients_sum_to_the_fit():
    G = group("Z3xZ5")
    rng = np.random.default_rng(0)
    th1, th2, xi = rng.normal(size=(3, 20, 15))
    table = np.asarray(G.table)
    fit = flawed_indicator_fit(network_logits(th1, th2, xi), table)
    assert np.allclose(indicator_coefficients(th1, th2, xi, table).sum(axis=0), fit.coef)


def test_fit_exponential_rate_recovers_a_rate():
    t = np.linspace(0, 100, 101)
    y = np.exp(-0.3 * t) * 5 + np.where(t > 80, 1e-14, 0)
    f = fit_exponential_rate(t, y, upper=1e-2, lower=1e-9)
    assert f.ok and f.rate == pytest.approx(-0.3, rel=1e-9)


@pytest.mark.parametrize("script", ["f21_single_irrep.py", "z3xz5_diversification.py", "s4_real_irreps.py"])
def test_study_examples_fast(script, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr("sys.argv", [script, "--fast"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert "all confirmed" in out


# ---------------------------------------------------------------------------- degenerate groups (issue 21)
def _figure_names(study) -> list:
    import matplotlib.pyplot as plt

    from symflow.study.figures import figure_objects

    figs = figure_objects(study)
    for fig, _, _ in figs:
        plt.close(fig)
    return [name for _, name, _ in figs]


def test_shared_nonabelian_rates_figure_has_no_predicted_slope():
    # 'study S3 --shared' ended in a TypeError in figures._rates: outside GC's theorem a rate row is a
    # measurement (predicted None), so there is no predicted slope to draw
    study = run_study("S3", width=16, shared=True, seed=0, progress=False, stage2=False)
    rows = [p for p in study.predictions if p.extra.get("kind")]
    assert rows and all(p.predicted is None and p.measured is not None for p in rows)
    assert "rates.png" in _figure_names(study)


@pytest.mark.parametrize("name", ["Z2", "Z2xZ2"])
def test_flawed_indicator_on_groups_of_exponent_two_is_not_identifiable(name):
    # x x = e for every x: the ghost indicators coincide and the least-squares fit was singular (LinAlgError)
    study = run_study(name, width=16, seed=0, progress=False, stage2=False)
    ghost = next(p for p in study.predictions if p.name.startswith("flawed indicator"))
    assert (ghost.agrees, ghost.measured) == (None, None) and "Not identifiable" in ghost.detail
    accuracy = next(p for p in study.predictions if p.name == "argmax accuracy on the full table")
    assert 0.0 <= accuracy.measured <= 1.0


@pytest.mark.parametrize("k,N", [(0, 3), (0, 7), (10, 10), (13, 13), (5, 9)])
def test_wilson_interval_contains_the_proportion(k, N):
    from symflow.statistics import wilson_interval

    lo, hi = wilson_interval(k, N)
    assert 0.0 <= lo <= k / N <= hi <= 1.0


def test_orbit_figure_when_every_neuron_is_on_one_orbit():
    # Z3 has one non-trivial orbit: the fraction 1 and a Wilson upper end rounded below 1 gave a negative yerr
    study = run_study("Z3", width=10, seed=0, progress=False, stage2=False)
    assert "orbits.png" in _figure_names(study)


def test_orbit_figure_marks_the_predicted_basins_and_each_neurons_predicted_orbit():
    """orbits.png: the predictor's marks beside the simulated bars, and the per-neuron confusion matrix whose
    diagonal is the agreement row's count (Z2 shared: dead neurons counted apart, by the predictor's rule)."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from symflow.study.figures import figure_objects

    study = run_study("Z2", width=40, seed=0, progress=False, stage2=False, shared=True)
    fig = next(f for f, name, _ in figure_objects(study) if name == "orbits.png")
    try:
        bars, conf = fig.axes[:2]
        labels = bars.get_legend_handles_labels()[1]
        assert any(t.startswith("predicted basin") for t in labels) and "predicted, these neurons" in labels
        assert [t.get_text() for t in bars.get_xticklabels()] == ["k=1", "dead"]
        agreement = next(p for p in study.predictions if p.name == "per-neuron agreement of the orbit predictor")
        counts = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text()) for t in conf.texts}
        assert sum(counts.values()) == 40
        assert sum(v for (a, b), v in counts.items() if a == b) == round(agreement.measured * 40)
    finally:
        plt.close(fig)


def test_study_of_the_trivial_group_says_why_it_has_nothing_to_do():
    with pytest.raises(SymflowError, match="Z1 is the trivial group: it has no non-trivial irrep"):
        run_study("Z1", width=8, progress=False)
