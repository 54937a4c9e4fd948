"""Every kind of attractor the landscape search finds that no orbit's construction gives, for the named
groups up to a given order (prints a table and writes JSON; no asserts).

Usage: ``python bench/survey_landscape.py [--max-order 24] [--starts 512] [--seed 0] [--out survey.json]``.
Both settings of the CE model (unshared and shared embeddings, separate spheres, sigma = z^2).
"""
from __future__ import annotations

import argparse
import json
import time
import warnings


def main() -> None:
    from symflow.landscape import landscape
    from symflow.testing.strategies import named_groups_list
    from symflow.theory.model import Model
    from symflow.theory.scope import ScopeWarning

    warnings.simplefilter("ignore", ScopeWarning)
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-order", type=int, default=24)
    ap.add_argument("--starts", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="survey.json")
    args = ap.parse_args()
    rows = []
    for name in named_groups_list(max_order=args.max_order):
        for shared in (False, True):
            model = Model(name, shared=shared)
            G = model.group
            if G.order < 2:
                continue
            t0 = time.perf_counter()
            L = landscape(model, starts=args.starts, seed=args.seed)
            dt = time.perf_counter() - t0
            J = L.to_json()
            found = [a for a in J["attractors"] if a["source"] == "discovered"]
            rows.append({"group": name, "order": G.order, "shared": shared, "seconds": round(dt, 2),
                         "kinds": len(J["attractors"]), "unconverged": J["unconverged"], "discovered": found})
            for a in found:
                lo, hi = a["basin"]["ci95"]
                print(f"{name:<8} {'shared' if shared else 'unshared':<9} {'{' + ', '.join(a['orbit']) + '}':<22} "
                      f"rank {a['rank']}  E = {a['energy_exact'] or a['energy']:<16} family {a['family_dimension']} "
                      f"sym {a['symmetry_dimension']}  stable {a['stable']} "
                      f"(family {a['family_stable_fraction']})  basin {a['basin']['fraction']:.3f} "
                      f"[{lo:.3f}, {hi:.3f}]", flush=True)
            if not found:
                print(f"{name:<8} {'shared' if shared else 'unshared':<9} only the constructed kinds "
                      f"({len(J['attractors'])}), {dt:.1f} s", flush=True)
    with open(args.out, "w") as fh:
        json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
