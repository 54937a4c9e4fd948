"""Li2 benchmarks (times and measured numbers; no asserts).

    python bench/bench_li2.py                    # S5 maxima, the network sweep Z_p to 97, the energy sweeps, fits
    python bench/bench_li2.py --part network     # only the network's p_c_network sweep over Z_p, p <= 97
    python bench/bench_li2.py --quick            # S5 maxima, network Z11..Z47, energy Z_p up to 61
    python bench/bench_li2.py --part irreps      # per-irrep transitions of the network on F21 S4 D5 D7 A5 F55

Targets: maxima of S5 in under 60 s (issue 15); the network sweep (p_c_network of the trained Li2 network,
:func:`symflow.li2.scaling.measure_network`, public config: width 512, Adam lr 0.01, weight decay 1e-4, at most
3000 steps) over Z_p up to p = 97 in under 20 minutes on 2 cores (issue 22); the energy criterion's sweep up to
p = 211 in under 20 minutes (issue 15). Prints each group's p_c with its 95 % interval, p_c / (log M / M), the
fits over groups beside the public code's 2.7482, the total times and the CPU seconds (per group, per run; the
runs go to ``--workers`` forked processes, one BLAS thread each, so the CPU seconds are the machine-independent
cost and the wall time on an idle machine is about CPU / workers).
"""
import argparse
import json
import math
import os
import time

import numpy as np

import symflow
from symflow.li2.maxima import maxima
from symflow.li2.scaling import fit_dimension, fit_irrep_dimension, fit_law, measure_energy, measure_network

ZP = [23, 31, 47, 61, 89, 127, 167, 211]
ZP_NETWORK = [11, 17, 23, 31, 47, 67, 97]
NONABELIAN = ["D7", "D11", "S4", "F21", "A5", "F55"]
IRREP_GROUPS = ["D5", "D7", "S4", "F21", "A5", "F55"]


IRREP_POINTS = 6


def irrep_grid(G):
    """``IRREP_POINTS`` fractions spaced geometrically from ``1.5 log M / M`` to 0.95 (every irrep's transition
    inside, whatever its dimension)."""
    lo = min(0.5, 1.5 * math.log(G.order) / G.order)
    return sorted({float(round(f, 4)) for f in np.geomspace(lo, 0.95, IRREP_POINTS)})


def sweep(names, subsets, seed=0):
    rows = []
    t0 = time.perf_counter()
    for name in names:
        r = measure_energy(symflow.group(name), subsets=subsets, seed=seed)
        pc = r["p_c_energy"]
        ratio = "-" if pc["mean"] is None else f"{pc['mean'] / r['log_M_over_M']:.2f}"
        ci = "-" if pc["ci95"][0] is None else f"{pc['ci95'][0]:.4f}-{pc['ci95'][1]:.4f}"
        bd = {d: (None if s["mean"] is None else round(s["mean"], 4)) for d, s in r["p_c_by_dim"].items()}
        print(f"  {name:>5} M={r['order']:>4} p_c={pc['mean'] if pc['mean'] is None else round(pc['mean'], 4)} "
              f"CI {ci} p_c/(logM/M)={ratio} code={r['code_prediction']:.4f} by dim {bd} ({r['wall_time']:.0f} s)",
              flush=True)
        rows.append(r)
    return rows, time.perf_counter() - t0


def network_sweep(names, seeds, bisect, seed=0, workers=2, fractions=None):
    rows = []
    t0 = time.perf_counter()
    for name in names:
        G = symflow.group(name)
        fr = None if fractions is None else fractions(G)
        r = measure_network(G, fr, seeds=seeds, bisect=bisect, seed=seed, workers=workers)
        pc, t = r["p_c_network"], r["training"]
        ratio = "-" if pc["mean"] is None else f"{pc['mean'] / r['log_M_over_M']:.2f}"
        ci = "-" if pc["ci95"][0] is None else f"{pc['ci95'][0]:.4f}-{pc['ci95'][1]:.4f}"
        acc = ", ".join(f"{a['fraction']:.3f}: {a['mean']:.2f}" for a in r["test_accuracy"])
        print(f"  {name:>5} M={r['order']:>4} p_c_network={pc['mean'] if pc['mean'] is None else round(pc['mean'], 4)} "
              f"CI {ci} p_c/(logM/M)={ratio} test acc [{acc}] ({t['runs']} runs, {t['at_budget']} at the budget, "
              f"{t['wall_time_s']:.0f} s wall, {t['cpu_time_s']:.0f} CPU s, {t['cpu_time_s'] / t['runs']:.1f} per run, "
              f"median {t['steps_median']:.0f} steps)", flush=True)
        for o in r["irrep_transitions"]["orbits"]:
            tr = o["transition"]
            print(f"      orbit {o['orbit']:>12} d={o['dim']} transition "
                  f"{'-' if tr['mean'] is None else round(tr['mean'], 4)} recovery "
                  + ", ".join(f"{p:.3f}: {v:.2f}" for p, v in zip(o["fractions"], o["recovery"])), flush=True)
        rows.append(r)
    return rows, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--part", choices=["all", "maxima", "network", "energy", "irreps"], default="all")
    ap.add_argument("--workers", type=int, default=2, help="network: processes training runs in parallel")
    ap.add_argument("--groups", default=None, help="irreps: comma-separated groups (default " + ",".join(IRREP_GROUPS) + ")")
    ap.add_argument("--subsets", type=int, default=4, help="energy criterion: subsets per fraction")
    ap.add_argument("--seeds", type=int, default=2, help="network: run sequences per group")
    ap.add_argument("--bisect", type=int, default=3, help="network: bisection steps per sequence")
    ap.add_argument("--json", default=None, help="write all numbers to this file")
    args = ap.parse_args(argv)
    out = {}
    if args.part in ("all", "maxima"):
        t = time.perf_counter()
        res = maxima(symflow.group("S5"), starts=64)
        ts5 = time.perf_counter() - t
        print(f"S5 maxima: {ts5:.1f} s (target < 60 s): " + ", ".join(
            f"{m.orbit.label} E={m.energy_exact} flat={m.flat_dimension}" for m in res["maxima"]), flush=True)
        out["s5_seconds"] = ts5
    if args.part in ("all", "network"):
        zn = ZP_NETWORK[:5] if args.quick else ZP_NETWORK
        print(f"network sweep Z_p {zn} ({args.seeds} seeds, {args.bisect} bisection steps):", flush=True)
        c0 = time.process_time()
        rows, tn = network_sweep([f"Z{p}" for p in zn], args.seeds, args.bisect, workers=args.workers)
        cpu = sum(r["training"]["cpu_time_s"] for r in rows)
        print(f"network sweep CPU: {cpu:.0f} s in the runs ({time.process_time() - c0:.0f} s in this process), "
              f"{args.workers} workers; idle 2-core wall estimate {cpu / 2:.0f} s; load {os.getloadavg()}", flush=True)
        out["network_cpu_seconds"] = cpu
        fn = fit_law(rows, "p_c_network")
        fit = (f"fit p_c_network = {fn['c']:.3g} (log M/M)^{fn['alpha']:.3f}; alpha = 1: c = {fn['c_alpha1']:.3f} "
               f"(public code 2.7482)" if fn["alpha"] is not None else "no fit")
        print(f"network sweep: {tn:.0f} s (target < 1200 s); {fit}", flush=True)
        out.update({"network_seconds": tn, "network": rows, "network_fit": fn})
    if args.part in ("all", "irreps"):
        names = args.groups.split(",") if args.groups else IRREP_GROUPS
        print(f"per-irrep transitions {names} ({args.seeds} seeds, {args.bisect} bisection steps, grid of "
              f"{IRREP_POINTS} fractions from 1.5 log M / M to 0.95):", flush=True)
        rows, ti = network_sweep(names, args.seeds, args.bisect, workers=args.workers, fractions=irrep_grid)
        fd = fit_irrep_dimension(rows)
        fx = fd.get("fixed", {})
        print(f"per-irrep: {ti:.0f} s; p_k / (log M / M) = C d^beta: beta = {fd.get('beta')} (se {fd.get('beta_se')}), "
              f"rms log residual {fd.get('rms_log_residual')}; fixed beta 0/1/2: rms "
              + ", ".join(f"{b}: {v['rms_log_residual']:.3f} (C {v['C']:.3g})" for b, v in fx.items()), flush=True)
        out.update({"irreps": rows, "irreps_seconds": ti, "irrep_fit": fd})
    if args.part in ("all", "energy"):
        zp = ZP[:4] if args.quick else ZP
        print(f"energy Z_p sweep {zp}:", flush=True)
        rows, tz = sweep([f"Z{p}" for p in zp], args.subsets)
        fz = fit_law(rows, "p_c_energy")
        print(f"energy Z_p sweep: {tz:.0f} s (target < 1200 s); fit p_c_energy = {fz['c']:.3g} (log M/M)^{fz['alpha']:.3f}; "
              f"alpha = 1: c = {fz['c_alpha1']:.3f} (public code 2.7482)", flush=True)
        out.update({"zp_seconds": tz, "zp": rows, "zp_fit": fz})
        if not args.quick:
            print(f"non-abelian {NONABELIAN}:", flush=True)
            na, tn = sweep(NONABELIAN, args.subsets)
            fd = fit_dimension(na)
            print(f"non-abelian: {tn:.0f} s; fit over all groups c = {fit_law(rows + na, 'p_c_energy')['c_alpha1']:.3f}; "
                  f"per dimension p_c/(log M/M) = {fd.get('c', float('nan')):.3g} d^{fd.get('beta') or float('nan'):.3f}",
                  flush=True)
            out.update({"nonabelian": na, "nonabelian_seconds": tn, "fit_dimension": fd})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
