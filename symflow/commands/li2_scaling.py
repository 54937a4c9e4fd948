"""``symflow li2-scaling GROUPS ...``: Li2's sample-size law measured (the p_c table, fits and plots).

For each group, each training fraction and ``--subsets`` random subsets the full-data maxima and random
starts are brought to maxima of the empirical energy (:mod:`symflow.li2.scaling`); the report gives per
group the generalising share and test accuracy against ``p``, ``p_c`` with its 95 % interval, per irrep
dimension, and the fits ``p_c = c (log M / M)^alpha`` beside the public code's ``2.7482 log M / M``.
``--out DIR`` writes report.md, scaling.json and (with matplotlib) transition.png and p_c.png, replaced
whole (:mod:`symflow.outputs`). Ctrl-C keeps the groups already measured, writes them (marked interrupted)
and exits with 130. ``--json`` prints the JSON (``{"groups": [...], "fit", "fit_dimension", ...}``).
"""
from __future__ import annotations

import json
import math

from . import options


def register(sub):
    p = sub.add_parser("li2-scaling", help="Li2's sample-size law: the critical training fraction p_c per group",
                       description="Measure for each group the critical fraction p_c of the table above which the "
                                   "full-data maxima of Li2's energy stay generalising maxima of the empirical energy; "
                                   "confidence intervals over random subsets, fits against log M / M and irrep "
                                   "dimension, next to the public code's constant.")
    p.add_argument("groups", nargs="+", metavar="NAME", help="group names, e.g. Z23 Z31 S4 A5 ('symflow groups' "
                                                            "lists the forms)")
    p.add_argument("--fractions", default=None,
                   help="comma-separated training fractions (default: 9 points from 0.5 log M / M to 1, geometric)")
    p.add_argument("--subsets", default="4", help="random subsets per fraction (default 4)")
    p.add_argument("--steps", default="300", help="ascent steps per maximum (default 300)")
    options.seed(p, what="the subsets and starts")
    options.out_folder(p, "li2-scaling", writes="report.md, scaling.json and the plots")
    options.json_flag(p)
    options.runs(p, run)


def _fractions(text):
    from ..errors import SymflowError

    if text is None:
        return None
    try:
        fr = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise SymflowError(f"--fractions must be comma-separated numbers in (0, 1], got {text!r}") from None
    if not fr or any(not (0 < f <= 1) for f in fr):
        raise SymflowError(f"--fractions must be comma-separated numbers in (0, 1], got {text!r}")
    return fr


def run(args) -> int:
    from ..groups import group
    from ..li2.scaling import fit_dimension, fit_law, measure
    from ..outputs import OutputFolder
    from ..provenance import versions
    from ..validation import integer, nontrivial_group

    fr = _fractions(args.fractions)
    subsets = integer(args.subsets, "--subsets", minimum=1, text=True)
    steps = integer(args.steps, "--steps", minimum=1, text=True)
    seed = args.seed
    options.refuse_compact(args.groups, "symflow li2-scaling")
    groups = [nontrivial_group(group(name), "the sample-size law") for name in args.groups]   # all before any work
    params = {"groups": args.groups, "fractions": fr, "subsets": subsets, "steps": steps, "seed": seed}
    folder = OutputFolder(args.out, "li2-scaling", params, force=args.force) if args.out else None
    rows, interrupted = [], False
    try:
        for G in groups:
            rows.append(measure(G, fr, subsets=subsets, seed=seed, steps=steps, progress=not args.json))
    except KeyboardInterrupt:
        interrupted = True
    data = {"command": "li2-scaling", "parameters": params, "versions": versions("numpy", "scipy"),
            "interrupted": interrupted, "groups": rows, "fit": fit_law(rows), "fit_dimension": fit_dimension(rows)}
    if folder is not None:
        folder.interrupted = interrupted
        with folder as stage:
            write_report(data, stage)
    if args.json:
        print(json.dumps(data))
    else:
        print(report_text(data))
        if folder is not None:
            print(f"wrote {folder.path}/report.md, scaling.json and the plots")
    return 130 if interrupted else 0


def report_text(data) -> str:
    lines = ["# Li2 sample-size law", ""]
    if data["interrupted"]:
        lines += ["**interrupted**: the groups below are the ones measured completely.", ""]
    lines += ["| group | M | p_c (mean) | 95% CI | code 2.7482 log M/M | p_c / (log M / M) | by dim |",
              "|---|---|---|---|---|---|---|"]
    for r in data["groups"]:
        pc = r["p_c"]
        m = "-" if pc["mean"] is None else f"{pc['mean']:.4f}"
        ci = "-" if pc["ci95"][0] is None else f"{pc['ci95'][0]:.4f} - {pc['ci95'][1]:.4f}"
        ratio = "-" if pc["mean"] is None else f"{pc['mean'] / r['log_M_over_M']:.3f}"
        bd = ", ".join(f"d={d}: {s['mean']:.4f}" if s["mean"] is not None else f"d={d}: -" for d, s in r["p_c_by_dim"].items())
        lines.append(f"| {r['group']} | {r['order']} | {m} | {ci} | {r['code_prediction']:.4f} | {ratio} | {bd} |")
    f = data["fit"]
    lines += [""]
    if f["alpha"] is not None:
        lines.append(f"Fit over groups: p_c = {f['c']:.3g} (log M / M)^{f['alpha']:.3f}; with the exponent fixed to 1: "
                     f"p_c = {f['c_alpha1']:.3f} log M / M (public code: {f['code_constant']} log M / M).")
    else:
        lines.append("Fit over groups: needs two groups with a measured p_c.")
    fd = data["fit_dimension"]
    if fd.get("beta") is not None:
        lines.append(f"Per irrep dimension: p_c / (log M / M) = {fd['c']:.3g} d^{fd['beta']:.3f}.")
    lines += ["", "p_c: the training fraction where half of the full-data maxima stay generalising (support share "
              ">= 0.9 on one orbit) after ascent on the empirical energy, bracketed on the grid and bisected on fresh "
              "subsets; mean over subset sequences, normal 95% interval widened by the bisection resolution. "
              "by dim: grid crossing of the maxima started on irreps of that dimension."]
    return "\n".join(lines)


def write_report(data, stage) -> None:
    (stage / "scaling.json").write_text(json.dumps(data, indent=1))
    (stage / "report.md").write_text(report_text(data) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for r in data["groups"]:
        axes[0].plot(r["fractions"], r["generalising"], "o-", label=f"{r['group']} generalising")
        if r["test_accuracy"] is not None:
            axes[0].plot(r["fractions"], r["test_accuracy"], "x--", label=f"{r['group']} test acc.")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("training fraction p")
    axes[0].set_ylabel("share / accuracy")
    axes[0].legend(fontsize=7)
    xs = [r["log_M_over_M"] for r in data["groups"] if r["p_c"]["mean"] is not None]
    ys = [r["p_c"]["mean"] for r in data["groups"] if r["p_c"]["mean"] is not None]
    Ms = [r["order"] for r in data["groups"] if r["p_c"]["mean"] is not None]
    errs = [[r["p_c"]["mean"] - r["p_c"]["ci95"][0] for r in data["groups"] if r["p_c"]["mean"] is not None],
            [r["p_c"]["ci95"][1] - r["p_c"]["mean"] for r in data["groups"] if r["p_c"]["mean"] is not None]]
    axes[1].errorbar(Ms, ys, yerr=errs, fmt="o", label="measured p_c (95% CI)")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].loglog(Ms, [2.7482 * x for x in xs], "-", label="code: 2.7482 log M / M")
    if data["fit"]["c_alpha1"]:
        axes[1].loglog(Ms, [data["fit"]["c_alpha1"] * x for x in xs], "--", label="fit c log M / M")
    axes[1].set_xlabel("M (group order)")
    axes[1].set_ylabel("p_c")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    plain_log_ticks(axes[0].xaxis, data_values=[f for r in data["groups"] for f in r["fractions"]])
    plain_log_ticks(axes[1].xaxis, data_values=Ms)
    plain_log_ticks(axes[1].yaxis, data_values=ys)
    fig.savefig(stage / "transition.png", dpi=100)
    plt.close(fig)


def log_tick_values(lo: float, hi: float, data_values=(), length_in: float = 4.0, label_in: float = 0.45) -> list:
    """Major tick positions of a log axis showing ``[lo, hi]``, ``length_in`` inches long: the first of these
    with two values inside: ``m 10^k`` for ``m`` in (1, 2, 5), in 1..9, in 1.0..9.9; else the ``data_values``
    inside; then thinned from the left so neighbours are at least ``label_in`` inches apart
    (``ln(b/a) length_in / ln(hi/lo) >= label_in``): no two labels overlap."""
    if not (0 < lo < hi):
        return []
    inside = lambda v: lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    ticks = []
    for mantissas in ((1, 2, 5), range(1, 10), [m / 10 for m in range(10, 100)]):
        ticks = sorted({float(f"{m * 10.0 ** k:.12g}") for k in range(k0, k1 + 1) for m in mantissas
                        if inside(m * 10.0 ** k)})
        if len(ticks) >= 2:
            break
    else:
        ticks = sorted({float(v) for v in data_values if v is not None and v > 0 and inside(float(v))} | set(ticks))
    kept = []
    for v in ticks:
        if not kept or math.log(v / kept[-1]) * length_in / math.log(hi / lo) >= label_in:
            kept.append(v)
    return kept


def plain_log_ticks(axis, data_values=()) -> None:
    """Label a log ``axis`` (after the layout is fixed) with :func:`log_tick_values` as plain numbers
    (``0.2``, ``0.5``, ``1``; no ``2 x 10^-1`` minor labels) so the labels never overlap."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

    lo, hi = sorted(float(v) for v in axis.get_view_interval())
    box = axis.axes.get_window_extent()
    dpi = axis.axes.figure.dpi
    length_in = (box.width if axis.axis_name == "x" else box.height) / dpi
    ticks = log_tick_values(lo, hi, data_values, length_in, label_in=0.45 if axis.axis_name == "x" else 0.25)
    if not ticks:
        return
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FixedFormatter([f"{v:g}" for v in ticks]))
    axis.set_minor_formatter(NullFormatter())
