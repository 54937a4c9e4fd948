"""Timings of the exact irreps and character tables of the named families (prints, no asserts).

Each group runs in a fresh interpreter (the constructors cache per partition), timing:
``build`` (the Group), ``numeric`` (``group.irreps``: numeric matrices), ``exact`` (every irrep's
``exact_matrices`` as SymPy), ``chartable`` (``group.character_table()``, exact), ``total`` (wall clock) and ``cpu`` (process
CPU time, all threads: the better figure on a loaded machine).

Usage: ``python bench/bench_irreps.py [NAME ...]`` with names like S5 S6 A5 A6 S7 F21 Dic6 and
``numeric:S5`` (the same group as a bare Cayley table through the numeric construction); a
suffix ``:noexact`` skips the exact matrices (for numeric irreps they are recognised entry by
entry in a random basis, mostly failing to a Float at a few ms per entry).
Requirement tracked here: S5 < 5 s and S6 < 60 s (total) on 2 cores.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

DEFAULT = ["S5", "S6", "A5", "A6", "F21", "F55", "Q8", "Dic6", "S7:noexact", "numeric:S4",
           "numeric:S5:noexact", "numeric:S6:noexact"]


def _make(name: str):
    """The named group (``symflow.group``), or for ``numeric:NAME`` the same group as a bare table."""
    import symflow
    from symflow.groups.group import Group

    if name.startswith("numeric:"):
        G = _make(name.split(":", 1)[1])
        return Group(order=G.order, labels=G.labels, identity=G.identity, name=G.name + "_table", table=G.table)
    return symflow.group(name)


def run_one(spec: str) -> dict:
    name, _, flag = spec.partition(":noexact")
    import sympy  # noqa: F401  (imports are not timed; SymPy is loaded only for exact values)

    import symflow.groups.alternating  # noqa: F401
    import symflow.groups.recognise  # noqa: F401

    c0 = time.process_time()
    t0 = time.perf_counter()
    G = _make(name)
    t1 = time.perf_counter()
    irreps = G.irreps
    t2 = time.perf_counter()
    if spec.endswith(":noexact"):
        t3 = t2
    else:
        for r in irreps:
            r.exact_matrices
        t3 = time.perf_counter()
    G.character_table()
    t4 = time.perf_counter()
    return {"group": spec, "order": G.order, "irreps": len(irreps), "build": t1 - t0, "numeric": t2 - t1,
            "exact": t3 - t2, "chartable": t4 - t3, "total": t4 - t0,
            "cpu": time.process_time() - c0}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(argv[1])))
        return
    names = argv or DEFAULT
    print(f"{'group':>14} {'order':>6} {'irreps':>6} {'build':>8} {'numeric':>8} {'exact':>8} {'chartable':>9} {'total':>8} {'cpu':>8}")
    for name in names:
        out = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True)
        if out.returncode:
            print(f"{name:>14} failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['group']:>14} {r['order']:>6} {r['irreps']:>6} {r['build']:8.3f} {r['numeric']:8.3f} "
              f"{r['exact']:8.3f} {r['chartable']:9.3f} {r['total']:8.3f} {r['cpu']:8.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
