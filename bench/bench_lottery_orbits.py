"""The orbit lottery measured against simulation on every named group of order <= 24, both settings.

    python bench/bench_lottery_orbits.py [--width 1024] [--samples 8192] [--seed 0] [--joint] [--out FILE.json] [GROUP ...]
    python bench/bench_lottery_orbits.py --table FILE.json     # the markdown table of docs/theory.md section 14

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


def same_neuron_bias(row) -> float:
    """The predictor's own basin bias: ``max_O |#predicted on O - #simulated on O| / width`` on the same starts,
    from the confusion counts (free of sampling noise)."""
    bias: dict = {}
    for key, count in row["confusion"].items():
        p, s = key.split("->")
        bias[p] = bias.get(p, 0) + count
        bias[s] = bias.get(s, 0) - count
    return max([abs(v) / row["agreement"]["neurons"] for v in bias.values()] or [0.0])


def table(rows) -> str:
    """The markdown table of docs/theory.md section 14 from the rows of ``--out``."""
    out = []
    for r in rows:
        a = r["agreement"]
        pl = max(abs(b["plancherel"] - b["measured"]) for b in r["basins"])
        inside = sum(b["ci95"][0] <= b["predicted"] <= b["ci95"][1] for b in r["basins"])
        conf = ", ".join(f"{k} {v}" for k, v in list(r["confusion"].items())[:2]) or "-"
        setting = "joint" if r["spheres"] == "joint" else "shared" if r["shared"] else "unshared"
        out.append(f"| {r['set']} | {r['group']} | {setting} | {a['fraction']:.3f} [{a['ci95'][0]:.3f}, "
                   f"{a['ci95'][1]:.3f}] | {conf} | {r['basin_error_max']:.3f} ({inside}/{len(r['basins'])} inside) | "
                   f"{same_neuron_bias(r):.3f} | {pl:.3f} | {r['cost']['ratio']:.0f} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("groups", nargs="*")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--samples", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--joint", action="store_true", help="unshared embeddings on the joint sphere only")
    ap.add_argument("--table", default=None, metavar="FILE.json", help="print the markdown table of saved rows")
    args = ap.parse_args(argv)
    if args.table:
        with open(args.table) as fh:
            print(table(json.load(fh)))
        return
    from symflow.dynamics.lottery import compare_with_simulation
    from symflow.theory.model import Model

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
