"""The orbit lottery measured against simulation on every named group of order <= 24, both settings.

    python bench/bench_lottery_orbits.py [--width 1024] [--samples 8192] [--seed 0] [--joint] [--out FILE.json] [GROUP ...]
    python bench/bench_lottery_orbits.py --table FILE.json     # the markdown table of docs/theory.md section 14
    python bench/bench_lottery_orbits.py --atlas 24 [--min-order 2] [--width 1024] [--out FILE.json]   # atlas groups
    python bench/bench_lottery_orbits.py --atlas-db atlas.duckdb   # today's predictor on a stored atlas's basins

Design set (looked at while building the predictor): Z7, S3, D4, Q8; every other group is held aside.
``--atlas N``: every group of GAP's SmallGroups library of order <= N that is none of the named groups above (held
aside: the predictor was never looked at on them), both settings, with the agreement among the neurons that end on
a rank-two block (``sigma2/sigma1 >`` :data:`RANK_TWO`, a proxy for the rank-two families of docs/theory.md
section 8) and among the dead ones. :data:`HELD_ASIDE_CI` is the part of that set the test suite checks
(``tests/test_atlas_lottery.py``, few neurons).
Prints one row per (group, setting): agreement with its Wilson interval, the largest basin error, the cost
ratio (``--joint``: unshared on the joint sphere ``[theta1; theta2]`` instead of both settings); ``--out`` writes every row of :func:`symflow.dynamics.lottery.compare_with_simulation` as JSON.
"""
from __future__ import annotations

import argparse
import json
import warnings

DESIGN = ("Z7", "S3", "D4", "Q8")
#: held-aside groups checked in CI (tests/test_atlas_lottery.py): atlas groups that are no named group, chosen
#: before any result on them was looked at (non-abelian, orders 16-24, a 3-dimensional irrep in SL(2,3))
HELD_ASIDE_CI = ("SmallGroup(16,3)", "SmallGroup(18,3)", "SmallGroup(24,3)")
#: a simulated neuron's dominant block is rank two when its ``sigma2/sigma1`` exceeds this (end states of rank one
#: are at ~1e-8 after the flow's tolerance; the rank-two families at O(1)): a proxy with its threshold
RANK_TWO = 1e-3


def groups() -> list:
    from symflow.testing.command_matrix import matrix_groups

    out = [g for g in matrix_groups() if g != "Z1"]
    return out + [g for g in ("D6",) if g not in out]


def atlas_groups(max_order: int, min_order: int = 2) -> list:
    """``SmallGroup(n,k)`` names of every group of order ``min_order..max_order`` that is none of :func:`groups` (by
    GAP's IdGroup)."""
    import symflow
    from symflow.atlas.groups import id_group, small_group_ids

    named = {id_group(symflow.group(g)) for g in groups()}
    return [f"SmallGroup({n},{k})" for n, k in small_group_ids(max_order) if (n, k) not in named and n >= min_order]


def outcome_kinds(r) -> dict:
    """Agreement among the simulated neurons that ended on a rank-two block and among the dead ones:
    ``{"rank_two": {"agree", "neurons"}, "dead": {...}}`` (from the row's ``result`` and ``neurons``)."""
    import numpy as np

    from symflow.dynamics.observables import dominant_orbit, rank_ratio

    res = r["result"]
    pred, sim = np.array(r["neurons"]["predicted"]), np.array(r["neurons"]["simulated"])
    ratio = np.max(np.stack(list(rank_ratio(res.final_state, dominant_orbit(res.final_state)).values())), axis=0)
    two = (ratio > RANK_TWO) & (sim >= 0)
    dead = sim < 0
    return {"rank_two": {"agree": int(np.sum((pred == sim) & two)), "neurons": int(two.sum())},
            "dead": {"agree": int(np.sum((pred == sim) & dead)), "neurons": int(dead.sum())}}


def atlas_db_comparison(db) -> dict:
    """Today's predictor's Monte Carlo basins (pooled over exchangeable orbits; each task's stored samples and seed) for every
    task of a stored atlas, against the stored measured shares, next to the fitted description and the Plancherel
    weights (:func:`symflow.atlas.fit.compare_with_predictor`): ``{"comparison", "error": {setting: (mean, max,
    orbits)}, "cpu_s"}``. The landscape is not recomputed (its per-neuron agreement is the stored predictor's)."""
    import time

    import numpy as np

    from symflow.atlas.fit import compare_with_predictor
    from symflow.atlas.report import load
    from symflow.dynamics.lottery import predicted_basins
    from symflow.theory.model import Model

    data = load(db)
    names = {(g["order"], g["gap_id"]): g["name"] for g in data["groups"]}
    runs = {(r["order"], r["gap_id"], r["setting"]): r for r in data["runs"]}
    cache, pred = {}, []
    c0 = time.process_time()
    for p in data["predicted"]:
        key = (p["order"], p["gap_id"], p["setting"])
        if key not in cache:
            cache[key] = predicted_basins(Model(names[key[:2]], shared=key[2] == "shared"), p["samples"],
                                          runs[key]["pred_seed"])
        pb = cache[key]
        pred.append(dict(p, predicted=float(pb["pooled"][p["orbit_id"]]) if p["orbit_id"] >= 0 else pb["dead"]))
    out = {"comparison": compare_with_predictor(data["attractors"], pred), "cpu_s": time.process_time() - c0,
           "error": {}}
    for setting in ("unshared", "shared"):
        e = np.array([abs(p["predicted"] - p["measured"]) for p in pred if p["setting"] == setting])
        if e.size:
            out["error"][setting] = (float(e.mean()), float(e.max()), int(e.size))
    return out


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
        kinds = ""
        if "outcome_kinds" in r:
            k = r["outcome_kinds"]
            kinds = " | " + " | ".join(f"{k[x]['agree']}/{k[x]['neurons']}" if k[x]["neurons"] else "-"
                                       for x in ("rank_two", "dead"))
        out.append(f"| {r['set']} | {r.get('structure') or r['group']} | {setting} | {a['fraction']:.3f} "
                   f"[{a['ci95'][0]:.3f}, "
                   f"{a['ci95'][1]:.3f}] | {conf} | {r['basin_error_max']:.3f} ({inside}/{len(r['basins'])} inside) | "
                   f"{same_neuron_bias(r):.3f} | {pl:.3f} | {r['cost']['ratio']:.0f}{kinds} |")
    return "\n".join(out)


def summary(rows) -> str:
    """Pooled agreement (Wilson) per setting, the basin errors and the rank-two / dead breakdown of ``rows``."""
    import numpy as np

    from symflow.statistics import wilson_interval

    out = []
    for setting in ("unshared", "shared", "joint"):
        sel = [r for r in rows if ("joint" if r["spheres"] == "joint" else "shared" if r["shared"] else "unshared")
               == setting]
        if not sel:
            continue
        hits = sum(r["agreement"]["agree"] for r in sel)
        tot = sum(r["agreement"]["neurons"] for r in sel)
        lo, hi = wilson_interval(hits, tot)
        worst = min(sel, key=lambda r: r["agreement"]["fraction"])
        err = np.array([abs(b["error"]) for r in sel for b in r["basins"]])
        bias = [same_neuron_bias(r) for r in sel]
        below = [r["group"] for r in sel if r["agreement"]["ci95"][1] < 0.95]
        line = (f"{setting}: {len(sel)} groups, agreement {hits}/{tot} = {hits / tot:.4f} [{lo:.4f}, {hi:.4f}], lowest "
                f"{worst['agreement']['fraction']:.3f} ({worst['group']}); groups whose 95% interval is below 0.95: "
                f"{len(below)} {below[:6]}; basin |predicted - measured| mean {err.mean():.3f} max {err.max():.3f}; "
                f"same-neuron bias max {max(bias):.3f}")
        if all("outcome_kinds" in r for r in sel):
            for x in ("rank_two", "dead"):
                a = sum(r["outcome_kinds"][x]["agree"] for r in sel)
                n = sum(r["outcome_kinds"][x]["neurons"] for r in sel)
                if n:
                    lo, hi = wilson_interval(a, n)
                    line += f"; {x.replace('_', ' ')}: {a}/{n} = {a / n:.3f} [{lo:.3f}, {hi:.3f}]"
        out.append(line)
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
    ap.add_argument("--atlas", type=int, default=None, metavar="N",
                    help="the SmallGroups of order <= N that are no named group (held aside), both settings")
    ap.add_argument("--min-order", type=int, default=2, help="with --atlas: from this order on")
    ap.add_argument("--atlas-db", default=None, metavar="DB", help="today's predictor against a stored atlas's basins")
    args = ap.parse_args(argv)
    if args.atlas_db:
        warnings.simplefilter("ignore")
        print(json.dumps(atlas_db_comparison(args.atlas_db), indent=1))
        return
    if args.table:
        with open(args.table) as fh:
            rows = json.load(fh)
        print(table(rows))
        print(summary(rows))
        return
    from symflow.dynamics.lottery import compare_with_simulation
    from symflow.theory.model import Model

    warnings.simplefilter("ignore")
    rows = []
    names = args.groups or (atlas_groups(args.atlas, args.min_order) if args.atlas else groups())
    if args.atlas:
        from symflow.atlas.groups import structure
    for name in names:
        for shared in ((False,) if args.joint else (False, True)):
            model = Model(name, shared=shared, spheres="joint" if args.joint else None)
            r = compare_with_simulation(model, args.width, args.seed, args.samples)
            if args.atlas:
                r["outcome_kinds"] = outcome_kinds(r)
                n, k = name[len("SmallGroup("):-1].split(",")
                r["structure"] = f"{name} {structure(int(n), int(k))}"
            r.pop("lottery"), r.pop("result"), r.pop("neurons")
            r["set"] = "atlas, held aside" if args.atlas else "design" if name in DESIGN else "held aside"
            rows.append(r)
            a = r["agreement"]
            conf = ", ".join(f"{k} {v}" for k, v in list(r["confusion"].items())[:3])
            print(f"{r['set']:10s} {name:9s} {'joint' if args.joint else 'shared' if shared else 'unshared':8s} agreement {a['fraction']:.3f} "
                  f"[{a['ci95'][0]:.3f}, {a['ci95'][1]:.3f}]  basin err max {r['basin_error_max']:.3f}  "
                  f"cost x{r['cost']['ratio']:.1f}  unconv {r['cost']['simulated_unconverged']}  {conf}"
                  + (f"  {r['outcome_kinds']}" if "outcome_kinds" in r else ""), flush=True)
            if args.out:
                with open(args.out, "w") as fh:
                    json.dump(rows, fh, indent=1)
    print(summary(rows))


if __name__ == "__main__":
    main()
