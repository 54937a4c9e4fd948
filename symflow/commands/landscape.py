"""``symflow landscape NAME``: every attractor that seeded random starts find, classified and checked.

The engine is :mod:`symflow.landscape`. ``--json`` prints the public contract::

    {"group", "order", "shared", "spheres", "loss", "activation", "starts", "seed", "time_unit": "c=1",
     "warnings": [text], "unconverged": count, "interrupted", "version", "wall_time",
     "attractors": [{"orbit": [irrep labels], "dim", "type", "energy", "energy_exact", "rank",
                     "singular_values": {vector: [...]}, "family_dimension", "symmetry_dimension",
                     "degenerate_dimension", "convergence", "stable", "family_stable_fraction",
                     "spectrum": [{"mode", "rate_min", "rate_max", "multiplicity"}],
                     "basin": {"count", "fraction", "ci95": [lo, hi]}, "source": "constructed"|"discovered",
                     "samples", "residual", "representative": {vector: [n reals]}, "notes": [text]}]}

Basin fractions plus ``unconverged / starts`` sum to 1. Representatives are real vectors in the element
order of ``symflow group NAME --json``.
"""
from __future__ import annotations

import json

from ..neuron import LOSSES, SPHERES


def register(sub):
    p = sub.add_parser("landscape", help="discover every attractor of a model from many seeded starts",
                       description="Many seeded random starts, each brought to a critical point of its neuron's "
                                   "energy at rounding level, grouped into kinds by basis-free invariants (orbit "
                                   "support, rank, energy); for each kind the exact energy, the symmetry and "
                                   "family dimensions of the set of equilibria through it, the tangent spectrum "
                                   "as a range along the kind, stability and the basin fraction with its 95% "
                                   "interval. Constructed equilibria that no start reached are listed too.")
    p.add_argument("name", help="group name, e.g. D5, S4, Q8, F21, Z3xZ5")
    p.add_argument("--shared", action="store_true", help="shared input embedding theta1 = theta2")
    p.add_argument("--spheres", metavar="{" + ",".join(SPHERES) + "}", default=None,
                   help="separate (CE default) or joint ([theta1; theta2] on one sphere; MSE default)")
    p.add_argument("--loss", metavar="{" + ",".join(LOSSES) + "}", default="ce",
                   help="ce (GC, default) or mse (Li2's sample-centred MSE)")
    p.add_argument("--starts", default="512", help="number of seeded random starts (default 512)")
    p.add_argument("--seed", default="0", help="seed of the starts (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object (public contract)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true", help="run even when the memory estimate exceeds the machine's memory")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..groups import group
    from ..landscape import landscape
    from ..theory.model import Model
    from ..validation import choice, integer

    choice(args.spheres, "--spheres", SPHERES + (None,), what=" or ".join(map(repr, SPHERES)))
    choice(args.loss, "--loss", LOSSES, what=" or ".join(map(repr, LOSSES)))
    starts = integer(args.starts, "--starts", minimum=1, text=True)
    seed = integer(args.seed, "--seed", minimum=0, text=True)
    G = group(args.name)
    model = Model(G, shared=args.shared, spheres=args.spheres, loss=args.loss)
    model.require_block_flow()
    result = landscape(model, starts=starts, seed=seed, progress=not args.no_progress and not args.json)
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    print_table(result)
    return 0


#: Irrep types as in escnn: R(eal), C(omplex), H (quaternionic).
TYPE_LETTER = {"real": "R", "complex": "C", "quaternionic": "H", "trivial": "R"}


def _span(lo: float, hi: float) -> str:
    return f"{lo:.3g}" if abs(hi - lo) <= 1e-9 * max(abs(lo), 1e-300) else f"{lo:.3g}..{hi:.3g}"


def print_table(result, only=None, console=None) -> None:
    """The rich table of a :class:`~symflow.landscape.Landscape` (``only``: these attractors, no header)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..groups.display import rich_console

    console = console or rich_console()
    m = result.model
    G = m.group
    attractors = result.attractors if only is None else only
    if only is None:
        console.print(f"[bold]{G.name}[/] (n = {G.order}): {'shared' if m.shared else 'unshared'} embeddings, "
                      f"{m.spheres} spheres, {m.loss.upper()} loss, sigma = {m.activation_text}; {result.starts} "
                      f"starts (seed {result.seed}), {len(result.attractors)} kinds, {result.wall_time:.1f} s",
                      highlight=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    width = min(24, max((len(", ".join(result.labels(a))) + 2 for a in attractors), default=7))
    for col, kw in (("orbit", {"min_width": width}), ("d", {}), ("energy", {"justify": "right"}), ("rank", {"justify": "right"}),
                    ("sym", {"justify": "right"}), ("fam", {"justify": "right"}), ("stable", {}),
                    ("slowest rate", {"justify": "right"}),
                    ("basin, 95% CI", {"justify": "right"}), ("source", {})):
        table.add_column(col, no_wrap=col != "orbit", **kw)
    for a in attractors:
        labels = result.labels(a)
        main = a.orbits[0] if a.orbits else None
        stable = "yes" if a.stable else "[red]saddle[/]"
        if a.family_stable_fraction is not None and a.family_stable_fraction < 1:
            stable += f" ({a.family_stable_fraction:.0%})"
        lo, hi = a.ci95
        slow = a.rate_range("slowest")
        energy = a.energy_exact or f"{a.energy:.10g}"
        table.add_row(Text("{" + ", ".join(labels) + "}" if labels else "trivial"),
                      f"{main.dim}{TYPE_LETTER[main.type]}" if main else "1", energy, str(a.rank),
                      str(a.symmetry_dimension), str(a.family_dimension) +
                      (f"+{a.degenerate_dimension}d" if a.degenerate_dimension else ""),
                      stable, _span(*slow) if slow else "-", f"{a.fraction:.1%} ({100 * lo:.1f}-{100 * hi:.1f})",
                      "found" if a.source == "discovered" else "theory")
    console.print(table)
    for a in attractors:
        for note in a.notes:
            console.print(f"{'+'.join(result.labels(a))}: {note}", style="dim", highlight=False)
    from ..theory.scope import shared_warning

    said = shared_warning(G) if m.shared else None        # already said once, as the ScopeWarning
    for w in result.warnings:
        if w != said:
            console.print(f"warning: {w}", style="yellow", highlight=False)
    if result.unconverged:
        console.print(f"{result.unconverged} starts unconverged ({result.unconverged / result.starts:.1%})",
                      highlight=False)
    console.print("d: irrep dimension and type (R real, C complex pair, H quaternionic); energy: the neuron's "
                  "energy at the kind, exact (recognised from 40 digits, or the construction's); rank: of the Fourier "
                  "blocks; sym / fam: dimensions of the set of equilibria through it along continuous symmetries of "
                  "the energy / along a family (+Nd: degenerate zero modes); stable (N%): share of the sampled family "
                  "that is stable; slowest rate: the nonzero tangent rate nearest to 0 (c = 1, negative = "
                  "decay; a..b where it varies along the kind; all rates in --json); basin: share of starts that converged "
                  "there, 95% Wilson interval in %; source: constructed by the theory, or found only by the search", style="dim", highlight=False)
