"""The atlas's resume key and time estimate: a resumed run at a larger ``--max-order`` computes only the new tasks
(counted by the tasks the workers ran), a Ctrl-C mid-run keeps every finished task, a task stored by another
landscape engine version is recomputed (never reused), and the time estimate refuses an atlas beyond the budget
naming the ``--max-order`` that fits and the workers that would finish it."""
from __future__ import annotations

import pytest

from symflow._version import LANDSCAPE_ENGINE

from symflow.groups import gap as gapmod

pytestmark = [pytest.mark.skipif(not gapmod.gap_available(), reason="passagemath-gap (symflow[gap]) not installed"),
              pytest.mark.gap]

STARTS = 16
KW = dict(settings=("unshared",), starts=STARTS, seed=5)


def _table(db, sql):
    from symflow.atlas import AtlasStore

    with AtlasStore(db, read_only=True) as s:
        return s.query(sql)[1]


@pytest.fixture(scope="module")
def scheduler():
    """One running cluster (2 single-threaded worker processes) reached by its address, as ``--scheduler``."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def submitted(monkeypatch):
    """``[(order, gap_id, setting)]`` of every atlas task sent to the workers (``Client.submit`` counted)."""
    from distributed import Client

    from symflow.atlas.task import run_task

    sent, submit = [], Client.submit

    def counting(self, fn, *args, **kw):
        if fn is run_task:
            sent.append((args[0], args[1], args[3]))
        return submit(self, fn, *args, **kw)

    monkeypatch.setattr(Client, "submit", counting)
    return sent


def test_a_larger_max_order_computes_only_the_new_tasks_and_ctrl_c_keeps_finished(tmp_path, scheduler, submitted):
    from symflow.atlas import build_atlas
    from symflow.atlas.groups import small_group_ids

    db = tmp_path / "atlas.duckdb"
    first = build_atlas(db, max_order=4, scheduler=scheduler, **KW)
    n_small = len(small_group_ids(4))                             # 4 groups of order 2..4
    assert first.tasks == first.stored == n_small and first.skipped == 0
    before = _table(db, 'SELECT "order", gap_id, setting, finished, worker, engine FROM runs ORDER BY ALL')
    assert [r[5] for r in before] == [LANDSCAPE_ENGINE] * n_small  # each task stored with its engine version

    # a larger max order, interrupted (as a Ctrl-C does) after two new tasks are stored
    def interrupt(run, client):
        if run.stored == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_atlas(db, max_order=7, on_stored=interrupt, scheduler=scheduler, **KW)
    kept = _table(db, 'SELECT "order", gap_id, setting, finished, worker, engine FROM runs ORDER BY ALL')
    assert len(kept) == n_small + 2 and set(before) <= set(kept)  # finished tasks kept, the earlier untouched
    assert _table(db, 'SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM attractors a WHERE '
                      'a."order" = r."order" AND a.gap_id = r.gap_id AND a.setting = r.setting)') == [(0,)]

    # resumed at the larger max order: only the tasks not stored are computed (counted as sent to the workers)
    del submitted[:]
    n_large = len(small_group_ids(7))                             # + 5 (1), 6 (2), 7 (1)
    resumed = build_atlas(db, max_order=7, scheduler=scheduler, **KW)
    assert resumed.tasks == n_large and resumed.skipped == n_small + 2
    assert resumed.stored == n_large - n_small - 2 == 2
    assert resumed.stale == 0 and len(submitted) == 2
    assert not set(submitted) & {r[:3] for r in kept}            # no stored task was sent again
    after = _table(db, 'SELECT "order", gap_id, setting, finished, worker, engine FROM runs ORDER BY ALL')
    assert len(after) == n_large and set(kept) <= set(after)      # every stored row reused as it was
    del submitted[:]
    assert build_atlas(db, max_order=7, scheduler=scheduler, **KW).stored == 0 and submitted == []


def test_another_engine_version_is_recomputed_not_reused(tmp_path, scheduler, monkeypatch):
    from symflow.atlas import AtlasStore, build_atlas
    from symflow.atlas import run as runmod

    db = tmp_path / "engine.duckdb"
    build_atlas(db, groups=["S3", "Z4"], scheduler=scheduler, **KW)
    with AtlasStore(db) as s:                                     # S3 as a database before the key existed,
        s.con.execute("UPDATE runs SET engine = NULL WHERE gap_id = 1 AND \"order\" = 6")   # Z4 by engine "0"
        s.con.execute("UPDATE runs SET engine = '0' WHERE \"order\" = 4")
        assert s.done(STARTS, 5, "1") == {(6, 1, "unshared")}     # NULL counts as engine "1"
        assert s.stale("1") == {(4, 1, "unshared")}
    again = build_atlas(db, groups=["S3", "Z4"], scheduler=scheduler, **KW)
    if LANDSCAPE_ENGINE == "1":       # the NULL row (engine "1") is this engine's: reused
        assert (again.skipped, again.stored, again.stale) == (1, 1, 1)
        assert _table(db, 'SELECT "order", engine FROM runs ORDER BY 1') == [(4, "1"), (6, None)]
    else:                             # both rows are another engine's: recomputed
        assert (again.skipped, again.stored, again.stale) == (0, 2, 2)
        assert _table(db, 'SELECT "order", engine FROM runs ORDER BY 1') == [(4, LANDSCAPE_ENGINE),
                                                                             (6, LANDSCAPE_ENGINE)]
    # a driver of another engine version reuses nothing, and refuses workers that run another version
    other = LANDSCAPE_ENGINE + "0"
    monkeypatch.setattr(runmod, "LANDSCAPE_ENGINE", other)
    from symflow.errors import SymflowError

    with pytest.raises(SymflowError, match=f"runs landscape engine {LANDSCAPE_ENGINE}, this process {other}"):
        build_atlas(db, groups=["S3", "Z4"], scheduler=scheduler, **KW)
    assert _table(db, "SELECT count(*) FROM runs") == [(2,)]


def test_time_estimate_refuses_beyond_the_budget_and_names_what_fits(tmp_path, monkeypatch):
    from symflow.atlas import build_atlas
    from symflow.atlas.run import TASK_CPU, select_tasks, task_cost_law, task_cpu, time_estimate
    from symflow.errors import ResourceError

    law = task_cost_law()
    for n, (fixed, per) in TASK_CPU.items():                     # the law passes through its measured orders
        assert task_cpu(n, 512, law) == pytest.approx(fixed + 512 * per)
    orders = sorted(TASK_CPU)
    for starts in (16, 512):                                      # increasing in the order, between and beyond
        costs = [task_cpu(n, starts, law) for n in range(2, 2 * orders[-1])]
        assert all(a < b for a, b in zip(costs, costs[1:]))
    # a database's own measured costs scale the law at their orders (to their mean)
    at16 = task_cpu(16, 100)
    mine = task_cost_law([(16, 100, 0.5 * at16), (16, 300, 2.5 * task_cpu(16, 300))])
    assert task_cpu(16, 100, mine) == pytest.approx(1.5 * at16) and task_cpu(20, 100, mine) > task_cpu(20, 100)
    mine = task_cost_law([(20, 64, 2 * task_cpu(20, 64))])         # an order between the table's
    assert task_cpu(20, 512, mine) == pytest.approx(2 * task_cpu(20, 512))

    est = time_estimate(select_tasks(64), 512, 2)
    assert est.seconds > 600 and est.workers_for(600) >= 2
    monkeypatch.setenv("SYMFLOW_TIME_BUDGET", "10min")
    db = tmp_path / "refused.duckdb"
    with pytest.raises(ResourceError) as info:
        build_atlas(db, max_order=64, workers=2)
    msg = str(info.value)
    assert "--max-order" in msg and "--scheduler ADDRESS with about" in msg and "--force" in msg
    assert len(msg.splitlines()) == 1
    fits = int(msg.split("--max-order ")[1].split()[0])
    assert time_estimate(select_tasks(fits), 512, 2).seconds <= 600 < \
        time_estimate(select_tasks(fits + 1), 512, 2).seconds
    assert not db.exists()                                        # refused before computing or creating anything
    # what is stored costs nothing: a resumed atlas is offered a larger --max-order than a fresh one
    from symflow.atlas.run import check_time

    done = {(t[0], t[1], t[3]) for t in select_tasks(fits)}
    todo = [t for t in select_tasks(64) if (t[0], t[1], t[3]) not in done]
    with pytest.raises(ResourceError) as info:
        check_time(time_estimate(todo, 512, 2), max_order=64, done=done)
    assert int(str(info.value).split("--max-order ")[1].split()[0]) > fits
    assert time_estimate(select_tasks(6, settings=("unshared",)), STARTS, 2).seconds < 60
