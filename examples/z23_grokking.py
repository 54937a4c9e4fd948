"""Grokking on Z_23: memorisation, fast generalisation, slow clean-up; then the learned mechanism.

    python examples/z23_grokking.py          # symflow grok defaults (about 10 s on 2 cores)
    python examples/z23_grokking.py --fast   # 1600 steps (a few seconds)

Prints the detected stages, whether 100 % test accuracy was reached, the flawed-indicator fit
(MA's idealised network is exact; the trained network with and without its non-dominant
Fourier energy) and the test-time activation swap; writes the report to --out.
"""
import argparse
import tempfile

from symflow.modular.grokking import run_grokking
from symflow.modular.mechanism import flawed_indicator_fit, ideal_network, network_logits
from symflow.modular.report import write_grokking_report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="fewer steps (a few seconds)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="report directory (default: none kept)")
    args = ap.parse_args(argv)

    th, xi = ideal_network(23)
    fit = flawed_indicator_fit(network_logits(th, th, xi))
    print("idealised network (psi = 2 phi, uniform phases):", fit)

    res = run_grokking(progress=False, seed=args.seed, **({"steps": 1600} if args.fast else {}))
    st, h = res.stages, res.history
    for row in st.describe():
        print(" | ".join(row))
    print(f"grokking by the stated rule: {st.grokking}; final test accuracy {h.test_acc[-1]:.4f}; "
          f"100 % {'reached at step ' + str(st.perfect) if st.perfect is not None else 'NOT reached'}; "
          f"wall time {res.wall_time_s:.1f} s")
    m = res.measures
    print(f"IPR {m['ipr'][0]:.3f} -> {m['ipr'][-1]:.3f}; mean |sin D| {m['mean_abs_sin_D'][0]:.3f} -> "
          f"{m['mean_abs_sin_D'][-1]:.3f}")
    mech = res.mechanism
    print("trained network:", mech.fit)
    proj = mech.extras["projected_fit"]
    print(f"trained network, dominant cosines only: a/b = {proj['ratio_sum_over_2x']:.3f}, "
          f"corr with 2:1:1 = {proj['correlation_211']:.4f}")
    print("activation swap:", {k: round(v[0], 4) for k, v in mech.swap.items()}, "->", mech.swap_verdict())
    if args.out:
        print("report:", write_grokking_report(res, args.out)["report"])
    else:  # write it to check that it can be written, then remove it (pass --out DIR to keep it)
        with tempfile.TemporaryDirectory(prefix="symflow_grok_") as tmp:
            write_grokking_report(res, tmp)
        print("report: written and removed (pass --out DIR to keep it)")


if __name__ == "__main__":
    main()
