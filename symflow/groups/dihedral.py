"""Dihedral groups ``D_n`` (symmetries of the regular n-gon, order ``2n``), exact irreps.

Elements ``r^k s^e`` (``0 <= k < n``, ``e in {0, 1}``) have index ``k + n e``: the rotations first,
then the reflections. Multiplication: ``r^a s^e . r^b s^f = r^(a + (-1)^e b) s^(e + f)``.

Irreps: the trivial one; ``sign`` (``r -> 1``, ``s -> -1``); for even ``n`` also ``r -> -1`` with
``s -> +-1``; and for ``j = 1..ceil(n/2) - 1`` the real orthogonal 2-dim blocks
``rho_j(r^k) = [[cos 2 pi jk/n, -sin 2 pi jk/n], [sin, cos]]``, ``rho_j(s) = diag(1, -1)``.
All are of real type.
"""
from __future__ import annotations

import numpy as np

from .group import Group
from .irrep import Irrep, exact_roots_of_unity


def dihedral_group(n: int) -> Group:
    """``D_n`` of order ``2n`` (``n >= 1``; ``D_1 = Z_2``, ``D_2 = Z_2 x Z_2`` as dihedral)."""
    n = int(n)
    if n < 1:
        raise ValueError("D_n needs n >= 1")
    order = 2 * n
    idx = np.arange(order)
    k, e = idx % n, idx // n
    sgn = np.where(e == 1, -1, 1)
    table = ((k[:, None] + sgn[:, None] * k[None, :]) % n) + n * ((e[:, None] + e[None, :]) % 2)

    def lab(kk, ee):
        rot = "" if kk == 0 else ("r" if kk == 1 else f"r^{kk}")
        if ee == 0:
            return rot or "e"
        return (rot + " s").strip() if rot else "s"

    labels = [lab(int(a), int(b)) for a, b in zip(k, e)]
    return Group(order=order, labels=labels, identity=0, name=f"D{n}", table=table,
                 irreps_factory=_dihedral_irreps, family="dihedral", info={"n": n})


def _dihedral_irreps(group: Group) -> list[Irrep]:
    n = group.info["n"]
    order = group.order
    idx = np.arange(order)
    k, e = idx % n, idx // n
    reps = []

    def one_dim(label, vals_r, vals_s):
        vals = np.asarray(vals_r, dtype=float) ** k * np.asarray(vals_s, dtype=float) ** e
        return Irrep(group, label, numeric=vals[:, None, None].astype(complex),
                     exact=exact_roots_of_unity((vals < 0).astype(int), 2))

    reps.append(one_dim("trivial", 1, 1))
    reps.append(one_dim("sign", 1, -1))
    if n % 2 == 0:
        reps.append(one_dim("alt+", -1, 1))
        reps.append(one_dim("alt-", -1, -1))
    for j in range(1, (n + 1) // 2):
        # rho(r^k s^e) = R(2 pi jk / n) diag(1, (-1)^e)
        reps.append(Irrep(group, f"rho_{j}", numeric=rotation_reflection(2 * np.pi * j * k / n, e),
                          exact=lambda j=j: exact_rotation_reflection(2 * j * k, n, e),
                          meta={"frequency": j}))
    return reps


def rotation_reflection(ang: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``R(ang) diag(1, (-1)^e)`` per element (``R`` the rotation matrix), shape ``(n, 2, 2)``
    complex: the real orthogonal 2-dim irreps of ``D_n`` and the real-type ones of ``Dic_n``."""
    c, s = np.cos(ang), np.sin(ang)
    S = np.where(e == 1, -1.0, 1.0)
    return np.stack([np.stack([c, -s * S], -1), np.stack([s, c * S], -1)], -2).astype(complex)


def exact_rotation_reflection(a: np.ndarray, m: int, e: np.ndarray) -> list:
    """Exact ``R(pi a / m) diag(1, (-1)^e)`` per element, the SymPy form of :func:`rotation_reflection`."""
    import sympy as sp

    out = []
    for aa, ee in zip(a, e):
        ang = sp.Rational(int(aa), m) * sp.pi
        R = sp.Matrix([[sp.cos(ang), -sp.sin(ang)], [sp.sin(ang), sp.cos(ang)]])
        out.append(R * sp.diag(1, -1) if ee else R)
    return out
