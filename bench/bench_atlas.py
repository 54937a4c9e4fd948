"""Bench (no asserts): the default atlas (order <= 32, both settings, 512 starts) on this machine, timed.

    python bench/bench_atlas.py [--max-order 32] [--starts 512] [--workers 2] [--db /tmp/bench-atlas.duckdb]

Prints the wall time, the time per task against group order (mean / max per order, from ``runs``), a
power-law fit t(n) = a n^b of the per-task cost, and from it the CPU hours (and workers for a 1-hour run) of
the atlas of order <= 64 and <= 128 (GAP's group counts; order 64 and 128 dominate: 267 and 2328 groups).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-order", type=int, default=32)
    ap.add_argument("--starts", type=int, default=512)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--db", default="/tmp/bench-atlas.duckdb")
    ap.add_argument("--keep", action="store_true", help="resume an existing database (default: start afresh)")
    ap.add_argument("--analyse", action="store_true", help="only analyse the tasks stored in --db (e.g. of a run "
                                                           "stopped early): per-task costs and the estimates")
    a = ap.parse_args()
    from symflow.atlas import AtlasStore, build_atlas
    from symflow.atlas.groups import number_small_groups

    print(f"load average before: {os.getloadavg()} on {os.cpu_count()} cores")
    wall = None
    if not a.analyse:
        if not a.keep and os.path.exists(a.db):
            os.remove(a.db)
        import logging

        from distributed import LocalCluster

        # one cluster, the orders in turn (smallest first), so that a run stopped early still has the cost of
        # every order it reached; the tasks of one order run in parallel
        t0 = time.perf_counter()
        stored = failed = 0
        with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                          silence_logs=logging.ERROR) as cluster:
            for order in range(2, a.max_order + 1):
                ids = [f"SmallGroup({order},{k})" for k in range(1, number_small_groups(order) + 1)]
                run = build_atlas(a.db, groups=ids, starts=a.starts, seed=a.seed,
                                  scheduler=cluster.scheduler_address, progress=False)
                stored += run.stored
                failed += len(run.failed)
                for f in run.failed:
                    print("  failed:", f)
                print(f"order {order}: {run.tasks} tasks, {run.stored} computed, {time.perf_counter() - t0:.0f} s "
                      f"elapsed", flush=True)
        wall = time.perf_counter() - t0
        print(f"atlas order <= {a.max_order}, both settings, {a.starts} starts, {a.workers} workers: {stored} "
              f"computed, {failed} failed, wall {wall:.0f} s ({wall / 60:.1f} min; target < 20 min)")
    with AtlasStore(a.db) as s:
        _, rows = s.query('SELECT "order", setting, wall_time, cpu_time FROM runs WHERE error IS NULL AND starts = '
                          f'{a.starts} ORDER BY "order"')
    n = np.array([r[0] for r in rows], float)
    wall_t = np.array([r[2] for r in rows], float)
    # CPU seconds of the worker process (independent of other load on the machine); wall time where not recorded
    t = np.array([r[2] if r[3] is None else r[3] for r in rows], float)
    print(f"{int(sum(r[3] is not None for r in rows))} tasks with CPU time, the others by wall time; "
          f"wall / CPU where both: {np.nanmean([r[2] / r[3] for r in rows if r[3]]) if any(r[3] for r in rows) else float('nan'):.2f}")
    print(f"{len(t)} tasks stored; task seconds {t.sum():.0f}" +
          (f" (parallel efficiency {t.sum() / (wall * a.workers):.0%})" if wall else ""))
    groups32 = {m: number_small_groups(m) for m in range(2, 33)}
    per_order = {int(o): t[n == o].mean() for o in set(n.astype(int))}
    print("order  tasks  mean cost s  max cost s  mean wall s")
    for order in sorted(set(n.astype(int))):
        m = n == order
        print(f"{order:5d}  {m.sum():5d}  {t[m].mean():11.2f}  {t[m].max():10.2f}  {wall_t[m].mean():11.2f}")
    b, loga = np.polyfit(np.log(n), np.log(t), 1)
    print(f"fit per-task cost: t(n) = {np.exp(loga):.3g} s * n^{b:.2f}")
    est32 = sum(2 * g * per_order.get(m, np.exp(loga) * m ** b) for m, g in groups32.items())
    print(f"order <= 32 (measured orders, the fit elsewhere): {est32 / 3600:.2f} CPU hours = "
          f"{est32 / a.workers / 60:.0f} min on {a.workers} workers")
    # per-task cost at each order from the fit, times the number of groups and the 2 settings
    for top in (64, 128):
        groups = {m: number_small_groups(m) for m in range(2, top + 1)}
        cpu = sum(2 * g * np.exp(loga) * m ** b for m, g in groups.items())
        biggest = max(np.exp(loga) * m ** b for m in groups)
        print(f"order <= {top}: {sum(groups.values())} groups, {2 * sum(groups.values())} tasks, est. "
              f"{cpu / 3600:.1f} CPU hours; {int(np.ceil(cpu / 3600))} workers for ~1 h (longest task "
              f"~{biggest / 60:.1f} min)")


if __name__ == "__main__":
    main()
