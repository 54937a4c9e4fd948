"""``symflow limits NAME --bandlimit L [--nmax N] [--sizes N1,N2,...] [--seed S] [--json]``: the band-limited compact
group against its discretisations (:mod:`symflow.theory.limits`): finite subgroups (``Z_n -> SO(2)``,
``D_n -> O(2)`` for ``n = 3..nmax``; ``T, O, I -> SO(3), O(3)``) and sampled grids (Gauss-Legendre x uniform,
random, Fibonacci), energies and in-orbit rates scaled to Haar measure and Haar time (``n^(3/2)``).

A command of its own, not a flag of ``branching``: the sweep belongs to the compact group (its positional ``NAME`` and
``--bandlimit``, as in ``rates``), it runs over a whole family of subgroups and over grids that are not subgroups,
and it reports energies and rates, which ``branching`` (representation theory only) does not compute.
``--json`` prints :func:`symflow.theory.limits.limits_sweep`'s object::

    {"group", "bandlimit", "seed", "nmax", "versions", "normalisation", "scaling", "grid_max_band",
     "compact": [{"orbit", "band", "dim", "type", "omega_star", "rates"}],
     "subgroups": [{"subgroup", "order", "scale", "orbits": [{"orbit", "band", "restriction", "status",
                    "subgroup_orbit", "scaled_omega_star", "scaled_rates", "energy_error", "rate_error"}]}],
     "grids": [{"kind", "size", "points", "orbits": [{"orbit", "band", "omega", "energy_error", "rate_error",
                "tensor_error", "rates"}]}],
     "slopes": [{"kind", "orbit", "energy_slope", "rate_slope"}]}
"""
from __future__ import annotations

import json

from ..errors import SymflowError
from . import options

#: One-letter marks of the restriction statuses in the table.
MARKS = {"exact": "=", "aliased": "a", "type change": "t", "split": "s", "invisible": "-"}


def register(sub):
    p = sub.add_parser("limits", help="finite subgroups and sampled grids against a band-limited compact group",
                       description="Energies and in-orbit rates of the discretisations of SO(2), O(2), SO(3), O(3) "
                                   "against the band-limited group: Z_n (SO(2)) and D_n (O(2)) for n = 3..nmax, "
                                   "T, O, I (SO(3), O(3)), scaled by n^(3/2) (counting -> Haar measure; rates too, "
                                   "Haar time tau = n^(-3/2) t), and sampled grids (Gauss-Legendre x uniform, random, "
                                   "Fibonacci), whose energy is the grid's quadrature of the Haar integral.")
    options.group_name(p, compact="; limits needs one of them (required)")
    p.add_argument("--nmax", default=64, metavar="N",
                   help="largest n of Z_n (SO(2)) and D_n (O(2)) in the sweep, 3 <= N <= 200 (default 64)")
    options.check(p, "nmax", _nmax)
    p.add_argument("--sizes", default="100,1000,10000", metavar="N1,N2,...",
                   help="points of the random and Fibonacci grids, comma-separated positive integers (default "
                        "100,1000,10000; 'none': no random or Fibonacci grid); the Gauss-Legendre grids of SO(3), O(3) always "
                        "run; grids measure the orbits of band <= 3")
    options.check(p, "sizes", _sizes)
    options.seed(p, "the random grids and the maximisers' starts")
    options.force(p)
    options.json_flag(p)
    options.runs(p, run)


def _nmax(value) -> int:
    from ..groups.compact.subgroups import MAX_N
    from ..validation import integer

    n = integer(value, "--nmax", minimum=3, text=True, what=f"an integer 3 <= N <= {MAX_N}")
    if n > MAX_N:
        raise SymflowError(f"--nmax must be an integer 3 <= N <= {MAX_N}, got {n}")
    return n


def _sizes(value) -> tuple:
    from ..theory.limits import MAX_GRID_POINTS
    from ..validation import integer

    text = str(value).strip()
    if text.lower() == "none":
        return ()
    what = f"comma-separated integers 1 <= N <= {MAX_GRID_POINTS}, or none"
    out = []
    for part in text.split(","):
        n = integer(part.strip(), "--sizes", minimum=1, text=True, what=what)
        if n > MAX_GRID_POINTS:
            raise SymflowError(f"--sizes must be {what}, got {n}")
        out.append(n)
    return tuple(out)


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.1e}"


def run(args) -> int:
    from ..groups.names import is_compact_name, normalise
    from ..progress import progress_bar
    from ..theory.limits import default_grids, limits_sweep

    if not is_compact_name(args.name):
        raise SymflowError(f"limits needs a compact group NAME (SO(2), O(2), SO(3) or O(3)) with --bandlimit L, got "
                           f"{args.name!r}")
    name = normalise(args.name)
    from ..theory.limits import FAMILIES

    grids = default_grids(name, args.bandlimit, args.sizes)
    family = FAMILIES[name]
    total = (args.nmax - 2 if isinstance(family, str) else len(family)) + len(grids)
    done = [0]

    def progress(k, _total):
        done[0] = k
        bar.update(completed=k)

    try:
        with progress_bar(f"limits of {name}", total=total, enabled=not args.json, only_terminal=True) as bar:
            data = limits_sweep(name, args.bandlimit, nmax=args.nmax, grids=grids, seed=args.seed, progress=progress)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"limits stopped after {done[0]} of {total} subgroups and grids; nothing was "
                                f"printed (smaller --nmax or --sizes run faster)") from None
    if args.json:
        print(json.dumps(data))
        return 0
    print(f"{data['group']}, band limit {data['bandlimit']}: {data['normalisation']}; counting -> Haar: energies and "
          f"rates times n^(3/2) (Haar time tau = n^(-3/2) t)")
    width = max(len(c["orbit"]) for c in data["compact"]) if data["compact"] else 5
    print("compact orbits (Omega* = (k d)^(-1/2); in-orbit rates, Haar time):")
    for c in data["compact"]:
        rates = ", ".join(f"{r:.6g} x{m}" for r, m in c["rates"]) or "none (1-dim real)"
        print(f"  {c['orbit']:<{width}} [{c['dim']}, {c['type']}]  Omega* = {c['omega_star']:.6f}  rates {rates}")
    labels = [c["orbit"] for c in data["compact"]]
    print("\nfinite subgroups (= exact, a aliased, t type change, s split, - invisible; errors of =/a/t rows):")
    print(f"  {'subgroup':<9} {'n^(3/2)':>9}  {' '.join(f'{i + 1:>2}' for i in range(len(labels)))}   "
          f"max |dOmega|  max |drate|")
    for s in data["subgroups"]:
        marks = " ".join(f"{MARKS[o['status']]:>2}" for o in s["orbits"])
        matched = [o for o in s["orbits"] if "energy_error" in o]
        e = max((o["energy_error"] for o in matched), default=None)
        r = max((o["rate_error"] for o in matched if o["rate_error"] is not None), default=None)
        print(f"  {s['subgroup']:<9} {s['scale']:>9.2f}  {marks}   {_fmt(e):>11}  {_fmt(r):>11}")
    print("  columns: " + ", ".join(f"{i + 1} = {lab}" for i, lab in enumerate(labels)))
    if data["grids"]:
        print(f"\nsampled grids (not groups: the quadrature of the Haar double integral; orbits of band <= "
              f"{data['grid_max_band']}): |Omega_N - Omega*| / max |rate_N - rate|")
        for g in data["grids"]:
            cells = "  ".join(f"{o['orbit']} {_fmt(o['energy_error'])}/{_fmt(o['rate_error'])}" for o in g["orbits"])
            print(f"  {g['kind']:<15} {g['size']:>6} ({g['points']:>6} points)  {cells}")
        for sl in data["slopes"]:
            if sl["energy_slope"] is not None:
                print(f"  {sl['kind']:<10} {sl['orbit']:<{width}} error ~ N^{sl['energy_slope']:.2f} (energy), "
                      f"N^{sl['rate_slope']:.2f} (rates)" if sl["rate_slope"] is not None else
                      f"  {sl['kind']:<10} {sl['orbit']:<{width}} error ~ N^{sl['energy_slope']:.2f} (energy)")
    print("\ndocs/theory.md section 13 ('The limits, measured') states the scaling, the statuses and the grid errors")
    return 0
