"""Finite groups given by a multiplication rule on indices ``0..n-1``.

A :class:`Group` stores its elements as indices into a fixed, documented order (``elements``,
the labels). Every array that symflow indexes by group elements uses this order, and
``table[i, j]`` is the index of ``elements[i] * elements[j]``.

Groups are normally obtained from :func:`symflow.group` (by name) or from
:meth:`Group.from_table` / :meth:`Group.from_permutations` (tables read and checked in
:mod:`symflow.groups.tables`). Irreducible representations are computed lazily by the family's
constructor or by the numeric construction in :mod:`symflow.groups.numeric`; ``irreps[i].id == i``
and :meth:`Group.irrep` finds one by id or label. Their orbits ``{rho, conj rho}`` are
:attr:`Group.orbits` (:mod:`symflow.groups.orbits`).

Everything numeric here (structure, irreps' matrices, orbits, Fourier transform) needs NumPy only;
SymPy is imported when exact values are asked for (character table, LaTeX, exact matrices).
"""
from __future__ import annotations

from functools import cached_property
from typing import Callable, Sequence

import numpy as np

from ..errors import SymflowError
from .display import character_table_latex, group_json, group_rich
from .fourier import fourier, inverse_fourier, real_fourier_basis
from .numeric import numeric_irreps
from .orbits import IrrepOrbit, abelian_conjugates, character_conjugates, group_orbits, resolve_orbit
from .tables import check_group_axioms, permutation_table, user_table

#: Groups larger than this do not build their full Cayley table (``n^2`` int64: 134 MB at 4096).
MAX_TABLE_ORDER = 4096


class Group:
    """A finite group on element indices ``0..n-1``.

    >>> import symflow
    >>> G = symflow.group("Q8")
    >>> G.irrep(4), G.irrep(4).id, G.irrep(4).type
    (<Irrep rho_1 of Q8: dim 2, quaternionic>, 4, 'quaternionic')
    >>> G.orbit("rho_1").doubling          # k in Omega* = (k d)^(-1/2) n^(-3/2)
    2

    Parameters
    ----------
    order : int
        ``n = |G|``.
    labels : sequence of str
        Readable element names, in symflow's element order.
    identity : int
        Index of the identity element.
    name : str
        Short name (``"F21"``, ``"Z3xZ5"``, ...).
    table : (n, n) int array, optional
        Cayley table, ``table[i, j] = index(elements[i] * elements[j])``.
    multiply : callable, optional
        Vectorised ``multiply(i, j) -> k`` on integer arrays; used instead of a stored table for
        large groups (e.g. ``Z_100000``). One of ``table`` or ``multiply`` is required.
    inverse : (n,) int array, optional
        Inverse map; computed from the table when omitted.
    irreps_factory : callable(Group) -> list[Irrep], optional
        Constructs the irreps of a named family. Defaults to the numeric construction.
    family : str, optional
        Family tag (``"cyclic"``, ``"abelian"``, ``"dihedral"``, ``"symmetric"``, ...).
    abelian_factors : tuple of int, optional
        For abelian groups in symflow's product order (mixed radix, last factor fastest):
        enables the ``numpy.fft`` path.
    validate : bool
        Check the group axioms of ``table`` (closure, identity, inverses, associativity).
    """

    def __init__(
        self,
        order: int,
        labels: Sequence[str],
        identity: int,
        name: str,
        table: np.ndarray | None = None,
        multiply: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
        inverse: np.ndarray | None = None,
        irreps_factory: Callable[["Group"], list] | None = None,
        family: str = "table",
        abelian_factors: tuple[int, ...] | None = None,
        validate: bool = False,
        info: dict | None = None,
    ):
        self.order = int(order)
        self.n = self.order
        # a lazy label sequence (large abelian groups: labels made on demand) is kept, not listed out
        self.labels = labels if getattr(labels, "lazy", False) else list(labels)
        if len(self.labels) != self.order:
            raise SymflowError(f"{len(self.labels)} labels for a group of order {self.order}")
        self.identity = int(identity)
        self.name = name
        self.family = family
        self.abelian_factors = tuple(abelian_factors) if abelian_factors else None
        self.info = dict(info or {})
        if table is None and multiply is None:
            raise SymflowError("a Group needs a Cayley table or a multiply function")
        self._table = None if table is None else np.asarray(table, dtype=np.int64)
        self._multiply = multiply
        if validate and self._table is not None:
            check_group_axioms(self._table, self.labels)
        self._inverse = None if inverse is None else np.asarray(inverse, dtype=np.int64)
        self._irreps_factory = irreps_factory

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_table(cls, table, labels=None, name="G", identity=None) -> "Group":
        """Build a group from a Cayley table ``table[i][j] = index of g_i * g_j`` (nested list or
        integer array of indices ``0..n-1``, or a table of labels together with ``labels``).

        The table must satisfy every group axiom; otherwise :class:`GroupAxiomError` names the
        axiom and the elements where it fails (:func:`~symflow.groups.tables.user_table`).
        """
        t, labels, e = user_table(table, labels=labels, identity=identity)
        return cls(order=len(labels), labels=labels, identity=e, name=name, table=t, family="table")

    @classmethod
    def from_permutations(cls, generators, name="G") -> "Group":
        """Build the group generated by permutations given as cycle text on the points ``0..n-1``
        (``"(0 1 2)(3 4)"``), array forms or SymPy ``Permutation`` objects; element order and labels as
        in :func:`~symflow.groups.tables.permutation_table`. Bad text raises :class:`GroupAxiomError`."""
        table, labels, info = permutation_table(generators)
        return cls(order=len(labels), labels=labels, identity=0, name=name, table=table,
                   family="permutation", info=info)

    # ------------------------------------------------------------------ structure
    @property
    def elements(self) -> list[str]:
        """Element labels in symflow's element order."""
        return self.labels

    def multiply(self, i, j):
        """Index (or array of indices) of ``elements[i] * elements[j]``."""
        if self._table is not None:
            return self._table[i, j]
        return self._multiply(np.asarray(i), np.asarray(j))

    @property
    def table(self) -> np.ndarray:
        """The ``(n, n)`` Cayley table of indices."""
        if self._table is None:
            if self.order > MAX_TABLE_ORDER:
                raise SymflowError(
                    f"the Cayley table of {self.name} would hold {self.order}^2 = {self.order ** 2:.2g} entries; "
                    f"it is built for groups of order <= {MAX_TABLE_ORDER} only: use Group.multiply(i, j)"
                )
            idx = np.arange(self.order)
            self._table = np.asarray(self._multiply(idx[:, None], idx[None, :]), dtype=np.int64)
        return self._table

    @property
    def inverse(self) -> np.ndarray:
        """``inverse[i]`` is the index of ``elements[i]^-1``."""
        if self._inverse is None:
            if self.abelian_factors is not None:
                digits = self.digits(np.arange(self.order))
                mods = np.array(self.abelian_factors)
                self._inverse = self.from_digits((-digits) % mods)
            else:
                rows, cols = np.nonzero(self.table == self.identity)
                inv = np.empty(self.order, dtype=np.int64)
                inv[rows] = cols
                self._inverse = inv
        return self._inverse

    def digits(self, idx):
        """Mixed-radix coordinates of abelian elements, shape ``(..., k)``."""
        if self.abelian_factors is None:
            raise SymflowError(f"{self.name} is not given as a product of cyclic groups")
        return np.stack(np.unravel_index(np.asarray(idx), self.abelian_factors), axis=-1)

    def from_digits(self, digits):
        """Inverse of :meth:`digits`."""
        digits = np.asarray(digits)
        return np.ravel_multi_index(tuple(np.moveaxis(digits, -1, 0)), self.abelian_factors)

    @cached_property
    def is_abelian(self) -> bool:
        if self.abelian_factors is not None:
            return True
        t = self.table
        return bool(np.array_equal(t, t.T))

    @cached_property
    def element_orders(self) -> np.ndarray:
        """Order of each element."""
        if self.abelian_factors is not None:
            digits = self.digits(np.arange(self.order))
            orders = np.ones(self.order, dtype=np.int64)
            for col, m in zip(digits.T, self.abelian_factors):
                orders = np.lcm(orders, m // np.gcd(col, m))
            return orders
        orders = np.ones(self.order, dtype=np.int64)
        current = np.arange(self.order)
        k = 1
        todo = current != self.identity
        while todo.any():
            current = self.table[current, np.arange(self.order)]
            k += 1
            done_now = todo & (current == self.identity)
            orders[done_now] = k
            todo &= ~done_now
        return orders

    @cached_property
    def classes(self) -> list[list[int]]:
        """Conjugacy classes as sorted lists of indices, ordered by smallest member."""
        if self.is_abelian:
            return [[i] for i in range(self.order)]
        t, inv = self.table, self.inverse
        g = np.arange(self.order)
        # conj[g, x] = g x g^-1
        conj = t[t[g[:, None], g[None, :]], inv[:, None]]
        seen = np.zeros(self.order, dtype=bool)
        classes = []
        for x in range(self.order):
            if not seen[x]:
                cls = np.unique(conj[:, x])
                seen[cls] = True
                classes.append([int(c) for c in cls])
        return classes

    @cached_property
    def class_of(self) -> np.ndarray:
        """``class_of[i]`` is the index (into :attr:`classes`) of the class of element ``i``."""
        out = np.empty(self.order, dtype=np.int64)
        for k, cls in enumerate(self.classes):
            out[cls] = k
        return out

    @cached_property
    def squares(self) -> np.ndarray:
        """Index of ``g^2`` for every element."""
        idx = np.arange(self.order)
        return np.asarray(self.multiply(idx, idx), dtype=np.int64)

    # ------------------------------------------------------------------ irreps
    @cached_property
    def irreps(self) -> list:
        """A complete list of pairwise inequivalent unitary irreps, trivial first; ``irreps[i].id == i``.

        Real-type irreps are given by real orthogonal matrices wherever the family allows it.
        """
        if self._irreps_factory is not None:
            irreps = list(self._irreps_factory(self))
        else:
            irreps = numeric_irreps(self)
        for i, r in enumerate(irreps):
            r.id = i
        return irreps

    def irrep(self, which):
        """The irrep named by ``which``: its id (int, index into :attr:`irreps`), its label (str) or
        an :class:`~symflow.groups.irrep.Irrep` of this group."""
        irreps = self.irreps
        if isinstance(which, (int, np.integer)) and not isinstance(which, bool):
            if not 0 <= which < len(irreps):
                raise SymflowError(f"{self.name} has {len(irreps)} irreps (ids 0..{len(irreps) - 1}); got id {int(which)}")
            return irreps[int(which)]
        if isinstance(which, str):
            for r in irreps:
                if r.label == which:
                    return r
            raise SymflowError(f"{self.name} has no irrep labelled {which!r}; its irreps are "
                               f"{', '.join(r.label for r in irreps)}")
        if getattr(which, "group", None) is self and which.id is not None:
            return irreps[which.id]
        raise SymflowError(f"cannot read {which!r} as an irrep of {self.name}: give its id (int) or label (str)")

    @property
    def dims(self) -> list[int]:
        return [r.dim for r in self.irreps]

    @cached_property
    def trivial_index(self) -> int:
        for i, r in enumerate(self.irreps):
            if r.is_trivial:
                return i
        raise SymflowError(f"{self.name}: no trivial irrep found")  # pragma: no cover

    @cached_property
    def conjugate_index(self) -> list[int]:
        """``conjugate_index[i]`` is the index of the irrep with character ``conj(chi_i)``."""
        if self.abelian_factors is not None:
            return [int(c) for c in abelian_conjugates(self.abelian_factors)]
        return character_conjugates([r.character for r in self.irreps])

    @cached_property
    def orbits(self) -> list:
        """Conjugate-pair orbits ``{rho, conj rho}`` as :class:`~symflow.groups.orbits.IrrepOrbit`
        records (each the sorted tuple of its irrep indices, with ``id``, ``label``, ``dim``,
        ``type``), trivial first; the one orbit identity of symflow."""
        return group_orbits(self)

    def orbit(self, which) -> IrrepOrbit:
        """The orbit named by ``which``: its id, an irrep or orbit label, a tuple of irrep indices."""
        return resolve_orbit(self, which)

    @cached_property
    def irreps_by_dim(self) -> dict[int, list[int]]:
        """Irrep indices grouped by dimension (the batching used by the Fourier transform)."""
        out: dict[int, list[int]] = {}
        for i, r in enumerate(self.irreps):
            out.setdefault(r.dim, []).append(i)
        return out

    def character_table(self, exact: bool = True):
        """Character table: rows irreps, columns conjugacy classes.

        ``exact=True`` returns a SymPy ``Matrix`` of exact values; otherwise a complex array.
        """
        reps = [c[0] for c in self.classes]
        if exact:
            import sympy as sp

            return sp.Matrix([[r.exact_character[g] for g in reps] for r in self.irreps])
        return np.array([[r.character[g] for g in reps] for r in self.irreps])

    # ------------------------------------------------------------------ Fourier
    def fourier(self, x):
        """Group Fourier transform (GC convention); see :func:`symflow.groups.fourier.fourier`."""
        return fourier(self, x)

    def inverse_fourier(self, coeffs):
        """Inverse of :meth:`fourier`."""
        return inverse_fourier(self, coeffs)

    @cached_property
    def real_fourier_basis(self):
        """Orthogonal real Fourier basis; see :func:`symflow.groups.fourier.real_fourier_basis`."""
        return real_fourier_basis(self)

    # ------------------------------------------------------------------ display
    def summary(self) -> str:
        dims = [1] * self.order if self.abelian_factors is not None else sorted(self.dims)
        dims_s = ",".join(map(str, dims)) if len(dims) <= 12 else f"{dims[:6]}...(+{len(dims)-6})"
        return (f"{self.name}: order {self.order}, {'abelian' if self.is_abelian else 'non-abelian'}, "
                f"irrep dims [{dims_s}]")

    def __repr__(self) -> str:
        kind = "abelian" if self.is_abelian else "non-abelian"
        return f"<Group {self.name}: order {self.order}, {kind}, family {self.family}>"

    def __len__(self) -> int:
        return self.order

    def __rich__(self):
        return group_rich(self)

    def _repr_latex_(self) -> str:
        return "$" + character_table_latex(self) + "$"

    def latex(self) -> str:
        return character_table_latex(self)

    def to_json(self) -> dict:
        """The public JSON contract of ``symflow group NAME --json``."""
        return group_json(self)

