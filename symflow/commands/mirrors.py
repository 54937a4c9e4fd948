"""``symflow mirrors``: a network on 1-D data as a Lasso problem, solved exactly and checked against training.

    symflow mirrors (DATA.csv | --x X1,X2,... --y Y1,Y2,...) [--depth 2|3|4]
                    [--activation relu|abs|leaky|threshold|sign] [--beta B] [--train SEEDS] [--seed S]
                    [--steps N] [--width M] [--out DIR] [--force] [--json]

Prints the dictionary size, the optimum, the chosen features (formula, breakpoints, reflections,
coefficients), the reconstruction check and, with ``--train``, the trained networks against the
optimum; ``--json`` prints the public contract of :mod:`symflow.mirrors.run`. ``--out DIR`` writes
``mirrors.json`` and ``mirrors.png`` (see :mod:`symflow.outputs`). A raw dictionary that would not fit in
memory is refused before it is built (:mod:`symflow.resources`; ``--force`` runs anyway). Exit status 1
when the solver did not end at an optimum (its state is printed, never a number), 2 for bad input.
"""
from __future__ import annotations

import json

from . import options


def register(sub):
    p = sub.add_parser("mirrors", help="a network on 1-D data as an exact Lasso problem (Library of Mirrors)",
                       description="Training a depth-L network with weight decay on 1-D data is a Lasso problem "
                                   "over an explicit dictionary (ramps at the data points; capped ramps at L = 3; "
                                   "reflections 2 x_j - x_i at L = 4). Derives the dictionary, solves it exactly "
                                   "(HiGHS LP at beta = 0, scikit-learn's Lasso with a certificate at beta > 0), "
                                   "reconstructs the network and compares with training from random starts.")
    p.add_argument("data", nargs="?", default=None, metavar="DATA.csv", help="CSV file with two columns x,y")
    p.add_argument("--x", default=None, metavar="X1,X2,...", help="inputs as a comma-separated list")
    p.add_argument("--y", default=None, metavar="Y1,Y2,...", help="labels as a comma-separated list")
    p.add_argument("--depth", default="2", help="2 (default), 3 or 4 (3 and 4: deep narrow ReLU)")
    options.activation(p, "relu", "relu, abs, leaky, threshold or sign")
    p.add_argument("--beta", default="0", help="weight decay beta >= 0 (default 0: minimum-norm interpolation)")
    p.add_argument("--train", default="0", metavar="SEEDS", help="train this many networks from random starts "
                                                                 "(needs --beta > 0; default 0)")
    options.seed(p, what="the first training run (runs use S, S+1, ...)")
    p.add_argument("--steps", default="20000", help="Adam steps per training run (default 20000)")
    options.width(p, None, what="units per trained network (default 2N within [8, 64])")
    options.json_flag(p)
    options.out_folder(p, "mirrors", writes="mirrors.json and mirrors.png")
    options.runs(p, run)


def _options(args):
    from ..errors import SymflowError
    from ..mirrors.data import ACCEPTED, parse_lists, read_csv
    from ..mirrors.dictionary import check_setting
    from ..validation import integer, real

    if args.data is not None and (args.x is not None or args.y is not None):
        raise SymflowError(f"give the data either as DATA.csv or as --x/--y, not both; expected {ACCEPTED}")
    if args.data is None and (args.x is None or args.y is None):
        raise SymflowError(f"no data: expected {ACCEPTED}")
    depth = integer(args.depth, "--depth", minimum=2, what="2, 3 or 4", text=True)
    depth, args.activation = check_setting(depth, args.activation)
    try:
        beta = float(args.beta)
    except ValueError:
        raise SymflowError(f"--beta must be a number >= 0, got {args.beta!r}") from None
    beta = real(beta, "--beta", strict=False)
    train = integer(args.train, "--train", minimum=0, text=True)
    seed = args.seed
    steps = integer(args.steps, "--steps", minimum=1, text=True)
    width = args.width
    if train and beta == 0:
        raise SymflowError("--train needs --beta > 0: at beta = 0 the training problem has no regulariser to "
                           "compare with the minimum norm")
    data = read_csv(args.data) if args.data is not None else parse_lists(args.x, args.y)
    return data, depth, beta, train, seed, steps, width


def run(args) -> int:
    from ..mirrors.run import public, run_mirrors, write_report
    from ..outputs import OutputFolder

    data, depth, beta, train, seed, steps, width = _options(args)
    folder = None
    if args.out:
        folder = OutputFolder(args.out, "mirrors", {"depth": depth, "activation": args.activation, "beta": beta,
                                                    "n": data.n, "train": train, "seed": seed, "steps": steps,
                                                    "width": width}, force=args.force)
    result = run_mirrors(data, depth, args.activation, beta, train=train, seed=seed, steps=steps, width=width)
    files = None
    if folder is not None:
        with folder as stage:
            written = write_report(result, stage)
        files = {k: str(folder.path / v.rsplit("/", 1)[-1]) for k, v in written.items()}
    rc = 0 if result["status"] == "optimal" else 1
    if args.json:
        data_out = public(result)
        if files:
            data_out["files"] = files
        print(json.dumps(data_out))
        return rc
    print_table(result, files)
    return rc


def print_table(result: dict, files=None, console=None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    d = result["dictionary"]
    beta = result["beta"]
    console.print(f"[bold]depth {result['depth']}, {result['activation']}[/], n = {result['n']}, beta = {beta:g}: "
                  f"dictionary {d['columns']} raw columns -> {d['distinct']} distinct "
                  f"({d['vanished']} constant on the data)", highlight=False)
    if result["status"] != "optimal":
        console.print(f"[red]no optimum:[/] {result['status']}", highlight=False)
        return
    what = "minimum norm ||z||_1" if beta == 0 else "Lasso optimum 1/2||Az + xi - y||^2 + beta||z||_1"
    uniq = {True: "unique", False: "not unique", None: "uniqueness not decided"}[result["unique"]]
    console.print(f"{what} = [bold]{result['objective']:.10g}[/] (||z||_1 = {result['l1']:.10g}, bias "
                  f"{result['bias']:.6g}; solution {uniq})", highlight=False)
    if "certificate" in result and "gap" in result["certificate"]:
        c = result["certificate"]
        console.print(f"certified: dual bound {c['lower']:.10g} <= optimum <= {c['upper']:.10g} (gap {c['gap']:.1e}); "
                      f"min-norm {result['min_norm']:.6g} and beta * min-norm >= optimum: "
                      f"{result['min_norm_bound_holds']}", highlight=False)
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("coefficient", "feature", "breakpoints", "reflection", "merged"):
        t.add_column(col, justify="right" if col in ("coefficient", "merged") else "left")
    for f in result["features"]:
        refl = f["reflection"]
        t.add_row(f"{f['coefficient']:.6g}", f["formula"], ", ".join(f"{b:.6g}" for b in f["breakpoints"]),
                  refl["formula"] if refl else "-", str(f["multiplicity"]))
    console.print(t)
    if result["unique"] is False:
        console.print(f"optimal face (not unique): the optima found use {len(result['face'])} columns: "
                      + "; ".join(result["face"][:8]) + (" ..." if len(result["face"]) > 8 else ""),
                      style="dim", highlight=False)
    r = result["reconstruction"]
    console.print(f"reconstructed network: {r['units']} units, max |net(x_i) - (Az + xi)_i| = {r['max_abs_error']:.1e}, "
                  f"penalty {r['penalty']:.10g} = {'beta ' if beta else ''}||z||_1 {r['penalty_lasso']:.10g}; "
                  f"unit identity proved in SymPy ({result['proofs']['unit_identity']['cases']} cases), "
                  f"AM-GM certificate: {result['proofs']['amgm']['identity']}", highlight=False)
    tr = result["training"]
    if tr["runs"]:
        objs = tr["objectives"]
        console.print(f"training ({tr['runs']} random starts, width {tr['width']}, {tr['steps']} Adam steps): "
                      f"objectives {min(objs):.6g} .. {max(objs):.6g}; {tr['reached']} of {tr['runs']} reach the "
                      f"optimum (within {tr['reach_tolerance']:g} relative); lower-bound violations: "
                      f"{tr['lower_bound_violations']}", highlight=False)
        refl = sorted({k for run in tr["reflections"] for k in run})
        if result["depth"] == 4:
            matched = sum(1 for n in tr["reflection_columns"] if n)
            console.print(f"reflections: {matched} of {tr['runs']} trained networks have a unit whose nearest "
                          f"dictionary column is a reflection feature; kinks within 1e-3 of the data range from a "
                          f"reflection: " + (", ".join(f"{k:.4g}" for k in refl) or "none"), highlight=False)
    if files:
        console.print("wrote " + ", ".join(files.values()), highlight=False)
