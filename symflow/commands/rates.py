"""``symflow rates NAME``: energy, stability and decay rates of every irrep orbit's equilibrium.

Rates are eigenvalues of the flow linearised on the tangent space of the spheres
(:mod:`symflow.theory.rates`), in the time unit ``c = 1``; ``--lr --width --scale [--reduction]``
add the conversion to training steps (:mod:`symflow.theory.timescale`) to the table. ``--json``
prints the public contract (always in ``c = 1``)::

    {"group", "shared", "spheres", "time_unit": "c=1",
     "orbits": [{"irreps", "dim", "orbit_size", "omega_star", "omega_star_exact", "stable",
                 "spectrum": [{"rate", "exact", "multiplicity", "mode"}]}]}
"""
from __future__ import annotations

import json

from ..errors import SymflowError
from ..theory.timescale import REDUCTIONS
from . import options


def register(sub):
    p = sub.add_parser("rates", help="equilibrium energy, stability and decay rates per irrep orbit",
                       description="Energy, stability and decay rates of every irrep orbit's equilibrium: the "
                                   "eigenvalues of the flow linearised on the tangent space of the spheres, in the "
                                   "time unit c = 1; --lr, --width and --scale (with --reduction) add the "
                                   "conversion to training steps.")
    options.group_name(p, compact="; rates on SO(2), O(2), SO(3), O(3): Haar probability, unit L^2 spheres, "
                                  "unshared, separate spheres")
    options.shared(p)
    options.spheres(p, default="separate")
    options.json_flag(p, note=", rates in c = 1")
    p.add_argument("--lr", type=float, help="learning rate, to convert rates to training steps")
    options.width(p, None, what="network width M, to convert rates to training steps")
    p.add_argument("--scale", type=float, help="output scale a")
    p.add_argument("--reduction", metavar="{" + ",".join(REDUCTIONS) + "}", default="mean",
                   help="loss reduction: mean (default, c = 2a/M) or sum (c = 2 a n^2 / M)")
    options.check(p, "reduction", options.choice_option("--reduction", REDUCTIONS))
    p.add_argument("--discover", action="store_true",
                   help="also search the landscape (symflow landscape) and add the kinds of attractor no orbit's "
                        "construction gives, marked 'discovered'; JSON key 'discovered'; --starts, --seed and "
                        "--no-progress apply to this search")
    options.starts(p, 512)
    options.seed(p)
    options.no_progress(p)
    p.add_argument("--no-verify", action="store_true",
                   help="skip the brute-force Cayley-table check of the derived spectrum")
    options.runs(p, run)


def _timescale(args, n):
    from ..theory.timescale import TimeScale

    given = [args.lr is not None, args.width is not None, args.scale is not None]
    if not any(given):
        if args.reduction != "mean":
            raise SymflowError("--reduction needs --lr, --width and --scale")
        return None
    if not all(given):
        raise SymflowError("--lr, --width and --scale go together (the time unit is c = 2a/M for the mean "
                           "loss, 2 a n^2 / M for the summed loss)")
    return TimeScale(lr=args.lr, width=args.width, scale=args.scale, reduction=args.reduction, n=n)


def run(args) -> int:
    from ..groups import group
    from ..theory.model import Model
    from ..theory.rates import orbit_spectra, report_from_spectra

    G = group(args.name, bandlimit=args.bandlimit)
    if getattr(G, "is_compact", False):
        return run_compact(G, args)
    ts = _timescale(args, G.order)
    model = Model(G, shared=args.shared, spheres=args.spheres)
    from ..progress import progress_bar

    with progress_bar(f"rates of {G.name} ({len(G.orbits) - 1} orbits)", total=None, enabled=G.order >= 1000,
                      only_terminal=True):   # seconds from order ~1000 on (Z1000003: ~15 s)
        spectra = orbit_spectra(model, verify=False if args.no_verify else None)
    found = None
    if args.discover:
        from ..landscape import landscape

        found = landscape(model, starts=args.starts, seed=args.seed, progress=not (args.json or args.no_progress))
    if args.json:
        report = report_from_spectra(model, spectra)
        if found is not None:
            full = found.to_json()
            report["discovered"] = [a for a in full["attractors"] if a["source"] == "discovered"]
            report["landscape"] = {k: full[k] for k in ("starts", "seed", "unconverged", "warnings")}
        print(json.dumps(report))
        return 0
    _print_tables(spectra, model, ts, verified=any(s.verified for s in spectra))
    if found is not None:
        _print_discovered(found)
    return 0


def run_compact(G, args) -> int:
    """Rates on a band-limited compact group (:func:`symflow.theory.compact.compact_rates`): unshared, separate
    spheres, ``c = 1``; the finite-group options that have no compact version yet are refused in one line."""
    from ..theory.compact import compact_rates

    missing = [flag for flag, on in (("--shared", args.shared), ("--spheres joint", args.spheres != "separate"),
                                     ("--discover", args.discover),
                                     ("--lr/--width/--scale", any(v is not None for v in (args.lr, args.width,
                                                                                         args.scale))))
               if on]
    if missing:
        raise SymflowError(f"rates on the compact group {G.name} is derived for unshared embeddings on separate "
                           f"spheres in the time unit c = 1 only; {', '.join(missing)} is not implemented there")
    report = compact_rates(G)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{G.name}, band limit {G.bandlimit}: unshared embeddings, separate spheres; "
          f"{len(report['orbits'])} non-trivial irrep orbits ({report['normalisation']})")
    for o in report["orbits"]:
        status = "stable" if o["stable"] else "saddle"
        print(f"{{{', '.join(o['irreps'])}}}  d = {o['dim']}, |O| = {o['orbit_size']}: "
              f"Omega* = {o['omega_star_exact']} = {o['omega_star']:.7g}, {status}")
        for e in o["spectrum"]:
            print(f"  {e['rate'] / o['omega_star']:>6.3g} x Omega*  {e['rate']:>10.6g}  "
                  f"x{e['multiplicity']:<6} {e['mode']}")
    print("time unit c = 1; negative rate = decay; in-orbit rates from the Hessian of d^(-1/2) tr(X^T Y Z) (real "
          "irreps) or measured by quadrature (complex pairs); docs/theory.md section 13")
    return 0


def _family_note(spectrum) -> str | None:
    """The note for an orbit whose equilibria form a family beyond its symmetry orbit."""
    k = sum(m.multiplicity for m in spectrum.modes if m.mode.startswith("zero modes (manifold"))
    if not k:
        return None
    return (f"the equilibria of this orbit form a family with {k} direction(s) beyond its symmetries: the "
            f"spectrum shown is at one point of it and varies along it ('symflow landscape' gives the range)")


def _print_discovered(found) -> None:
    from ..groups.display import rich_console
    from ..landscape.display import print_table

    discovered = [a for a in found.attractors if a.source == "discovered"]
    console = rich_console()
    if not discovered:
        console.print(f"landscape ({found.starts} starts, seed {found.seed}): no kind of attractor beyond the "
                      f"constructed ones", highlight=False)
        return
    console.print(f"[bold]discovered[/] by the landscape search ({found.starts} starts, seed {found.seed}): "
                  f"{len(discovered)} kind(s) no orbit's construction gives", highlight=False)
    print_table(found, only=discovered, console=console)


#: With more orbits than this, orbits with the same spectrum share one table (large abelian groups:
#: thousands of frequency pairs, one spectrum per orbit type).
MAX_TABLES = 12


def _classes(spectra: list) -> list:
    """``[(spectrum, [orbit labels])]``: orbits with equal ``Omega*`` and rates merged (first one kept)."""
    if len(spectra) <= MAX_TABLES:
        return [(s, [s.equilibrium.irreps]) for s in spectra]
    out: dict = {}
    for s in spectra:
        eq = s.equilibrium
        key = (eq.dim, eq.type, eq.omega_star, tuple((m.units, m.multiplicity, m.mode) for m in s.modes))
        out.setdefault(key, (s, []))[1].append(eq.irreps)
    return list(out.values())


def _print_tables(spectra: list, model, ts, verified: bool) -> None:
    from rich.table import Table

    from ..groups.display import rich_console

    console = rich_console()
    G = model.group
    console.print(f"[bold]{G.name}[/] (n = {G.order}): {'shared' if model.shared else 'unshared'} embeddings, "
                  f"{model.spheres} spheres; {len(spectra)} non-trivial irrep orbits", highlight=False)
    for sp_, members in _classes(spectra):
        eq = sp_.equilibrium
        status = "[green]stable[/]" if sp_.stable else "[red]saddle[/]"
        orbits = ", ".join("{" + ", ".join(m) + "}" for m in members[:3])
        if len(members) > 3:
            orbits += f", ... ({len(members)} orbits with this spectrum)"
        title = (f"{orbits}  d = {eq.dim}, |O| = {eq.orbit_size}, {eq.type}: "
                 f"Omega* = {eq.omega_star} = {eq.omega_star_float:.7g}, {status}")
        table = Table(title=title, title_justify="left")
        table.add_column("rate / Omega*", justify="right")
        table.add_column("rate", justify="right")
        table.add_column("mult", justify="right")
        table.add_column("mode")
        if ts is not None:
            table.add_column("e-fold steps", justify="right")
        for m in sp_.modes:
            row = [str(m.units) if m.units is not None else f"{m.rate / eq.omega_star_float:.10g}",
                   f"{m.rate:.6g}", str(m.multiplicity), m.mode]
            if ts is not None:
                row.append("-" if m.rate == 0 else f"{ts.e_folding_steps(m.rate):.4g}")
            table.add_row(*row)
        console.print(table)
        note = _family_note(sp_)
        if note:
            console.print(note, style="yellow", highlight=False)
    from ..theory.scope import shared_warning

    said = shared_warning(G) if model.shared else None      # already said once, as the ScopeWarning
    for note in model.scope:
        if note != said:
            console.print(f"note: {note}", style="yellow", highlight=False)
    notes = ["time unit c = 1; negative rate = decay; exact rates derived from the model's block drive"
             + ("; checked against the brute-force Cayley-table spectrum" if verified else "")]
    if ts is not None:
        notes.append(f"{ts!r}; e-fold steps = 1/(|rate| lr c)")
    for note in notes:
        console.print(note, style="dim", highlight=False)
