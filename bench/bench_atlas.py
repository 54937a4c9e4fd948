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
    # CPU seconds of the worker process in the task (independent of other load on the machine); tasks stored
    # before cpu_time was recorded have only their wall time: shown, not used in the fit
    timed = [r for r in rows if r[3] is not None]
    wall_only = [r for r in rows if r[3] is None]
    ratio = float(np.mean([r[2] / r[3] for r in timed])) if timed else float("nan")
    print(f"{len(timed)} tasks with CPU time (mean wall / CPU {ratio:.2f} under this load), {len(wall_only)} with "
          f"wall time only")
    for order in sorted({r[0] for r in wall_only}):
        w = np.array([r[2] for r in wall_only if r[0] == order])
        print(f"  wall-time-only order {order}: {len(w)} tasks, mean wall {w.mean():.1f} s, max {w.max():.1f} s "
              f"(~{w.mean() / ratio:.1f} CPU s at the ratio above)")
    n = np.array([r[0] for r in timed], float)
    wall_t = np.array([r[2] for r in timed], float)
    t = np.array([r[3] for r in timed], float)
    print(f"task CPU seconds {t.sum():.0f}" + (f", wall {wall:.0f} s" if wall else ""))
    groups32 = {m: number_small_groups(m) for m in range(2, 33)}
    per_order = {int(o): t[n == o].mean() for o in set(n.astype(int))}
    for order in {r[0] for r in wall_only}:      # CPU cost estimated from wall time where only that was recorded
        per_order.setdefault(int(order), np.mean([r[2] for r in wall_only if r[0] == order]) / ratio)
    print("order  tasks  mean cost s  max cost s  mean wall s")
    for order in sorted(set(n.astype(int))):
        m = n == order
        print(f"{order:5d}  {m.sum():5d}  {t[m].mean():11.2f}  {t[m].max():10.2f}  {wall_t[m].mean():11.2f}")
    b, loga = np.polyfit(np.log(n), np.log(t), 1)
    print(f"fit per-task cost: t(n) = {np.exp(loga):.3g} s * n^{b:.2f}")
    est32 = sum(2 * g * per_order.get(m, np.exp(loga) * m ** b) for m, g in groups32.items())
    print(f"order <= 32 (measured orders, wall-only orders at the ratio, the fit elsewhere): {est32 / 3600:.2f} CPU hours = "
          f"{est32 / a.workers / 60:.0f} min on {a.workers} workers")
    print("lower estimate (the power law of the orders with CPU times):")
    # per-task cost at each order from the fit, times the number of groups and the 2 settings
    for top in (64, 128):
        groups = {m: number_small_groups(m) for m in range(2, top + 1)}
        cpu = sum(2 * g * np.exp(loga) * m ** b for m, g in groups.items())
        biggest = max(np.exp(loga) * m ** b for m in groups)
        print(f"order <= {top}: {sum(groups.values())} groups, {2 * sum(groups.values())} tasks, est. "
              f"{cpu / 3600:.1f} CPU hours; {int(np.ceil(cpu / 3600))} workers for ~1 h (longest task "
              f"~{biggest / 60:.1f} min)")

    # the orders 64 and 128 are mostly 2-groups, whose cost grows faster (more irreps and kinds): scale the order-32
    # cost (CPU, or wall / ratio where only wall was recorded) by the 16 -> 32 growth
    c32 = per_order.get(32) or (np.mean([r[2] for r in wall_only if r[0] == 32]) / ratio
                                if any(r[0] == 32 for r in wall_only) else None)
    if c32 and per_order.get(16):
        b2 = np.log2(c32 / per_order[16])
        print(f"upper estimate (cost at order 32 ~{c32:.1f} CPU s per task, x{2 ** b2:.1f} per doubling as 16 -> 32, "
              f"i.e. n^{b2:.2f}, applied to every order above 32):")
        for top in (64, 128):
            groups = {m: number_small_groups(m) for m in range(33, top + 1)}
            cpu = est32 + sum(2 * g * c32 * (m / 32) ** b2 for m, g in groups.items())
            print(f"order <= {top}: est. {cpu / 3600:.0f} CPU hours; {int(np.ceil(cpu / 3600))} workers for ~1 h "
                  f"(longest task ~{c32 * (top / 32) ** b2 / 60:.1f} min)")


if __name__ == "__main__":
    main()
