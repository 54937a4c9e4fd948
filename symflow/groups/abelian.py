"""Finite abelian groups ``Z_n1 x ... x Z_nk`` with exact characters.

Elements are tuples ``(j_1, ..., j_k)``, ``0 <= j_i < n_i``, ordered lexicographically (mixed
radix, last factor fastest); for a single factor the element ``j`` has index ``j``. Irreps are the
characters ``chi_k(j) = exp(2 pi i sum_i k_i j_i / n_i)``, indexed by ``k`` in the same mixed-radix
order, so irrep index ``0`` is trivial and the group Fourier transform is ``numpy.fft.fftn / n``.
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError
from .group import Group
from .irrep import Irrep, exact_roots_of_unity
from .orbits import character_label


def _label(digits, factors) -> str:
    if len(factors) == 1:
        return str(int(digits[0]))
    return "(" + ",".join(str(int(d)) for d in digits) + ")"


def abelian_group(*factors: int, name: str | None = None) -> Group:
    """The product ``Z_{factors[0]} x ... x Z_{factors[-1]}``.

    ``abelian_group(7)`` is ``Z7``; ``abelian_group(3, 5)`` is ``Z3xZ5`` (cyclic of order 15 but
    with product labels and product characters).
    """
    factors = tuple(int(f) for f in factors)
    if not factors or any(f < 1 for f in factors):
        raise ValueError(f"cyclic factors must be positive integers, got {factors}")
    n = int(np.prod(factors))
    mods = np.array(factors)
    if name is None:
        name = "x".join(f"Z{f}" for f in factors)

    def multiply(i, j):
        di = np.stack(np.unravel_index(np.asarray(i), factors), axis=-1)
        dj = np.stack(np.unravel_index(np.asarray(j), factors), axis=-1)
        s = (di + dj) % mods
        return np.ravel_multi_index(tuple(np.moveaxis(s, -1, 0)), factors)

    if n <= 2000:
        labels = [_label(np.unravel_index(i, factors), factors) for i in range(n)]
    else:
        labels = _LazyLabels(factors)
    return Group(order=n, labels=labels, identity=0, name=name, multiply=multiply,
                 irreps_factory=_abelian_irreps, family="cyclic" if len(factors) == 1 else "abelian",
                 abelian_factors=factors, info={"factors": factors})


class _LazyLabels(list):
    """Labels of a large abelian group, generated on demand (Z_100000 needs no 10^5 strings)."""

    #: :class:`Group` keeps a lazy sequence as it is instead of listing it out.
    lazy = True

    def __init__(self, factors):
        super().__init__()
        self.factors = factors
        self.n = int(np.prod(factors))

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        return _label(np.unravel_index(i, self.factors), self.factors)

    def __iter__(self):
        return (self[i] for i in range(self.n))

    def index(self, label, *args) -> int:
        """Index of the element ``label`` (``"j"`` or ``"(j1,...,jk)"``), parsed instead of searched."""
        try:
            digits = [int(x) for x in str(label).strip("()").split(",")]
            if len(digits) == len(self.factors) and all(0 <= d < f for d, f in zip(digits, self.factors)) \
                    and _label(digits, self.factors) == str(label):
                return int(np.ravel_multi_index(tuple(digits), self.factors))
        except ValueError:
            pass
        raise ValueError(f"{label!r} is not in list")

    def __contains__(self, label) -> bool:
        try:
            self.index(label)
        except ValueError:
            return False
        return True


#: Largest abelian group whose ``n`` characters are built as :class:`Irrep` objects (``n^2`` values).
MAX_IRREP_ORDER = 4096


def _abelian_irreps(group: Group) -> list[Irrep]:
    factors = group.abelian_factors
    n = group.order
    if n > MAX_IRREP_ORDER:
        raise SymflowError(
            f"{group.name}: the {n} characters of an abelian group are built as irrep objects only for order "
            f"<= {MAX_IRREP_ORDER} (they hold {n}^2 = {n * n:.2g} values); use G.orbits, G.fourier / "
            "G.inverse_fourier (numpy.fft) and G.multiply, which need O(n log n)")
    digits = group.digits(np.arange(n))  # (n, k)
    mods = np.array(factors)
    L = int(np.lcm.reduce(mods))
    # phase[k, j] = sum_i k_i j_i L / n_i  (mod L): chi_k(j) = exp(2 pi i phase / L)
    scale = L // mods
    phase = ((digits * scale) @ digits.T) % L  # symmetric in (k, j)
    values = np.exp(2j * np.pi * phase / L)
    irreps = []
    for k in range(n):
        ph = phase[k]
        irreps.append(Irrep(
            group, character_label(digits[k], factors), numeric=values[k][:, None, None],
            exact=exact_roots_of_unity(ph, L),
            meta={"frequency": tuple(int(d) for d in digits[k])}))
    return irreps
