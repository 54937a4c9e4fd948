"""``symflow groups``: the named group families and the grammar of group names.

The one place the command line describes group names: the top-level ``--help`` shows
:func:`grammar_text` and ``symflow groups`` prints :func:`families_text`.
"""
from __future__ import annotations

#: ``(form, meaning, examples)`` for every named family (see symflow/groups/names.py).
FAMILIES = [
    ("Z<n>, C<n>", "cyclic group of order n", "Z7, C5, Z12"),
    ("Z<a>xZ<b>x...", "direct product of cyclic groups (joined by x)", "Z3xZ5, Z2xZ2xZ4"),
    ("D<n>", "dihedral group of the n-gon, order 2n", "D4, D5"),
    ("Q8", "quaternion group, order 8", "Q8"),
    ("Dic<n>", "dicyclic group, order 4n (Dic2 = Q8)", "Dic3"),
    ("S<n>", "symmetric group, order n!, n <= {max_degree}", "S3, S4, S5"),
    ("A<n>", "alternating group, order n!/2, n <= {max_degree}", "A4, A5"),
    ("F<m>", "Frobenius group C_p:C_q of order m = pq (p prime, q > 1 divides p-1)", "F20, F21, F55"),
    ("C<p>:C<q>", "the same Frobenius group, named by p and q", "C7:C3 (= F21)"),
    ("SmallGroup(n,k)", "GAP's small group library (needs the gap extra)", "SmallGroup(8,3)"),
    ("SO(2), O(2)", "compact: circle group, with reflections; needs --bandlimit L (|k| <= L)", "SO(2) --bandlimit 4"),
    ("SO(3), O(3)", "compact: rotations of space, with inversion; needs --bandlimit L (l <= L)", "SO(3) --bandlimit 4"),
]


def _max_degree() -> int:
    from ..groups.symmetric import MAX_DEGREE

    return MAX_DEGREE


def families_text() -> str:
    """A plain-text table of :data:`FAMILIES` (no markup; fits 100 columns)."""
    md = _max_degree()
    rows = [(form, meaning.format(max_degree=md), ex) for form, meaning, ex in FAMILIES]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{'name':<{w0}}  {'group':<{w1}}  examples", f"{'-' * w0}  {'-' * w1}  --------"]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    lines += ["", "Names are case-insensitive and spaces are ignored (z3 x c5 = Z3xZ5). Any other group:",
              "Group.from_table(table) or Group.from_permutations([...]) in Python."]
    return "\n".join(lines)


def grammar_text() -> str:
    """The group-name grammar in a few lines, for the top-level ``--help``."""
    md = _max_degree()
    return ("group names (NAME, case-insensitive):\n"
            "  Z<n> or C<n> (cyclic), products Z3xZ5, D<n> (dihedral, order 2n), Q8, Dic<n> (order 4n),\n"
            f"  S<n> and A<n> (n <= {md}), F<m> or C<p>:C<q> (Frobenius, order pq), SmallGroup(n,k) (gap extra),\n"
            "  compact SO(2), O(2), SO(3), O(3) with --bandlimit L.\n"
            "  'symflow groups' lists them with examples.")


def register(sub):
    p = sub.add_parser("groups", help="list the named group families and the name grammar",
                       description="List the group families symflow knows by name, with examples.")
    from . import options

    options.runs(p, run)


def run(args) -> int:
    print(families_text())
    return 0
