"""``symflow lottery``: the predicted orbit of each neuron against simulation.

    symflow lottery [NAME] --width M --init KAPPA --seed S [--start random|single] [--json] [--out DIR]
    symflow lottery NAME [--orbits] [--shared] [--spheres separate|joint] --width M --seed S --samples N [--json]

``NAME`` ``Z<p>`` with ``p`` odd (or the modulus ``p``; ``--p`` is an alias; default Z23): MA's lottery ticket
for modular addition (:mod:`symflow.modular.lottery`: the winning frequency of each neuron from the blow-up
times of the derived per-frequency ODE, against a gradient-flow simulation of the unconstrained network),
unchanged. Any other group, or ``--orbits``: the orbit lottery of the sphere flow (:mod:`symflow.dynamics.lottery`,
docs/theory.md section 14): each neuron's predicted orbit against the reduced flow simulated to equilibrium
from the same start, the agreement with its Wilson interval, and the basin fractions predicted from first
principles (the predictor on ``--samples`` other uniform starts) against the measured ones and the Plancherel
weights.

Prints tables (rich); ``--json`` prints one JSON object instead; ``--out DIR`` writes ``lottery.json`` (and,
for Z_p, ``lottery.npz``); DIR is replaced whole, checked before computing (:mod:`symflow.outputs`). Ctrl-C
during the simulation stops it and reports no comparison (exit 130).
"""
from __future__ import annotations

import json

from . import options

#: options of MA's lottery on Z_p (refused with --orbits) and their defaults
MODULAR_DEFAULTS = {"init": 0.01, "start": "random", "model": "ce", "stop_logit": 2.0}
#: options of the orbit lottery only
ORBIT_DEFAULTS = {"samples": 4096}


def register(sub):
    p = sub.add_parser("lottery", help="lottery ticket: predicted vs simulated orbit (frequency on Z_p) per neuron",
                       description="Predict each neuron's final orbit from its initialisation and compare with "
                                   "simulation: on Z_p (p odd) MA's blow-up times of the per-frequency ODE; on any "
                                   "other group (or with --orbits) the blow-up times of each irrep block's flow, "
                                   "with basin fractions predicted from first principles.")
    options.modular_group(p)
    options.bandlimit(p, "; lottery needs a finite group and refuses compact ones")
    p.add_argument("--orbits", action="store_true",
                   help="the orbit lottery of the sphere flow also on Z_p (the default on every other group)")
    options.shared(p)
    options.spheres(p)
    options.width(p, None, what="number of neurons M (default 64 on Z_p, 512 for the orbit lottery)")
    p.add_argument("--init", type=float, default=None, metavar="KAPPA",
                   help="Z_p: initial scale: entry std (random start) or amplitude (single start); default 0.01")
    options.seed(p, what="the initial neurons")
    p.add_argument("--start", choices=["random", "single"], default=None,
                   help="Z_p: random: Gaussian entries (default); single: one random frequency per neuron")
    p.add_argument("--model", choices=["ce", "linear"], default=None,
                   help="Z_p: simulated dynamics: full cross-entropy (default) or the small-logit gain")
    p.add_argument("--stop-logit", type=float, default=None,
                   help="Z_p: stop the simulation when the logit spread reaches this value (default 2)")
    p.add_argument("--t-max", type=float, default=None, help="Z_p: time limit (default 3x the earliest blow-up)")
    p.add_argument("--samples", default=None, metavar="N",
                   help="orbit lottery: uniform starts of the predicted basins (default 4096)")
    options.check(p, "samples", options.integer_option("--samples", minimum=1))
    p.add_argument("--rows", type=int, default=20, help="rows of the per-neuron table (default 20)")
    options.json_flag(p)
    options.out_folder(p, "lottery", writes="lottery.json (and lottery.npz on Z_p)")
    options.runs(p, run)


def _orbit_mode(args) -> bool:
    """The orbit lottery unless NAME (or --p) is Z_p with p odd >= 3 and --orbits is not given."""
    if args.orbits:
        return True
    if args.name is None:
        return False
    p = options.cyclic_modulus(args.name)
    return p is None or p < 3 or p % 2 == 0


def run(args) -> int:
    from ..errors import SymflowError

    if args.name is not None:
        options.refuse_compact([args.name], "lottery")
    if _orbit_mode(args):
        given = [f"--{k.replace('_', '-')}" for k in (*MODULAR_DEFAULTS, "t_max") if getattr(args, k) is not None]
        if args.p is not None:
            given.insert(0, "--p")
        if given:
            raise SymflowError(f"{', '.join(given)} belong to the modular-addition lottery on Z_p (p odd); the orbit "
                               f"lottery takes NAME, --shared, --spheres, --width, --seed, --samples")
        return _run_orbits(args)
    given = [f"--{k}" for k in ("spheres", "samples") if getattr(args, k) is not None]
    if given:
        raise SymflowError(f"{', '.join(given)} belong to the orbit lottery: add --orbits (Z_p runs MA's lottery "
                           f"ticket of the unconstrained shared network by default)")
    for k, v in MODULAR_DEFAULTS.items():
        setattr(args, k, options.explicit(getattr(args, k), v))
    args.width = options.explicit(args.width, 64)
    return _run_modular(args)


def _run_modular(args) -> int:
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


def _run_orbits(args) -> int:
    from ..dynamics.lottery import compare_with_simulation
    from ..groups import as_group
    from ..outputs import OutputFolder
    from ..theory.model import Model
    from ..validation import nontrivial_group

    name = args.name if args.name is not None else "Z23"
    G = nontrivial_group(as_group(name), "the orbit lottery")
    model = Model(G, shared=args.shared, spheres=args.spheres)
    width = options.explicit(args.width, 512)
    samples = options.explicit(args.samples, ORBIT_DEFAULTS["samples"])
    folder = None
    if args.out:
        folder = OutputFolder(args.out, "lottery", {"group": G.name, "shared": model.shared, "spheres": model.spheres,
                                                    "width": width, "seed": args.seed, "samples": samples},
                              force=args.force)
    data = compare_with_simulation(model, width, args.seed, samples,
                                   simulation={"progress": not args.json, "force": args.force})
    lot, res = data.pop("lottery"), data.pop("result")
    data = {"command": "lottery", "mode": "orbits", **data}
    rc = 130 if res.interrupted else 0
    if folder is not None:
        folder.interrupted = res.interrupted
        with folder as stage:
            (stage / "lottery.json").write_text(json.dumps(data, indent=1))
        data["files"] = {"json": str(folder.path / "lottery.json")}
    if args.json:
        print(json.dumps(data))
        return rc
    _print_orbits(data, lot, args.rows)
    if folder is not None:
        print(f"wrote {data['files']['json']}")
    return rc


def _print_orbits(data, lot, rows) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    labels = {o.id: o.display_label for o in lot.model.group.orbits}
    labels[-1] = "dead"
    tab = Table(title=f"Orbit lottery, {data['group']} ({'shared' if data['shared'] else 'unshared'}, "
                      f"{data['spheres']} spheres; reduction {data['reduction']}): first {rows} neurons")
    for col in ("neuron", "predicted", "tau*", "simulated", "ok"):
        tab.add_column(col, justify="right")
    pred, sim = data["neurons"]["predicted"], data["neurons"]["simulated"]
    for m in range(min(rows, len(pred))):
        t = lot.times[m, pred[m]] if pred[m] >= 0 else float("inf")
        tab.add_row(str(m), labels[pred[m]], f"{t:.4g}", labels[sim[m]],
                    "-" if data["agreement"]["fraction"] is None else
                    "[green]yes[/]" if pred[m] == sim[m] else "[red]no[/]")
    console.print(tab)
    b = Table(title=f"Basins: predicted ({data['samples']} starts, seed {data['basin_seed']}) vs measured "
                    f"({data['width']} neurons, seed {data['seed']})")
    for col in ("orbit", "dim", "predicted", "measured", "95% interval", "Plancherel"):
        b.add_column(col, justify="right")
    for r in data["basins"]:
        measured = "-" if r["measured"] is None else f"{r['measured']:.3f}"
        ci = "-" if r["ci95"] is None else f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"
        b.add_row(r["orbit"], str(r["dim"] or "-"), f"{r['predicted']:.3f}", measured, ci, f"{r['plancherel']:.3f}")
    console.print(b)
    a = data["agreement"]
    if a["fraction"] is None:
        console.print(f"[yellow]comparison {data['comparison']}[/]", highlight=False)
        return
    conf = ", ".join(f"{k}: {v}" for k, v in data["confusion"].items()) or "none"
    console.print(f"agreement (predicted = simulated orbit): [bold]{a['fraction']:.1%}[/] of {a['neurons']} neurons "
                  f"(95% [{a['ci95'][0]:.3f}, {a['ci95'][1]:.3f}]); failures predicted->simulated: {conf}",
                  highlight=False)
    c = data["cost"]
    console.print(f"largest basin error {data['basin_error_max']:.3f}; predictor {c['predictor_s']:.3g} s, "
                  f"simulation {c['simulation_s']:.3g} s (x{c['ratio']:.1f})", highlight=False)
