"""``symflow codegen NAME [--shared] [--spheres ...] [--style ...] [--out FILE]``: the generated module.

Writes the plain NumPy module of the model's reduced flow (see :mod:`symflow.codegen.generator`)
to ``FILE`` (or prints it); the same code ``symflow simulate`` runs, from the same cache.
"""
from __future__ import annotations

import sys

from . import options


def register(sub):
    p = sub.add_parser("codegen", help="write the generated NumPy code of the reduced flow")
    options.group_name(p, compact="; the reduced flow of a band-limited compact group (the same block kernels, "
                                  "called with n = 1)")
    options.shared(p)
    options.spheres(p, default="separate")
    p.add_argument("--style", choices=["auto", "entries", "matrix"], default="auto",
                   help="entry-level cse code, batched matrix products, or chosen by block size (default)")
    options.out_file(p, "FILE", "the module (default: print it)", aliases=("-o", "--output"))
    options.runs(p, run)


def run(args) -> int:
    from rich.console import Console

    from ..codegen import flow_kernels  # SymPy and the code generator: loaded only when the command runs
    from ..outputs import check_file
    from ..theory import Model

    from ..groups import group

    model = Model(group(args.name, bandlimit=args.bandlimit), shared=args.shared, spheres=args.spheres)
    out = check_file(args.out, make_folders=False) if args.out else None      # before generating
    kern = flow_kernels(model, style=args.style)
    source = kern.source
    if out is None:
        sys.stdout.write(source)
        return 0
    options.write_text_file(out, source)
    styles = ", ".join(f"d={d} {s}" for d, s in kern.styles.items())
    Console(stderr=True).print(f"wrote {out} ({len(source.splitlines())} lines; {styles}; "
                               f"expression hash {kern.expression_hash[:16]})", highlight=False)
    return 0
