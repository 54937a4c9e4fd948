"""``symflow group NAME [--json]``: elements by class and character table (rich) or the public JSON contract.

Abelian groups of order > ``SUMMARY_ORDER`` print a summary instead of the table (built from the cyclic
factors alone, no n x n table); ``--json`` is refused with a one-line error above ``JSON_MAX_ORDER``.
"""
from __future__ import annotations

import json

from ..errors import SymflowError
from ..groups import group
from ..groups.display import (ELEMENTS_MAX_ORDER, ELEMENTS_SHOWN, JSON_MAX_ORDER, SUMMARY_ORDER, elements_rich,
                               group_rich, irreps_rich, rich_console, shows_summary)
from . import options


def register(sub):
    p = sub.add_parser("group", help="show a group's elements, classes and exact character table",
                       description=f"Show a group's elements by conjugacy class (the first {ELEMENTS_SHOWN} above "
                                   f"order {ELEMENTS_MAX_ORDER}) and its exact character table; abelian groups of "
                                   f"order > "
                                   f"{SUMMARY_ORDER} (up to Z1000000 and products) get a summary instead "
                                   "(structure, orbit counts, the character formula, a few exact values).")
    options.group_name(p, compact="; required for them")
    p.add_argument("--in", dest="inside", default=None, metavar="COMPACT",
                   help="name each irrep of the finite group NAME by the lowest band (l or |k|) of the compact "
                        "group COMPACT (SO(2), O(2), SO(3), O(3)) whose irrep contains it")
    options.json_flag(p, note=f"; it holds the n x n table and all characters, so groups of order > "
                              f"{JSON_MAX_ORDER} give a one-line error (exit 2)")
    p.add_argument("--irreps", action="store_true", help="also print the exact matrices of the first elements")
    options.runs(p, run)


def run(args) -> int:
    if args.inside is not None:
        return run_inside(args)
    G = group(args.name, bandlimit=args.bandlimit)
    if getattr(G, "is_compact", False):
        return run_compact(G, args)
    if args.json:
        print(json.dumps(G.to_json()))
        return 0
    console = rich_console()  # (rich, ~35 ms: only when a table is printed) the terminal's width, 120 when piped
    if not shows_summary(G):   # the summary of a large abelian group names its elements by their cyclic digits
        console.print(elements_rich(G, width=console.width), highlight=False)
    console.print(group_rich(G, width=console.width))
    if args.irreps:
        if shows_summary(G):
            console.print("irreps of an abelian group are its characters (1 x 1 matrices): the exact values "
                          "above are their matrices")
        else:
            console.print(irreps_rich(G, width=console.width))
    return 0


def run_compact(G, args) -> int:
    """A band-limited compact group: its irreps (id, label, dim, type, band) and orbits; Haar measure, characters."""
    if args.irreps:
        raise SymflowError(f"--irreps prints every element's matrix; {G.name} has infinitely many elements "
                           f"(use symflow.group({G.name!r}, bandlimit=L).irrep(l).matrices(elements) in Python)")
    data = G.to_json()
    if args.json:
        print(json.dumps(data))
        return 0
    print(f"{G.name}, band limit {G.bandlimit}: {len(G.irreps)} irreps, {len(G.orbits)} orbits")
    print(f"Haar probability: {G.haar}")
    print(f"characters: {G.character_formula}")
    w = max(len(r.label) for r in G.irreps)
    print(f"  {'id':>3}  {'irrep':<{w}}  {'dim':>3}  type     band")
    for r in G.irreps:
        print(f"  {r.id:>3}  {r.label:<{w}}  {r.dim:>3}  {r.type:<7}  {r.band:>4}")
    return 0


def run_inside(args) -> int:
    """``group H --in COMPACT``: each irrep of the finite ``H`` named by the lowest band whose irrep contains it."""
    from ..groups.compact.subgroups import lowest_bands
    from ..groups.names import is_compact_name, normalise

    if not is_compact_name(args.inside):
        raise SymflowError(f"--in needs a compact group (SO(2), O(2), SO(3) or O(3)), got {args.inside!r}")
    if args.bandlimit is not None:
        raise SymflowError("--in searches the bands itself: drop --bandlimit")
    compact = normalise(args.inside)
    H = group(args.name)
    bands = lowest_bands(compact, args.name)
    rows = [{"id": r.id, "label": r.label, "dim": r.dim, "type": r.type, "lowest_band": b, "first_irrep": lab}
            for r, (b, lab) in zip(H.irreps, bands)]
    if args.json:
        print(json.dumps({"group": H.name, "in": compact, "irreps": rows}))
        return 0
    print(f"{H.name} inside {compact}: each irrep named by the lowest band whose irrep of {compact} contains it")
    w = max(len(r["label"]) for r in rows)
    print(f"  {'id':>3}  {'irrep':<{w}}  {'dim':>3}  first in")
    for r in rows:
        print(f"  {r['id']:>3}  {r['label']:<{w}}  {r['dim']:>3}  {r['first_irrep']}")
    return 0
