"""Readable views of a group: rich character table, LaTeX, and the public JSON contract.

``group_json`` is the contract of ``symflow group NAME --json``::

    {"name", "order", "elements": [labels], "identity": index,
     "table": [[index of elements[i]*elements[j]]], "classes": [[indices]],
     "irreps": [{"label", "dim", "indicator", "character": [[re, im] per element],
                 "matrices": [per element, a dim x dim nested list of [re, im]]}]}

Numbers are floats rounded to 15 significant digits; the element order is symflow's order for
every array indexed by group elements. The JSON needs NumPy only; the character tables (rich,
LaTeX) and exact matrices import SymPy.

The contract holds about ``3 n^2`` numbers (table, characters, matrices), so it is written for
groups of order ``<= JSON_MAX_ORDER`` only; larger groups get a one-line :class:`SymflowError`.
Abelian groups with more than ``SUMMARY_ORDER`` elements are shown as a summary
(:func:`abelian_summary_rich`: structure, orbit counts, the character formula and a few exact
values), computed from the cyclic factors alone: no Cayley table, no character table.

Every table is fitted to the output width (:func:`rich_console`: the terminal's, ``COLUMNS``, or
``PIPE_WIDTH`` when piped) by choosing how many columns to show, never by wrapping a cell, so no
label, value or matrix entry is broken across lines.
"""
from __future__ import annotations

import os
import re
import shutil
from math import gcd, lcm, prod

import numpy as np

from ..errors import SymflowError

#: Largest order whose JSON contract (``~3 n^2`` numbers) ``group_json`` writes.
JSON_MAX_ORDER = 720
#: Abelian groups of larger order are shown as a summary instead of the n x n character table.
SUMMARY_ORDER = 64

#: Short irrep type names of the character table's "type" column.
_SHORT_TYPE = {"real": "real", "complex": "cplx", "quaternionic": "quat"}


def _pair(z: complex) -> list[float]:
    re, im = float(np.real(z)), float(np.imag(z))
    re = 0.0 if abs(re) < 1e-14 else float(f"{re:.15g}")
    im = 0.0 if abs(im) < 1e-14 else float(f"{im:.15g}")
    return [re, im]


def group_json(G) -> dict:
    """The public JSON object for ``G`` (see module docstring); a :class:`SymflowError` above
    ``JSON_MAX_ORDER``, before anything of size ``n^2`` is built."""
    if G.order > JSON_MAX_ORDER:
        raise SymflowError(
            f"the JSON contract of {G.name} would hold its {G.order}x{G.order} Cayley table and {G.order}^2 "
            f"character values (~{3 * G.order ** 2:.2g} numbers); --json is limited to groups of order <= "
            f"{JSON_MAX_ORDER}: use 'symflow group {G.name}' (summary) or the Python API "
            f"(symflow.group('{G.name}').orbits, .fourier, .multiply)")
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


#: Output width when stdout is not a terminal and ``COLUMNS`` is unset (a pipe or a file): wide enough
#: for every table symflow prints, so nothing is folded into the next line.
PIPE_WIDTH = 120
#: Cell padding and border of a rich table column (one space each side and the separator).
_CELL = 3


def rich_console(**kwargs):
    """The ``rich`` console of a command: the terminal's width on a terminal, ``COLUMNS`` when set, and
    ``PIPE_WIDTH`` when the output goes to a pipe or a file (rich's 80 would fold wide tables)."""
    from rich.console import Console

    con = Console(**kwargs)
    if not con.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        con = Console(width=PIPE_WIDTH, **kwargs)
    return con


def _fit(fixed: int, widths: list, width: int, at_least: int = 1) -> int:
    """How many of the columns of ``widths`` (cell widths, in order) fit next to ``fixed`` cells in ``width``."""
    total, k = fixed + 1, 0
    for w in widths:
        total += w + _CELL
        if total > width:
            break
        k += 1
    return max(k, min(at_least, len(widths)))


#: Largest order whose every element ``symflow group NAME`` lists (larger groups: the first ``ELEMENTS_SHOWN``).
ELEMENTS_MAX_ORDER = 128
ELEMENTS_SHOWN = 32


def elements_rich(G, width: int | None = None):
    """A ``rich`` text listing ``G``'s elements by conjugacy class (``|`` between classes), packed into lines
    of ``width`` columns without ever breaking a label; groups of order > ``ELEMENTS_MAX_ORDER`` list the
    first ``ELEMENTS_SHOWN`` elements of the classes in order and say how many are left out."""
    from rich.text import Text

    if width is None:
        width = shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    n = G.order
    shown = n if n <= ELEMENTS_MAX_ORDER else ELEMENTS_SHOWN
    tokens = []          # each element's label with the separator that follows it
    for ci, c in enumerate(G.classes):
        for j, g in enumerate(c):
            if len(tokens) == shown:
                break
            last = j == len(c) - 1
            tokens.append(str(G.labels[g]) + ("" if last and ci == len(G.classes) - 1 else " |" if last else ","))
    if shown < n:
        tokens.append(f"... (+{n - shown} more)")
    head = f"elements ({n}, by conjugacy class):"
    lines, line = [], head
    for tok in tokens:
        if len(line) + 1 + len(tok) > width and line.strip():
            lines.append(line)
            line = "  " + tok
        else:
            line += " " + tok
    lines.append(line)
    return Text("\n".join(lines), no_wrap=True, overflow="ignore")


def shows_summary(G) -> bool:
    """True when ``G`` is displayed as a summary (abelian products of order > ``SUMMARY_ORDER``)."""
    return G.abelian_factors is not None and G.order > SUMMARY_ORDER


def group_rich(G, width: int | None = None):
    """What ``symflow group NAME`` prints: the summary of a large abelian group, else the table
    (as many classes as fit in ``width`` columns, default the terminal's)."""
    return abelian_summary_rich(G) if shows_summary(G) else character_table_rich(G, width=width)


def _root_text(e: int, L: int) -> str:
    """``exp(2 pi i e / L)`` as the character table writes it (``1``, ``-1``, ``I``, ``z{m}^k``)."""
    e %= L
    g = gcd(e, L)
    m, k = L // g, e // g
    if m == 1:
        return "1"
    if m == 2:
        return "-1"
    if m == 4:
        return "I" if k == 1 else "-I"
    return f"z{m}" if k == 1 else f"z{m}^{k}"


def abelian_orbit_counts(factors) -> dict[str, int]:
    """Orbit counts of ``Z_f1 x ... x Z_fk`` by type, from the factors alone (``O(k)``): the real
    characters are the frequencies with ``2k = 0``."""
    n = prod(int(f) for f in factors)
    real = prod(gcd(2, int(f)) for f in factors) - 1
    return {"trivial": 1, "real": real, "complex": (n - 1 - real) // 2}


def abelian_summary_rich(G, examples: int = 6):
    """A ``rich`` summary of a large abelian group (see the module docstring): nothing of size ``n^2``
    and nothing of size ``n`` is built."""
    from rich.console import Group as RGroup
    from rich.table import Table
    from rich.text import Text

    from .orbits import character_label

    factors = tuple(int(f) for f in G.abelian_factors)
    n = G.order
    L = lcm(*factors)
    cyclic = all(gcd(a, b) == 1 for i, a in enumerate(factors) for b in factors[i + 1:])
    counts = abelian_orbit_counts(factors)
    structure = " x ".join(f"Z{f}" for f in factors)
    head = [
        f"{G.name}: order {n}, abelian ({structure}{', cyclic' if cyclic and len(factors) > 1 else ''}), "
        f"exponent {L}",
        f"{n} irreps, all of dimension 1 (the characters chi_k, k in {structure}); {n} classes (one per element)",
        f"{counts['trivial'] + counts['real'] + counts['complex']} orbits: 1 trivial, {counts['real']} real, "
        f"{counts['complex']} complex pairs {{chi_k, chi_-k}}",
        "chi_k(j) = exp(2 pi i (" + " + ".join(f"k{i + 1} j{i + 1}/{f}" for i, f in enumerate(factors))
        + "))" if len(factors) > 1 else f"chi_k(j) = exp(2 pi i k j/{factors[0]})",
    ]
    shown = min(examples, n)
    digits = [np.unravel_index(i, factors) for i in range(shown)]
    t = Table(title=f"{G.name}: first {shown} characters on the first {shown} elements (exact)",
              header_style="bold")
    t.add_column("irrep", style="cyan", no_wrap=True)
    for j in range(shown):
        t.add_column(str(G.labels[j]), justify="right")
    t.add_column(f"... +{n - shown}")
    for k in range(shown):
        row = [character_label(digits[k], factors)]
        for j in range(shown):
            e = sum(int(a) * int(b) * (L // f) for a, b, f in zip(digits[k], digits[j], factors))
            row.append(_root_text(e, L))
        t.add_row(*row, "")
    notes = Text(f"z_m = exp(2 pi i/m). The full {n} x {n} character table is not printed (groups of order "
                 f"> {SUMMARY_ORDER}); symflow.group('{G.name}').irrep(k), .orbits and .fourier give any part "
                 f"of it.", style="dim")
    return RGroup(Text("\n".join(head)), t, notes)


def character_table_rich(G, max_classes: int | None = None, width: int | None = None):
    """A ``rich`` renderable: header line and the exact character table (classes as columns).

    Shows as many classes as fit in ``width`` columns (default: the terminal's) unless ``max_classes``
    is given; no cell is ever wrapped, so no value or class label is broken across lines."""
    from rich.console import Group as RGroup
    from rich.table import Table
    from rich.text import Text

    classes = G.classes
    if width is None:
        width = shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    labels = [r.label for r in G.irreps]
    fixed = max(map(len, labels + ["irrep"])) + 3 + 4 + 3 * _CELL
    more = len(f"... +{len(classes)}") + _CELL   # the column that counts the classes not shown
    cells, heads, widths = [], [], []
    for c in classes:
        if max_classes is not None and len(cells) >= max_classes:
            break
        col = [_fmt(r.exact_character[c[0]]) for r in G.irreps]
        head = (str(G.labels[c[0]]), f"|{len(c)}|")
        widths.append(max(*map(len, head), *map(len, col)))
        if max_classes is None and len(cells) and _fit(fixed + more, widths, width) < len(widths):
            break
        cells.append(col)
        heads.append(head)
    k = len(cells)
    title = f"{G.name}: order {G.order}, {len(classes)} classes, {len(G.irreps)} irreps" + (
        "" if G.is_abelian is False else " (abelian)")
    t = Table(title=title, show_lines=False, header_style="bold")
    t.add_column("irrep", style="cyan", no_wrap=True)
    t.add_column("dim", justify="right", no_wrap=True)
    t.add_column("type", no_wrap=True)
    for rep, size in heads:
        t.add_column(f"{rep}\n{size}", justify="right", no_wrap=True)
    if len(classes) > k:
        t.add_column(f"... +{len(classes) - k}", no_wrap=True)
    shown = classes[:k]
    for i, r in enumerate(G.irreps):
        row = [r.label, str(r.dim), _SHORT_TYPE[r.type]] + [col[i] for col in cells]
        if len(classes) > k:
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


#: Irreps of larger dimension are not written out by ``symflow group --irreps`` (a d x d matrix of
#: exact entries is wider than any terminal); ``G.irreps[i].exact_matrices`` holds them.
IRREPS_MAX_DIM = 6


def _entry(v) -> str:
    """One exact matrix entry as a single token: ``2·√2/3``, ``-1/2+√3·I/2``, ``z5^2``, ``I``."""
    s = re.sub(r"sqrt\((\d+)\)", r"√\1", _fmt(v))
    return s.replace(" ", "").replace("*", "·")


def matrix_lines(M) -> list:
    """Rows of an exact matrix as aligned text lines ``[a  b  c]`` (entries by :func:`_entry`)."""
    rows = [[_entry(v) for v in M.row(i)] for i in range(M.rows)]
    w = [max(len(r[j]) for r in rows) for j in range(M.cols)]
    return ["[" + "  ".join(e.rjust(w[j]) for j, e in enumerate(r)) + "]" for r in rows]


def irreps_rich(G, max_elements: int = 6, width: int | None = None):
    """Exact matrices of the first few elements for every irrep (for ``symflow group --irreps``).

    One text line per matrix row, no cell ever wrapped: as many elements (up to ``max_elements``) as
    fit in ``width`` columns (default: the terminal's); irreps whose matrices are wider than that, or
    of dimension ``> IRREPS_MAX_DIM``, are named with their size and where to find them."""
    from rich.console import Group as RGroup
    from rich.table import Table
    from rich.text import Text

    if width is None:
        width = shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    k = min(max_elements, G.order)
    elems = [str(G.labels[g]) for g in range(k)]
    label_w = max(len(r.label) for r in G.irreps) + 1
    cells = {}
    for i, r in enumerate(G.irreps):
        if r.dim <= IRREPS_MAX_DIM:
            mats = r.exact_matrices
            cells[i] = ["\n".join(matrix_lines(mats[g])) for g in range(k)]
    while True:   # drop the widest irrep until one element column fits
        widths = [max([len(e)] + [len(line) for c in cells.values() for line in c[g].split("\n")])
                  for g, e in enumerate(elems)]
        shown = _fit(label_w + _CELL, widths, width, at_least=0)
        if shown or not cells:
            break
        cells.pop(max(cells, key=lambda i: max(len(line) for line in cells[i][0].split("\n"))))
    shown = max(shown, 1)
    t = Table(title=f"{G.name}: exact irreps (first {shown} of {G.order} elements)", show_lines=True)
    t.add_column("irrep", no_wrap=True)
    for e in elems[:shown]:
        t.add_column(Text(e), no_wrap=True)
    hidden = []
    for i, r in enumerate(G.irreps):
        if i in cells:
            t.add_row(Text(r.label), *[Text(c) for c in cells[i][:shown]])   # Text: "[z7 0]" is no markup
        else:
            hidden.append(f"{r.label} ({r.dim}x{r.dim})")
    notes = []
    if hidden:
        notes.append(f"not shown (wider than {width} columns): {', '.join(hidden)}; "
                     f"symflow.group('{G.name}').irreps[i].exact_matrices has them.")
    notes.append("Entries: √m = sqrt(m), I = sqrt(-1), z_m = exp(2 pi i/m); rows of each matrix in [ ].")
    return RGroup(t, Text(" ".join(notes), style="dim"))
