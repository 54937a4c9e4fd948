"""Large abelian groups: spectra from the orbit records alone (no irreps, no points).

Products of cyclic groups of order ``> ABELIAN_RECORD_ORDER`` take every spectrum from the closed
form of the orbit's type at the group's ``n`` (:class:`OrbitRecordEquilibrium`), so ``Z_p`` and
products work up to ``n = 10^6``; see :mod:`symflow.theory.rates`.
"""
from __future__ import annotations

import sympy as sp

from ...errors import SymflowError
from ..model import Model
from .derivation import _closed_form
from .numeric import NUMERIC_MAX_ORDER
from .results import Mode, Spectrum, _derived_modes

#: Abelian groups (products of cyclic groups) of larger order take their spectra from the orbit
#: records alone: an orbit's spectrum depends only on its type, so it is :func:`orbit_closed_form`
#: at the group's ``n``. No irrep is built and no equilibrium point is constructed and checked on
#: the Cayley table (``O(n^2)`` per orbit, ``O(n^3)`` in all); see :class:`OrbitRecordEquilibrium`.
ABELIAN_RECORD_ORDER = 1024


class OrbitRecordEquilibrium:
    """The equilibrium of one orbit of a large abelian group, known from the orbit record alone.

    It carries what a :class:`Spectrum` reports of an :class:`Equilibrium` (``model``, ``group``,
    ``orbit``, ``orbit_index``, ``irreps`` labels, ``dim``, ``orbit_size``, ``type``, exact
    ``omega_star``: the closed form's ``Omega*(n)``) but not the point: groups of order
    ``> ABELIAN_RECORD_ORDER`` build no irreps (``Equilibrium(model, orbit)`` gives the point and
    its Cayley-table check for smaller groups).
    """

    def __init__(self, model: Model, orbit, omega_star: sp.Expr | None = None):
        G = model.group
        self.model, self.group = model, G
        self.orbit = G.orbit(orbit)
        self.orbit_index = self.orbit.id
        if self.orbit.is_trivial:
            raise SymflowError(f"the trivial irrep of {G.name} carries no energy, so it has no equilibrium with "
                               f"Omega* > 0; choose a non-trivial orbit")
        self.irreps = self.orbit.label.split("/")
        self.dim, self.orbit_size, self.type = self.orbit.dim, self.orbit.size, self.orbit.type
        if omega_star is None:  # (the orbit spectra pass the value of the orbit's type, derived once)
            cf = _closed_form(model, self.dim, self.type)
            omega_star = sp.radsimp(cf.omega_star.subs(cf.n, G.order))
        self.omega_star = omega_star

    @property
    def omega_star_float(self) -> float:
        return float(self.omega_star)

    def __repr__(self) -> str:
        return (f"<OrbitRecordEquilibrium {self.group.name} orbit {{{', '.join(self.irreps)}}}: d={self.dim}, "
                f"|O|={self.orbit_size}, {self.type}, Omega* = {self.omega_star} ~ {self.omega_star_float:.7g}>")


def _from_records(G, verify) -> bool:
    """True when ``G``'s spectra come from orbit records (large abelian products, no brute-force check).
    A brute-force check asked for above ``NUMERIC_MAX_ORDER`` is a one-line error (its limit and why)."""
    if verify and G.order > NUMERIC_MAX_ORDER:
        raise SymflowError(f"{G.name}: the brute-force check of the rates builds the dense {3 * G.order}x{3 * G.order} "
                           f"Cayley-table Hessian, limited to order <= {NUMERIC_MAX_ORDER} (got {G.order}); "
                           f"use verify=False (symflow rates --no-verify) for the derived spectrum")
    return G.abelian_factors is not None and G.order > ABELIAN_RECORD_ORDER and not verify


def _record_spectra(model) -> list:
    """:func:`orbit_spectra` of a large abelian group from its orbit records: one derivation per
    orbit type (every orbit of a type has the same ``Omega*`` and rates), no irreps built."""
    G = model.group
    per_type: dict = {}
    out = []
    for orb in G.orbits:
        if orb.is_trivial:
            continue
        if orb.type not in per_type:
            eq = OrbitRecordEquilibrium(model, orb)
            derived = _closed_form(model, eq.dim, eq.type).at(G.order)
            per_type[orb.type] = ("saddle" if any(u > 0 for u, _, _ in derived) else "stable",
                                  _derived_modes(eq, derived), eq.omega_star)
        classification, modes, om = per_type[orb.type]
        eq = OrbitRecordEquilibrium(model, orb, omega_star=om)
        out.append(Spectrum(eq, [Mode(m.rate, m.multiplicity, m.mode, m.exact, m.units) for m in modes],
                            classification, False))
    return out
