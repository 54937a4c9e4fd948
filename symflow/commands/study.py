"""``symflow study NAME``: every prediction of the theory next to its measurement (the main job).

    symflow study [NAME] [--width M] [--seed S] [--shared] [--spheres separate|joint] [--t-end T]
                  [--loss ce|mse] [--out DIR] [--json] [--no-figures] [--no-stage2] [--strict]

Default: F21, 512 neurons, seed 0, unshared embeddings on separate spheres. Writes ``DIR``
(default ``study-NAME/``): ``report.md``, ``summary.json`` (public contract, see
:meth:`symflow.study.Study.summary`) and PNG figures when matplotlib is installed. Prints the
prediction table (or, with ``--json``, the summary) and each warning on stderr (one line). Exit
status 0 even when a prediction disagrees (that is a finding, reported in the table), 1 then with
``--strict``; 2 for bad input or an unusable ``--out``
(checked before computing; see :mod:`symflow.outputs`); 130 after Ctrl-C: an interrupted
simulation compares nothing and writes a complete report marked as interrupted, a Ctrl-C at any
other moment writes nothing (the folder keeps its earlier content).
"""
from __future__ import annotations

import json

from . import options


#: What ``--loss`` means for the study.
STUDY_LOSSES = ("; ce: every prediction; mse: Li2's model with the quadratic activation, end state and energies "
             "measured, the CE theorems marked as not covered")


def register(sub):
    p = sub.add_parser("study", help="derive every prediction for a group, simulate, compare, write a report",
                       description="Derive the model, generate code, simulate a population and put each "
                                   "prediction of the theory next to its measurement.")
    options.group_name(p, default="F21", compact="; study on SO(2), O(2), SO(3), O(3): a band-limited population "
                                                  "(which l or k the neurons end on, with basins; Haar probability, "
                                                  "unit L^2 spheres, CE loss; symflow/study/compact.py)")
    options.width(p, 512)
    options.seed(p, what="the uniform initial condition")
    options.shared(p)
    options.spheres(p)
    options.loss(p, note=STUDY_LOSSES)
    p.add_argument("--t-end", type=float, default=None,
                   help="final time (default 40 / min Omega*, time unit c = 1)")
    options.out_folder(p, "study", shown="study-NAME, NAME as typed", writes="the report")
    options.json_flag(p, note=": summary.json, instead of the table")
    p.add_argument("--no-figures", action="store_true", help="do not draw figures")
    p.add_argument("--no-stage2", action="store_true", help="skip the Stage II (scale training) predictions")
    options.no_progress(p)
    p.add_argument("--strict", action="store_true",
                   help="exit status 1 when any prediction disagrees (default: 0, the table reports it)")
    options.runs(p, run)


def run(args) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ..outputs import OutputFolder, safe_name
    from ..study import run_study

    err = Console(stderr=True)
    quiet = args.json or args.no_progress
    folder = OutputFolder(args.out or f"study-{safe_name(args.name)}", "study",
                          {"group": args.name, "width": args.width, "seed": args.seed, "shared": args.shared,
                           "spheres": args.spheres, "t_end": args.t_end, "loss": args.loss,
                           **({"bandlimit": args.bandlimit} if args.bandlimit is not None else {})}, force=args.force)
    if args.bandlimit is not None and args.loss != "ce":
        from ..errors import SymflowError

        raise SymflowError(f"study {args.name} --bandlimit: a compact group's model is GC's cross-entropy energy "
                           f"(--loss ce); Li2's MSE sums over a finite group's table")
    study = run_study(args.name, width=args.width, seed=args.seed, shared=args.shared, spheres=args.spheres,
                      t_end=args.t_end, stage2=not args.no_stage2, progress=not quiet, loss=args.loss,
                      bandlimit=args.bandlimit,
                      log=None if args.json else (lambda m: err.print(f"[dim]{escape(m)}[/]", highlight=False,
                                                                      soft_wrap=True)))
    from ..study.report import write_report

    folder.interrupted = study.interrupted
    with folder as stage:
        write_report(study, stage, figures=not args.no_figures and study.data is not None)
    out = folder.path
    if args.json:
        from ..study.predictions import _jsonable

        print(json.dumps(_jsonable(study.summary())))
    else:
        from ..groups.display import rich_console

        console = rich_console()
        if not study.interrupted:
            study.table(console)
        for note in study.notes:
            console.print(f"[yellow]{note}[/]")
        console.print(f"report: {out / 'report.md'}  summary: {out / 'summary.json'}", highlight=False)
    for w in study.warnings:
        err.print(f"warning: {w}", highlight=False, markup=False, soft_wrap=True)
    if study.interrupted:
        err.print("[yellow]interrupted: the report is marked as such and compares nothing[/]", highlight=False)
        return 130
    if args.strict and study.disagreed:
        err.print(f"--strict: {len(study.disagreed)} prediction(s) disagree: "
                  + "; ".join(p.name for p in study.disagreed), highlight=False, markup=False, soft_wrap=True)
        return 1
    return 0
