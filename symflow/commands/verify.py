"""``symflow verify NAME``: run the invariant catalogue on a model with Hypothesis.

    symflow verify F21 [--shared] [--spheres separate|joint] [--loss ce|mse]
                       [--examples N] [--seed S] [--only TEXT] [--json] [--out FILE] [--list]
                       [--mutant sign-flip|missing-projection|wrong-normalisation|no-retraction]

Prints a rich table (check, examples tried, time, pass/fail/skip) and the shrunk counterexample
of every failure; ``--json`` prints the public JSON object
``{"model", "checks": [{"name", "examples", "passed", "counterexample", "status", ...}], ...}``.
``--mutant`` runs the catalogue against a deliberately broken copy of the model (a self-test:
it must fail). Exit status: 0 when no check failed, 1 when one did, 2 for bad input, 130 when interrupted
(the finished checks are still printed).
"""
from __future__ import annotations

import json

from ..errors import SymflowError
from . import options


def register(sub):
    p = sub.add_parser("verify", help="check a model's invariants with property-based tests (Hypothesis)",
                       description="Run every invariant of the catalogue that applies to the model; "
                                   "exit 1 if one fails.")
    options.group_name(p, optional=True, note="; not needed with --list")
    options.shared(p)
    options.spheres(p)
    options.loss(p)
    p.add_argument("--examples", type=int, default=20, help="Hypothesis examples per check (default 20)")
    options.seed(p, what="the Hypothesis search")
    p.add_argument("--only", default=None, help="run only checks whose name contains this text")
    options.json_flag(p)
    options.out_file(p, "FILE", "the JSON report as well", aliases=("--save",))
    p.add_argument("--list", action="store_true", help="list the catalogue and exit")
    p.add_argument("--mutant", default=None, metavar="NAME",
                   help="self-test: verify a deliberately broken copy (sign-flip, missing-projection, no-retraction, "
                        "wrong-normalisation); the run must fail")
    options.runs(p, run)


def run(args) -> int:
    from rich.console import Console

    from ..outputs import check_file
    from ..testing.catalogue import CATALOGUE, system_for
    from ..testing.mutants import mutate
    from ..testing.runner import run_catalogue

    console = Console()
    if args.list:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        table.add_column(style="cyan", no_wrap=True)
        table.add_column()
        for inv in CATALOGUE:
            table.add_row(inv.name, inv.summary)
        console.print(table)
        return 0
    if not args.name:
        raise SymflowError("name a group, e.g. 'symflow verify F21' (or use --list to see the checks)")
    if args.examples < 1:
        raise SymflowError(f"--examples must be a positive integer, got {args.examples}")
    invariants = list(CATALOGUE)
    if args.only:
        invariants = [i for i in invariants if args.only in i.name]
        if not invariants:
            raise SymflowError(f"no check name contains {args.only!r}; checks: {', '.join(i.name for i in CATALOGUE)}")
    target = check_file(args.out) if args.out else None      # before running
    system = system_for(args.name, shared=args.shared, spheres=args.spheres, loss=args.loss)
    model = dict(system.extras["model"])
    if args.mutant:
        system = mutate(system, args.mutant)
        model["mutant"] = args.mutant
    report = run_catalogue(system, examples=args.examples, seed=args.seed, invariants=invariants,
                           progress=not args.json, model=model)
    data = report.to_json()
    if target is not None:
        options.write_text_file(target, json.dumps(data, indent=1))
    if args.json:
        print(json.dumps(data))
    else:
        console.print(report)
    if report.interrupted:
        return 130
    return 0 if report.ok else 1
