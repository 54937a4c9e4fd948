"""FACT, NFA and the CRH alignments on a network trained on S3's composition table (issue 16).

Adam with coupled L2 weight decay converges to a critical point of the regularised loss, where FACT
(Boix-Adsera et al., arXiv:2507.05644) holds to optimisation error; AdamW (decoupled decay) reaches a point
where it does not. The CRH alignments (Ziyin et al., arXiv:2410.03006) and NFA are printed at the same points,
with the exponents of the power laws (PAH) in the eigenbasis of Z and the table of exponents that pairs of
exact alignments allow (derived with SymPy; docs/theory.md section 9). Runs in under a minute (35 s on a
busy 2-core machine).

    python examples/theories_fact.py
"""
from __future__ import annotations

from symflow.theories.run import run_theories
from symflow.theories.symbolic import exponent_table, fact_table


def main():
    for row in fact_table():
        print(f"FACT, {row['reduction']} loss with {row['decay']}: {row['statement']}")
    results = {opt: run_theories("S3", weight_decay=0.01, optimizer=opt, steps=20000, lr=0.003, width=16, points=5)
               for opt in ("adam", "adamw")}
    print(f"\n{'statement':16s} {'layer':10s} {'metric':18s} {'adam (L2)':>10s} {'adamw':>10s}")
    adamw = {r.key: r for r in results["adamw"].rows}
    for r in results["adam"].rows:
        w = adamw[r.key]
        print(f"{r.name:16s} {r.layer:10s} {r.metric[:18]:18s} {r.value:10.3g} {w.value:10.3g}")
    print("\nFACT over training (adam, embedding layer): " + ", ".join(
        f"step {s}: {v:.2g}" for s, v in results["adam"].over_training[("FACT", "embedding")]))
    print("\npower laws in the eigenbasis of Z (adam):")
    for p in results["adam"].power_laws:
        print(f"  {p.layer:10s} {p.name:12s} exponent {p.exponent:6.3f}  95% [{p.ci95[0]:.3f}, {p.ci95[1]:.3f}]")
    print("\nexponents allowed when two CRH alignments hold exactly (p: H_a ~ Z_a^p, q: G_a ~ Z_a^q):")
    for row in exponent_table():
        if row["status"] == "determined":
            print(f"  {' & '.join(row['pair']):18s} p = {row['p']:>2s}, q = {row['q']:>2s}")


if __name__ == "__main__":
    main()
