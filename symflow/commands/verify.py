"""``symflow verify NAME``: run the invariant catalogue on a model with Hypothesis.

    symflow verify F21 [--shared] [--spheres separate|joint] [--loss ce|mse]
                       [--examples N] [--seed S] [--only TEXT] [--json] [--save FILE] [--list]

Prints a rich table (check, examples tried, time, pass/fail/skip) and the shrunk counterexample
of every failure; ``--json`` prints the public JSON object
``{"model", "checks": [{"name", "examples", "passed", "counterexample", "status", ...}], ...}``.
Exit status: 0 when no check failed, 1 when one did, 2 for bad input, 130 when interrupted
(the finished checks are still printed).
"""
from __future__ import annotations

import json

from ..errors import SymflowError


def register(sub):
    p = sub.add_parser("verify", help="check a model's invariants with property-based tests (Hypothesis)",
                       description="Run every invariant of the catalogue that applies to the model; "
                                   "exit 1 if one fails.")
    p.add_argument("name", help="group name, e.g. Z7, Z3xZ5, D5, Q8, S4, A5, F21")
    p.add_argument("--shared", action="store_true", help="shared embedding theta1 = theta2")
    p.add_argument("--spheres", default="separate", choices=["separate", "joint"],
                   help="separate unit spheres for theta1, theta2, xi (default) or one joint sphere for [theta1; theta2]")
    p.add_argument("--loss", default="ce", choices=["ce", "mse"], help="cross-entropy (GC) or MSE (Li2)")
    p.add_argument("--examples", type=int, default=20, help="Hypothesis examples per check (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the Hypothesis search (default 0)")
    p.add_argument("--only", default=None, help="run only checks whose name contains this text")
    p.add_argument("--json", action="store_true", help="print one JSON object (public contract)")
    p.add_argument("--save", default=None, metavar="FILE", help="also write the JSON report to FILE")
    p.add_argument("--list", action="store_true", help="list the catalogue and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console

    from ..testing.catalogue import CATALOGUE, system_for
    from ..testing.runner import run_catalogue

    console = Console()
    if args.list:
        for inv in CATALOGUE:
            console.print(f"[cyan]{inv.name:32}[/] {inv.summary}", highlight=False)
        return 0
    if args.examples < 1:
        raise SymflowError(f"--examples must be a positive integer, got {args.examples}")
    invariants = list(CATALOGUE)
    if args.only:
        invariants = [i for i in invariants if args.only in i.name]
        if not invariants:
            raise SymflowError(f"no check name contains {args.only!r}; checks: {', '.join(i.name for i in CATALOGUE)}")
    system = system_for(args.name, shared=args.shared, spheres=args.spheres, loss=args.loss)
    report = run_catalogue(system, examples=args.examples, seed=args.seed, invariants=invariants,
                           progress=not args.json, model=system.extras["model"])
    data = report.to_json()
    if args.save:
        try:
            with open(args.save, "w") as fh:
                json.dump(data, fh, indent=1)
        except OSError as exc:
            raise SymflowError(f"cannot write {args.save}: {exc.strerror}") from None
    if args.json:
        print(json.dumps(data))
    else:
        console.print(report)
    if report.interrupted:
        return 130
    return 0 if report.ok else 1
