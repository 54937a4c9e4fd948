"""``symflow group NAME [--json]``: character table (rich) or the public JSON contract."""
from __future__ import annotations

import json

from ..groups import group
from ..groups.display import irreps_rich


def register(sub):
    p = sub.add_parser("group", help="show a group's elements, classes and exact character table")
    p.add_argument("name", help="group name, e.g. Z7, Z3xZ5, D5, Q8, Dic3, S4, A5, F21, C7:C3, SmallGroup(8,3)")
    p.add_argument("--json", action="store_true", help="print one JSON object (public contract)")
    p.add_argument("--irreps", action="store_true", help="also print the exact matrices of the first elements")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console  # ~35 ms: only when a table is printed

    G = group(args.name)
    if args.json:
        print(json.dumps(G.to_json()))
        return 0
    console = Console()
    console.print(G)
    if args.irreps:
        console.print(irreps_rich(G))
    return 0
