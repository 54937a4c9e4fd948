"""The orbit lottery measured against simulation on every named group of order <= 24, both settings.

    python bench/bench_lottery_orbits.py [--width 1024] [--samples 8192] [--seed 0] [--joint] [--out FILE.json] [GROUP ...]

Design set (looked at while building the predictor): Z7, S3, D4, Q8; every other group is held aside.
Prints one row per (group, setting): agreement with its Wilson interval, the largest basin error, the cost
ratio (``--joint``: unshared on the joint sphere ``[theta1; theta2]`` instead of both settings); ``--out`` writes every row of :func:`symflow.dynamics.lottery.compare_with_simulation` as JSON.
"""
from __future__ import annotations

import argparse
import json
import warnings

DESIGN = ("Z7", "S3", "D4", "Q8")


def groups() -> list:
    from symflow.testing.command_matrix import matrix_groups

    out = [g for g in matrix_groups() if g != "Z1"]
    return out + [g for g in ("D6",) if g not in out]


def main(argv=None):
    from symflow.dynamics.lottery import compare_with_simulation
    from symflow.theory.model import Model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("groups", nargs="*")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--samples", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--joint", action="store_true", help="unshared embeddings on the joint sphere only")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    rows = []
    for name in args.groups or groups():
        for shared in ((False,) if args.joint else (False, True)):
            model = Model(name, shared=shared, spheres="joint" if args.joint else None)
            r = compare_with_simulation(model, args.width, args.seed, args.samples)
            r.pop("lottery"), r.pop("result"), r.pop("neurons")
            r["set"] = "design" if name in DESIGN else "held aside"
            rows.append(r)
            a = r["agreement"]
            conf = ", ".join(f"{k} {v}" for k, v in list(r["confusion"].items())[:3])
            print(f"{r['set']:10s} {name:9s} {'joint' if args.joint else 'shared' if shared else 'unshared':8s} agreement {a['fraction']:.3f} "
                  f"[{a['ci95'][0]:.3f}, {a['ci95'][1]:.3f}]  basin err max {r['basin_error_max']:.3f}  "
                  f"cost x{r['cost']['ratio']:.1f}  unconv {r['cost']['simulated_unconverged']}  {conf}", flush=True)
            if args.out:
                with open(args.out, "w") as fh:
                    json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
