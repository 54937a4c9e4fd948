"""Readable views of a group: rich character table, LaTeX, and the public JSON contract.

``group_json`` is the contract of ``symflow group NAME --json``::

    {"name", "order", "elements": [labels], "identity": index,
     "table": [[index of elements[i]*elements[j]]], "classes": [[indices]],
     "irreps": [{"label", "dim", "indicator", "character": [[re, im] per element],
                 "matrices": [per element, a dim x dim nested list of [re, im]]}]}

Numbers are floats rounded to 15 significant digits; the element order is symflow's order for
every array indexed by group elements. The JSON needs NumPy only; the character tables (rich,
LaTeX) and exact matrices import SymPy.
"""
from __future__ import annotations

import shutil

import numpy as np

#: Short irrep type names of the character table's "type" column.
_SHORT_TYPE = {"real": "real", "complex": "cplx", "quaternionic": "quat"}


def _pair(z: complex) -> list[float]:
    re, im = float(np.real(z)), float(np.imag(z))
    re = 0.0 if abs(re) < 1e-14 else float(f"{re:.15g}")
    im = 0.0 if abs(im) < 1e-14 else float(f"{im:.15g}")
    return [re, im]


def group_json(G) -> dict:
    """The public JSON object for ``G`` (see module docstring)."""
    irreps = []
    for r in G.irreps:
        irreps.append({
            "label": r.label,
            "dim": r.dim,
            "indicator": r.indicator,
            "character": [_pair(c) for c in r.character],
            "matrices": [[[_pair(v) for v in row] for row in m] for m in r.matrices],
        })
    return {
        "name": G.name,
        "order": G.order,
        "elements": [str(l) for l in G.labels],
        "identity": int(G.identity),
        "table": G.table.tolist(),
        "classes": [list(map(int, c)) for c in G.classes],
        "irreps": irreps,
    }


def _fmt(v) -> str:
    """Compact exact value: integers and short surds as SymPy prints them, roots of unity as
    ``z{m}^k`` (``z_m = exp(2 pi i / m)``), anything longer as a 4-digit complex number."""
    import sympy as sp

    s = sp.sstr(v)
    if len(s) <= 10 and "exp" not in s:
        return s
    z = complex(sp.N(v))
    if abs(abs(z) - 1) < 1e-12:
        for m in range(3, 121):
            k = np.angle(z) * m / (2 * np.pi)
            if abs(k - round(k)) < 1e-9:
                k = int(round(k)) % m
                return f"z{m}" if k == 1 else f"z{m}^{k}"
    return s if len(s) <= 18 else f"{z:.4g}"


def character_table_rich(G, max_classes: int | None = None):
    """A ``rich`` renderable: header line and the exact character table (classes as columns)."""
    from rich.console import Group as RGroup
    from rich.table import Table
    from rich.text import Text

    classes = G.classes
    if max_classes is None:
        max_classes = max(4, (shutil.get_terminal_size((100, 24)).columns - 34) // 9)
    shown = classes[:max_classes]
    title = f"{G.name}: order {G.order}, {len(classes)} classes, {len(G.irreps)} irreps" + (
        "" if G.is_abelian is False else " (abelian)")
    t = Table(title=title, show_lines=False, header_style="bold")
    t.add_column("irrep", style="cyan", no_wrap=True)
    t.add_column("dim", justify="right")
    t.add_column("type")
    for c in shown:
        rep = G.labels[c[0]]
        t.add_column(f"{rep}\n|{len(c)}|", justify="right")
    if len(classes) > max_classes:
        t.add_column(f"... +{len(classes) - max_classes}")
    for r in G.irreps:
        row = [r.label, str(r.dim), _SHORT_TYPE[r.type]]
        row += [_fmt(r.exact_character[c[0]]) for c in shown]
        if len(classes) > max_classes:
            row.append("")
        t.add_row(*row)
    orbits = ", ".join("{" + ", ".join(G.irreps[i].label for i in o) + "}" for o in G.orbits if len(o) == 2)
    legend = "  z_m = exp(2 pi i/m)." if any(_fmt(r.exact_character[c[0]]).startswith("z")
                                            for r in G.irreps for c in shown) else ""
    notes = Text(f"conjugate pairs: {orbits or 'none (all irreps self-dual)'}.{legend}", style="dim")
    return RGroup(t, notes)


def character_table_latex(G) -> str:
    """LaTeX ``array`` of the exact character table (rows irreps, columns class representatives)."""
    import sympy as sp

    classes = G.classes
    head = " & ".join(["", *[sp.latex(sp.Symbol(G.labels[c[0]])) + f"\\,({len(c)})" for c in classes]])
    rows = []
    for r in G.irreps:
        vals = [sp.latex(r.exact_character[c[0]]) for c in classes]
        rows.append(" & ".join([f"\\text{{{r.label}}}", *vals]))
    body = " \\\\ ".join([head, "\\hline " + rows[0], *rows[1:]])
    return f"\\begin{{array}}{{l|{'c' * len(classes)}}} {body} \\end{{array}}"


def irreps_rich(G, max_elements: int = 6):
    """Exact matrices of the first few elements for every irrep (for ``symflow group --irreps``)."""
    import sympy as sp
    from rich.table import Table

    t = Table(title=f"{G.name}: exact irreps (first {max_elements} elements)", show_lines=True)
    t.add_column("irrep")
    for g in range(min(max_elements, G.order)):
        t.add_column(str(G.labels[g]))
    for r in G.irreps:
        mats = r.exact_matrices
        t.add_row(r.label, *[sp.pretty(mats[g], use_unicode=True) for g in range(min(max_elements, G.order))])
    return t
