"""The atlas's groups: GAP's SmallGroups library, or names symflow knows, each with its SmallGroup id.

* :func:`small_group_ids` ``(max_order)``: every ``(n, k)`` with ``2 <= n <= max_order`` and
  ``1 <= k <= NumberSmallGroups(n)`` (the trivial group is skipped: a neuron on it has no
  non-trivial irrep to learn);
* :func:`id_group` ``(G)``: GAP's ``IdGroup`` of a symflow group (its regular permutation group),
  so ``F21 -> (21, 1)``, ``A4 -> (12, 3)``;
* :func:`group_row`: the ``groups`` table row of a group (GAP's ``StructureDescription``).
"""
from __future__ import annotations

from ..errors import SymflowError
from ..groups.gap import _generating_set, _libgap


def number_small_groups(n: int) -> int:
    return int(_libgap().NumberSmallGroups(int(n)))


def small_group_ids(max_order: int) -> list:
    """``[(n, k)]`` for every group of order ``2..max_order`` in GAP's library, by order then id."""
    return [(n, k) for n in range(2, int(max_order) + 1) for k in range(1, number_small_groups(n) + 1)]


def id_group(G) -> tuple:
    """GAP's ``IdGroup`` of ``G`` as ``(order, k)``."""
    if "gap_id" in (G.info or {}):
        return tuple(int(v) for v in G.info["gap_id"])
    libgap = _libgap()
    if G.order == 1:
        return (1, 1)
    T = G.table
    perms = [libgap.PermList([int(v) + 1 for v in T[:, g]]) for g in _generating_set(G)]
    ident = libgap.IdGroup(libgap.Group(perms))
    return int(ident[0]), int(ident[1])


def structure(n: int, k: int) -> str:
    """GAP's ``StructureDescription(SmallGroup(n, k))``."""
    libgap = _libgap()
    return str(libgap.StructureDescription(libgap.SmallGroup(int(n), int(k))))


def resolve(names) -> list:
    """``[(order, gap_id, name)]`` for group names symflow knows (each once, by SmallGroup id)."""
    from ..groups import group

    out, seen = [], {}
    for name in names:
        G = group(name)
        n, k = id_group(G)
        if n == 1:
            raise SymflowError(f"{name}: the trivial group has no non-trivial irrep; the atlas skips it")
        if (n, k) in seen:
            raise SymflowError(f"{name} and {seen[n, k]} are the same group SmallGroup({n},{k}); give it once")
        seen[n, k] = name
        out.append((n, k, name))
    return out


def group_row(G, n: int, k: int, name: str) -> dict:
    """The ``groups`` row: order, gap_id, name, structure, abelian, n_classes, irrep_dims."""
    return {"order": int(n), "gap_id": int(k), "name": name, "structure": structure(n, k),
            "abelian": bool(G.is_abelian), "n_classes": len(G.classes), "irrep_dims": [int(d) for d in G.dims]}
