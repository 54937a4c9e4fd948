"""The Library of Mirrors on the paper's six points: depth 2, 3, 4 as exact Lasso problems, then training.

    python examples/mirrors_1d.py                # about a minute on 2 cores
    python examples/mirrors_1d.py --train 0      # the convex side only (seconds)

Data x = (0, 4, 5, 7, 10, 11), y = (0, 0, 0, 2, 3, 3) (arXiv 2403.01046, Fig. 3). Prints per depth the
dictionary size (raw -> distinct), the minimum norm ||z||_1 (beta -> 0: 2, 1, 1), the chosen features with
their breakpoints and reflections, whether the minimum-norm solution is unique, and, at beta = 0.01,
how many randomly started networks reach the Lasso optimum and which reflection kinks they end with.
"""
import argparse

from symflow.mirrors import make_data, run_mirrors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=6, help="random starts per depth at beta = 0.01 (default 6)")
    ap.add_argument("--steps", type=int, default=20000)
    args = ap.parse_args(argv)
    data = make_data([0, 4, 5, 7, 10, 11], [0, 0, 0, 2, 3, 3])
    for depth in (2, 3, 4):
        r = run_mirrors(data, depth)
        d = r["dictionary"]
        print(f"depth {depth}: {d['columns']} raw -> {d['distinct']} distinct columns; min ||z||_1 = "
              f"{r['objective']:.6g} ({'unique' if r['unique'] else 'not unique'}); reconstruction error "
              f"{r['reconstruction']['max_abs_error']:.1e}")
        for f in r["features"]:
            refl = f"  reflection {f['reflection']['formula']}" if f["reflection"] else ""
            print(f"    {f['coefficient']:+.4f}  {f['formula']}{refl}")
        if args.train:
            t = run_mirrors(data, depth, beta=0.01, train=args.train, steps=args.steps)["training"]
            kinks = sorted({round(k, 3) for run in t["reflections"] for k in run})
            print(f"    beta 0.01: optimum {t['optimum']:.6g}; {t['reached']} of {t['runs']} random starts reach it; "
                  f"lower-bound violations {t['lower_bound_violations']}; reflection kinks {kinks or 'none'}")


if __name__ == "__main__":
    main()
