"""Bench (no asserts): ``symflow mirrors`` at the sizes the issue names, timed.

    python bench/bench_mirrors.py [--seed 0]

* depth 4 on 12 points: 16 N^3 = 27648 raw columns (over 10^4), merged, minimum-norm LP and optimal face
  solved exactly by HiGHS; target under 10 s on 2 cores;
* depth 2 on 1000 points: 2000 raw columns, the same; target under 10 s;
* depth 3 on 12 points at beta = 0.1 (scikit-learn's Lasso with its certificate), for reference.

Prints the dictionary sizes, the optimum and the time of each phase (dictionary, solve, features and proofs).
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
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from symflow.mirrors import make_data, run_mirrors

    rng = np.random.default_rng(args.seed)
    cases = [("depth 4, 12 points, beta 0", 12, 4, 0.0), ("depth 2, 1000 points, beta 0", 1000, 2, 0.0),
             ("depth 3, 12 points, beta 0.1", 12, 3, 0.1)]
    for label, n, depth, beta in cases:
        x = rng.uniform(-1, 1, n)
        y = np.sin(3 * x) + 0.1 * rng.normal(size=n)
        t0 = time.perf_counter()
        r = run_mirrors(make_data(x, y), depth, beta=beta)
        wall = time.perf_counter() - t0
        d = r["dictionary"]
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in r["timings_s"].items())
        print(f"{label}: {d['columns']} raw -> {d['distinct']} distinct columns; objective {r['objective']:.8g} "
              f"({r['status']}, unique {r['unique']}); {wall:.2f} s ({phases})")


if __name__ == "__main__":
    main()
