"""``symflow branching NAME SUBGROUP --bandlimit L [--json]``: how each irrep of a band-limited compact group
restricts to a finite subgroup (multiplicities from characters, :mod:`symflow.groups.compact.subgroups`)."""
from __future__ import annotations

import json

from ..errors import SymflowError
from . import options


def register(sub):
    p = sub.add_parser("branching", help="branching rules of SO(2), O(2), SO(3), O(3) irreps to a finite subgroup",
                       description="How each irrep D^l (or chi_k, psi_{1,k}) of a band-limited compact group splits "
                                   "into irreps of a finite subgroup: Z<n>, D<n>, and in SO(3)/O(3) also A4 (T), "
                                   "S4 (O), A5 (I). Multiplicities (1/|H|) sum_h chi_l(h) conj chi(h).")
    p.add_argument("name", metavar="NAME", help="the compact group: SO(2), O(2), SO(3) or O(3)")
    p.add_argument("subgroup", metavar="SUBGROUP", help="a finite subgroup: Z<n>, D<n>, A4 or T, S4 or O, A5 or I")
    options.bandlimit(p, " (required)")
    options.json_flag(p)
    options.runs(p, run)


def run(args) -> int:
    from ..groups import group
    from ..groups.compact.subgroups import branching
    from ..groups.names import is_compact_name

    if not is_compact_name(args.name):
        raise SymflowError(f"branching needs a compact group NAME (SO(2), O(2), SO(3) or O(3)), got {args.name!r}")
    b = branching(group(args.name, bandlimit=args.bandlimit), args.subgroup)
    data = b.to_json()
    if args.json:
        print(json.dumps(data))
        return 0
    print(f"{data['group']} -> {data['subgroup']} (band limit {data['bandlimit']}): multiplicity x irrep [dim]")
    width = max(len(r["irrep"]) for r in data["restrictions"])
    for r in data["restrictions"]:
        parts = " + ".join((f"{e['multiplicity']} " if e["multiplicity"] > 1 else "") + f"{e['irrep']}[{e['dim']}]"
                           for e in r["into"])
        print(f"  {r['irrep']:<{width}} [{r['dim']:>3}] = {parts}")
    return 0
