"""Timings of the compact groups (issue 24; prints, no asserts).

* ``branching SO(3) A5 --bandlimit 20`` as a user runs it (a fresh ``python -m symflow``, startup included);
  target under 2 s on 2 cores; ``rates SO(3) --bandlimit 8 --json``, target under 10 s;
* in one interpreter: the SO(3) quadrature of band ``2L``, the real Wigner matrices on it, and the Fourier
  transform and Plancherel check of a band-limited signal, for L = 4, 8, 12;
* the limits sweep (``symflow limits``, :mod:`symflow.theory.limits`): the CLI on SO(2) band 4 (Z3..Z64, no grids)
  and SO(3) band 3 (T, O, I; grids of 1000 points), and in one interpreter the CPU seconds of the SO(3) band-3 sweep
  with the default grids (100, 1000, 10000 points) as a ratio to the Fourier L = 8 run of the same process.

Usage: ``python bench/bench_compact.py``.
"""
from __future__ import annotations

import subprocess
import sys
import time


def cli_seconds(argv) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "symflow", *argv], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def fourier_seconds(L: int) -> tuple[float, int, float]:
    import numpy as np

    import symflow
    from symflow.groups.compact import fourier, inverse_fourier, plancherel

    t0 = time.perf_counter()
    G = symflow.group("SO(3)", bandlimit=L)
    E, w = G.quadrature()
    rng = np.random.default_rng(0)
    c = [rng.normal(size=(r.dim, r.dim)) for r in G.irreps]
    f = inverse_fourier(G, c, E)
    back = fourier(G, f)
    err = abs(np.sum(w * f ** 2) - plancherel(G, back)) / plancherel(G, back)
    return time.perf_counter() - t0, len(w), err


def main() -> int:
    for argv in (["branching", "SO(3)", "A5", "--bandlimit", "20"], ["rates", "SO(3)", "--bandlimit", "8", "--json"],
                 ["group", "A5", "--in", "SO(3)"],
                 ["group", "SO(3)", "--bandlimit", "8", "--json"],
                 ["limits", "SO(2)", "--bandlimit", "4", "--sizes", "none", "--json"],
                 ["limits", "SO(3)", "--bandlimit", "3", "--sizes", "1000", "--json"]):
        print(f"symflow {' '.join(argv):<45} {cli_seconds(argv):6.2f} s (fresh interpreter)")
    base = None
    for L in (4, 8, 12):
        seconds, points, err = fourier_seconds(L)
        base = seconds if L == 8 else base
        print(f"SO(3) L={L:<3} quadrature {points:6d} points, Fourier + inverse + Plancherel {seconds:6.2f} s, "
              f"relative Plancherel error {err:.1e}")
    from symflow.theory.limits import limits_sweep

    t0, c0 = time.perf_counter(), time.process_time()
    data = limits_sweep("SO(3)", 3)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"limits_sweep SO(3) L=3 (T, O, I; {len(data['grids'])} grids up to 10000 points) {wall:6.2f} s wall, "
          f"{cpu:6.2f} CPU s, {wall / base:.1f}x the Fourier L=8 run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
