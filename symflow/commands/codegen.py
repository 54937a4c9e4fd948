"""``symflow codegen NAME [--shared] [--spheres ...] [--style ...] [-o FILE]``: the generated module.

Writes the plain NumPy module of the model's reduced flow (see :mod:`symflow.codegen.generator`)
to ``FILE`` (or prints it); the same code ``symflow simulate`` runs, from the same cache.
"""
from __future__ import annotations

import sys

from ..neuron import SPHERES


def register(sub):
    p = sub.add_parser("codegen", help="write the generated NumPy code of the reduced flow")
    p.add_argument("name", help="group name, e.g. Z7, D5, F21, S4")
    p.add_argument("--shared", action="store_true", help="shared embeddings theta1 = theta2")
    p.add_argument("--spheres", choices=SPHERES, default="separate",
                   help="separate unit spheres (default) or one joint sphere for [theta1; theta2]")
    p.add_argument("--style", choices=["auto", "entries", "matrix"], default="auto",
                   help="entry-level cse code, batched matrix products, or chosen by block size (default)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the module here (default: print it)")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console

    from ..codegen import flow_kernels  # SymPy and the code generator: loaded only when the command runs
    from ..theory import Model

    from ..outputs import AtomicFile, check_file

    out = check_file(args.output, make_folders=False) if args.output else None   # before generating
    model = Model(args.name, shared=args.shared, spheres=args.spheres)
    kern = flow_kernels(model, style=args.style)
    source = kern.source
    if not args.output:
        sys.stdout.write(source)
        return 0
    with AtomicFile(out) as tmp:
        tmp.write_text(source)
    styles = ", ".join(f"d={d} {s}" for d, s in kern.styles.items())
    Console(stderr=True).print(f"wrote {out} ({len(source.splitlines())} lines; {styles}; "
                               f"expression hash {kern.expression_hash[:16]})", highlight=False)
    return 0
