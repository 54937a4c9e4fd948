"""Li2 benchmarks (times and measured numbers; no asserts).

    python bench/bench_li2.py              # S5 maxima, the Z_p sweep 23..211, non-abelian groups, fits
    python bench/bench_li2.py --quick      # S5 maxima and Z_p up to 61

Targets from issue 15: maxima of S5 in under 60 s; the Z_p scaling sweep up to p = 211 in under 20 minutes
on 2 cores. Prints each group's p_c with its 95 % interval, p_c / (log M / M), the fits over groups and per
irrep dimension beside the public code's 2.7482.
"""
import argparse
import json
import time

import symflow
from symflow.li2.maxima import maxima
from symflow.li2.scaling import fit_dimension, fit_law, measure

ZP = [23, 31, 47, 61, 89, 127, 167, 211]
NONABELIAN = ["D7", "D11", "S4", "F21", "A5", "F55"]


def sweep(names, subsets, seed=0):
    rows = []
    t0 = time.perf_counter()
    for name in names:
        r = measure(symflow.group(name), subsets=subsets, seed=seed)
        pc = r["p_c"]
        ratio = "-" if pc["mean"] is None else f"{pc['mean'] / r['log_M_over_M']:.2f}"
        ci = "-" if pc["ci95"][0] is None else f"{pc['ci95'][0]:.4f}-{pc['ci95'][1]:.4f}"
        bd = {d: (None if s["mean"] is None else round(s["mean"], 4)) for d, s in r["p_c_by_dim"].items()}
        print(f"  {name:>5} M={r['order']:>4} p_c={pc['mean'] if pc['mean'] is None else round(pc['mean'], 4)} "
              f"CI {ci} p_c/(logM/M)={ratio} code={r['code_prediction']:.4f} by dim {bd} ({r['wall_time']:.0f} s)",
              flush=True)
        rows.append(r)
    return rows, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--subsets", type=int, default=4)
    ap.add_argument("--json", default=None, help="write all numbers to this file")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    res = maxima(symflow.group("S5"), starts=64)
    ts5 = time.perf_counter() - t
    print(f"S5 maxima: {ts5:.1f} s (target < 60 s): " + ", ".join(
        f"{m.orbit.label} E={m.energy_exact} flat={m.flat_dimension}" for m in res["maxima"]), flush=True)
    zp = ZP[:4] if args.quick else ZP
    print(f"Z_p sweep {zp}:", flush=True)
    rows, tz = sweep([f"Z{p}" for p in zp], args.subsets)
    fz = fit_law(rows)
    print(f"Z_p sweep: {tz:.0f} s (target < 1200 s); fit p_c = {fz['c']:.3g} (log M/M)^{fz['alpha']:.3f}; "
          f"alpha = 1: c = {fz['c_alpha1']:.3f} (public code 2.7482)", flush=True)
    out = {"s5_seconds": ts5, "zp_seconds": tz, "zp": rows, "zp_fit": fz}
    if not args.quick:
        print(f"non-abelian {NONABELIAN}:", flush=True)
        na, tn = sweep(NONABELIAN, args.subsets)
        fd = fit_dimension(na)
        print(f"non-abelian: {tn:.0f} s; fit over all groups c = {fit_law(rows + na)['c_alpha1']:.3f}; per dimension "
              f"p_c/(log M/M) = {fd.get('c', float('nan')):.3g} d^{fd.get('beta') or float('nan'):.3f}", flush=True)
        out.update({"nonabelian": na, "nonabelian_seconds": tn, "fit_dimension": fd})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
