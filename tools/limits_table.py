"""The tables of docs/theory.md section 13, "The limits, measured", regenerated from :mod:`symflow.theory.limits`.

    python tools/limits_table.py            # rewrite the block between the markers in docs/theory.md
    python tools/limits_table.py --check    # exit 1 if docs/theory.md differs from a fresh run
    python tools/limits_table.py --print    # print the block

Everything is seeded and deterministic; errors below ``1e-12`` print as ``< 1e-12`` (rounding noise differs between
machines), the others with two significant digits. ``tests/test_compact_limits.py`` regenerates the cheap tables
(:func:`subgroup_tables`, the Gauss-Legendre rows) and checks them against the document.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symflow.theory.limits import limits_sweep  # noqa: E402

DOC = ROOT / "docs" / "theory.md"
BEGIN, END = "<!-- limits-table:begin (tools/limits_table.py) -->", "<!-- limits-table:end -->"
#: The sweeps of the document: (group, band limit, nmax, grid sizes).
SWEEPS = {"SO(2)": ("SO(2)", 4, 64), "O(2)": ("O(2)", 4, 64), "SO(3)": ("SO(3)", 3, 64)}
SIZES = (100, 1000, 10000, 100000)
#: The ``n`` shown of the ``Z_n``/``D_n`` sweeps (all of ``3..64`` are summarised in the line under the table).
SHOWN_N = (3, 4, 5, 6, 7, 8, 9, 16, 32, 64)
MARKS = {"exact": "=", "aliased": "a", "type change": "t", "split": "s", "invisible": "-"}


def err(x) -> str:
    if x is None:
        return "-"
    return "< 1e-12" if x < 1e-12 else f"{x:.1e}"


def _sweep(name: str, grids=None, nmax: int | None = None) -> dict:
    group, L, n = SWEEPS[name]
    return limits_sweep(group, L, nmax=nmax or n, grids=grids, seed=0)


def subgroup_tables(nmax: int | None = None, shown=SHOWN_N) -> list[str]:
    """The ``Z_n -> SO(2)``, ``D_n -> O(2)`` and ``T, O, I -> SO(3)`` tables (no grids)."""
    lines = []
    for name in ("SO(2)", "O(2)"):
        data = _sweep(name, grids=[], nmax=nmax)
        labels = [c["orbit"] for c in data["compact"]]
        lines += [f"`{name}`, band limit {data['bandlimit']} (Haar `Omega*`: "
                  + ", ".join(f"{c['orbit']} {c['omega_star']:.6f}" for c in data["compact"]) + "):", "",
                  "| subgroup | `n^(3/2)` | " + " | ".join(labels) + " | max error `n^(3/2) Omega*` (=, a) | "
                  "max error scaled rates (=, a) | `n^(3/2) Omega*` (t) |",
                  "| --- | --- | " + " | ".join("---" for _ in labels) + " | --- | --- | --- |"]
        first_exact = {lab: None for lab in labels}
        for s in data["subgroups"]:
            n = s["order"] if name == "SO(2)" else s["order"] // 2
            for o in s["orbits"]:
                if o["status"] != "exact":
                    first_exact[o["orbit"]] = None
                elif first_exact[o["orbit"]] is None:
                    first_exact[o["orbit"]] = n
            if n not in shown:
                continue
            same = [o for o in s["orbits"] if o["status"] in ("exact", "aliased")]
            changed = [o for o in s["orbits"] if o["status"] == "type change"]
            lines.append(f"| {s['subgroup']} | {s['scale']:.2f} | "
                         + " | ".join(MARKS[o["status"]] for o in s["orbits"])
                         + f" | {err(max((o['energy_error'] for o in same), default=None))} | "
                           f"{err(max((o['rate_error'] for o in same), default=None))} | "
                         + (", ".join(f"{o['scaled_omega_star']:.6f}" for o in changed) or "-") + " |")
        last = data["subgroups"][-1]["subgroup"]
        lines += ["", f"Over all of {data['subgroups'][0]['subgroup']}..{last}: each orbit is exact (`=`) from n = "
                  + ", ".join(f"{first_exact[lab]} ({lab})" for lab in labels) + " on.", ""]
    data = _sweep("SO(3)", grids=[])
    lines += [f"`SO(3)`, band limit {data['bandlimit']} (Haar `Omega*`: "
              + ", ".join(f"{c['orbit']} {c['omega_star']:.6f}" for c in data["compact"]) + "; the cells name the "
              "restriction):", "",
              "| subgroup | `n^(3/2)` | " + " | ".join(c["orbit"] for c in data["compact"])
              + " | max error (=) energy / rates |",
              "| --- | --- | " + " | ".join("---" for _ in data["compact"]) + " | --- |"]
    for s in data["subgroups"]:
        cells = []
        for o in s["orbits"]:
            into = " + ".join(f"{e['irrep']}" for e in o["restriction"])
            cells.append(f"= {o['subgroup_orbit']}" if o["status"] == "exact" else f"{MARKS[o['status']]} ({into})")
        same = [o for o in s["orbits"] if o["status"] == "exact"]
        lines.append(f"| {s['subgroup']} | {s['scale']:.2f} | " + " | ".join(cells)
                     + f" | {err(max(o['energy_error'] for o in same))} / {err(max(o['rate_error'] for o in same))} |")
    return lines + [""]


def grid_tables(kinds=("gauss-legendre", "random", "fibonacci"), sizes=SIZES) -> list[str]:
    """The sampled-grid tables of ``SO(3)`` (band 3) and ``SO(2)`` (band 3): errors per orbit, and the slopes."""
    from symflow.theory.limits import default_grids

    lines = []
    for name, group in (("SO(3)", "SO(3)"), ("SO(2)", "SO(2)")):
        L = 3
        grids = [g for g in default_grids(group, L, sizes) if g[0] in kinds]
        if not grids:
            continue
        data = limits_sweep(group, L, nmax=3, grids=grids, seed=0)
        labels = [o["orbit"] for o in data["grids"][0]["orbits"]]
        lines += [f"`{name}`, band limit {L}: `|Omega_N - Omega*|` / `max |rate_N - rate|` (Haar time) per orbit "
                  "(size: the degree `D` of a Gauss-Legendre grid, the number of points of the others)",
                  "", "| grid | size | points | " + " | ".join(labels) + " |",
                  "| --- | --- | --- | " + " | ".join("---" for _ in labels) + " |"]
        for g in data["grids"]:
            lines.append(f"| {g['kind']} | {g['size']} | {g['points']} | "
                         + " | ".join(f"{err(o['energy_error'])} / {err(o['rate_error'])}" for o in g["orbits"])
                         + " |")
        slopes = [s for s in data["slopes"] if s["energy_slope"] is not None]
        if slopes:
            lines += ["", "Fitted decay `error ~ N^s` over the sizes (energy / rates): " + "; ".join(
                f"{s['kind']} {s['orbit']} {s['energy_slope']:.2f} / {s['rate_slope']:.2f}" for s in slopes) + "."]
        lines.append("")
    return lines


def block() -> str:
    return "\n".join([BEGIN, "", *subgroup_tables(), *grid_tables(), END])


def replace(doc: str, new: str) -> str:
    a, b = doc.index(BEGIN), doc.index(END) + len(END)
    return doc[:a] + new + doc[b:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args(argv)
    new = block()
    if args.print:
        print(new)
        return 0
    doc = DOC.read_text()
    if args.check:
        ok = new in doc
        print("docs/theory.md limits tables are up to date" if ok else "docs/theory.md limits tables differ: run "
              "python tools/limits_table.py")
        return 0 if ok else 1
    DOC.write_text(replace(doc, new))
    print("rewrote the limits tables of docs/theory.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
