"""Basin fractions from first principles against measured ones, every named group of order <= 24, three settings.

    python bench/bench_lottery_basins.py [--width 8192] [--samples 32768] [--seed 0]
                                         [--settings unshared,shared,joint] [--out FILE.json] [GROUP ...]
    python bench/bench_lottery_basins.py --table FILE.json      # the tables of docs/theory.md section 14

Per (group, setting): measured = the simulated outcome (:func:`symflow.dynamics.lottery.simulated_orbits`) of
``--width`` uniform starts (seed), with Wilson intervals; predicted = :func:`predicted_basins` on ``--samples``
other starts (seed + 1), pooled over the exchangeable classes (exact where symmetry alone decides); the
predictor on the measured starts themselves gives the agreement and its confusion (the predictor's own bias,
free of sampling noise); Plancherel ``|O| d^2 / (n - 1)``; the atlas's descriptive fit (the multinomial logit of
:mod:`symflow.atlas.fit`, same features) fitted on these measured counts, in sample and with the group left out.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

DESIGN = ("Z7", "S3", "D4", "Q8")


def groups() -> list:
    from symflow.testing.command_matrix import matrix_groups

    out = [g for g in matrix_groups() if g != "Z1"]
    return out + [g for g in ("D6",) if g not in out]


def model_of(name, setting):
    from symflow.theory.model import Model

    kw = {"shared": True} if setting == "shared" else {"spheres": "joint"} if setting == "joint" else {}
    return Model(name, **kw)


def measure(name, setting, width, samples, seed) -> dict:
    from symflow.dynamics import simulate
    from symflow.dynamics.initial import uniform
    from symflow.dynamics.lottery import predict_orbits, predicted_basins, simulated_orbits
    from symflow.statistics import wilson_interval

    model = model_of(name, setting)
    G = model.group
    init = uniform(model, width, seed)
    lot = predict_orbits(model, init)
    c0 = time.process_time()
    sim = simulated_orbits(simulate(model, init=init))
    sim_cpu = time.process_time() - c0
    c0 = time.process_time()
    b = predicted_basins(model, samples, seed + 1)
    pred_cpu = time.process_time() - c0
    label = {o.id: o.display_label for o in G.orbits}
    label[-1] = "dead"
    conf: dict = {}
    for p, s in zip(lot.winner[lot.winner != sim], sim[lot.winner != sim]):
        conf[f"{label[int(p)]}->{label[int(s)]}"] = conf.get(f"{label[int(p)]}->{label[int(s)]}", 0) + 1
    hits = int(np.sum(lot.winner == sim))
    n = G.order
    rows = []
    for o in G.orbits:
        if o.type == "trivial":
            continue
        k = int(np.sum(sim == o.id))
        own = int(np.sum(lot.winner == o.id))
        cls = next(i for i, c in enumerate(b["classes"]) if o.id in c)
        rows.append({"orbit": o.display_label, "id": o.id, "dim": o.dim, "type": o.type, "size": o.size,
                     "class": cls, "class_size": len(b["classes"][cls]), "count": k, "measured": k / width,
                     "ci95": list(wilson_interval(k, width)), "predicted": float(b["pooled"][o.id]),
                     "predicted_unpooled": float(b["fractions"][o.id]), "same_neurons": (own - k) / width,
                     "plancherel": o.size * o.dim ** 2 / (n - 1),
                     "omega_n15": (2 if o.type == "quaternionic" else o.size) ** -0.5 * o.dim ** -0.5
                     * (0.5 if model.spheres == "joint" else 1.0)})
    dead = int(np.sum(sim < 0))
    return {"group": name, "order": n, "setting": setting, "set": "design" if name in DESIGN else "held aside",
            "width": width, "samples": samples, "seed": seed, "by_symmetry": b["by_symmetry"],
            "agreement": {"fraction": hits / width, "ci95": list(wilson_interval(hits, width))},
            "confusion": dict(sorted(conf.items(), key=lambda kv: -kv[1])),
            "dead": {"measured": dead / width, "ci95": list(wilson_interval(dead, width)), "predicted": b["dead"],
                     "same_neurons": (int(np.sum(lot.winner < 0)) - dead) / width},
            "basins": rows, "cpu": {"simulation_s": sim_cpu, "predictor_same_s": lot.cpu_time_s,
                                    "predicted_basins_s": pred_cpu}, "load": os.getloadavg()[0]}


def atlas_fit(results) -> None:
    """The atlas's descriptive fit (:mod:`symflow.atlas.fit`: multinomial logit over the same features) on the
    measured counts of the orbit kinds, in sample and leaving each group out; adds ``fit`` / ``fit_loo`` per row
    (fractions of all neurons: the fitted split of the non-dead ones times the measured non-dead share)."""
    from symflow.atlas.fit import _fit, _pack, _predict, _take, features

    tasks = []
    for r in results:
        kinds = [{"orbit_dim": b["dim"], "orbit_size": b["size"], "type": b["type"], "order": r["order"],
                  "energy": b["omega_n15"] * r["order"] ** -1.5, "rank": 1, "stable": True, "count": b["count"]}
                 for b in r["basins"]]
        tasks.append(kinds)
    ok = [i for i, t in enumerate(tasks) if len(t) > 1]
    packed = _pack([tasks[i] for i in ok])
    F, C, M = packed
    w = _fit(packed)
    fitted = _predict(w, F, M)
    owner = np.array([results[i]["group"] for i in ok])
    loo = np.zeros_like(fitted)
    for g in sorted(set(owner)):
        sel = owner == g
        loo[sel] = _predict(_fit(_take(packed, ~sel)), F[sel], M[sel])
    for j, i in enumerate(ok):
        alive = 1 - results[i]["dead"]["measured"]
        for k, b in enumerate(results[i]["basins"]):
            b["fit"], b["fit_loo"] = float(fitted[j, k] * alive), float(loo[j, k] * alive)
    for i, r in enumerate(results):
        if i not in ok:
            for b in r["basins"]:
                b["fit"] = b["fit_loo"] = 1 - r["dead"]["measured"]
    return {"weights": dict(zip(["log d", "log |O|", "complex", "quaternionic", "log(Omega n^1.5)", "rank > 1",
                                 "saddle"], map(float, w)))}


def table(results) -> str:
    out = ["| set | group | setting | agreement [95 %] | max \\|pred - meas\\| (orbit) | within 0.02 | "
           "same neurons | Plancherel | atlas fit (in / out of sample) | failures (predicted->simulated) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        a = r["agreement"]
        err = [(abs(b["predicted"] - b["measured"]), b["orbit"]) for b in r["basins"]]
        if r["dead"]["measured"] or r["dead"]["predicted"]:
            err.append((abs(r["dead"]["predicted"] - r["dead"]["measured"]), "dead"))
        e, o = max(err)
        same = max([abs(b["same_neurons"]) for b in r["basins"]] + [abs(r["dead"]["same_neurons"])])
        pl = max(abs(b["plancherel"] - b["measured"]) for b in r["basins"])
        fi = max(abs(b["fit"] - b["measured"]) for b in r["basins"])
        fo = max(abs(b["fit_loo"] - b["measured"]) for b in r["basins"])
        conf = ", ".join(f"{k} {v}" for k, v in list(r["confusion"].items())[:2]) or "-"
        sym = " (symmetry)" if r["by_symmetry"] else ""
        out.append(f"| {r['set']} | {r['group']} | {r['setting']} | {a['fraction']:.4f} [{a['ci95'][0]:.3f}, "
                   f"{a['ci95'][1]:.3f}] | {e:.3f} ({o}){sym} | {'yes' if e <= 0.02 else 'no'} | {same:.4f} | "
                   f"{pl:.3f} | {fi:.3f} / {fo:.3f} | {conf} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("groups", nargs="*")
    ap.add_argument("--width", type=int, default=8192)
    ap.add_argument("--samples", type=int, default=32768)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--settings", default="unshared,shared,joint")
    ap.add_argument("--out", default=None)
    ap.add_argument("--table", default=None, metavar="FILE.json")
    args = ap.parse_args(argv)
    if args.table:
        with open(args.table) as fh:
            print(table(json.load(fh)["results"]))
        return
    warnings.simplefilter("ignore")
    results = []
    for name in args.groups or groups():
        for setting in args.settings.split(","):
            r = measure(name, setting, args.width, args.samples, args.seed)
            results.append(r)
            e = max(abs(b["predicted"] - b["measured"]) for b in r["basins"])
            print(f"{r['set']:10s} {name:9s} {setting:8s} agreement {r['agreement']['fraction']:.4f} max err "
                  f"{e:.3f} dead {r['dead']['measured']:.3f}/{r['dead']['predicted']:.3f} "
                  f"cpu sim {r['cpu']['simulation_s']:.1f} s pred {r['cpu']['predicted_basins_s']:.1f} s load "
                  f"{r['load']:.1f} {list(r['confusion'].items())[:2]}", flush=True)
            if args.out:
                with open(args.out, "w") as fh:
                    json.dump({"results": results}, fh, indent=1)
    fit = atlas_fit(results) if len(results) >= 3 else None
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"results": results, "atlas_fit": fit,
                       "command": "python bench/bench_lottery_basins.py " + " ".join(sys.argv[1:] if argv is None else argv)},
                      fh, indent=1)
    if fit:
        print(table(results))


if __name__ == "__main__":
    main()
