"""``symflow li2-scaling GROUPS ...``: Li2's sample-size law measured by the trained network (``p_c_network``)
beside the energy criterion (``p_c_energy``), Thm 4's form and the public code's constant.

For each group the network of ``symflow grok --model li2`` (MSE centred over the samples, ``x^2``, hidden
``--width``, Adam ``--lr`` with coupled weight decay ``--weight-decay``, full batch) is trained on random
fractions of the table until its test accuracy stops changing (at most ``--max-steps`` steps), over ``--seeds``
run sequences; the fraction where the test accuracy crosses 1/2 is bisected per sequence (``--bisect`` fresh runs)
and reported with a 95 % interval (:func:`symflow.li2.scaling.measure_network`). The energy criterion
(:func:`symflow.li2.scaling.measure_energy`, ``--subsets`` subsets, ``--steps`` ascent steps) gives
``p_c_energy`` at its support-share threshold 0.9 and at 0.5 - 0.95. Per group: Thm 4's ``C d_max^2 log M / M``
(``C`` fitted over groups) and the code's ``2.7482 ln M / M`` (times ``d_max / 2`` for non-abelian groups); over
groups the fits ``p_c = c (log M / M)^alpha``. ``--fractions`` sets the grid of both measurements.
``--out DIR`` writes report.md, scaling.json and (with matplotlib) transition.png and p_c.png, replaced whole
(:mod:`symflow.outputs`). Ctrl-C keeps the groups already measured, writes them (marked interrupted) and exits
with 130. ``--json`` prints ``{"groups": [...], "fit": {...}, ...}``.
"""
from __future__ import annotations

import json
import math

from . import options


def register(sub):
    p = sub.add_parser("li2-scaling", help="Li2's sample-size law: where the trained network generalises, per group",
                       description="Measure for each group the critical training fraction p_c_network where the "
                                   "trained Li2 network's test accuracy crosses 1/2 (bisection, 95% interval over "
                                   "seeds and random subsets), beside the energy criterion p_c_energy, Thm 4's "
                                   "C d^2 log M / M and the public code's 2.7482 ln M / M, with fits over groups.")
    p.add_argument("groups", nargs="+", metavar="NAME", help="group names, e.g. Z11 Z23 S4 A5 ('symflow groups' "
                                                            "lists the forms)")
    p.add_argument("--fractions", default=None, help=_budget_help(
        "comma-separated training fractions in (0, 1] for both grids (default: network {grid} x log M / M "
        "(x d_max/2 if non-abelian), energy 9 points from 0.5 log M / M to 1, geometric)"))
    p.add_argument("--seeds", default=3, metavar="K", help="network run sequences (init seed and subset) per group "
                                                           "(default 3)")
    options.check(p, "seeds", options.integer_option("--seeds", minimum=1))
    p.add_argument("--bisect", default=3, metavar="B", help="bisection steps of each sequence's transition (default 3)")
    options.check(p, "bisect", options.integer_option("--bisect", minimum=0))
    p.add_argument("--width", default=None, metavar="M",
                   help=_budget_help("hidden nodes of the network (default {width}, the public code's)"))
    options.check(p, "width", options.integer_option("--width", minimum=1))
    p.add_argument("--lr", default=None, help=_budget_help("Adam learning rate (default {lr})"))
    options.check(p, "lr", lambda v: _number(v, "--lr"))
    p.add_argument("--weight-decay", default=None, help=_budget_help("coupled L2 weight decay (default {weight_decay})"))
    options.check(p, "weight_decay", lambda v: _number(v, "--weight-decay", strict=False))
    p.add_argument("--max-steps", default=None, metavar="N", help=_budget_help(
        "training budget per run in full-batch steps (default {max_steps}; a run stops earlier once train and test "
        "accuracy moved <= {tol} over {patience} steps)"))
    options.check(p, "max_steps", options.integer_option("--max-steps", minimum=1))
    p.add_argument("--workers", default=1, metavar="W", help="network runs trained in parallel by W forked processes "
                                                          "(one BLAS thread each; same results; default 1)")
    options.check(p, "workers", options.integer_option("--workers", minimum=1))
    p.add_argument("--subsets", default="4", help="energy criterion: random subsets per fraction (default 4)")
    p.add_argument("--steps", default="300", help="energy criterion: ascent steps per maximum (default 300)")
    options.seed(p, what="the runs, subsets and starts")
    options.out_folder(p, "li2-scaling", writes="report.md, scaling.json and the plots")
    options.json_flag(p)
    options.runs(p, run)


def _budget_help(text: str) -> "options.LazyHelp":
    """A help text naming :class:`~symflow.li2.scaling.NetworkBudget`'s defaults, built only for ``--help`` (the
    module imports SymPy)."""

    def make():
        from dataclasses import asdict

        from ..li2.scaling import NETWORK_GRID, NetworkBudget

        return text.format(grid=", ".join(map(str, NETWORK_GRID)), **asdict(NetworkBudget()))

    return options.LazyHelp(make)


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


def _number(text, name: str, strict: bool = True) -> float:
    from ..errors import SymflowError
    from ..validation import real

    try:
        value = float(text)
    except (TypeError, ValueError):
        raise SymflowError(f"{name} must be a {'positive' if strict else 'non-negative'} number, got {text!r}") from None
    return real(value, name, strict=strict)


def run(args) -> int:
    from ..groups import group
    from ..li2.scaling import (NetworkBudget, fit_dimension, fit_irrep_dimension, fit_law, fit_thm4, measure_energy,
                               measure_network)
    from ..outputs import OutputFolder
    from ..provenance import versions
    from ..validation import integer, nontrivial_group

    fr = _fractions(args.fractions)
    seeds, bisect = args.seeds, args.bisect
    given = {k: getattr(args, k) for k in ("width", "lr", "weight_decay", "max_steps") if getattr(args, k) is not None}
    budget = NetworkBudget(**given).validate()
    subsets = integer(args.subsets, "--subsets", minimum=1, text=True)
    steps = integer(args.steps, "--steps", minimum=1, text=True)
    seed = args.seed
    options.refuse_compact(args.groups, "symflow li2-scaling")
    groups = [nontrivial_group(group(name), "the sample-size law") for name in args.groups]   # all before any work
    params = {"groups": args.groups, "fractions": fr, "seeds": seeds, "bisect": bisect, "width": budget.width,
              "lr": budget.lr, "weight_decay": budget.weight_decay, "max_steps": budget.max_steps,
              "subsets": subsets, "steps": steps, "seed": seed, "workers": args.workers}
    folder = OutputFolder(args.out, "li2-scaling", params, force=args.force) if args.out else None
    rows, interrupted = [], False
    try:
        for G in groups:
            net = measure_network(G, fr, seeds=seeds, bisect=bisect, budget=budget, seed=seed, progress=not args.json,
                                  workers=args.workers)
            energy = measure_energy(G, fr, subsets=subsets, seed=seed, steps=steps, progress=not args.json)
            rows.append(group_row(net, energy))
    except KeyboardInterrupt:
        interrupted = True
    fit = {"network": fit_law(rows, "p_c_network"), "energy": fit_law(rows, "p_c_energy"),
           "thm4": fit_thm4(rows, "p_c_network"), "thm4_energy": fit_thm4(rows, "p_c_energy")}
    for r in rows:
        C = fit["thm4"]["C"]
        r["thm4_prediction"] = None if C is None else min(1.0, C * r["d_max"] ** 2 * r["log_M_over_M"])
    data = {"command": "li2-scaling", "parameters": params, "versions": versions("numpy", "scipy"),
            "interrupted": interrupted, "groups": rows, "fit": fit,
            "fit_dimension": fit_dimension([r["energy"] for r in rows]),
            "irrep_fit": fit_irrep_dimension(rows)}
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


def group_row(net: dict, energy: dict) -> dict:
    """One group's row: the network's measurement with ``p_c_energy`` and the energy details beside it."""
    row = {k: net[k] for k in ("group", "order", "d_max", "log_M_over_M", "p_c_network")}
    row["p_c_energy"] = energy["p_c_energy"]
    row["code_prediction"] = energy["code_prediction"]
    row["thm4_prediction"] = None
    row["p_c_network_centred"] = net["p_c_network_centred"]
    row["irrep_transitions"] = net["irrep_transitions"]
    row["test_accuracy"] = net["test_accuracy"]
    row["training"] = net["training"]
    row["runs"] = net["runs"]
    row["energy"] = {k: v for k, v in energy.items() if k not in ("group", "order", "p_c_energy", "code_prediction")}
    return row


def _pc(s) -> tuple[str, str]:
    if s is None or s["mean"] is None:
        return "-", "-"
    return f"{s['mean']:.4f}", f"{s['ci95'][0]:.4f} - {s['ci95'][1]:.4f}"


def report_text(data) -> str:
    lines = ["# Li2 sample-size law", ""]
    if data["interrupted"]:
        lines += ["**interrupted**: the groups below are the ones measured completely.", ""]
    lines += ["| group | M | d_max | p_c_network | 95% CI | p_c_energy (share 0.9) | 95% CI | Thm 4 C d^2 log M/M | "
              "code 2.7482 ln M/M (x d_max/2) | p_c_network / (log M/M) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in data["groups"]:
        pn, pe = r["p_c_network"], r["p_c_energy"]
        ratio = "-" if pn["mean"] is None else f"{pn['mean'] / r['log_M_over_M']:.3f}"
        t4 = "-" if r["thm4_prediction"] is None else f"{r['thm4_prediction']:.4f}"
        lines.append(f"| {r['group']} | {r['order']} | {r['d_max']} | {' | '.join(_pc(pn))} | {' | '.join(_pc(pe))} | "
                     f"{t4} | {r['code_prediction']:.4f} | {ratio} |")
    lines += ["", "Test accuracy of the trained network (mean over seeds; orbits learned: irrep orbits holding >= 0.9 of "
                  "some hidden node's norm, mean over runs):"]
    for r in data["groups"]:
        acc = ", ".join(f"p={a['fraction']:.4g}: {a['mean']:.3f}"
                        + ("" if a.get("orbits_learned_mean") is None else f" ({a['orbits_learned_mean']:.1f} orbits learned)")
                        for a in r["test_accuracy"] if a["mean"] is not None)
        t = r["training"]
        lines.append(f"- {r['group']}: {acc} ({t['runs']} runs: {t['stopped_flat']} stopped flat, {t['at_budget']} "
                     f"at the budget of {t['max_steps']} steps, median {t['steps_median']:.0f} steps; "
                     f"{t['wall_time_s']:.0f} s)")
    lines += ["", "Per irrep orbit, where the trained network learns it (recovery = regression coefficient of its centred "
                  "test outputs on the irrep's part of the table; transition = first fraction with recovery >= "
                  f"{data['groups'][0]['irrep_transitions']['level'] if data['groups'] else 0.5}, a proxy):"]
    for r in data["groups"]:
        parts = [f"{o['orbit']} (d={o['dim']}): {'-' if o['transition']['mean'] is None else format(o['transition']['mean'], '.4f')}"
                 for o in r["irrep_transitions"]["orbits"]]
        pc = r["p_c_network_centred"]
        lines.append(f"- {r['group']}: " + ", ".join(parts) + f"; centred test accuracy crosses 1/2 at "
                     f"{'-' if pc['mean'] is None else format(pc['mean'], '.4f')}")
    fi = data.get("irrep_fit") or {}
    if fi.get("beta") is not None:
        fx = fi["fixed"]
        lines.append(f"Per-irrep transition p_k / (log M / M) = {fi['C']:.3g} d^{fi['beta']:.2f} (se {fi['beta_se']:.2f}); "
                     "rms log residual with the exponent fixed: " + ", ".join(
                         f"d^{b}: {v['rms_log_residual']:.3f}" for b, v in fx.items()) + " (Thm 4: d^2; the code: d).")
        w = fi.get("within_group") or {}
        if w.get("beta") is not None:
            lines.append(f"Within groups (one constant per group): p_k ~ d^{w['beta']:.2f} (se {w['beta_se']:.2f}) over "
                         f"{', '.join(w['groups'])}.")
    lines += ["", "p_c_energy against the support-share threshold (grid crossing, mean over subsets):"]
    for r in data["groups"]:
        bt = r["p_c_energy"]["by_threshold"]
        lines.append(f"- {r['group']}: " + ", ".join(f"{t}: {'-' if s['mean'] is None else format(s['mean'], '.4f')}"
                                                   for t, s in bt.items()))
    f = data["fit"]
    lines += [""]
    for key, what in (("network", "p_c_network"), ("energy", "p_c_energy")):
        g = f[key]
        if g["alpha"] is not None:
            lines.append(f"Fit of {what} over groups: p_c = {g['c']:.3g} (log M / M)^{g['alpha']:.3f}; with the "
                         f"exponent fixed to 1: p_c = {g['c_alpha1']:.3f} log M / M (public code: {g['code_constant']}).")
        else:
            lines.append(f"Fit of {what} over groups: needs two groups with a measured p_c.")
    if f["thm4"]["C"] is not None:
        lines.append(f"Thm 4's form with d = d_max: p_c_network = C d^2 log M / M, C = {f['thm4']['C']:.3f} "
                     f"(per-group ratios {f['thm4']['ratio_min']:.3f} - {f['thm4']['ratio_max']:.3f}).")
    fd = data["fit_dimension"]
    if fd.get("beta") is not None:
        lines.append(f"Energy criterion per irrep dimension: p_c / (log M / M) = {fd['c']:.3g} d^{fd['beta']:.3f}.")
    t = data["groups"][0]["training"] if data["groups"] else None
    lines += ["", "p_c_network: the training fraction where the trained network's test accuracy crosses 1/2, bracketed "
              "on the grid and bisected on fresh runs; mean over run sequences (seed = init and subset), normal 95% "
              "interval widened by the bisection resolution."
              + (f" Training: {t['model']}; {t['optimizer']}; width {t['width']}, lr {t['lr']}, weight decay "
                 f"{t['weight_decay']}, {t['dtype']}; stop: {t['stop']}." if t else ""),
              "p_c_energy: the fraction where half of the full-data maxima stay generalising (support share >= 0.9 "
              "on one orbit) after ascent on the empirical energy, bracketed and bisected likewise."]
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
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in data["groups"]:
        acc = [a for a in r["test_accuracy"] if a["mean"] is not None]
        ax.plot([a["fraction"] for a in acc], [a["mean"] for a in acc], "o-", label=f"{r['group']} network test acc.")
        e = r["energy"]
        ax.plot(e["fractions"], e["generalising"], "x--", label=f"{r['group']} energy: generalising share")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("training fraction p")
    ax.set_ylabel("test accuracy / share")
    ax.legend(fontsize=7)
    fig.tight_layout()
    plain_log_ticks(ax.xaxis, data_values=[a["fraction"] for r in data["groups"] for a in r["test_accuracy"]])
    fig.savefig(stage / "transition.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, mark in (("p_c_network", "o"), ("p_c_energy", "s")):
        pts = [r for r in data["groups"] if r[key]["mean"] is not None]
        if pts:
            ax.errorbar([r["order"] for r in pts], [r[key]["mean"] for r in pts],
                        yerr=[[r[key]["mean"] - r[key]["ci95"][0] for r in pts],
                              [r[key]["ci95"][1] - r[key]["mean"] for r in pts]], fmt=mark, label=f"{key} (95% CI)")
    rows = data["groups"]
    ax.plot([r["order"] for r in rows], [r["code_prediction"] for r in rows], "k-", label="code 2.7482 ln M / M")
    if rows and rows[0]["thm4_prediction"] is not None:
        ax.plot([r["order"] for r in rows], [r["thm4_prediction"] for r in rows], "k--", label="Thm 4: C d^2 log M / M")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("M (group order)")
    ax.set_ylabel("p_c")
    ax.legend(fontsize=7)
    fig.tight_layout()
    plain_log_ticks(ax.xaxis, data_values=[r["order"] for r in rows])
    plain_log_ticks(ax.yaxis, data_values=[v for r in rows for v in (r["p_c_network"]["mean"], r["code_prediction"])])
    fig.savefig(stage / "p_c.png", dpi=100)
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
