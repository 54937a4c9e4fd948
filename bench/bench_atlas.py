"""Bench (no asserts): the atlas on this machine, timed. Three parts (``--part``):

    python bench/bench_atlas.py [--max-order 32] [--starts 512] [--workers 2] [--db /tmp/bench-atlas.duckdb]
    python bench/bench_atlas.py --part scaling [--groups 'order:16'] [--settings unshared] [--starts 128]
                                              [--max-workers 4]
    python bench/bench_atlas.py --part costs [--samples 64:1,64:50,128:1000] [--starts 32,128]

``atlas`` (default): the default atlas (order <= 32, both settings, 512 starts) timed; prints the time per
task against group order (mean / max per order, from ``runs``), a power-law fit t(n) = a n^b of the per-task
cost, and from it the CPU hours (and workers for a 1-hour run) of the atlas of order <= 64 and <= 128 (GAP's
group counts; order 64 and 128 dominate: 267 and 2328 groups).

``scaling``: ``symflow atlas --scheduler`` against a ``dask scheduler`` and 1, 2, ... ``--max-workers``
``dask worker --nworkers 1 --nthreads 1`` processes this script starts (and stops), on one fixed task set
(``--groups``: names, or ``order:N`` for every group of order N), each worker count on a fresh database:
tasks per wall second, speed-up and efficiency per worker against one worker, and tasks per CPU second of
the workers (task CPU from ``runs.cpu_time``, process CPU of the worker processes from psutil), with the load
average before and after. On a machine with C cores more than C workers cannot speed up: the wall-clock
efficiency then measures the machine, the CPU-second throughput the scheduler's overhead.

``costs``: per-task CPU seconds of sample groups (``order:gap_id``) in each setting at two start counts, in
this process (one task at a time): the fixed part and the cost per start of each, the inputs of the atlas's
time law (``symflow.atlas.run.TASK_CPU``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

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
    ap.add_argument("--part", default="atlas", choices=["atlas", "scaling", "costs", "estimate"])
    ap.add_argument("--efficiency", type=float, default=1.0, help="estimate: the measured per-worker efficiency")
    ap.add_argument("--groups", default="order:16", help="scaling: the fixed task set ('order:N' or names)")
    ap.add_argument("--settings", default="unshared,shared")
    ap.add_argument("--max-workers", type=int, default=4)
    ap.add_argument("--starts-list", default="32,128", help="costs: two start counts")
    ap.add_argument("--samples", default="64:1,64:50,64:138,64:267", help="costs: order:gap_id,...")
    a = ap.parse_args()
    if a.part == "scaling":
        return scaling(a)
    if a.part == "costs":
        return costs(a)
    if a.part == "estimate":
        return estimate(a)
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


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def scaling(a) -> None:
    """Throughput of ``--scheduler`` with 1..max_workers local ``dask worker`` processes on a fixed task set."""
    import json
    import shutil
    import subprocess
    import tempfile

    import psutil
    from distributed import Client

    from symflow.atlas import AtlasStore, build_atlas
    from symflow.atlas.groups import number_small_groups

    if a.groups.startswith("order:"):
        orders = [int(o) for o in a.groups.split(":", 1)[1].split("+")]
        groups = [f"SmallGroup({n},{k})" for n in orders for k in range(1, number_small_groups(n) + 1)]
    else:
        groups = [g.strip() for g in a.groups.split(";")]
    settings = [s for s in a.settings.split(",") if s]
    dask = shutil.which("dask") or os.path.join(os.path.dirname(sys.executable), "dask")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tmp = Path(tempfile.mkdtemp(prefix="bench-atlas-scaling-"))
    sfile = tmp / "scheduler.json"
    print(f"scaling: {len(groups)} groups x {len(settings)} settings = {len(groups) * len(settings)} tasks, "
          f"{a.starts} starts; {_load()}", flush=True)
    sched = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                              "--scheduler-file", str(sfile)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    results = []
    try:
        deadline = time.monotonic() + 120
        while not sfile.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(sfile.read_text())["address"]
        for k in range(1, a.max_workers + 1):
            workers = [subprocess.Popen([dask, "worker", "--scheduler-file", str(sfile), "--nworkers", "1",
                                         "--nthreads", "1", "--no-dashboard", "--name", f"bench-{k}-{i}"],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for i in range(k)]
            try:
                with Client(address) as client:
                    client.wait_for_workers(k, timeout=300)
                    # warm: every worker imports the engine and loads GAP before the clock starts
                    client.run(_warm)
                    pids = list(client.run(os.getpid).values())
                procs = [psutil.Process(p) for p in pids]
                cpu0 = sum(sum(p.cpu_times()[:2]) for p in procs)
                db = tmp / f"w{k}.duckdb"
                load0 = os.getloadavg()[0]
                t0 = time.perf_counter()
                run = build_atlas(db, groups=groups, settings=settings, starts=a.starts, seed=a.seed,
                                  scheduler=address, force=True)
                wall = time.perf_counter() - t0
                cpu = sum(sum(p.cpu_times()[:2]) for p in procs) - cpu0
                with AtlasStore(db, read_only=True) as s:
                    task_cpu = s.query("SELECT sum(cpu_time) FROM runs WHERE error IS NULL")[1][0][0] or 0.0
                r = {"workers": k, "tasks": run.stored, "failed": len(run.failed), "wall": wall, "worker_cpu": cpu,
                     "task_cpu": task_cpu, "load": (load0, os.getloadavg()[0])}
                results.append(r)
                print(f"{k} workers: {run.stored} tasks ({len(run.failed)} failed) in {wall:.1f} s wall, "
                      f"{task_cpu:.1f} task CPU s, {cpu:.1f} worker-process CPU s; load {load0:.1f} -> "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
            finally:
                for w in workers:
                    w.terminate()
                for w in workers:
                    try:
                        w.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        w.kill()
    finally:
        sched.terminate()
        sched.wait(timeout=60)
    base = results[0]
    print("workers  tasks/s wall  speed-up  efficiency/worker  tasks per worker CPU s  tasks per task CPU s  "
          "CPU efficiency")
    for r in results:
        thr = r["tasks"] / r["wall"]
        speed = thr / (base["tasks"] / base["wall"])
        per_cpu = r["tasks"] / r["worker_cpu"]
        print(f"{r['workers']:7d}  {thr:12.3f}  {speed:8.2f}  {speed / r['workers']:17.2f}  {per_cpu:22.3f}  "
              f"{r['tasks'] / r['task_cpu']:20.3f}  {per_cpu / (base['tasks'] / base['worker_cpu']):14.2f}")
    print(f"after: {_load()}")
    (tmp / "scaling.json").write_text(json.dumps(results, indent=1))
    print(f"results: {tmp / 'scaling.json'}")


def _warm() -> int:
    from symflow.groups.gap import gap_available
    from symflow.landscape import landscape  # noqa: F401
    from symflow.theory.model import Model  # noqa: F401

    gap_available()
    return os.getpid()


def costs(a) -> None:
    """Per-task CPU seconds of sample groups: a cold task (the group built from GAP, as a worker's first task of
    that group) and warm ones at two start counts (the group cached in this process): the group's construction,
    the landscape's fixed part and its cost per start."""
    from symflow.atlas.task import run_task

    s1, s2 = (int(s) for s in str(a.starts_list).split(","))
    settings = [s for s in a.settings.split(",") if s]
    print(f"costs: {a.samples}, starts {s1}, {s2}, {settings}; {_load()}", flush=True)
    for sample in a.samples.split(","):
        n, k = (int(v) for v in sample.split(":"))
        for i, setting in enumerate(settings):
            name = f"SmallGroup({n},{k})"
            cold = run_task(n, k, name, setting, s1, a.seed)["cpu_time"] if i == 0 else None
            warm1 = run_task(n, k, name, setting, s1, a.seed)
            warm2 = run_task(n, k, name, setting, s2, a.seed)
            per = (warm2["cpu_time"] - warm1["cpu_time"]) / (s2 - s1)
            fixed = warm1["cpu_time"] - per * s1
            build = f"group construction {cold - warm1['cpu_time']:.1f} CPU s, " if cold is not None else ""
            print(f"{name} {setting}: {build}landscape fixed {fixed:.2f} CPU s + {per:.4f} CPU s per start "
                  f"({s1} starts {warm1['cpu_time']:.1f} s, {s2} starts {warm2['cpu_time']:.1f} s, "
                  f"{len(warm2['attractors'])} kinds); {_load()}", flush=True)


def estimate(a) -> None:
    """The atlas's own time estimate (``symflow.atlas.run``, the law ``TASK_CPU``) for order <= 32, 64, 128: CPU
    hours, the longest task, and the workers for one hour at the measured per-worker ``--efficiency``."""
    import math

    from symflow.atlas.run import TASK_CPU, select_tasks, task_cpu, time_estimate

    print("law (order: fixed CPU s + CPU s per start; at", a.starts, "starts):",
          ", ".join(f"{n}: {f:.3g} + {p:.3g} ({task_cpu(n, a.starts):.3g} s)" for n, (f, p) in sorted(TASK_CPU.items())))
    for top in (32, 64, 96, 128):
        tasks = select_tasks(top)
        est = time_estimate(tasks, a.starts, 1)
        heaviest = max(set(t[0] for t in tasks), key=lambda n: sum(1 for t in tasks if t[0] == n) * task_cpu(n, a.starts))
        share = sum(task_cpu(t[0], a.starts) for t in tasks if t[0] == heaviest) / est.cpu
        workers = math.ceil(est.cpu / 3600 / a.efficiency)
        print(f"order <= {top}: {len(tasks)} tasks, {est.cpu / 3600:.1f} CPU hours ({share:.0%} at order {heaviest}), "
              f"longest task ~{est.longest / 60:.1f} min; {workers} single-threaded workers for one hour at "
              f"efficiency {a.efficiency:.2f}")


if __name__ == "__main__":
    main()
