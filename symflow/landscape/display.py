"""The rich table of a landscape (:class:`~symflow.landscape.Landscape`): ``symflow landscape`` prints it
whole, ``symflow rates --discover`` the discovered kinds; :data:`TYPE_LETTER` also labels ``symflow li2``'s table."""
from __future__ import annotations


#: Irrep types as in escnn: R(eal), C(omplex), H (quaternionic).
TYPE_LETTER = {"real": "R", "complex": "C", "quaternionic": "H", "trivial": "R"}


def _span(lo: float, hi: float) -> str:
    return f"{lo:.3g}" if abs(hi - lo) <= 1e-9 * max(abs(lo), 1e-300) else f"{lo:.3g}..{hi:.3g}"


def print_table(result, only=None, console=None) -> None:
    """Print the rich table of a :class:`~symflow.landscape.Landscape` (``only``: these attractors, no header)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..groups.display import rich_console

    console = console or rich_console()
    m = result.model
    G = m.group
    attractors = result.attractors if only is None else only
    if only is None:
        size = (f"band limit {G.bandlimit}; {m.to_dict()['normalisation']}" if getattr(G, "is_compact", False)
                else f"n = {G.order}")
        console.print(f"[bold]{G.name}[/] ({size}): {'shared' if m.shared else 'unshared'} embeddings, "
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
