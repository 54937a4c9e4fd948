"""The coupled orbit lottery (shared and joint spheres) against simulation on every named group of order <= 24.

    python bench/bench_lottery_exact.py [--width 1024] [--samples 8192] [--seed 0] [--settings shared,joint]
                                        [--out FILE.json] [GROUP ...]
    python bench/bench_lottery_exact.py --table FILE.json     # the markdown table of docs/theory.md section 14

For each (group, setting): :func:`symflow.dynamics.lottery.compare_with_simulation` with the default coupling
(the exact coupled flow for ``EARLY_STEPS`` steps, then the frozen race), and on the same starts the first
predictor (``coupling="frozen"``) as the baseline; cost = process time of ``simulate`` (to equilibrium) over
the predictor's, both in this process (the load is printed). Design set (looked at while choosing
``EARLY_STEPS``): Z7, S3, D4, Q8 (and Z2, Z2xZ2 shared, looked at once); every other group is held aside.
"""
from __future__ import annotations

import argparse
import json
import os
import warnings

import numpy as np

DESIGN = ("Z7", "S3", "D4", "Q8")


def groups() -> list:
    from symflow.testing.command_matrix import matrix_groups

    out = [g for g in matrix_groups() if g != "Z1"]
    return out + [g for g in ("D6",) if g not in out]


def table(rows) -> str:
    out = []
    for r in rows:
        a, f = r["agreement"], r["frozen"]
        conf = ", ".join(f"{k} {v}" for k, v in list(r["confusion"].items())[:2]) or "-"
        setting = "joint" if r["spheres"] == "joint" else "shared" if r["shared"] else "unshared"
        c = r["cost"]
        out.append(f"| {r['set']} | {r['group']} | {setting} | {a['fraction']:.3f} [{a['ci95'][0]:.3f}, "
                   f"{a['ci95'][1]:.3f}] | {f['fraction']:.3f} | {conf} | {r['same_neuron_bias']:.3f} | "
                   f"{c['decided_in_coupled_phase'] / a['neurons']:.2f} | {c['cpu_ratio']:.1f} |")
    return "\n".join(out)


def same_neuron_bias(row) -> float:
    bias: dict = {}
    for key, count in row["confusion"].items():
        p, s = key.split("->")
        bias[p] = bias.get(p, 0) + count
        bias[s] = bias.get(s, 0) - count
    return max([abs(v) / row["agreement"]["neurons"] for v in bias.values()] or [0.0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("groups", nargs="*")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--samples", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--settings", default="shared,joint")
    ap.add_argument("--out", default=None)
    ap.add_argument("--table", default=None, metavar="FILE.json")
    args = ap.parse_args(argv)
    if args.table:
        with open(args.table) as fh:
            print(table(json.load(fh)))
        return
    from symflow.dynamics.initial import uniform
    from symflow.dynamics.lottery import compare_with_simulation, predict_orbits
    from symflow.statistics import wilson_interval
    from symflow.theory.model import Model

    warnings.simplefilter("ignore")
    rows = []
    for name in args.groups or groups():
        for setting in args.settings.split(","):
            kw = {"shared": True} if setting == "shared" else {"spheres": "joint"} if setting == "joint" else {}
            model = Model(name, **kw)
            r = compare_with_simulation(model, args.width, args.seed, args.samples)
            r.pop("lottery"), r.pop("result")
            sim = np.array(r["neurons"].pop("simulated"))
            r.pop("neurons")
            frozen = predict_orbits(model, uniform(model, args.width, args.seed), coupling="frozen")
            k = int(np.sum(frozen.winner == sim))
            r["frozen"] = {"fraction": k / args.width, "ci95": list(wilson_interval(k, args.width))}
            r["same_neuron_bias"] = same_neuron_bias(r)
            r["set"] = "design" if name in DESIGN else "held aside"
            r["load"] = os.getloadavg()[0]
            rows.append(r)
            a, c = r["agreement"], r["cost"]
            print(f"{r['set']:10s} {name:9s} {setting:7s} agreement {a['fraction']:.3f} [{a['ci95'][0]:.3f}, "
                  f"{a['ci95'][1]:.3f}] frozen {k / args.width:.3f}  bias {r['same_neuron_bias']:.3f}  basin err max "
                  f"{r['basin_error_max']:.3f}  cpu x{c['cpu_ratio']:.1f} (wall x{c['ratio']:.1f}, sim "
                  f"{c['simulation_cpu_s']:.1f} s)  load {r['load']:.1f}  {list(r['confusion'].items())[:2]}",
                  flush=True)
            if args.out:
                with open(args.out, "w") as fh:
                    json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
