"""``symflow theories NAME``: train a network, then put each theory's statement next to its measurement.

FACT and backward FACT, NFA, the six CRH alignments (per layer), GC and Li2 observables; power-law (PAH)
exponents with bootstrap intervals; optionally a sweep over weight decays. ``--json`` prints the contract::

    {"group", "settings": {...}, "training": {"steps_done", "loss", "accuracy", "param_norm", "notes", "stationary_phase", "stationarity_gap"}, "theories": [{"name", "statement", "layer", "metric", "value", "tolerance",
     "holds_if": "<=" | ">=", "holds": true | false | null, "verdict": "holds" | "fails" | "premise not met",
     "premise", "premise_met", "premise_gap", "premise_tolerance", "stationarity_gap",
     "over_training": [[step, value], ...]}], "power_laws": [{"name", "layer",
     "exponent", "ci95", "points"}], "exponent_table": [...], "fact_coefficients": [...],
     "weight_decay_sweep": [{"weight_decay", "values": {"NAME|LAYER": value}, "complete"}], "interrupted",
     "wall_time", "versions"}

``--out DIR`` writes report.md, theories.json and figures through :class:`symflow.outputs.OutputFolder`.
"""
from __future__ import annotations

import json

from . import options

OPTIMIZERS = ("gd", "sgd", "adam", "adamw")


def register(sub):
    p = sub.add_parser("theories", help="which theory holds: FACT, NFA, CRH/PAH, GC and Li2 on one trained network",
                       description="Train a two-layer network on the group's table (unconstrained, weight decay), "
                                   "then measure FACT and backward FACT, NFA, the six CRH alignments and the PAH "
                                   "power laws per layer, and the GC and Li2 observables, over training; table of "
                                   "theory, statement, value, tolerance and verdict. Each statement is judged only "
                                   "where its premise holds (FACT and CRH: a stationary point of the coupled "
                                   "regularised loss, reached by a final full-batch phase; GC: Stage I; Li2: its "
                                   "stage); elsewhere the row says 'premise not met' with the measured gap.")
    options.group_name(p, note="; modular addition: Zp --shared")
    p.add_argument("--weight-decay", default="0.003", help="lambda > 0 (lambda/2 |W|^2; default 0.003)")
    p.add_argument("--optimizer", default="adam", help="gd, sgd (full batch unless --batch-size), adam (L2 "
                   "coupled) or adamw (decoupled); default adam")
    options.loss(p, note=": cross-entropy or 1/2 |f - e_y|^2")
    p.add_argument("--steps", default="20000", help="optimiser steps (default 20000)")
    p.add_argument("--lr", default=None, help="learning rate (default 0.003 for adam(w), 0.1 for gd/sgd)")
    options.width(p, 16)
    options.shared(p)
    p.add_argument("--batch-size", default=None, help="minibatch size for sgd/adam (default full batch)")
    p.add_argument("--sweep", default="auto", help="comma-separated weight decays to train again for the "
                   "alignment-against-decay table and figure (final values only); 'auto' (default): lambda/10, "
                   "lambda/3, 3 lambda; 'none': no sweep")
    p.add_argument("--record-at", default=None, help="comma-separated steps to measure at (default: --points "
                   "evenly spaced steps)")
    p.add_argument("--points", default="30", help="measurements over training (default 30)")
    p.add_argument("--stationary-steps", default="50000", help="at most this many steps of a final full-batch "
                   "phase to a stationary point (GD with coupled decay; AdamW for adamw) before judging FACT and CRH; "
                   "0: none (default 50000)")
    options.seed(p, what="the initialisation and minibatches")
    options.out_folder(p, "theories", writes="report.md, theories.json and figures")
    options.json_flag(p)
    options.no_progress(p)
    options.runs(p, run)


def run(args) -> int:
    from ..errors import SymflowError
    from ..groups import group
    from ..outputs import OutputFolder, safe_name
    from ..theories.run import run_theories
    from ..validation import choice, integer, real

    choice(args.optimizer, "--optimizer", OPTIMIZERS, what=" or ".join(OPTIMIZERS))
    decay = _real(args.weight_decay, "--weight-decay", real)
    steps = integer(args.steps, "--steps", minimum=1, text=True)
    width = args.width
    points = integer(args.points, "--points", minimum=1, text=True)
    seed = args.seed
    stationary_steps = integer(args.stationary_steps, "--stationary-steps", minimum=0, text=True)
    batch = None if args.batch_size is None else integer(args.batch_size, "--batch-size", minimum=1, text=True)
    lr = None if args.lr is None else _real(args.lr, "--lr", real)
    sweep = []
    if args.sweep == "auto":
        sweep = [decay / 10, decay / 3, 3 * decay]
    elif args.sweep and args.sweep != "none":
        sweep = [_real(v.strip(), "--sweep", real) for v in args.sweep.split(",") if v.strip()]
        if not sweep:
            raise SymflowError("--sweep needs comma-separated positive numbers, e.g. 0.001,0.01,0.1")
    record_at = None
    if args.record_at:
        record_at = [integer(v.strip(), "--record-at", minimum=0, text=True) for v in args.record_at.split(",")
                     if v.strip()]
        if any(k > steps for k in record_at):
            raise SymflowError(f"--record-at steps must lie in 0..{steps} (--steps), got {args.record_at}")
    G = group(args.name)
    if lr is None:
        lr = 0.003 if args.optimizer.startswith("adam") else 0.1
    params = {"group": args.name, "weight_decay": decay, "optimizer": args.optimizer, "loss": args.loss,
              "steps": steps, "lr": lr, "width": width, "shared": args.shared, "seed": seed, "sweep": sweep,
              "record_at": record_at, "stationary_steps": stationary_steps}
    folder = OutputFolder(args.out, "theories", params, force=args.force) if args.out else None
    result = run_theories(G, weight_decay=decay, optimizer=args.optimizer, loss=args.loss, steps=steps, lr=lr,
                          width=width, shared=args.shared, seed=seed, batch_size=batch, points=points, sweep=sweep,
                          record_at=record_at, progress=not args.no_progress and not args.json,
                          stationary_steps=stationary_steps)
    if folder is not None:
        from ..theories.report import write_report

        folder.interrupted = result.interrupted
        with folder as stage:
            write_report(result, stage)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print_table(result, args.out)
    return 130 if result.interrupted else 0


def _real(text, name, real):
    from ..errors import SymflowError

    try:
        value = float(text)
    except (TypeError, ValueError):
        raise SymflowError(f"{name} must be a positive number, got {text!r}") from None
    return real(value, name)


def print_table(result, out=None) -> None:
    from rich import box
    from rich.table import Table

    from ..groups.display import rich_console

    console = rich_console()
    s = result.settings
    console.print(f"[bold]{result.group}[/]: width {s['width']}, {s['loss'].upper()}, {s['optimizer']} lr {s['lr']}, "
                  f"lambda {s['weight_decay']}, {s['steps']} steps ({result.wall_time:.1f} s)", highlight=False)
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("theory", "layer", "metric", "value", "tolerance", "holds", "premise gap"):
        t.add_column(col, justify="right" if col in ("value", "tolerance", "premise gap") else "left")
    for r in result.rows:
        pr = r.premise
        gap = "-" if pr.gap is None else f"{pr.gap:.3g} {'<=' if pr.met else '>'} {pr.tolerance:g}"
        t.add_row(r.name, r.layer, r.metric, f"{r.value:.4g}", f"{r.holds_if} {r.tolerance:g}",
                  {"holds": "yes", "fails": "[red]no[/]"}.get(r.verdict, "[yellow]premise not met[/]"), gap)
    console.print(t)
    tr = result.training
    if tr:
        console.print(f"training: loss {tr['loss']:.4g}, accuracy {tr['accuracy']:.3f}, |params| {tr['param_norm']:.4g}",
                      highlight=False)
        ph = tr.get("stationary_phase")
        if ph:
            gaps = ", ".join(f"{k} {v:.3g}" for k, v in tr["stationarity_gap"].items() if v is not None)
            console.print(f"final full-batch phase ({ph['optimizer']}, {ph['decay']} decay, lr {ph['lr']:g}): "
                          f"{ph['steps']} steps; stationarity gap |grad_W loss + lambda W| / |lambda W|: {gaps} "
                          f"(FACT and CRH need <= {ph['tol']:g})", highlight=False)
        for note in tr["notes"]:
            console.print(f"warning: {note}", style="yellow", highlight=False)
    for p in result.power_laws:
        console.print(f"{p.layer}: {p.name} exponent {p.exponent:.3g} (95% {p.ci95[0]:.3g}..{p.ci95[1]:.3g})",
                      highlight=False)
    if out:
        console.print(f"report: {out}/report.md", highlight=False)
