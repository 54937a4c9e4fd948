"""``symflow grok``: grokking on Z_p - train on part of the table with weight decay, detect the stages.

    symflow grok --p P --frac F --weight-decay WD [--act relu|quad] [--steps N] [--lr LR] [--seed S] [--out DIR]

Records train/test loss and accuracy, IPR of the Fourier energy, mean |sin D| and the parameter
norm; detects memorisation / fast generalisation / slow clean-up (rule in
:mod:`symflow.modular.grokking`); reads out the learned mechanism (flawed indicator, activation
swap); writes report.md, metrics.json, metrics.npz (and curves.png with matplotlib) to DIR.
DIR is replaced whole (:mod:`symflow.outputs`): a non-empty folder that is not an earlier grok
output is refused unless ``--force``; it is checked before training. Ctrl-C stops training,
still writes the report for the steps reached (marked as interrupted, with no grokking verdict)
and exits with 130.
"""
from __future__ import annotations

import json


def register(sub):
    from ..modular.grokking import GrokConfig

    d = GrokConfig()
    p = sub.add_parser("grok", help="grokking on Z_p: train on a fraction of the table with weight decay",
                       description="Train f(x,y) = sum_m xi_m sigma(theta_m[x] + theta_m[y]) on a fraction of the "
                                   "Z_p addition table with AdamW, record the progress measures, detect the three "
                                   "stages and read out the learned mechanism.")
    p.add_argument("--p", type=int, default=d.p, help=f"odd modulus (default {d.p})")
    p.add_argument("--frac", type=float, default=d.frac, help=f"fraction of the p^2 pairs used for training (default {d.frac})")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help=f"AdamW weight decay (default {d.weight_decay})")
    p.add_argument("--act", choices=["relu", "quad"], default=d.act, help=f"activation (default {d.act})")
    p.add_argument("--steps", type=int, default=d.steps, help=f"full-batch optimiser steps (default {d.steps})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr})")
    p.add_argument("--width", type=int, default=d.width, help=f"number of neurons (default {d.width})")
    p.add_argument("--init-scale", type=float, default=d.init_scale, help=f"Gaussian init std (default {d.init_scale})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"seed of the init and the train/test split (default {d.seed})")
    p.add_argument("--record-every", type=int, default=None, help="record every N steps (default steps/200)")
    p.add_argument("--out", default=None, metavar="DIR", help="output directory (default runs/grok_p<P>_seed<S>)")
    p.add_argument("--force", action="store_true",
                   help="replace --out even when it is a non-empty folder that is not an earlier grok output")
    p.add_argument("--json", action="store_true", help="print the metrics JSON (without curves) instead of tables")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..modular.grokking import GrokConfig, run_grokking
    from ..modular.report import write_grokking_report
    from ..outputs import OutputFolder

    cfg = GrokConfig(p=args.p, frac=args.frac, weight_decay=args.weight_decay, act=args.act, steps=args.steps,
                     lr=args.lr, width=args.width, init_scale=args.init_scale, seed=args.seed,
                     record_every=args.record_every).validate()
    folder = OutputFolder(args.out or f"runs/grok_p{cfg.p}_seed{cfg.seed}", "grok", cfg.to_json(), force=args.force)
    res = run_grokking(cfg, progress=not args.json)
    files = write_grokking_report(res, folder)
    rc = 130 if res.interrupted else 0
    if args.json:
        data = res.to_json()
        data.pop("curves")
        data["files"] = files
        print(json.dumps(data))
        return rc
    console = Console()
    st, h, mech = res.stages, res.history, res.mechanism
    tab = Table(title=f"Grokking on Z_{cfg.p} ({cfg.act}, frac {cfg.frac}, weight decay {cfg.weight_decay})",
                caption=st.rule)
    for col in ("stage", "steps", "what happened"):
        tab.add_column(col)
    for row in st.describe():
        tab.add_row(*row)
    console.print(tab)
    at = f" at step {int(h.step[-1])} (interrupted run)" if res.interrupted else ""
    if res.interrupted:
        console.print(f"[yellow]interrupted after {int(h.step[-1])} of {cfg.steps} steps: no verdict is made; the "
                      f"report covers the steps reached[/]")
        verdict = ("[green]reached 100 % test accuracy[/]" if st.perfect is not None else
                   f"100 % test accuracy not reached by step {int(h.step[-1])} (last {h.test_acc[-1]:.4f})")
    else:
        verdict = "[green]reached 100 % test accuracy[/]" if st.perfect is not None else \
            f"[yellow]did not reach 100 % test accuracy[/] (final {h.test_acc[-1]:.4f})"
    console.print(f"{verdict}; {st.verdict}; wall time {res.wall_time_s:.1f} s")
    m = res.measures
    console.print(f"IPR {m['ipr'][0]:.3f} -> {m['ipr'][-1]:.3f}, mean |sin D| {m['mean_abs_sin_D'][0]:.3f} -> "
                  f"{m['mean_abs_sin_D'][-1]:.3f}, parameter norm {h.param_norm[0]:.3g} -> {h.param_norm[-1]:.3g}")
    fit = mech.fit
    console.print(f"mechanism{at}: f ~ {fit.coef[0]:.4g} 1{{x+y}} + {fit.coef[1]:.4g} 1{{2x}} + {fit.coef[2]:.4g} "
                  f"1{{2y}} (a/b {fit.ratios[0]:.3f}, R^2 {fit.r2:.4f}, corr with 2:1:1 {fit.correlation:.4f}, "
                  f"accuracy {fit.accuracy:.4f})", highlight=False)
    proj = mech.extras.get("projected_fit")
    if proj:
        console.print(f"  dominant cosines only: a/b = {proj['ratio_sum_over_2x']:.3f}, corr with 2:1:1 "
                      f"{proj['correlation_211']:.4f}, accuracy {proj['accuracy']:.4f}")
    console.print(f"activation swap{at}: {mech.swap_verdict()}")
    console.print(f"wrote {', '.join(files.values())}")
    return rc
