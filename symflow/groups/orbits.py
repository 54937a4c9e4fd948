"""The one identity of irrep orbits: ``Group.orbits`` and the :class:`IrrepOrbit` record.

An orbit is ``O(rho) = {rho, conj rho}``: one irrep when ``rho`` is self-conjugate (real or
quaternionic type, or the trivial irrep), a pair of irreps when it is of complex type. Every part
of symflow (the group, the spectral layout, the equilibria, the rates, the study, the JSON
contracts) names an orbit by the same stable ``id``: its position in ``group.orbits``, ordered by
the smallest irrep index of the orbit, so the trivial orbit (irrep 0) is always ``id = 0``.

An :class:`IrrepOrbit` *is* the sorted tuple of its irrep indices (``orbit[0]``, ``i in orbit``,
``tuple(orbit)`` work as for a plain tuple) and carries

* ``id``: the stable index above;
* ``label``: its irreps' labels joined by ``/`` (``"chi_1/chi_6"``, ``"[2, 1]"``);
* ``frequency_label``: for abelian groups given as products of cyclic groups, the frequency form
  ``"k=1/6"`` (``"k=(1,2)/(2,1)"`` for products), else ``None``;
* ``dim``: the irreps' dimension ``d``;
* ``type``: ``"trivial"``, ``"real"``, ``"complex"`` or ``"quaternionic"`` (Frobenius-Schur
  indicator ``+1``, ``0``, ``-1``; escnn's R / C / H);
* ``size``: ``|O|`` (1 or 2) and ``doubling``: the ``k`` of ``Omega* = (k d)^(-1/2) n^(-3/2)``
  (1 for real type, 2 for complex pairs and quaternionic irreps).

For abelian groups given as products of cyclic groups the orbits are computed from the frequency
digits alone (``conj chi_k = chi_{-k}``), without building the ``n`` characters, so large groups
(``Z_100000``) have cheap orbits.
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError

#: Frobenius-Schur indicator -> irrep type.
TYPE_OF_INDICATOR = {1: "real", 0: "complex", -1: "quaternionic"}
#: Every orbit type, trivial first.
ORBIT_TYPES = ("trivial", "real", "complex", "quaternionic")


def doubling_of(type: str) -> int:
    """``k`` in ``Omega* = (k d)^(-1/2) n^(-3/2)`` for an orbit of ``type``: 1 for real (and trivial)
    type, 2 for a complex pair or a quaternionic irrep."""
    if type not in ORBIT_TYPES:
        raise ValueError(f"orbit type must be one of {ORBIT_TYPES}, got {type!r}")
    return 1 if type in ("real", "trivial") else 2


class IrrepOrbit(tuple):
    """A conjugate-pair orbit of irreps: the sorted tuple of its irrep indices, with its identity.

    >>> import symflow
    >>> o = symflow.group("Z7").orbits[1]
    >>> o, o.id, o.label, o.type, o.size, o.doubling
    ((1, 6), 1, 'chi_1/chi_6', 'complex', 2, 2)
    >>> o.frequency_label
    'k=1/6'
    """

    def __new__(cls, id: int, irreps, label: str, dim: int, type: str, frequency_label: str | None = None):
        self = super().__new__(cls, tuple(int(i) for i in irreps))
        if type not in ORBIT_TYPES:
            raise ValueError(f"orbit type must be one of {ORBIT_TYPES}, got {type!r}")
        self.__dict__.update(id=int(id), label=str(label), dim=int(dim), type=type,
                             frequency_label=frequency_label)
        return self

    def __getnewargs__(self):
        return (self.id, tuple(self), self.label, self.dim, self.type, self.frequency_label)

    def __setattr__(self, name, value):
        raise AttributeError(f"IrrepOrbit is immutable (cannot set {name!r})")

    @property
    def irreps(self) -> tuple:
        """Irrep indices (into ``group.irreps``) of the orbit, sorted."""
        return tuple(self)

    @property
    def size(self) -> int:
        """``|O|``: 1 for a self-conjugate irrep, 2 for a complex pair."""
        return len(self)

    @property
    def is_trivial(self) -> bool:
        return self.type == "trivial"

    @property
    def doubling(self) -> int:
        """``k`` in ``Omega* = (k d)^(-1/2) n^(-3/2)``: 1 real type, 2 complex pair or quaternionic."""
        return doubling_of(self.type)

    @property
    def display_label(self) -> str:
        """The label shown in population summaries: the frequency form when there is one."""
        return self.frequency_label or self.label

    def to_dict(self) -> dict:
        """JSON-able description (``id``, ``irreps``, ``label``, ``dim``, ``type``, ``size``)."""
        return {"id": self.id, "irreps": list(self), "label": self.label, "dim": self.dim,
                "type": self.type, "size": self.size}

    def __repr__(self) -> str:
        return tuple.__repr__(self)


def character_label(k_digits, factors) -> str:
    """Label of the character of frequency ``k`` (digits) of ``Z_f1 x ... x Z_fk``: ``chi_k`` or ``chi_(k1,k2)``."""
    if len(factors) == 1:
        return f"chi_{int(k_digits[0])}"
    return "chi_(" + ",".join(str(int(d)) for d in k_digits) + ")"


def abelian_conjugates(factors) -> np.ndarray:
    """``conj[k]``: the index of the frequency ``-k`` (mixed radix, last factor fastest)."""
    f = tuple(int(x) for x in factors)
    n = int(np.prod(f))
    digits = np.stack(np.unravel_index(np.arange(n), f), axis=-1)
    return np.ravel_multi_index(tuple(((-digits) % np.array(f)).T), f)


def character_conjugates(chars) -> list[int]:
    """``conj[i]``: the row of ``chars`` (characters, one row per irrep, on elements or classes)
    nearest to ``conj(chars[i])``, i.e. the index of the conjugate irrep."""
    chars = np.asarray(chars)
    return [int(np.argmin(np.abs(chars - np.conj(c)[None, :]).max(axis=1))) for c in chars]


def abelian_orbits(factors) -> list:
    """The orbits of the abelian group ``Z_f1 x ... x Z_fk`` from its frequency digits alone
    (``O(n)``: one record per orbit, no character is built)."""
    f = tuple(int(x) for x in factors)
    n = int(np.prod(f))
    conj = abelian_conjugates(f)
    ks = np.nonzero(conj >= np.arange(n))[0]
    cs = conj[ks]
    if len(f) == 1:
        text = [str(k) for k in range(n)]
        dig = None
    else:
        dig = np.stack(np.unravel_index(np.arange(n), f), axis=-1)
        text = None
    out = []
    for k, c in zip(ks.tolist(), cs.tolist()):
        members = (k,) if c == k else (k, c)
        if dig is None:
            freqs = [text[i] for i in members]
            labels = ["chi_" + t for t in freqs]
        else:
            freqs = ["(" + ",".join(map(str, dig[i].tolist())) + ")" for i in members]
            labels = ["chi_" + t for t in freqs]
        kind = "trivial" if k == 0 else ("real" if c == k else "complex")
        out.append(IrrepOrbit(len(out), members, "/".join(labels), 1, kind, "k=" + "/".join(freqs)))
    return out


def irrep_orbits(group, frequency_label=None) -> list:
    """The orbits of ``group`` from its irreps and their conjugation (any group, compact ones included);
    ``frequency_label(members)`` gives an orbit's frequency label (``None``: none)."""
    seen, out = set(), []
    for i, j in enumerate(group.conjugate_index):
        if i in seen:
            continue
        members = tuple(sorted({i, j}))
        seen.update(members)
        r = group.irreps[members[0]]
        kind = "trivial" if r.is_trivial else r.type
        label = "/".join(group.irreps[m].label for m in members)
        freq = frequency_label(members) if frequency_label is not None else None
        out.append(IrrepOrbit(len(out), members, label, r.dim, kind, freq))
    if out and not out[0].is_trivial:  # pragma: no cover - every family lists the trivial irrep first
        raise ValueError(f"{group.name}: the trivial irrep must come first")
    return out


def group_orbits(group) -> list:
    """``group.orbits``: abelian products from their frequencies, every other group from its irreps."""
    if group.abelian_factors is not None:
        return abelian_orbits(group.abelian_factors)
    return irrep_orbits(group)


def resolve_orbit(group, orbit) -> IrrepOrbit:
    """The :class:`IrrepOrbit` of ``group`` named by ``orbit``: an :class:`IrrepOrbit`, its ``id``
    (int), a tuple of irrep indices (or one member), an irrep label or an orbit label (str), or an
    object with an ``orbit_index`` (an equilibrium). Raises :class:`~symflow.errors.SymflowError`
    naming the accepted forms."""
    forms = ("an orbit id (int, index into group.orbits), a tuple of irrep indices, an irrep or orbit "
             "label (str), or an Equilibrium")
    orbits = group.orbits
    if isinstance(orbit, IrrepOrbit):
        return orbits[orbit.id]
    if hasattr(orbit, "orbit_index"):
        return orbits[int(orbit.orbit_index)]
    if isinstance(orbit, (int, np.integer)) and not isinstance(orbit, bool):
        k = int(orbit)
        if not 0 <= k < len(orbits):
            raise SymflowError(f"{group.name} has {len(orbits)} irrep orbits (0..{len(orbits) - 1}); "
                               f"got orbit index {k}. Accepted forms: {forms}")
        return orbits[k]
    if isinstance(orbit, str):
        for o in orbits:
            if orbit in (o.label, o.frequency_label):
                return o
        labels = [r.label for r in group.irreps]
        if orbit not in labels:
            raise SymflowError(f"{group.name} has no irrep labelled {orbit!r}; its irreps are "
                               f"{', '.join(labels)}. Accepted forms: {forms}")
        i = labels.index(orbit)
        return next(o for o in orbits if i in o)
    if isinstance(orbit, (tuple, list)):
        try:
            want = tuple(sorted(int(i) for i in orbit))
        except (TypeError, ValueError):
            want = None
        for o in orbits:
            if want is not None and (tuple(o) == want or (len(want) == 1 and want[0] in o)):
                return o
        raise SymflowError(f"{tuple(orbit)} is not an irrep orbit of {group.name}; its orbits are "
                           f"{[tuple(o) for o in orbits]}. Accepted forms: {forms}")
    raise SymflowError(f"cannot read {orbit!r} as an irrep orbit. Accepted forms: {forms}")
