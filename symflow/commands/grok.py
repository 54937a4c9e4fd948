"""``symflow grok``: grokking on Z_p - train on part of the table with weight decay, detect the stages.

    symflow grok [NAME] --frac F --weight-decay WD [--activation relu|quad] [--steps N] [--lr LR] [--seed S] [--out DIR]
    symflow grok --model li2 [NAME] [--frac F] ... [--json] [--out DIR]

``NAME`` is the group: for ``--model ma`` (default) ``Z<p>`` or the modulus ``p`` (``grok Z23`` = ``grok 23`` =
``grok --p 23``); for ``--model li2`` any group name (``--group NAME`` is an alias). ``--model li2`` trains Li2's
network (MSE, ``sigma(XW)V``, Adam; :mod:`symflow.li2.grok`) and marks the lazy / independent / interactive
stages and which energy maxima the hidden nodes reach.

Every training option left out takes the model's own default (:class:`~symflow.modular.grokking.GrokConfig`
for ma, :class:`~symflow.li2.grok.Li2GrokConfig` for li2); a value given is always used as given. Options of
the other model only (``--act``, ``--init-scale`` are ma's) are refused.

Records train/test loss and accuracy, IPR of the Fourier energy, mean |sin D| and the parameter
norm; detects memorisation / fast generalisation / slow clean-up (rule in
:mod:`symflow.modular.grokking`); reads out the learned mechanism (flawed indicator, activation
swap); writes report.md, metrics.json, metrics.npz (and curves.png with matplotlib) to DIR
(``--model li2``: li2_grok.json, only with ``--out``).
DIR is replaced whole (:mod:`symflow.outputs`): a non-empty folder that is not an earlier grok
output is refused unless ``--force``; it is checked before training. Ctrl-C stops training,
still writes the report for the steps reached (marked as interrupted, with no grokking verdict)
and exits with 130.
"""
from __future__ import annotations

import json

from . import options

#: The training options whose defaults depend on ``--model`` (``None`` on the command line: not given).
PER_MODEL = ("frac", "weight_decay", "steps", "lr", "width")
#: Options of the ma model only.
MA_ONLY = {"act": "--activation", "init_scale": "--init-scale"}


def _defaults(name: str) -> str:
    """``"default X for ma, Y for li2"`` of the config field ``name``."""
    from ..li2.grok import Li2GrokConfig
    from ..modular.grokking import GrokConfig

    return f"default {getattr(GrokConfig(), name)} for ma, {getattr(Li2GrokConfig(), name)} for li2"


def _ma_default(name: str) -> str:
    from ..modular.grokking import GrokConfig

    return str(getattr(GrokConfig(), name))


def _help(text: str, **fields) -> "options.LazyHelp":
    """``text`` with ``{field}`` replaced by :func:`_defaults` (``per_model``) or :func:`_ma_default` (``ma``)
    of each field, built when ``--help`` prints it (the config modules load SymPy)."""
    makers = {"per_model": _defaults, "ma": _ma_default}
    return options.LazyHelp(lambda: text.format(**{k: makers[how](k) for k, how in fields.items()}))


def register(sub):
    p = sub.add_parser("grok", help="grokking on Z_p: train on a fraction of the table with weight decay",
                       description="Train f(x,y) = sum_m xi_m sigma(theta_m[x] + theta_m[y]) on a fraction of the "
                                   "Z_p addition table with AdamW, record the progress measures, detect the three "
                                   "stages and read out the learned mechanism (--model li2: Li2's MSE network on "
                                   "any group).")
    p.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help="the group: Z<p> or p (p odd) for --model ma, e.g. Z23 or 23 (default Z23); any group name "
                        "for --model li2 (default Z23)")
    p.add_argument("--model", choices=["ma", "li2"], default="ma",
                   help="ma: MA's CE network on Z_p (default); li2: Li2's MSE network sigma(XW)V on any group")
    p.add_argument("--p", default=None, metavar="P", help="alias of NAME: the odd modulus p of Z_p")
    p.add_argument("--group", default=None, metavar="NAME", help="alias of NAME")
    p.add_argument("--frac", type=float, default=None,
                   help=_help("fraction of the pairs used for training ({frac})", frac="per_model"))
    p.add_argument("--weight-decay", type=float, default=None,
                   help=_help("weight decay ({weight_decay})", weight_decay="per_model"))
    options.activation(p, None, dest="act", aliases=("--act",),
                       accepted=_help("ma only: activation quad (also x^2, z^2) or relu (default {act}; --act is the "
                                      "old spelling); --model li2 trains with x^2 only", act="ma"))
    p.add_argument("--steps", type=int, default=None,
                   help=_help("full-batch optimiser steps ({steps})", steps="per_model"))
    p.add_argument("--lr", type=float, default=None, help=_help("learning rate ({lr})", lr="per_model"))
    options.width(p, None, what=_help("number of neurons ({width})", width="per_model"))
    p.add_argument("--init-scale", type=float, default=None,
                   help=_help("ma only: Gaussian init std (default {init_scale})", init_scale="ma"))
    options.seed(p, what="the init and the train/test split")
    p.add_argument("--record-every", type=int, default=None,
                   help="record every N steps (default steps/200 for ma, steps/20 for li2)")
    options.out_folder(p, "grok", shown="runs/grok_p<P>_seed<S> for ma; none for li2", writes="the report")
    options.json_flag(p, note=": the metrics, without curves, instead of tables")
    options.runs(p, run)


def _group(args) -> str:
    """The group NAME of ``args`` (from NAME, --group or --p, which must agree), ``None`` when none is given."""
    from ..errors import SymflowError

    given = [(flag, v) for flag, v in (("NAME", args.name), ("--group", args.group)) if v is not None]
    if len({options.cyclic_modulus(v) or v for _, v in given}) > 1:
        raise SymflowError(f"{given[0][0]} {given[0][1]!r} and {given[1][0]} {given[1][1]!r} name two groups: "
                           "give one of them")
    return given[0][1] if given else None


def run(args) -> int:
    name = _group(args)
    options.refuse_compact([name] if name is not None else [], "symflow grok")
    if args.model == "li2":
        return run_li2(args, name)
    from rich.console import Console
    from rich.table import Table

    from ..modular.grokking import GrokConfig, run_grokking
    from ..modular.report import write_grokking_report
    from ..outputs import OutputFolder

    d = GrokConfig()
    args.name = name
    given = {k: getattr(args, k) for k in PER_MODEL + tuple(MA_ONLY)}
    cfg = GrokConfig(p=options.modulus(args, default=d.p, command="grok --model ma"),
                     **{k: options.explicit(v, getattr(d, k)) for k, v in given.items()},
                     seed=args.seed, record_every=args.record_every).validate()
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


def run_li2(args, name) -> int:
    """``--model li2``: every option left out takes Li2's default (:class:`Li2GrokConfig`); one given is used."""
    from dataclasses import asdict

    from ..errors import SymflowError
    from ..groups import group
    from ..li2.grok import Li2GrokConfig, run_li2_grokking
    from ..outputs import OutputFolder

    for dest, flag in MA_ONLY.items():
        if getattr(args, dest) is not None:
            raise SymflowError(f"{flag} is an option of --model ma only: Li2's network has the activation x^2 and "
                               f"its own initialisation")
    li = Li2GrokConfig()
    if args.p is not None:                                   # --p P: Z_P (NAME, if given too, must agree)
        args.name = name
        name = f"Z{options.modulus(args, command='grok --p')}"
    elif name is not None and name.strip().isdigit():        # NAME 23: Z23
        name = f"Z{int(name)}"
    steps = options.explicit(args.steps, li.steps)
    cfg = Li2GrokConfig(group=options.explicit(name, li.group), steps=steps, seed=args.seed,
                        **{k: options.explicit(getattr(args, k), getattr(li, k)) for k in PER_MODEL if k != "steps"},
                        record_every=args.record_every or max(1, steps // 20)).validate()
    group(cfg.group)                                         # an unknown name fails before any folder or training
    folder = OutputFolder(args.out, "grok", asdict(cfg), force=args.force) if args.out else None   # before training
    res = run_li2_grokking(cfg, progress=not args.json)
    if folder is not None:
        folder.interrupted = bool(res["interrupted"])
        with folder as stage:
            (stage / "li2_grok.json").write_text(json.dumps(res))
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
