"""Bench (no asserts): the theory on band-limited compact groups through the one path, against a finite baseline
measured in the same process (CPU seconds, ``time.process_time``).

    python bench/bench_compact_core.py [--starts 64]

Rows: the landscape of ``D5`` (finite baseline, ``D = 3 x 10``) and of ``SO(2)`` (L = 4), ``O(2)`` (L = 2), ``SO(3)``
(L = 1, 2) with the same starts; the check of ``derive`` (Fourier form and block flows against the quadrature brute
force, 5 points) on ``SO(3)`` L = 2, 4; the block flows up to ``d = 13`` (``SO(3)`` L = 6). The brute force's
``N^2 D`` grid (``N = (2L+1)^2 (L+1)`` nodes on ``SO(3)``) is what grows: the ratios say how fast.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=64)
    args = ap.parse_args()
    import symflow
    from symflow.landscape import landscape
    from symflow.theory.model import Model

    print(f"load: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")
    base = cpu(lambda: landscape(Model("D5"), starts=args.starts, seed=0))
    print(f"landscape D5, {args.starts} starts: {base:.2f} CPU s (baseline)")
    for name, L in (("SO(2)", 4), ("O(2)", 2), ("SO(3)", 1), ("SO(3)", 2)):
        m = Model(symflow.group(name, bandlimit=L))
        s = cpu(lambda: landscape(m, starts=args.starts, seed=0))
        print(f"landscape {name} L={L} (D = {m.group.coordinates}), {args.starts} starts: {s:.2f} CPU s "
              f"({s / base:.2f} x D5)")
    for L in (2, 4):
        m = Model(symflow.group("SO(3)", bandlimit=L))
        s = cpu(lambda: m.energy().verify(points=5))
        print(f"derive check SO(3) L={L}, 5 points: {s:.2f} CPU s ({s / base:.2f} x D5)")
    m = Model(symflow.group("SO(3)", bandlimit=6))
    s = cpu(m.block_flows)
    print(f"block flows SO(3) L=6 (d up to 13): {s:.2f} CPU s ({s / base:.2f} x D5)")


if __name__ == "__main__":
    main()
