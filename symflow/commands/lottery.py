"""``symflow lottery``: predicted winning frequency per neuron (earliest blow-up) vs simulation.

    symflow lottery [NAME] --width M --init KAPPA --seed S [--start random|single] [--json] [--out DIR]

``NAME`` is ``Z<p>`` or the modulus ``p`` (``symflow lottery Z23`` = ``symflow lottery 23`` =
``symflow lottery --p 23``; default Z23).

Prints the blow-up-time table (rich) and the agreement; ``--json`` prints one JSON object instead;
``--out DIR`` writes ``lottery.json`` and ``lottery.npz`` (DIR is replaced whole, checked before
computing; a non-empty folder that is not an earlier lottery output needs ``--force``; see
:mod:`symflow.outputs`). Ctrl-C stops the simulation, reports the time reached (marked as
interrupted, the comparison marked as not made: no agreement) and exits with 130. See :mod:`symflow.modular.lottery`.
"""
from __future__ import annotations

import json

from . import options


def register(sub):
    p = sub.add_parser("lottery", help="lottery ticket on Z_p: predicted vs simulated winning frequency per neuron",
                       description="Predict each neuron's winning frequency from the blow-up times of the derived "
                                   "per-frequency ODE and compare with a gradient-flow simulation of the network.")
    options.modular_group(p)
    options.width(p, 64)
    p.add_argument("--init", type=float, default=0.01, metavar="KAPPA",
                   help="initial scale: entry std (random start) or amplitude (single start); default 0.01")
    options.seed(p, what="the initial neurons")
    p.add_argument("--start", choices=["random", "single"], default="random",
                   help="random: Gaussian entries; single: one random frequency per neuron")
    p.add_argument("--model", choices=["ce", "linear"], default="ce",
                   help="simulated dynamics: full cross-entropy (default) or the small-logit gain")
    p.add_argument("--stop-logit", type=float, default=2.0,
                   help="stop the simulation when the logit spread reaches this value (default 2)")
    p.add_argument("--t-max", type=float, default=None, help="time limit (default 3x the earliest blow-up)")
    p.add_argument("--rows", type=int, default=20, help="rows of the blow-up-time table (default 20)")
    options.json_flag(p)
    options.out_folder(p, "lottery", writes="lottery.json and lottery.npz")
    options.runs(p, run)


def run(args) -> int:
    from rich.console import Console

    from ..modular.lottery import check_p, run_lottery
    from ..outputs import OutputFolder

    args.p = check_p(options.modulus(args, command="lottery"))
    folder = None
    if args.out:
        folder = OutputFolder(args.out, "lottery",
                              {"p": args.p, "width": args.width, "init": args.init, "seed": args.seed,
                               "start": args.start, "model": args.model, "stop_logit": args.stop_logit,
                               "t_max": args.t_max}, force=args.force)
    res = run_lottery(args.p, args.width, args.init, seed=args.seed, start=args.start, model=args.model,
                      stop_logit=args.stop_logit, t_max=args.t_max, progress=not args.json)
    files = None
    if folder is not None:
        files = res.save(folder)
    rc = 130 if res.run.interrupted else 0
    if args.json:
        data = res.to_json()
        if files:
            data["files"] = files
        print(json.dumps(data))
        return rc
    console = Console()
    console.print(res.table(args.rows))
    s = res.summary()
    if res.compared:
        console.print(f"agreement (predicted = simulated winner): [bold]{s['agreement']:.1%}[/] of {args.width} neurons; "
                      f"null model (initially dominant frequency = predicted winner): "
                      f"{s['baseline_initial_dominant']:.1%}")
    else:
        console.print(f"[yellow]comparison {s['comparison']}[/]: no agreement is reported; the dominant frequencies "
                      f"above are those at t = {s['stop_time']:.4g}, not the winners", highlight=False)
    console.print(f"stopped at t = {s['stop_time']:.4g} by {s['stop_reason']} (earliest predicted blow-up "
                  f"{s['earliest_blowup']:.4g}, median {s['median_winner_blowup']:.4g}); "
                  f"{s['decided_fraction']:.0%} of neurons have > 50% of their energy on one frequency")
    if files:
        console.print(f"wrote {files['json']} and {files['npz']}")
    return rc
