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
order of ``symflow group NAME --json``. On a band-limited compact group (``--bandlimit L``) the same contract with
``"order": null`` and ``"bandlimit"``, ``"normalisation"`` added; representatives are the coordinates of each
vector in the orthonormal real basis of :mod:`symflow.groups.compact.signals` (orbit by orbit). More starts than one chunk are streamed (README, "Memory"); a Ctrl-C
between chunks prints the landscape of the completed chunks (``"interrupted": true``, ``"starts"`` the starts
they hold) and exits with 130.
"""
from __future__ import annotations

import json
import sys

from . import options


def register(sub):
    p = sub.add_parser("landscape", help="discover every attractor of a model from many seeded starts",
                       description="Many seeded random starts, each brought to a critical point of its neuron's "
                                   "energy at rounding level, grouped into kinds by basis-free invariants (orbit "
                                   "support, rank, energy); for each kind the exact energy, the symmetry and "
                                   "family dimensions of the set of equilibria through it, the tangent spectrum "
                                   "as a range along the kind, stability and the basin fraction with its 95% "
                                   "interval. Constructed equilibria that no start reached are listed too.")
    options.group_name(p, compact="; landscape on SO(2), O(2), SO(3), O(3): the same engine on band-limited "
                                  "functions (Haar probability, unit L^2 spheres, CE loss; the brute force is the "
                                  "quadrature, so the band limit is limited by memory: SO(3) up to about 3)")
    options.shared(p)
    options.spheres(p)
    options.loss(p)
    options.starts(p, 512)
    options.seed(p)
    options.json_flag(p)
    options.no_progress(p)
    options.force(p)
    options.runs(p, run)


def run(args) -> int:
    from ..groups import group
    from ..landscape import landscape
    from ..landscape.display import print_table
    from ..theory.model import Model

    G = group(args.name, bandlimit=args.bandlimit)
    model = Model(G, shared=args.shared, spheres=args.spheres, loss=args.loss)
    model.require_block_flow()
    if model.is_compact:
        from ..theory.bandlimited import block_flow_estimate

        block_flow_estimate(model, f"landscape {G.name} --bandlimit {G.bandlimit}").check()
    result = landscape(model, starts=args.starts, seed=args.seed, progress=not args.no_progress and not args.json)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print_table(result)
    if result.interrupted:      # Ctrl-C between chunks of starts: the basins of the completed ones, then 130
        print(f"interrupted: the landscape above holds the first {result.starts} of {args.starts} starts",
              file=sys.stderr)
        return 130
    return 0
