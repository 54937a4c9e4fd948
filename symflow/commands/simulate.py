"""``symflow simulate NAME --width M --seed S [--t-end T] ...``: the reduced flow of a population.

Time unit ``c = 1``; the default ``--t-end`` is ``50 n^2`` (measured equilibrium times from uniform
starts are below ``14 n^2``) and the run stops early once every neuron is at equilibrium
(``|Riemannian grad| < 1e-6 n^-3/2``). A transient progress bar runs on stderr; Ctrl-C stops the
run, still prints the summary and writes ``--out`` (alias ``--save``) for the save times completed, says so on
stderr (exit status 130). ``--out`` is checked before computing and written aside then renamed into place
(:class:`symflow.outputs.AtomicFile`), so it never holds a half-written file. ``--json`` prints the
population summary as one JSON object.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import options


def register(sub):
    p = sub.add_parser("simulate", help="simulate a population of neurons under the reduced Fourier flow")
    options.group_name(p)
    options.width(p, 256)
    options.seed(p, what="the initial condition")
    p.add_argument("--t-end", type=float, default=None, help="final time (default 50 n^2, time unit c = 1)")
    options.shared(p)
    options.spheres(p, default="separate")
    p.add_argument("--method", choices=["geometric", "DOP853", "RK45", "LSODA"], default="geometric",
                   help="geometric: retraction-based DOPRI5 (norms exact); or a SciPy stepper")
    p.add_argument("--rtol", type=float, default=None, help="relative tolerance (default per method)")
    p.add_argument("--atol", type=float, default=None, help="absolute tolerance (default per method)")
    p.add_argument("--dt", type=float, default=None, help="fixed step (geometric RK4) instead of adaptive steps")
    p.add_argument("--n-save", type=int, default=11, help="number of saved times incl. 0 and t-end (default 11)")
    p.add_argument("--init", default="uniform",
                   help="uniform (default), orbit:LABEL_OR_INDEX or frequency:K (abelian)")
    p.add_argument("--no-stop", action="store_true", help="do not stop when every neuron is at equilibrium")
    options.out_file(p, "FILE.npz", "t, theta1, theta2, xi (K, M, n), omega (K, M) and the metadata",
                     aliases=("--save",))
    options.json_flag(p, what="the population summary as one JSON object")
    options.no_progress(p)
    options.force(p)
    options.runs(p, run)


def _init(spec: str):
    from ..errors import SymflowError

    if spec == "uniform":
        return "uniform", {}
    kind, _, arg = spec.partition(":")
    if kind == "orbit" and arg:
        return "orbit", {"orbit": int(arg) if arg.isdigit() else arg}
    if kind == "frequency" and arg:
        try:
            return "frequency", {"k": int(arg)}
        except ValueError:
            return "orbit", {"orbit": arg}
    raise SymflowError(f"--init {spec!r}: accepted forms are uniform, orbit:LABEL_OR_INDEX, frequency:K")


def save_path(save) -> Path:
    """The file ``--out`` (``--save``) writes: the name given, with ``.npz`` appended unless it ends so."""
    path = Path(save)
    return path if path.suffix == ".npz" else Path(str(path) + ".npz")


def run(args) -> int:
    from ..dynamics import simulate
    from ..outputs import AtomicFile, check_file

    init, init_options = _init(args.init)
    target = check_file(save_path(args.out)) if args.out else None   # before computing
    res = simulate(args.name, width=args.width, seed=args.seed, t_end=args.t_end, method=args.method,
                   n_save=args.n_save, shared=args.shared, spheres=args.spheres, init=init, init_options=init_options,
                   rtol=args.rtol, atol=args.atol, dt=args.dt, stop_at_equilibrium=not args.no_stop,
                   progress=not args.no_progress)
    saved = None
    if target is not None:
        with AtomicFile(target) as tmp:     # never a half-written file, even on a second Ctrl-C
            res.save(tmp)
        saved = target
    summary = res.summary()
    if saved:
        summary["saved"] = str(saved)
    if res.interrupted:
        meta = res.metadata
        kept = f" and {saved}" if saved else ""
        print(f"symflow simulate: interrupted before t_end = {meta['t_end']:.4g}: the run is complete up to the "
              f"save time t = {float(res.t[-1]):.4g} ({len(res.t)} of {meta['n_save']} saved times); the summary{kept} "
              f"cover those times, marked interrupted; later times were not computed", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(res, summary)
    return 130 if res.interrupted else 0


def _print_summary(res, s):
    from rich.console import Console
    from rich.table import Table

    from ..dynamics.alignment import COSINE_THRESHOLD, RANK_THRESHOLD

    console = Console()
    run = s["run"]
    title = (f"{res.model.describe()}: {s['width']} neurons, seed {s['seed']}, t = {run['t']:.4g}"
             + (" (interrupted)" if run["interrupted"] else ""))
    console.print(title, highlight=False)
    t = Table(header_style="bold")
    for col in ("orbit", "dim", "type", "fraction"):
        t.add_column(col, justify="right" if col in ("dim", "fraction") else "left")
    for o in s["orbits"]:
        t.add_row(o["label"], str(o["dim"]), o["type"], f"{o['fraction']:.3f}")
    console.print(t)
    q = s["quantiles"]
    if "aligned_fraction" in s:
        console.print(f"aligned (sigma2/sigma1 < {RANK_THRESHOLD:g}, cosines > {COSINE_THRESHOLD:g}): "
                      f"{s['aligned_fraction']:.3f}")
    if "omega" in q:
        console.print("Omega quantiles: " + ", ".join(f"{k} {v:.6g}" for k, v in q["omega"].items()))
    eq = f", all at equilibrium by t = {run['equilibrium_time_max']:.4g}" if run["equilibrium_fraction"] == 1 else \
        f", {run['equilibrium_fraction']:.1%} at equilibrium"
    console.print(f"{run['steps']} steps, {run['wall_time_s']:.2f} s{eq}")
    if s.get("saved"):
        console.print(f"saved {s['saved']}")
