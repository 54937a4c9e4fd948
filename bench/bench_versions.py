"""Benchmark: this tree against another revision, back to back on the same machine (issue 11's check
that a redesign changed no performance).

Run: ``python bench/bench_versions.py --against REV [--repeat 3] [--quick]``

Workloads, each in fresh processes, alternating between the two trees so that machine load affects
both alike (median of ``--repeat``; the generated-code cache is warm, one private cache per tree):

* ``F21 M=512 to aligned``: ``run_until_aligned("F21", 512)``, in-process wall time (best of 5 calls);
* ``Z1009 shared M=10^4``: ``simulate`` to equilibrium (every neuron at ``|grad| < gtol``), one
  worker process and the default workers (``--quick``: M = 1000);
* ``S5 M=1024``: ``simulate`` to equilibrium;
* ``derive F21``, ``derive S5``, ``verify F21``: the whole CLI command (``python -m symflow ...``).

Prints both times and the ratio this/REV per workload, wall (the workload's own timing) and CPU seconds of
the whole process tree (start-up, warm-up and worker processes included: the fair figure on a shared
machine), with the load average. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

SIMULATE = """
import json, time
import numpy as np
from symflow.dynamics import simulate
from symflow.theory import Model
model = Model({name!r}, shared={shared})
simulate(model, width=4, seed=0, n_save=2, t_end=1.0, progress=False)
t = time.perf_counter()
res = simulate(model, width={width}, seed=0, n_save=2, progress=False, workers={workers})
wall = time.perf_counter() - t
print(json.dumps({{"s": wall, "done": bool(np.all(np.isfinite(res.equilibrium_time)))}}))
"""

ALIGNED = """
import json, time
from symflow.dynamics import run_until_aligned
run_until_aligned("F21", 512, seed=0)
walls = []
for _ in range(5):
    t = time.perf_counter()
    run = run_until_aligned("F21", 512, seed=0)
    walls.append(time.perf_counter() - t)
print(json.dumps({"s": min(walls), "fraction": run.fraction}))
"""


def _children_cpu() -> float:
    """CPU seconds of every reaped descendant (the workload's process and its worker processes)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def python_workload(code):
    """``(seconds, CPU seconds)``: the workload's own timing (wall) and the CPU time of its whole process tree
    (start-up, warm-up and workers included; on a shared machine the CPU time is the fairer comparison)."""
    def run(env, cwd):
        c0 = _children_cpu()
        s = _json_run([sys.executable, "-c", code], env, cwd)["s"]
        return s, _children_cpu() - c0
    return run


def cli_workload(*args):
    def run(env, cwd):
        t, c0 = time.perf_counter(), _children_cpu()
        r = subprocess.run([sys.executable, "-m", "symflow", *args], capture_output=True, text=True, env=env, cwd=cwd)
        if r.returncode not in (0, 1):
            raise RuntimeError(f"symflow {' '.join(args)} failed: {r.stderr[-1000:]}")
        return time.perf_counter() - t, _children_cpu() - c0
    return run


def _json_run(cmd, env, cwd) -> dict:
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def workloads(quick: bool) -> list:
    big = 1000 if quick else 10_000
    return [
        ("F21 M=512 to aligned", python_workload(ALIGNED)),
        (f"Z1009 shared M={big}, 1 worker", python_workload(SIMULATE.format(name="Z1009", shared=True, width=big, workers=1))),
        (f"Z1009 shared M={big}, default workers", python_workload(SIMULATE.format(name="Z1009", shared=True, width=big,
                                                                                    workers=None))),
        ("S5 M=1024", python_workload(SIMULATE.format(name="S5", shared=False, width=1024, workers=None))),
        ("derive F21", cli_workload("derive", "F21")),
        ("derive S5", cli_workload("derive", "S5")),
        ("verify F21", cli_workload("verify", "F21")),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", required=True, help="the git revision to compare with (e.g. a commit before the change)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="run only workloads whose name contains this text")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = pathlib.Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old_tree), args.against],
                       check=True, capture_output=True)
        try:
            trees = {"this": ROOT, args.against: old_tree}
            envs = {k: dict(os.environ, SYMFLOW_CACHE=str(pathlib.Path(tmp) / f"cache-{i}"), PYTHONPATH=str(v))
                    for i, (k, v) in enumerate(trees.items())}
            print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs at the start")
            print(f"{'workload':42s} {'this':>9s} {args.against[:12]:>12s} {'ratio':>7s}   "
                  f"{'CPU this':>9s} {'CPU ' + args.against[:8]:>12s} {'ratio':>7s}")
            for name, run in workloads(args.quick):
                if args.only and args.only not in name:
                    continue
                times = {k: [] for k in trees}
                cpus = {k: [] for k in trees}
                for _ in range(args.repeat):
                    for k, tree in trees.items():
                        s, c = run(envs[k], tree)
                        times[k].append(s)
                        cpus[k].append(c)
                a, b = statistics.median(times["this"]), statistics.median(times[args.against])
                ca, cb = statistics.median(cpus["this"]), statistics.median(cpus[args.against])
                print(f"{name:42s} {a:8.3f}s {b:11.3f}s {a / b:7.2f}   {ca:8.2f}s {cb:11.2f}s {ca / cb:7.2f}", flush=True)
            print(f"load average {os.getloadavg()[0]:.2f} at the end")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
