"""The atlas: GAP's SmallGroups enumeration, Dask tasks (a worker killed mid-run), DuckDB store (resume equals
an uninterrupted run, failures stored), the report and its page in headless Chromium, the basin-fraction fit."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symflow
from symflow.groups import gap as gapmod

pytestmark = [pytest.mark.skipif(not gapmod.gap_available(), reason="passagemath-gap (symflow[gap]) not installed"),
              pytest.mark.gap]

ROOT = Path(__file__).resolve().parents[1]
#: OEIS A000001: the number of groups of order n = 1..32 (independent of GAP).
A000001 = [1, 1, 1, 2, 1, 2, 1, 5, 2, 2, 1, 5, 1, 2, 1, 14, 1, 5, 1, 5, 2, 2, 1, 15, 2, 2, 5, 4, 1, 4, 1, 51]
STARTS = 32
SETTINGS = ("unshared",)      # the cluster tests: one setting keeps them short (both: bench/bench_atlas.py)


def _rows(M):
    return sorted(tuple(np.round(np.asarray(r, complex), 8)) for r in M)


def _table(db, sql):
    from symflow.atlas import AtlasStore

    with AtlasStore(db, read_only=True) as s:
        return s.query(sql)[1]


def test_small_group_counts_agree_with_gap_and_oeis():
    from symflow.atlas.groups import number_small_groups, small_group_ids

    ids = small_group_ids(32)
    for n in range(2, 33):
        assert sum(1 for m, _ in ids if m == n) == number_small_groups(n) == A000001[n - 1]
    assert (1, 1) not in ids                                    # the trivial group is skipped


@pytest.mark.parametrize("name, ident", [("F21", (21, 1)), ("A4", (12, 3)), ("S3", (6, 1)), ("S4", (24, 12)),
                                         ("Q8", (8, 4)), ("D4", (8, 3)), ("D5", (10, 1)), ("Dic3", (12, 1)),
                                         ("Z3xZ5", (15, 1)), ("Z2xZ4", (8, 2)), ("F20", (20, 3)),
                                         ("SmallGroup(16,3)", (16, 3))])
def test_named_groups_map_to_their_small_group_ids(name, ident):
    from symflow.atlas.groups import id_group

    assert id_group(symflow.group(name)) == ident


def test_resolve_rejects_the_trivial_group_and_repeats():
    from symflow.atlas.groups import resolve
    from symflow.errors import SymflowError

    with pytest.raises(SymflowError, match="trivial"):
        resolve(["Z1"])
    with pytest.raises(SymflowError, match="same group SmallGroup\\(6,1\\)"):
        resolve(["S3", "SmallGroup(6,1)"])


@pytest.fixture(scope="module")
def killed_db(tmp_path_factory):
    """The atlas of order <= 8 on a LocalCluster of 2 worker processes, one of them killed mid-run."""
    from symflow.atlas import build_atlas

    db = tmp_path_factory.mktemp("atlas") / "killed.duckdb"
    killed = []

    def kill_one(run, client):
        if run.stored == 3 and not killed:
            pids = client.run(os.getpid)                        # {worker address: pid}
            pid = sorted(pids.values())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    run = build_atlas(db, max_order=8, settings=SETTINGS, starts=STARTS, seed=3, workers=2, on_stored=kill_one)
    assert killed and not run.interrupted
    return db, run


def test_a_killed_worker_loses_no_task_and_stores_each_row_once(killed_db):
    db, run = killed_db
    tasks = sum(A000001[1:8])                                   # 13 groups of order 2..8
    assert run.tasks == tasks == run.stored and run.failed == []
    runs = _table(db, 'SELECT "order", gap_id, setting, error, worker FROM runs')
    assert len(runs) == len({r[:3] for r in runs}) == tasks and all(r[3] is None for r in runs)
    assert len({r[4] for r in runs}) >= 2                       # both workers computed tasks
    per_task = _table(db, 'SELECT "order", gap_id, setting, count(*), count(DISTINCT idx), max(idx) '
                          'FROM attractors GROUP BY ALL')
    assert len(per_task) == tasks
    assert all(c == d == m + 1 for *_, c, d, m in per_task)
    # the groups of each order agree with GAP's NumberSmallGroups, and each group's irreps with GAP's table
    groups = _table(db, 'SELECT "order", gap_id, name, structure, irrep_dims, n_classes FROM groups ORDER BY ALL')
    assert [sum(1 for g in groups if g[0] == n) for n in range(2, 9)] == A000001[1:8]
    for n, k, name, structure, dims, classes in groups:
        G = symflow.group(name)
        theirs = gapmod.gap_character_table(G, exact=False)
        assert _rows(G.character_table(exact=False)) == _rows(theirs)
        assert sorted(dims) == sorted(int(round(d.real)) for d in theirs[:, 0]) and classes == theirs.shape[1]
    assert ("SmallGroup(8,4)", "Q8") in {(g[2], g[3]) for g in groups}
    # basin fractions of a task plus its unconverged starts make one
    totals = _table(db, 'SELECT a."order", a.gap_id, a.setting, sum(count) + any_value(r.unconverged), '
                        'any_value(r.starts) FROM attractors a JOIN runs r USING ("order", gap_id, setting) GROUP BY ALL')
    assert all(t == s for *_, t, s in totals)


@pytest.fixture
def scheduler():
    """A running cluster (2 worker processes) reached by its address, as ``--scheduler`` does."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


def test_resuming_an_interrupted_run_gives_the_same_database(killed_db, tmp_path, scheduler):
    from symflow.atlas import build_atlas

    reference, _ = killed_db
    db = tmp_path / "resumed.duckdb"
    kw = dict(max_order=8, settings=SETTINGS, starts=STARTS, seed=3, scheduler=scheduler)

    def interrupt(run, client):
        if run.stored == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_atlas(db, on_stored=interrupt, **kw)
    assert len(_table(db, "SELECT * FROM runs")) == 5           # finished tasks kept, nothing half-written
    again = build_atlas(db, **kw)                              # the same cluster: the driver, not the workers, ended
    assert again.skipped == 5 and again.stored == again.tasks - 5 and again.workers == 2
    for table, cols in (("groups", "*"), ("attractors", "*"),
                        ("runs", '"order", gap_id, setting, starts, seed, loss, spheres, activation, unconverged, error')):
        q = f"SELECT {cols} FROM {table} ORDER BY ALL"
        assert _table(db, q) == _table(reference, q), table
    # a third run has nothing to do; --redo recomputes the selection
    kw.pop("max_order")
    assert build_atlas(db, groups=["S3"], **kw).stored == 0
    redo = build_atlas(db, groups=["S3"], redo=True, **kw)
    assert redo.stored == 1 and _table(db, "SELECT count(*) FROM runs")[0][0] == again.tasks


def test_a_failing_task_is_stored_with_its_error_and_tried_again(tmp_path):
    from symflow.atlas import AtlasStore
    from symflow.atlas.task import run_task

    result = run_task(6, 1, "NoSuchGroup", "unshared", STARTS, 0)
    assert result["error"].startswith("UnknownGroupError") or "unknown group" in result["error"]
    db = tmp_path / "failed.duckdb"
    with AtlasStore(db) as s:
        s.store(result, STARTS, 0)
        assert s.done(STARTS, 0) == set()                       # a failure is not a result: tried again
        assert s.query("SELECT error FROM runs")[1][0][0] == result["error"]
        ok = run_task(6, 1, "S3", "unshared", STARTS, 0)
        s.store(ok, STARTS, 0)
        assert s.done(STARTS, 0) == {(6, 1, "unshared")}
        assert s.query("SELECT count(*), count(error) FROM runs")[1] == [(1, 0)]
        assert s.query("SELECT count(*) FROM attractors")[1][0][0] == len(ok["attractors"]) > 0


def _cli(*args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "symflow", "atlas", *args], capture_output=True, text=True,
                          env=env, **kw)


def test_bad_input_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    from symflow.cli import main

    monkeypatch.chdir(tmp_path)
    for args, text in ((["--settings", "both"], "settings"), (["--max-order", "1"], "--max-order"),
                       (["--groups", "Z1"], "trivial"), (["--groups", "S3,Nope"], "unknown group"),
                       (["--starts", "x"], "--starts"), (["--workers", "0"], "--workers"),
                       (["--query", "SELECT 1", "--db", "no.duckdb"], "no atlas database")):
        assert main(["atlas", *args]) == 2, args
        err = capsys.readouterr().err
        assert text in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "atlas.duckdb").exists() and not (tmp_path / "atlas").exists()


def test_cli_query_and_ctrl_c_keeps_what_is_stored(killed_db, tmp_path):
    db, _ = killed_db
    r = _cli("--db", str(db), "--query", 'SELECT "order", count(*) AS groups FROM groups GROUP BY 1 ORDER BY 1')
    assert r.returncode == 0 and "8 " in r.stdout and "5" in r.stdout and "7 rows" in r.stdout
    target = tmp_path / "c.duckdb"
    shutil.copy(db, target)
    assert _table(target, "SELECT count(*) FROM runs") == [(sum(A000001[1:8]),)]
    # the copy holds every order <= 8 task; order <= 10 adds 4 tasks, interrupted like a terminal's Ctrl-C
    p = subprocess.Popen([sys.executable, "-m", "symflow", "atlas", "--max-order", "10", "--starts", "4000",
                          "--settings", "unshared",
                          "--seed", "3", "--workers", "1", "--db", str(target), "--out", str(tmp_path / "rep"),
                          "--no-progress"], cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    import psutil                                               # (a dependency of distributed)

    deadline = time.monotonic() + 120
    while not psutil.Process(p.pid).children(recursive=True) and time.monotonic() < deadline:
        time.sleep(0.2)                                         # the cluster's workers exist: past the imports
    time.sleep(5)
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "run the same command again to resume" in err
    assert "Traceback" not in err and len([x for x in err.splitlines() if x.strip()]) == 2, err   # no worker's
    rows = _table(target, 'SELECT count(*), count(error) FROM runs WHERE starts = 4000')
    assert rows[0][1] == 0                                      # nothing in flight was stored as a failure
    # what was stored is intact: the 13 earlier tasks (or their recomputation at 4000 starts), each with its rows
    assert _table(target, 'SELECT count(*), count(error) FROM runs')[0] == (13, 0) or \
        _table(target, 'SELECT count(*) FROM runs')[0][0] > 13
    assert _table(target, 'SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM attractors a WHERE '
                          'a."order" = r."order" AND a.gap_id = r.gap_id AND a.setting = r.setting)') == [(0,)]
    assert not (tmp_path / "rep").exists()                      # no report of an interrupted run


def test_cli_query_formats_machine_readable(killed_db):
    """``--format csv|json``: every column name whole, full-precision values, NULL as empty/null."""
    import csv
    import io

    db, _ = killed_db
    sql = 'SELECT "order", gap_id, setting, basin_fraction, NULL AS nothing FROM attractors ORDER BY 1, 2, 3 LIMIT 5'
    table = _table(db, sql)
    r = _cli("--db", str(db), "--query", sql, "--format", "csv")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["order", "gap_id", "setting", "basin_fraction", "nothing"] and len(rows) == len(table) + 1
    assert [float(x[3]) for x in rows[1:]] == [t[3] for t in table] and all(x[4] == "" for x in rows[1:])
    r = _cli("--db", str(db), "--query", sql, "--format", "json")
    data = json.loads(r.stdout)
    assert r.returncode == 0 and [list(d.values()) for d in data] == [list(t) for t in table]
    assert _cli("--db", str(db), "--query", sql, "--format", "xml").returncode == 2


def test_report_and_its_page_in_headless_chromium(killed_db, tmp_path):
    pytest.importorskip("matplotlib")
    from symflow.atlas import write_report

    db, _ = killed_db
    out = write_report(db, tmp_path / "atlas")
    md = (out / "atlas.md").read_text()
    n_groups = len(_table(db, "SELECT * FROM groups"))
    assert md.count("| SmallGroup") == 0 and md.count("\n| 8 | ") == 5
    assert "Measured, not a theorem" in md and "Mean absolute error" in md
    assert "## Basin fractions: predicted by the orbit predictor" in md and "Per-neuron agreement" in md
    summary = json.loads((out / "predicted.json").read_text())
    assert summary["tasks"] == len(_table(db, "SELECT * FROM runs")) and summary["tasks_without"] == 0
    assert set(summary["comparison"]["mae"]) == {"predictor", "fit", "fit_leave_group_out", "plancherel", "uniform"}
    for name in ("basin_features.png", "not_rank_one.png", "omega_by_type.png", "predicted_basins.png"):
        assert (out / "figures" / name).stat().st_size > 1000
    page = (out / "index.html").read_text()
    assert "data:image/png;base64," in page and "http" not in page.split("<script>")[1]
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("Debian's chromium and chromium-driver are not installed (the README's test command installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        browser.get((out / "index.html").as_uri())
        rows = browser.find_elements(By.CSS_SELECTOR, "#groups tbody tr")
        assert len(rows) == n_groups
        order_header = browser.find_elements(By.CSS_SELECTOR, "#groups th")[0]

        def column(i):
            return [float(r.find_elements(By.TAG_NAME, "td")[i].get_attribute("data-v"))
                    for r in browser.find_elements(By.CSS_SELECTOR, "#groups tbody tr")]

        order_header.click()
        assert column(0) == sorted(column(0))
        order_header.click()                                     # again: descending
        assert column(0) == sorted(column(0), reverse=True) and column(0)[0] == 8
        classes = browser.find_elements(By.CSS_SELECTOR, "#groups th")[4]
        classes.click()
        assert column(4) == sorted(column(4))
        box = browser.find_element(By.CSS_SELECTOR, "input[data-table=attractors]")
        box.send_keys("quaternionic")
        shown = [r for r in browser.find_elements(By.CSS_SELECTOR, "#attractors tbody tr") if r.is_displayed()]
        assert shown and all("quaternionic" in r.text for r in shown)
        # the predicted basins beside the measured ones: their table, its predicted and measured columns
        heads = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#predicted th")]
        ip, im, ie = heads.index("predicted"), heads.index("measured"), heads.index("predicted - measured")
        prow = browser.find_elements(By.CSS_SELECTOR, "#predicted tbody tr")
        stored = _table(db, "SELECT predicted, measured FROM predicted_basins")
        assert len(prow) == len(stored) > 0
        cells = [r.find_elements(By.TAG_NAME, "td") for r in prow]
        shown = sorted((float(c[ip].get_attribute("data-v")), float(c[im].get_attribute("data-v"))) for c in cells)
        assert shown == sorted((float(p), float(m)) for p, m in stored)
        assert all(abs(float(c[ie].get_attribute("data-v")) - (float(c[ip].get_attribute("data-v")) -
                                                               float(c[im].get_attribute("data-v")))) < 1e-12
                   for c in cells)
        browser.find_elements(By.CSS_SELECTOR, "#predicted th")[ie].click()       # sorts by the error
        errs = [float(r.find_elements(By.TAG_NAME, "td")[ie].get_attribute("data-v"))
                for r in browser.find_elements(By.CSS_SELECTOR, "#predicted tbody tr")]
        assert errs == sorted(errs)
        gheads = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#groups th")]
        assert "predicted - measured (unshared)" in gheads and "agreement (unshared)" in gheads
    finally:
        browser.quit()


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(-1.5, 1.5), min_size=7, max_size=7), st.integers(0, 2**31 - 1))
def test_the_basin_fit_recovers_the_weights_it_was_made_with(w, seed):
    """Counts drawn from a multinomial logit with known weights: the fit recovers them and its fractions."""
    from symflow.atlas.fit import FEATURES, fit_basins

    rng = np.random.default_rng(seed)
    rows = []
    for t in range(40):
        for i in range(int(rng.integers(2, 5))):
            d = int(rng.choice([1, 2, 3]))
            typ = str(rng.choice(["real", "complex", "quaternionic"]))
            rows.append({"order": 6 + t, "gap_id": 1, "setting": "unshared", "orbit_dim": d,
                         "orbit_size": 2 if typ == "complex" else 1, "type": typ,
                         "energy": float(rng.uniform(0.2, 1.0)) * (6 + t) ** -1.5, "rank": int(rng.integers(1, 3)),
                         "stable": bool(rng.random() < 0.8)})
    from symflow.atlas.fit import features

    tasks = {}
    for r in rows:
        tasks.setdefault(r["order"], []).append(r)
    for v in tasks.values():
        z = np.array([features(r) for r in v]) @ np.array(w)
        p = np.exp(z - z.max())
        p /= p.sum()
        for r, c in zip(v, rng.multinomial(20000, p)):
            r["count"] = int(c)
    fit = fit_basins(rows, leave_group_out=False)
    assert fit["tasks"] == 40 and fit["features"] == FEATURES
    assert fit["mae"] < 0.01                                   # the fitted fractions match the sampled ones
    assert fit["mae"] <= fit["mae_uniform"] + 1e-12 or fit["mae_uniform"] < 0.01


def test_constructed_energies_follow_omega_star_across_the_atlas(killed_db):
    """Every constructed kind stored: Omega* n^(3/2) = (k d)^(-1/2), k = 1 real, 2 complex or quaternionic."""
    db, _ = killed_db
    rows = _table(db, 'SELECT "order", orbit_dim, type, energy FROM attractors WHERE source = \'constructed\'')
    assert len(rows) >= 18
    for n, d, typ, energy in rows:
        k = 1 if typ == "real" else 2
        assert energy * n ** 1.5 == pytest.approx((k * d) ** -0.5, rel=1e-9), (n, d, typ)


def test_every_task_stores_predicted_basins_beside_the_measured_ones(killed_db):
    """Each task's predicted_basins rows: the predictor's Monte Carlo shares sum to one (dead row included), the
    measured shares plus the unconverged starts make one and are the stored kinds summed by dominant orbit, and on
    the task's own starts the predicted shares differ from the measured by at most the failures of the per-neuron
    comparison (each failure moves one start between two orbits)."""
    db, _ = killed_db
    runs = _table(db, 'SELECT "order", gap_id, setting, starts, unconverged, pred_samples, agreement_hits, '
                      'agreement_neurons, pred_error, reduction FROM runs')
    for n, k, setting, starts, unconverged, samples, hits, neurons, error, reduction in runs:
        assert error is None and samples == 4096
        assert (reduction == "exact") == (setting == "unshared") and reduction
        rows = _table(db, f'SELECT orbit_id, predicted, predicted_lo, predicted_hi, predicted_same, measured, count, '
                          f'samples FROM predicted_basins WHERE "order" = {n} AND gap_id = {k} AND setting = \'{setting}\'')
        assert rows, (n, k, setting)
        assert sum(r[1] for r in rows) == pytest.approx(1.0, abs=1e-9)
        assert all(lo <= p <= hi for _, p, lo, hi, *_ in rows)
        assert sum(r[6] for r in rows) + unconverged == starts
        assert all(r[5] == r[6] / starts for r in rows)
        assert neurons == starts - unconverged and 0 <= hits <= neurons
        for r in rows:
            assert abs(r[4] - r[5]) <= (neurons - hits + unconverged) / starts + 1e-12
    # the kinds of a task summed by their dominant orbit are the measured counts
    kinds = _table(db, 'SELECT "order", gap_id, setting, orbit[1], sum(count) FROM attractors '
                       'WHERE len(orbit) > 0 AND energy * pow("order", 1.5) >= 1e-3 GROUP BY ALL')
    orbits = _table(db, 'SELECT "order", gap_id, setting, orbit, count FROM predicted_basins WHERE orbit_id >= 0')
    counted = {}
    for n, k, setting, labels, count in orbits:
        for lab in labels:
            counted[(n, k, setting, lab)] = count
    for n, k, setting, first, count in kinds:
        assert counted[(n, k, setting, first)] >= count
