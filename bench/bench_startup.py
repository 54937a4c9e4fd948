"""Benchmark: start-up of a whole process that runs cached generated code (issue 11's target).

Run: ``python bench/bench_startup.py [--repeat 7] [--width 512] [--against REV]``

Measures, each as the median of ``--repeat`` fresh processes (warm code cache in a private folder):

* ``python -c pass`` and ``import numpy`` (the floor no Python program goes below);
* ``import symflow.dynamics``;
* the whole process of ``run_until_aligned("F21", 512)`` as a user starts it from the shell, with the
  integration's own wall time (``AlignedRun.wall_time``) printed beside it;
* whether SymPy, SciPy or matplotlib were imported on that path, and the ten slowest imports
  (``python -X importtime``).

``--against REV`` runs the same whole-process measurement on another revision of this repository
(checked out into a temporary git worktree) in the same run, and prints the ratio. Nothing is asserted.
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

RUN = """
import json, sys, time
t0 = time.perf_counter()
from symflow.dynamics import run_until_aligned
t1 = time.perf_counter()
run = run_until_aligned("F21", {width}, seed=0)
print(json.dumps({{"import_s": t1 - t0, "wall_s": run.wall_time, "fraction": run.fraction,
                  "heavy": sorted(m for m in ("sympy", "scipy", "matplotlib") if m in sys.modules)}}))
"""


def timed(code: str, env: dict, cwd, repeat: int) -> tuple:
    """Median wall time of ``repeat`` fresh processes running ``code``, and the last one's stdout."""
    times, out = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise SystemExit(f"failed: {code!r}\n{r.stderr[-2000:]}")
        out = r.stdout
    return statistics.median(times), out


def slowest_imports(code: str, env: dict, cwd, k: int = 10) -> list:
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=env, cwd=cwd)
    rows = []
    for line in r.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            parts = [p.strip() for p in line[len("import time:"):].split("|")]
            if parts[1].isdigit():
                rows.append((int(parts[1]) / 1e6, parts[2]))
    return sorted(rows, reverse=True)[:k]


def measure(source_root, cache: str, repeat: int, width: int) -> dict:
    env = dict(os.environ, SYMFLOW_CACHE=cache, PYTHONPATH=str(source_root))
    code = RUN.format(width=width)
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=source_root, check=True)  # warm
    whole, out = timed(code, env, source_root, repeat)
    info = json.loads(out.strip().splitlines()[-1])
    imp, _ = timed("import symflow.dynamics", env, source_root, repeat)
    return {"whole_s": whole, "import_dynamics_s": imp, **info,
            "slowest": slowest_imports(code, env, source_root)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--against", help="another git revision to measure in the same run")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SYMFLOW_CACHE=cache)
        floor, _ = timed("pass", env, ROOT, args.repeat)
        numpy_s, _ = timed("import numpy", env, ROOT, args.repeat)
        now = measure(ROOT, cache + "/now", args.repeat, args.width)
        print(f"python -c pass          {floor:7.3f} s")
        print(f"import numpy            {numpy_s:7.3f} s")
        print(f"import symflow.dynamics {now['import_dynamics_s']:7.3f} s")
        print(f"F21 M={args.width} to aligned, whole process {now['whole_s']:.3f} s "
              f"(integration {now['wall_s']:.3f} s, imports {now['import_s']:.3f} s, "
              f"aligned {now['fraction']:.1%}); heavy modules imported: {now['heavy'] or 'none'}")
        print("slowest imports (cumulative s):")
        for s, name in now["slowest"]:
            print(f"  {s:7.3f}  {name}")
        if args.against:
            with tempfile.TemporaryDirectory() as wt:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", wt, args.against],
                               check=True, capture_output=True)
                try:
                    old = measure(pathlib.Path(wt), cache + "/old", args.repeat, args.width)
                finally:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", wt], capture_output=True)
            print(f"{args.against}: whole process {old['whole_s']:.3f} s (integration {old['wall_s']:.3f} s, "
                  f"heavy: {old['heavy'] or 'none'}); ratio now/{args.against} = {now['whole_s'] / old['whole_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
