"""``symflow study NAME``: every prediction of the theory next to its measurement (the main job).

    symflow study [NAME] [--width M] [--seed S] [--shared] [--spheres separate|joint] [--t-end T]
                  [--out DIR] [--json] [--no-figures] [--no-stage2]

Default: F21, 512 neurons, seed 0, unshared embeddings on separate spheres. Writes ``DIR``
(default ``study-NAME/``): ``report.md``, ``summary.json`` (public contract, see
:meth:`symflow.study.Study.summary`) and PNG figures when matplotlib is installed. Prints the
prediction table (or, with ``--json``, the summary). Exit status 0 even when a prediction
disagrees (that is a finding, reported in the table); 130 after Ctrl-C (the report is still
written from the run so far).
"""
from __future__ import annotations

import json


def register(sub):
    p = sub.add_parser("study", help="derive every prediction for a group, simulate, compare, write a report",
                       description="Derive the model, generate code, simulate a population and put each "
                                   "prediction of the theory next to its measurement.")
    p.add_argument("name", nargs="?", default="F21", help="group name (default F21)")
    p.add_argument("--width", type=int, default=512, help="number of neurons M (default 512)")
    p.add_argument("--seed", type=int, default=0, help="seed of the uniform initial condition (default 0)")
    p.add_argument("--shared", action="store_true", help="shared embeddings theta1 = theta2")
    p.add_argument("--spheres", choices=["separate", "joint"], default="separate",
                   help="separate unit spheres (default) or one joint sphere for [theta1; theta2]")
    p.add_argument("--t-end", type=float, default=None,
                   help="final time (default 40 / min Omega*, time unit c = 1)")
    p.add_argument("--out", default=None, metavar="DIR", help="report directory (default study-NAME)")
    p.add_argument("--json", action="store_true", help="print summary.json to stdout instead of the table")
    p.add_argument("--no-figures", action="store_true", help="do not draw figures")
    p.add_argument("--no-stage2", action="store_true", help="skip the Stage II (scale training) predictions")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console

    from ..study import run_study

    err = Console(stderr=True)
    quiet = args.json or args.no_progress
    study = run_study(args.name, width=args.width, seed=args.seed, shared=args.shared, spheres=args.spheres,
                      t_end=args.t_end, stage2=not args.no_stage2, progress=not quiet,
                      log=None if args.json else (lambda m: err.print(f"[dim]{m}[/]", highlight=False)))
    out = study.write(args.out, figures=not args.no_figures)
    if args.json:
        from ..study.predictions import _jsonable

        print(json.dumps(_jsonable(study.summary())))
    else:
        console = Console()
        study.table(console)
        for note in study.notes:
            console.print(f"[yellow]{note}[/]")
        console.print(f"report: {out / 'report.md'}  summary: {out / 'summary.json'}", highlight=False)
    return 130 if study.settings["run"]["interrupted"] else 0
