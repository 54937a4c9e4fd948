"""Kinds of critical points: invariants that do not depend on the basis, and grouping by them.

For a converged neuron ``x`` (stacked vectors, :mod:`.search`):

* **orbit support**: the irrep orbits ``O`` on which some vector has a share ``|P_O nu|^2 / |nu|^2 >
  SUPPORT_TOL`` (``P_O`` the projection on the real isotypic component of ``O``:
  :func:`symflow.groups.fourier.orbit_shares`; the trivial orbit included);
* **energy** ``E(x)`` (brute force);
* **singular values** of each vector's Fourier block ``nu_hat(rho) = n^-1 sum_g nu(g) rho(g)^*`` on each
  supported orbit, scaled by ``sqrt(|O| d n)`` (Plancherel: a unit vector on one orbit has
  ``sum s_i^2 = 1``; a rank-one block has ``s = (1, 0, ...)``). These are invariant under the
  symmetries ``nu_hat -> U nu_hat V^*``; the **rank** is the largest number of singular values above
  ``SINGULAR_VALUE_TOL`` times the block's largest.

Two converged neurons are of one kind when support, rank and energy (to ``ENERGY_RTOL`` of the energy
scale) agree. A kind is a connected set of critical points only up to these invariants: it may hold
several symmetry orbits or a family (see :mod:`.analysis`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..groups.fourier import fourier_block, orbit_shares as orbit_shares_of_signals
from ..groups.compact.signals import mass
from ..neuron.points import split

#: An orbit supports a neuron when some vector has more than this share of its squared norm there.
SUPPORT_TOL = 1e-8
#: Singular values above this fraction of the block's largest count towards the rank.
SINGULAR_VALUE_TOL = 1e-6
#: Energies closer than this (relative to the energy scale) are one level.
ENERGY_RTOL = 1e-7
#: The same two tolerances at a kink, where the ascent stalled (ReLU's maxima: the gradient does not vanish,
#: the point is known to about the stalled step): an orbit with more than 1 % of a vector's norm supports it,
#: energies within 1e-3 of the scale are one level.
KINK_SUPPORT_TOL = 1e-2
KINK_ENERGY_RTOL = 1e-3


def orbit_shares(model, x) -> np.ndarray:
    """``(M, V, #orbits)``: share of each vector's squared norm on each orbit (rows of ``x``)."""
    vec = split(model, np.atleast_2d(x))
    return np.stack([orbit_shares_of_signals(model.group, vec[name]) for name in model.vector_names], axis=1)


def singular_values(model, x, orbit) -> dict:
    """``{vector: scaled singular values}`` of the Fourier blocks on ``orbit`` (module docstring) at one point."""
    G = model.group
    n = mass(G)          # 1 on a compact group (Haar probability)
    d = G.irreps[orbit[0]].dim
    vec = split(model, np.asarray(x, float))
    out = {}
    for name in model.vector_names:
        block = fourier_block(G, vec[name], orbit[0])
        out[name] = np.linalg.svd(block, compute_uv=False) * np.sqrt(orbit.size * d * n)
    return out


def rank_of(svals: dict) -> int:
    """The largest number of singular values above ``SINGULAR_VALUE_TOL`` times the block's largest."""
    return max((int((s > SINGULAR_VALUE_TOL * s[0]).sum()) if s[0] > 0 else 0) for s in svals.values())


@dataclass(frozen=True)
class KindKey:
    """``support``: orbit ids; ``rank``; ``level``: the energy rounded to ``ENERGY_RTOL * scale``."""

    support: tuple
    rank: int
    level: int


def kind_keys(model, x, energies, scale: float, kinks=None) -> list:
    """The :class:`KindKey` of every row of ``x``; rows flagged in ``kinks`` (stalled at a kink) with the
    ``KINK_`` tolerances (their level is the energy rounded to ``KINK_ENERGY_RTOL * scale``, in units of
    ``ENERGY_RTOL * scale``)."""
    G = model.group
    shares = orbit_shares(model, x).max(axis=1)      # (M, #orbits): largest over vectors
    keys = []
    for m in range(len(x)):
        kink = kinks is not None and bool(kinks[m])
        support = tuple(int(k) for k in np.nonzero(shares[m] > (KINK_SUPPORT_TOL if kink else SUPPORT_TOL))[0])
        rank = 0
        for k in support:
            if not G.orbits[k].is_trivial:
                rank = max(rank, rank_of(singular_values(model, x[m], G.orbits[k])))
        keys.append(KindKey(support, rank, energy_level(energies[m], scale, kink)))
    return keys


def energy_level(energy: float, scale: float, kink: bool = False) -> int:
    """The ``level`` of a :class:`KindKey`: ``round(E / (ENERGY_RTOL * scale))``; at a kink
    ``r * round(E / (KINK_ENERGY_RTOL * scale))`` with ``r = KINK_ENERGY_RTOL / ENERGY_RTOL``."""
    if kink:
        ratio = int(round(KINK_ENERGY_RTOL / ENERGY_RTOL))
        return ratio * int(np.round(energy / (KINK_ENERGY_RTOL * scale)))
    return int(np.round(energy / (ENERGY_RTOL * scale)))
