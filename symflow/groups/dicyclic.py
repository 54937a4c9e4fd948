"""Dicyclic groups ``Dic_n`` (order ``4n``, ``n >= 2``) and the quaternion group ``Q8 = Dic_2``.

Presentation ``<a, x | a^(2n) = 1, x^2 = a^n, x a x^-1 = a^-1>``. Every element is ``a^k x^e``
(``0 <= k < 2n``, ``e in {0, 1}``) with product
``a^k x^e . a^m x^f = a^(k + (-1)^e m + n e f) x^(e + f mod 2)``.

Element order of :func:`dicyclic_group`: index ``k + 2n e`` (the powers of ``a`` first), labels
``"e", "a", "a^2", ..., "x", "a x", "a^2 x", ...``. :func:`quaternion_group` uses ``a = i``,
``x = j`` (``a^n = -1``, ``a x = k``) and the order ``1, -1, i, -i, j, -j, k, -k``.

Irreps (all exact):

* four 1-dim ones, ``a -> alpha``, ``x -> beta`` with ``alpha = +-1`` and ``beta^2 = alpha^n``:
  for even ``n`` ``beta = +-1`` (all real); for odd ``n`` the two with ``alpha = -1`` have
  ``beta = +-i`` (a complex conjugate pair).
* for ``j = 1..n-1`` a 2-dim ``rho_j``. Odd ``j`` (quaternionic, indicator ``-1``):
  ``a -> diag(w^j, w^-j)``, ``x -> [[0, -1], [1, 0]]`` with ``w = exp(i pi / n)``. Even ``j`` (real
  type): the real orthogonal conjugate ``a -> rotation by pi j / n``, ``x -> diag(1, -1)`` (the
  complex form ``diag(w^j, w^-j)``, ``[[0, 1], [1, 0]]`` is equivalent to it).
"""
from __future__ import annotations

import numpy as np

from .dihedral import exact_rotation_reflection, rotation_reflection
from .group import Group
from .irrep import Irrep, exact_roots_of_unity


def _dicyclic(n: int, elements: list[tuple[int, int]], labels: list[str], name: str) -> Group:
    index = {el: i for i, el in enumerate(elements)}
    N = len(elements)
    k = np.array([el[0] for el in elements])
    e = np.array([el[1] for el in elements])
    kk = (k[:, None] + np.where(e[:, None] == 1, -1, 1) * k[None, :] + n * e[:, None] * e[None, :]) % (2 * n)
    ee = (e[:, None] + e[None, :]) % 2
    lookup = np.zeros((2 * n, 2), dtype=np.int64)
    for (a, b), i in index.items():
        lookup[a, b] = i
    table = lookup[kk, ee]
    return Group(order=N, labels=labels, identity=index[(0, 0)], name=name, table=table,
                 irreps_factory=_dicyclic_irreps, family="dicyclic",
                 info={"n": n, "elements": elements})


def dicyclic_group(n: int) -> Group:
    """``Dic_n`` of order ``4n`` (``n >= 2``), named ``"Dic<n>"``; element order ``a^k x^e`` at
    index ``k + 2n e``."""
    n = int(n)
    if n < 2:
        raise ValueError(f"Dic_n needs n >= 2, got n = {n}")

    def lab(k, e):
        rot = "" if k == 0 else ("a" if k == 1 else f"a^{k}")
        if e == 0:
            return rot or "e"
        return f"{rot} x" if rot else "x"

    elements = [(k, e) for e in (0, 1) for k in range(2 * n)]
    return _dicyclic(n, elements, [lab(k, e) for k, e in elements], f"Dic{n}")


def quaternion_group() -> Group:
    """``Q8 = Dic_2`` with elements ``1, -1, i, -i, j, -j, k, -k`` (in this order)."""
    elements = [(0, 0), (2, 0), (1, 0), (3, 0), (0, 1), (2, 1), (1, 1), (3, 1)]
    labels = ["1", "-1", "i", "-i", "j", "-j", "k", "-k"]
    return _dicyclic(2, elements, labels, "Q8")


def _dicyclic_irreps(group: Group) -> list[Irrep]:
    n = group.info["n"]
    els = group.info["elements"]
    k = np.array([el[0] for el in els])
    e = np.array([el[1] for el in els])
    out = []
    # 1-dim: (alpha, beta) with beta as an exponent of i (beta = i^b)
    if n % 2 == 0:
        ones = [("trivial", 0, 0), ("chi_x-", 0, 2), ("chi_a-", 1, 0), ("chi_a-x-", 1, 2)]
    else:
        ones = [("trivial", 0, 0), ("chi_x-", 0, 2), ("chi_a-x+i", 1, 1), ("chi_a-x-i", 1, 3)]
    for label, alpha, beta in ones:
        expo = (2 * alpha * k + beta * e) % 4  # value i^expo
        vals = 1j ** expo
        out.append(Irrep(group, label, numeric=vals[:, None, None].astype(complex),
                         exact=exact_roots_of_unity(expo, 4)))
    m = 2 * n
    for j in range(1, n):
        if j % 2:  # quaternionic: a -> diag(w^j, w^-j), x -> [[0, -1], [1, 0]]
            w = np.exp(1j * np.pi * j * k / n)
            X = np.array([[0, -1], [1, 0]], dtype=complex)
            mats = np.zeros((len(els), 2, 2), dtype=complex)
            mats[:, 0, 0], mats[:, 1, 1] = w, w.conj()
            mats[e == 1] = mats[e == 1] @ X

            def exact(j=j):
                import sympy as sp

                from .recognise import root_of_unity

                Xs = sp.Matrix([[0, -1], [1, 0]])
                res = []
                for kk, ee in zip(k, e):
                    A = sp.diag(root_of_unity(j * int(kk), m), root_of_unity(-j * int(kk), m))
                    res.append(A * Xs if ee else A)
                return res
        else:  # real type: a -> rotation by pi j / n, x -> diag(1, -1)
            mats = rotation_reflection(np.pi * j * k / n, e)

            def exact(j=j):
                return exact_rotation_reflection(j * k, n, e)

        out.append(Irrep(group, f"rho_{j}", numeric=mats, exact=exact, meta={"j": j}))
    return out
