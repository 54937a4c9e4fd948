"""Timings of the landscape search (prints, no asserts), and the reference run of the landscape engine.

Three modes, all in one interpreter per engine:

* ``python bench/bench_landscape.py [NAME[:shared] ...] [--starts N]`` (default mode): per case ``flow`` = the
  same seeded starts integrated by the reduced flow to the default equilibrium tolerance with
  :func:`symflow.dynamics.simulate` (the baseline, measured in the same run, after a warm-up that builds and
  caches the generated code), then ``landscape`` = the whole search (flow to rounding level, Newton polish,
  kinds, exact energies, symmetry / family tests, spectra along the kinds). ``ratio`` = landscape / flow.
  Issue targets (2 cores): ``D5 --shared --starts 2000`` under 30 s, ``S4 --shared --starts 2000`` under 90 s.
* ``--tasks [--against DIR] [--orders 16,32,64]``: the CPU seconds (``time.process_time``) of atlas tasks
  (:func:`symflow.atlas.task.run_task`: SmallGroup(n, k), both settings, 512 starts) at orders 16, 32, 64
  (:data:`TASK_GROUPS`), with this checkout's engine and, when ``--against DIR`` names a checkout of the
  engine before (e.g. ``git worktree add /tmp/base <commit>``), with that one: each engine in its own
  subprocess, the two alternating group by group in one run, then the ratios and the projected CPU hours of
  the atlas of order <= 64 and <= 128 (GAP's group counts, per-order means: the measured orders, the others by
  the power law fitted through them).
* ``--record PATH`` / ``--compare PATH``: the atlas rows (:func:`symflow.atlas.task.attractor_rows`) of
  :data:`REFERENCE_GROUPS` (every group of order <= 16 and a few of 24 and 32, both settings, 512 starts,
  seed 0) stored as JSON, or compared against a stored run: kinds (orbit, rank, stability, family
  dimension), exact energies, and each basin fraction within the other run's 95 % interval
  (:func:`compare_rows`, also used by ``tests/test_landscape_reference.py`` on a subset).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings

if "--child" not in sys.argv:      # a child imports the engine of its PYTHONPATH (``--tasks --against``)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT = ["D5:shared", "S4:shared", "F21", "S4", "Q8:shared"]
SETTINGS = ("unshared", "shared")
#: Groups timed by ``--tasks`` per order: SmallGroup(n, k) for these k.
TASK_GROUPS = {16: [1, 5, 9, 14], 32: [1, 6, 18, 49, 51], 64: [1, 50, 138, 267]}
#: GAP's NumberSmallGroups(n) for n = 1..128 (the atlas skips n = 1).
SMALL_GROUP_COUNTS = [1, 1, 1, 2, 1, 2, 1, 5, 2, 2, 1, 5, 1, 2, 1, 14, 1, 5, 1, 5, 2, 2, 1, 15, 2, 2, 5, 4, 1, 4,
                      1, 51, 1, 2, 1, 14, 1, 2, 2, 14, 1, 6, 1, 4, 2, 2, 1, 52, 2, 5, 1, 5, 1, 15, 2, 13, 2, 2, 1,
                      13, 1, 2, 4, 267, 1, 4, 1, 5, 1, 4, 1, 50, 1, 2, 3, 4, 1, 6, 1, 52, 15, 2, 1, 15, 1, 2, 1,
                      12, 1, 10, 1, 4, 2, 2, 1, 231, 1, 5, 2, 16, 1, 4, 1, 14, 2, 2, 1, 45, 1, 6, 2, 43, 1, 6, 1,
                      5, 4, 2, 1, 47, 2, 2, 1, 4, 5, 16, 1, 2328]
#: Groups of the reference run: every group of order 2..16 and these of order 24 and 32.
REFERENCE_EXTRA = [(24, 3), (24, 12), (24, 15), (32, 6), (32, 18), (32, 49), (32, 51)]
REFERENCE_GROUPS = [(n, k) for n in range(2, 17) for k in range(1, SMALL_GROUP_COUNTS[n - 1] + 1)] + REFERENCE_EXTRA


def _quiet():
    from symflow.theory.scope import ScopeWarning

    warnings.simplefilter("ignore", ScopeWarning)


def flow_mode(argv) -> None:
    import symflow
    from symflow.landscape import landscape

    _quiet()
    starts = 2000
    if "--starts" in argv:
        i = argv.index("--starts")
        starts = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    cases = argv or DEFAULT
    print(f"{'case':<14}{'starts':>7}{'flow s':>9}{'landscape s':>13}{'ratio':>7}{'kinds':>7}{'discovered':>11}")
    for case in cases:
        name, _, variant = case.partition(":")
        model = symflow.Model(name, shared=variant == "shared")
        symflow.simulate(model, width=4, progress=False)          # warm-up: generated code cached
        t0 = time.perf_counter()
        symflow.simulate(model, width=starts, seed=0, progress=False, n_save=2)
        flow_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        L = landscape(model, starts=starts, seed=0)
        land_s = time.perf_counter() - t0
        disc = sum(1 for a in L.attractors if a.source == "discovered")
        print(f"{case:<14}{starts:>7}{flow_s:>9.2f}{land_s:>13.2f}{land_s / flow_s:>7.1f}{len(L.attractors):>7}"
              f"{disc:>11}", flush=True)


def run_tasks(groups, starts: int = 512, seed: int = 0, out=None) -> list:
    """``[task result]`` of :func:`symflow.atlas.task.run_task` for ``groups`` ``[(n, k)]``, both settings (the
    first task is preceded by an untimed warm-up on SmallGroup(4, 2): imports, GAP, code generation)."""
    from symflow.atlas.task import run_task

    run_task(4, 2, "SmallGroup(4,2)", "shared", 16, 0)
    results = []
    for n, k in groups:
        for setting in SETTINGS:
            r = run_task(n, k, f"SmallGroup({n},{k})", setting, starts, seed)
            results.append({key: r[key] for key in ("order", "gap_id", "setting", "attractors", "unconverged",
                                                    "cpu_time", "wall_time", "error")})
            if out is not None:
                print(json.dumps(results[-1]), file=out, flush=True)
    return results


def compare_rows(ref: list, new: list) -> list:
    """The differences between two runs of the same tasks (``[task result]``), one line each (``[]``: same
    content). Per task: the same kinds (orbit labels, rank, stable, family dimension, exact energy; energies
    within 1e-9 relative), ``unconverged`` within one start per 100, and each kind's basin fraction inside the
    other run's 95 % Wilson interval (both ways)."""
    out = []
    by = {(r["order"], r["gap_id"], r["setting"]): r for r in new}
    for r in ref:
        key = (r["order"], r["gap_id"], r["setting"])
        s = by.get(key)
        name = f"SmallGroup({key[0]},{key[1]}) {key[2]}"
        if s is None:
            out.append(f"{name}: missing from the new run")
            continue
        if r["error"] or s["error"]:
            if r["error"] != s["error"]:
                out.append(f"{name}: error {r['error']!r} -> {s['error']!r}")
            continue

        def kinds(rows):
            return {(tuple(a["orbit"]), a["rank"], a["stable"], a["family_dimension"], a["energy_exact"]): a
                    for a in rows}

        a, b = kinds(r["attractors"]), kinds(s["attractors"])
        if len(a) != len(r["attractors"]) or len(b) != len(s["attractors"]):
            out.append(f"{name}: two kinds with one key")
        for k in sorted(set(a) ^ set(b), key=str):
            out.append(f"{name}: kind {k} only in the {'reference' if k in a else 'new run'}")
        for k in set(a) & set(b):
            x, y = a[k], b[k]
            if abs(x["energy"] - y["energy"]) > 1e-9 * max(abs(x["energy"]), 1e-12):
                out.append(f"{name}: kind {k} energy {x['energy']!r} -> {y['energy']!r}")
            if not (x["basin_lo"] - 1e-12 <= y["basin_fraction"] <= x["basin_hi"] + 1e-12
                    and y["basin_lo"] - 1e-12 <= x["basin_fraction"] <= y["basin_hi"] + 1e-12):
                out.append(f"{name}: kind {k} basin {x['basin_fraction']:.4f} [{x['basin_lo']:.4f}, "
                           f"{x['basin_hi']:.4f}] -> {y['basin_fraction']:.4f} [{y['basin_lo']:.4f}, {y['basin_hi']:.4f}]")
        starts = sum(a["count"] for a in r["attractors"]) + (r["unconverged"] or 0)
        if abs((r["unconverged"] or 0) - (s["unconverged"] or 0)) > max(1, starts // 100):
            out.append(f"{name}: unconverged {r['unconverged']} -> {s['unconverged']}")
    return out


def record(path: str, groups=None) -> None:
    _quiet()
    t0 = time.perf_counter()
    with open(path + ".partial", "w") as f:
        res = run_tasks(groups or REFERENCE_GROUPS, out=f)
    doc = {"starts": 512, "seed": 0, "groups": [list(g) for g in (groups or REFERENCE_GROUPS)], "tasks": res}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=0)
    os.replace(path + ".tmp", path)
    os.remove(path + ".partial")
    print(f"{len(res)} tasks in {time.perf_counter() - t0:.0f} s, {sum(r['cpu_time'] for r in res):.0f} CPU s -> {path}")


def compare(path: str) -> int:
    _quiet()
    with open(path) as f:
        doc = json.load(f)
    groups = [tuple(g) for g in doc["groups"]]
    t0 = time.perf_counter()
    new = run_tasks(groups, doc["starts"], doc["seed"])
    diffs = compare_rows(doc["tasks"], new)
    print("\n".join(diffs) or "the same content")
    c_ref, c_new = sum(r["cpu_time"] for r in doc["tasks"]), sum(r["cpu_time"] for r in new)
    print(f"{len(new)} tasks in {time.perf_counter() - t0:.0f} s; CPU s: reference {c_ref:.0f} (its own run), "
          f"now {c_new:.0f}")
    return 1 if diffs else 0


def _child(argv) -> None:
    """``--child n k [n k ...]``: one JSON line per task of :func:`run_tasks` on stdout."""
    import symflow

    print(f"engine {os.path.realpath(os.path.dirname(os.path.dirname(symflow.__file__)))}", file=sys.stderr)
    _quiet()
    g = [int(v) for v in argv]
    run_tasks(list(zip(g[::2], g[1::2])), out=sys.stdout)


def _tasks_in(root: str, groups) -> list:
    env = dict(os.environ, PYTHONPATH=root)
    cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_landscape.py"), "--child"]
    cmd += [str(v) for g in groups for v in g]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=root)
    # the child's own check: it ran the engine under root
    if p.returncode == 0 and f"engine {os.path.realpath(root)}" not in p.stderr:
        raise SystemExit(f"{root}: the child did not import the engine there: {p.stderr[-500:]}")
    if p.returncode:
        raise SystemExit(f"{root}: {p.stderr[-2000:]}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def tasks_mode(argv) -> None:
    import numpy as np

    against = argv[argv.index("--against") + 1] if "--against" in argv else None
    orders = [int(v) for v in argv[argv.index("--orders") + 1].split(",")] if "--orders" in argv else list(TASK_GROUPS)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print(f"load average before: {os.getloadavg()} on {os.cpu_count()} cores")
    engines = {"now": here} if against is None else {"before": against, "now": here}
    cpu = {e: {} for e in engines}
    rows = {e: [] for e in engines}
    for n in orders:
        for k in TASK_GROUPS[n]:
            for e, root in engines.items():
                for r in _tasks_in(root, [(n, k)]):
                    rows[e].append(r)
                    cpu[e].setdefault(n, []).append(r["cpu_time"])
                    print(f"{e:>6} SmallGroup({n},{k}) {r['setting']:<8} {r['cpu_time']:7.2f} CPU s "
                          f"{len(r['attractors']):3d} kinds {r['error'] or ''}", flush=True)
    print(f"load average after: {os.getloadavg()}")
    for e in engines:
        means = {n: float(np.mean(v)) for n, v in cpu[e].items()}
        line = ", ".join(f"order {n}: mean {m:.2f} max {max(cpu[e][n]):.2f}" for n, m in means.items())
        print(f"{e}: CPU s per task {line}")
        ns = np.array(sorted(means))
        if len(ns) >= 2:
            b, log_a = np.polyfit(np.log(ns), np.log([means[n] for n in ns]), 1)

            def per_task(n):
                return means.get(n, float(np.exp(log_a) * n ** b))

            for top in (64, 128):
                tot = sum(2 * SMALL_GROUP_COUNTS[n - 1] * per_task(n) for n in range(2, top + 1))
                print(f"{e}: atlas of order <= {top}: {sum(2 * SMALL_GROUP_COUNTS[n - 1] for n in range(2, top + 1))} "
                      f"tasks, {tot / 3600:.2f} CPU hours (t(n) = {np.exp(log_a):.3g} n^{b:.2f} between the measured "
                      f"orders)")
    if against is not None:
        diffs = compare_rows(rows["before"], rows["now"])
        print("rows, now against before: " + ("the same content" if not diffs else "\n  ".join([""] + diffs)))
        for n in cpu["now"]:
            print(f"order {n}: before / now = {np.mean(cpu['before'][n]) / np.mean(cpu['now'][n]):.1f}x")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--child"]:
        _child(args[1:])
    elif "--tasks" in args:
        tasks_mode(args)
    elif "--record" in args:
        record(args[args.index("--record") + 1])
    elif "--compare" in args:
        sys.exit(compare(args[args.index("--compare") + 1]))
    else:
        flow_mode(args)
