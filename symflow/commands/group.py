"""``symflow group NAME [--json]``: elements by class and character table (rich) or the public JSON contract.

Abelian groups of order > ``SUMMARY_ORDER`` print a summary instead of the table (built from the cyclic
factors alone, no n x n table); ``--json`` is refused with a one-line error above ``JSON_MAX_ORDER``.
"""
from __future__ import annotations

import json

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
    options.group_name(p)
    options.json_flag(p, note=f"; it holds the n x n table and all characters, so groups of order > "
                              f"{JSON_MAX_ORDER} give a one-line error (exit 2)")
    p.add_argument("--irreps", action="store_true", help="also print the exact matrices of the first elements")
    options.runs(p, run)


def run(args) -> int:
    G = group(args.name)
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
