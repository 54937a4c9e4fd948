"""``symflow grok``: grokking on Z_p - train on part of the table with weight decay, detect the stages.

    symflow grok --p P --frac F --weight-decay WD [--activation relu|quad] [--steps N] [--lr LR] [--seed S] [--out DIR]
    symflow grok --model li2 [--group NAME] [--frac F] ... [--json]

``--model li2`` trains Li2's network (MSE, ``sigma(XW)V``, Adam; :mod:`symflow.li2.grok`) on any group and
marks the lazy / independent / interactive stages and which energy maxima the hidden nodes reach.

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
    p.add_argument("--model", choices=["ma", "li2"], default="ma",
                   help="ma: MA's CE network on Z_p (default); li2: Li2's MSE network sigma(XW)V on --group")
    p.add_argument("--group", default=None, help="li2 only: group name (default Z<p>)")
    p.add_argument("--p", type=int, default=d.p, help=f"odd modulus (default {d.p})")
    p.add_argument("--frac", type=float, default=d.frac, help=f"fraction of the p^2 pairs used for training (default {d.frac})")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help=f"AdamW weight decay (default {d.weight_decay})")
    p.add_argument("--activation", "--act", dest="act", default=d.act, metavar="NAME",
                   help=f"activation of the MA network: quad (also x^2, z^2) or relu (default {d.act}; "
                        f"--act is the old spelling); --model li2 trains with x^2 only")
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
    if args.model == "li2":
        return run_li2(args)
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


def run_li2(args) -> int:
    """``--model li2``: options left at the MA defaults take Li2's defaults (:class:`Li2GrokConfig`)."""
    from ..li2.core import check_activation
    from ..li2.grok import Li2GrokConfig, run_li2_grokking
    from ..modular.grokking import GrokConfig

    d, li = GrokConfig(), Li2GrokConfig()
    if args.act != d.act and check_activation(args.act) != "x^2":
        from ..errors import SymflowError

        raise SymflowError(f"grok --model li2 trains Li2's network with sigma = x^2 only; got --activation {args.act!r}")
    pick = lambda v, ma, l2: l2 if v == ma else v
    cfg = Li2GrokConfig(group=args.group or (f"Z{args.p}" if args.p != d.p else li.group),
                        frac=pick(args.frac, d.frac, li.frac), width=pick(args.width, d.width, li.width),
                        lr=pick(args.lr, d.lr, li.lr), weight_decay=pick(args.weight_decay, d.weight_decay, li.weight_decay),
                        steps=pick(args.steps, d.steps, li.steps), seed=args.seed,
                        record_every=args.record_every or max(1, pick(args.steps, d.steps, li.steps) // 20)).validate()
    res = run_li2_grokking(cfg, progress=not args.json)
    if args.out:
        from ..outputs import AtomicFile

        import pathlib

        out = pathlib.Path(args.out)
        if out.exists() and not out.is_dir():
            from ..errors import SymflowError

            raise SymflowError(f"--out {out} exists and is not a folder")
        out.mkdir(parents=True, exist_ok=True)
        with AtomicFile(out / "li2_grok.json") as tmp:
            tmp.write_text(json.dumps(res))
    rc = 130 if res["interrupted"] else 0
    if args.json:
        print(json.dumps(res))
        return rc
    from ..groups.display import rich_console

    console = rich_console()
    st, c = res["stages"], res["curves"]
    console.print(f"Li2 network on {cfg.group} (MSE, sigma = x^2, width {cfg.width}, frac {cfg.frac}, Adam lr {cfg.lr}, "
                  f"weight decay {cfg.weight_decay}): {res['wall_time_s']:.1f} s", highlight=False)
    for name in ("lazy", "independent", "interactive"):
        a, b = st[name]
        console.print(f"  {name:12s} steps {'-' if a is None else a} - {'-' if b is None else b}", highlight=False)
    console.print(f"  rule: {st['rule']}", style="dim", highlight=False)
    for i in range(len(c["step"])):
        console.print(f"  step {int(c['step'][i]):6d}  train acc {c['train_acc'][i]:.3f}  test acc {c['test_acc'][i]:.3f}  "
                      f"cos(descent, Li2 ascent) {c['cos_li2'][i]:+.3f}  top-orbit share {c['share'][i]:.3f}", highlight=False)
    console.print("hidden nodes at the end (orbit: count, median energy / the orbit's maximum): " + ", ".join(
        f"{k}: {v['count']}" + ("" if v["energy_over_maximum_median"] is None else f" ({v['energy_over_maximum_median']:.3f})")
        for k, v in sorted(res["nodes"].items(), key=lambda kv: -kv[1]["count"])), highlight=False)
    return rc
