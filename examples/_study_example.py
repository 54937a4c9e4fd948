"""Shared runner of the study examples: run a study, print the chosen rows, exit 1 on a disagreement."""
import argparse
import sys

from symflow.study import run_study
from symflow.study.report import fmt


def main(doc: str, group: str, width: int, fast_width: int, sections, argv=None, **kw) -> int:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help=f"{fast_width} neurons (a few seconds)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--out", default=None, help="also write the report directory here")
    args = ap.parse_args(argv)
    M = args.width or (fast_width if args.fast else width)
    study = run_study(group, width=M, seed=args.seed, progress=False, **kw)
    print(f"{study.name}: {M} neurons, seed {args.seed}, {study.settings['model']['spheres']} spheres, "
          f"{'shared' if study.settings['shared'] else 'unshared'} embeddings, t = {study.settings['t_reached']:.5g}")
    bad = 0
    for p in study.predictions:
        if p.section not in sections:
            continue
        print(f"  [{p.verdict:>9}] {p.name}: predicted {fmt(p.predicted)}, measured {fmt(p.measured)} "
              f"(tolerance {p.tolerance})")
        bad += p.agrees is False
    if args.out:
        print("report:", study.write(args.out) / "report.md")
    print(f"checked {sum(p.section in sections for p in study.predictions)} claims: "
          + ("all confirmed" if not bad else f"{bad} DISAGREE"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit("run one of the examples instead")
