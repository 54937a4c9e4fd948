"""Groups by name: ``symflow.group("F21")``.

Accepted forms (case-insensitive, spaces ignored):

========================  ==========================================================
``Z<n>``, ``C<n>``         cyclic group of order n
``Z3xZ5``, ``C2xC2xC4``    direct products of cyclic groups (joined by ``x``)
``D<n>``                   dihedral group of the n-gon, order 2n
``Q8``, ``Dic<n>``         quaternion group; dicyclic group of order 4n (``Dic2`` = ``Q8``)
``S<n>``, ``A<n>``         symmetric and alternating groups, n <= 7
``F<m>``                   Frobenius group ``C_p : C_q`` of order m = pq (p prime, q | p-1, q > 1)
``C<p>:C<q>``              the same, explicitly (e.g. ``C7:C3`` = ``F21``)
``SmallGroup(n,k)``        GAP's small group library (needs the ``gap`` extra)
``SO(2)``, ``O(2)``        compact: the circle group and its reflections (needs ``bandlimit=L``)
``SO(3)``, ``O(3)``        compact: rotations of space, and with the inversion (needs ``bandlimit=L``)
========================  ==========================================================

The compact groups (:mod:`symflow.groups.compact`) keep the irreps of band ``<= L`` (``|k| <= L``, ``l <= L``);
without a band limit they are a one-line error naming ``--bandlimit``.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

import numpy as np

from ..errors import SymflowError, UnknownGroupError
from .abelian import abelian_group
from .alternating import alternating_group
from .dicyclic import dicyclic_group, quaternion_group
from .dihedral import dihedral_group
from .frobenius import frobenius_group, frobenius_orders
from .compact.groups import COMPACT_NAMES
from .group import Group
from .integers import is_prime
from .symmetric import MAX_DEGREE, symmetric_group

EXAMPLES = ["Z7", "Z12", "C5", "Z3xZ5", "Z2xZ2xZ4", "D4", "D5", "Q8", "Dic3", "S3", "S4", "S5",
            "A4", "A5", "F21", "F20", "F55", "F57", "C7:C3", "SmallGroup(8,3)", "SO(2)", "O(2)", "SO(3)", "O(3)"]

ACCEPTED = (f"Z<n> or C<n>, products like Z3xZ5, D<n>, Q8, Dic<n>, S<n>, A<n> (n <= {MAX_DEGREE}), "
            "F<m> (Frobenius C_p:C_q of order m=pq), C<p>:C<q>, SmallGroup(n,k); compact SO(2), O(2), SO(3), O(3) "
            "with --bandlimit L")


def _unknown(name: str, why: str | None = None) -> UnknownGroupError:
    close = difflib.get_close_matches(name, EXAMPLES, n=3, cutoff=0.4)
    msg = f"unknown group {name!r}"
    if why:
        msg += f": {why}"
    if close:
        msg += f". Did you mean {', '.join(close)}?"
    else:
        msg += "."
    msg += f" Accepted forms: {ACCEPTED}."
    return UnknownGroupError(msg)


def group(name: str, bandlimit=None):
    """The :class:`~symflow.groups.group.Group` called ``name`` (see the module doc for forms), or the
    :class:`~symflow.groups.compact.CompactGroup` ``SO(2)``, ``O(2)``, ``SO(3)``, ``O(3)`` with band limit
    ``bandlimit`` (required for them, refused for finite groups).

    Groups are cached: calling twice with the same (normalised) name returns the same object.
    """
    if not isinstance(name, str):
        raise UnknownGroupError(f"a group name must be a string, got {type(name).__name__}. Accepted forms: {ACCEPTED}.")
    canonical = normalise(name)
    if is_compact_name(canonical):
        from .compact.groups import check_bandlimit

        return _compact_cached(canonical, check_bandlimit(bandlimit, canonical))
    if bandlimit is not None:
        raise SymflowError(f"--bandlimit applies to the compact groups {', '.join(COMPACT_NAMES)} only; "
                           f"{canonical} is a finite group (drop --bandlimit)")
    return _group_cached(canonical)


def is_compact_name(name: str) -> bool:
    """True when ``name`` names a compact group (``SO(3)``, ``so3``, ``O(2)``...)."""
    return normalise(name) in COMPACT_NAMES


@lru_cache(maxsize=32)
def _compact_cached(name: str, bandlimit: int):
    from .compact.groups import compact_group

    return compact_group(name, bandlimit)


def as_group(which) -> Group:
    """The :class:`~symflow.groups.group.Group` meant by ``which``: a Group as is, a name (``"F21"``,
    see :func:`group`) or a Cayley table (``n x n`` integer indices, :meth:`Group.from_table`)."""
    if isinstance(which, Group):
        return which
    if getattr(which, "is_compact", False):
        raise SymflowError(f"{which.name} is a compact group (band limit {which.bandlimit}); this needs a finite "
                           f"group: the derivations sum over the n elements, their Haar-integral version is not "
                           f"implemented. Use a finite subgroup such as Z8, D8, A4, S4 or A5")
    if isinstance(which, str):
        return group(which)
    if isinstance(which, (list, tuple, np.ndarray)):
        return Group.from_table(which)
    raise SymflowError(f"cannot use {type(which).__name__} as a group; pass a symflow Group, a name such "
                       f"as 'F21' or 'Z7', or a Cayley table (n x n integer indices)")


def normalise(name: str) -> str:
    """Canonical spelling: ``z3 x c5`` -> ``Z3xZ5``, ``q8`` -> ``Q8``, ``dic3`` -> ``Dic3``."""
    s = name.strip().replace(" ", "")
    low = s.lower()
    m = re.fullmatch(r"(so|o)\(?([23])\)?", low)
    if m:
        return f"{m.group(1).upper()}({m.group(2)})"
    m = re.fullmatch(r"smallgroup\((\d+),(\d+)\)", low)
    if m:
        return f"SmallGroup({int(m.group(1))},{int(m.group(2))})"
    if re.fullmatch(r"([zc]\d+)(x[zc]\d+)*", low) and ":" not in low:
        return "x".join("Z" + str(int(p[1:])) for p in low.split("x"))
    m = re.fullmatch(r"c(\d+):c(\d+)", low)
    if m:
        return f"C{int(m.group(1))}:C{int(m.group(2))}"
    m = re.fullmatch(r"(dic|d|q|s|a|f)(\d+)", low)
    if m:
        fam = {"dic": "Dic", "d": "D", "q": "Q", "s": "S", "a": "A", "f": "F"}[m.group(1)]
        return f"{fam}{int(m.group(2))}"
    return s


@lru_cache(maxsize=128)
def _group_cached(name: str):
    m = re.fullmatch(r"Z\d+(xZ\d+)*", name)
    if m:
        factors = [int(p[1:]) for p in name.split("x")]
        if any(f < 1 for f in factors):
            raise _unknown(name, "cyclic factors must have order >= 1")
        return abelian_group(*factors, name=name)
    m = re.fullmatch(r"D(\d+)", name)
    if m:
        n = int(m.group(1))
        if n < 1:
            raise _unknown(name, "D<n> needs n >= 1 (order 2n)")
        return dihedral_group(n)
    if name == "Q8":
        return quaternion_group()
    m = re.fullmatch(r"Q(\d+)", name)
    if m:
        raise _unknown(name, f"only Q8 is named Q<n>; the generalised quaternion group of order {m.group(1)} is Dic{int(m.group(1))//4}"
                       if int(m.group(1)) % 4 == 0 and int(m.group(1)) >= 8 else "only Q8 is named Q<n>")
    m = re.fullmatch(r"Dic(\d+)", name)
    if m:
        n = int(m.group(1))
        if n < 2:
            raise _unknown(name, "Dic<n> needs n >= 2 (order 4n; Dic2 = Q8)")
        return dicyclic_group(n)
    m = re.fullmatch(r"([SA])(\d+)", name)
    if m:
        n = int(m.group(2))
        if not 1 <= n <= MAX_DEGREE:
            raise _unknown(name, f"{m.group(1)}<n> is available for 1 <= n <= {MAX_DEGREE}")
        if m.group(1) == "S":
            return symmetric_group(n)
        return alternating_group(n)
    m = re.fullmatch(r"F(\d+)", name)
    if m:
        order = int(m.group(1))
        options = frobenius_orders(order)
        if not options:
            exist = [f"F{p*q}" for p, q in _small_frobenius(60)]
            raise _unknown(name, f"there is no Frobenius group C_p:C_q of order {order} "
                           f"(p prime, q | p-1, q > 1); small ones: {', '.join(exist)}")
        if len(options) > 1:
            alts = ", ".join(f"C{p}:C{q}" for p, q in options)
            raise _unknown(name, f"order {order} is ambiguous; name one of {alts}")
        p, q = options[0]
        return frobenius_group(p, q)
    m = re.fullmatch(r"C(\d+):C(\d+)", name)
    if m:
        p, q = int(m.group(1)), int(m.group(2))
        if not is_prime(p) or q < 2 or (p - 1) % q:
            raise _unknown(name, f"C{p}:C{q} needs p prime and q > 1 dividing p-1")
        return frobenius_group(p, q)
    m = re.fullmatch(r"SmallGroup\((\d+),(\d+)\)", name)
    if m:
        from .gap import small_group

        return small_group(int(m.group(1)), int(m.group(2)))
    raise _unknown(name)


def _small_frobenius(limit: int):
    return [(p, q) for p in range(3, limit) if is_prime(p) for q in range(2, p) if (p - 1) % q == 0 and p * q <= limit]
