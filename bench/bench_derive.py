"""Benchmark: ``symflow derive F21`` and ``symflow derive S5`` against a naive unrolled baseline.

Measured, not asserted (issue targets: F21 < 3 s, S5 < 10 s, including the exact energy proof).

* ``cli``: wall time of a fresh ``python -m symflow derive NAME`` process (imports, derivation,
  5-point exact energy proof, printing).
* ``phases``: in-process timings of each step in a fresh subprocess (cold caches).
* ``baseline``: what the engine avoids: the whole parameter-space energy of one neuron unrolled
  over the Cayley table in ``3n`` scalar symbols, then differentiated symbol by symbol (the
  Euclidean gradient only, no projection, no Fourier form). Ratio = baseline / engine, both
  measured in this run.

Usage: ``python bench/bench_derive.py [--groups F21,S5] [--baseline-timeout 300]``.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

PHASES = r"""
import json, time, sys
t0 = time.perf_counter()
from symflow.theory import Model
m = Model(sys.argv[1])
t1 = time.perf_counter()
E = m.energy(); E.parameter_space; E.fourier
t2 = time.perf_counter()
rep = E.verify(points=5)
t3 = time.perf_counter()
m.block_flows()
t4 = time.perf_counter()
if m.group.is_abelian:
    from symflow.theory import abelian_closed_form
    abelian_closed_form(m)
t5 = time.perf_counter()
print(json.dumps({"group": t1 - t0, "energy": t2 - t1, "verify": t3 - t2, "flows": t4 - t3,
                  "closed_form": t5 - t4, "total": t5 - t0, "proven": rep.passed, "field": rep.field}))
"""

BASELINE = r"""
import json, time, sys
import sympy as sp
from symflow.theory import Model
from symflow.theory.energy import parameter_space_energy
m = Model(sys.argv[1])
m.group.table
t0 = time.perf_counter()
E = parameter_space_energy(m)                      # unrolled: n^2 Cayley-table products
syms = [s for k in m.vector_names for s in sorted(E.free_symbols, key=lambda s: s.name) if s.name.startswith(k + "_")]
grads = [sp.diff(E, s) for s in syms]             # 3n scalar derivatives of the whole energy
t1 = time.perf_counter()
print(json.dumps({"baseline": t1 - t0, "symbols": len(syms)}))
"""


def _run(code_or_args, timeout):
    cmd = [sys.executable] + code_or_args
    t0 = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, timeout
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed: {out.stderr[-2000:]}")
    return out.stdout, wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", default="F21,S5")
    ap.add_argument("--baseline-timeout", type=float, default=300.0,
                    help="seconds before the naive baseline is reported as '> timeout'")
    args = ap.parse_args(argv)
    import sympy

    import symflow

    print(f"symflow {symflow.__version__}, sympy {sympy.__version__}, python {sys.version.split()[0]}")
    targets = {"F21": 3.0, "S5": 10.0}
    results = {}
    for name in args.groups.split(","):
        _, cli = _run(["-m", "symflow", "derive", name], timeout=600)
        stdout, _ = _run(["-c", PHASES, name], timeout=600)
        phases = json.loads(stdout.strip().splitlines()[-1])
        stdout, wall = _run(["-c", BASELINE, name], timeout=args.baseline_timeout)
        base = json.loads(stdout.strip().splitlines()[-1]) if stdout else None
        engine = phases["energy"] + phases["flows"]
        row = {"cli_wall_s": round(cli, 3), **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in phases.items()}}
        if base:
            row["baseline_s"] = round(base["baseline"], 3)
            row["ratio_baseline_over_engine"] = round(base["baseline"] / engine, 1)
        else:
            row["baseline_s"] = f"> {args.baseline_timeout:.0f}"
            row["ratio_baseline_over_engine"] = f"> {args.baseline_timeout / engine:.1f}"
        results[name] = row
        target = targets.get(name)
        verdict = "" if target is None else f" (target < {target:.0f} s: {'met' if cli < target else 'MISSED'})"
        print(f"\nderive {name}: CLI wall {cli:.2f} s{verdict}")
        print(f"  phases: group {phases['group']:.2f} s, energy forms {phases['energy']:.2f} s, exact proof "
              f"{phases['verify']:.2f} s ({phases['field']}), block flows {phases['flows']:.2f} s, "
              f"closed form {phases['closed_form']:.2f} s")
        print(f"  baseline (unrolled energy + {('%d' % base['symbols']) if base else '3n'} scalar derivatives): "
              f"{row['baseline_s']} s;  engine (energy forms + block flows): {engine:.2f} s;  "
              f"ratio {row['ratio_baseline_over_engine']}x")
    print("\n" + json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
