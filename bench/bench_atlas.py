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
    a = ap.parse_args()
    from symflow.atlas import AtlasStore, build_atlas
    from symflow.atlas.groups import number_small_groups

    if not a.keep and os.path.exists(a.db):
        os.remove(a.db)
    t0 = time.perf_counter()
    run = build_atlas(a.db, max_order=a.max_order, starts=a.starts, seed=a.seed, workers=a.workers, progress=True)
    wall = time.perf_counter() - t0
    print(f"atlas order <= {a.max_order}, both settings, {a.starts} starts, {a.workers} workers: {run.tasks} tasks, "
          f"{run.stored} computed, {len(run.failed)} failed, wall {wall:.0f} s ({wall / 60:.1f} min; "
          f"target < 20 min)")
    for f in run.failed:
        print("  failed:", f)
    with AtlasStore(a.db) as s:
        _, rows = s.query('SELECT "order", setting, wall_time FROM runs WHERE error IS NULL AND starts = '
                          f'{a.starts} ORDER BY "order"')
    n = np.array([r[0] for r in rows], float)
    t = np.array([r[2] for r in rows], float)
    print(f"CPU seconds in tasks: {t.sum():.0f} (parallel efficiency {t.sum() / (wall * a.workers):.0%})")
    print("order  tasks  mean s  max s")
    for order in sorted(set(n.astype(int))):
        m = n == order
        print(f"{order:5d}  {m.sum():5d}  {t[m].mean():6.2f}  {t[m].max():6.2f}")
    b, loga = np.polyfit(np.log(n), np.log(t), 1)
    print(f"fit per-task cost: t(n) = {np.exp(loga):.3g} s * n^{b:.2f}")
    # mean per-task cost at each order from the fit, times the number of groups and the 2 settings
    for top in (64, 128):
        groups = {m: number_small_groups(m) for m in range(2, top + 1)}
        cpu = sum(2 * g * np.exp(loga) * m ** b for m, g in groups.items())
        biggest = max(np.exp(loga) * m ** b for m in groups)
        print(f"order <= {top}: {sum(groups.values())} groups, {2 * sum(groups.values())} tasks, est. "
              f"{cpu / 3600:.1f} CPU hours; {int(np.ceil(cpu / 3600))} workers for ~1 h (longest task "
              f"~{biggest / 60:.1f} min)")


if __name__ == "__main__":
    main()
