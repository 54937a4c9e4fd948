r"""Li2's local maxima: per irrep orbit the exact energy, the maximisers' structure, flat directions,
the tangent spectrum and basins from seeded random starts.

Prediction (full table, ``sigma = z^2``; derived in docs/theory.md section 11 from the Fourier form
``E = (2/n) sum_{rho != 1} d_rho ||U V||_F^2`` and Plancherel ``|u|^2 = (1/n) sum_rho d_rho ||U(rho)||_F^2``):
a node supported on one orbit has ``E <= (2 n / (k d)) |u|^2 |v|^2 / s <= n / (2 k d)`` with ``k = 1`` for a
real irrep, ``k = 2`` for a complex pair (the two conjugate blocks share ``|u|^2``) and for a quaternionic
irrep (its blocks have doubly degenerate singular values, so ``||U||_op^2 <= ||U||_F^2 / 2``); equality at
``|u| = |v| = 1/sqrt 2``, rank-one (real, complex) or rank-two (quaternionic) blocks with ``U V``
aligned. So ``E* = n / (2 d)`` (real), ``n / (4 d)`` (complex pair, quaternionic).

Search: the landscape engine on Li2's model (:func:`symflow.landscape.landscape` on
:func:`~symflow.li2.core.li2_model` with ``search="ascent"``, ``analysis="spectrum"``): seeded Gaussian starts
on the sphere, projected gradient ascent of ``E_S`` and Newton to rounding level (ReLU: the ascent stalls at
kink maxima), kinds by orbit support, rank and energy, per kind the tangent spectrum of the representative
(its zero modes: the flat dimension; stable: no growing mode) and the basin with its Wilson 95 % interval.
Li2 keeps its own: the predicted energies, the row's orbit (the dominant one when it has ``SUPPORT_SHARE`` of
``|u|^2 + |v|^2``, else "mixed"), the maximisers' structure, the JSON rows.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..groups.fourier import representation_sum
from ..neuron.points import stack
from ..statistics import wilson_interval
from ..validation import integer
from .core import check_activation, li2_model, training_fraction, training_mask
from .derive import orbit_shares

#: A row's orbit: the dominant one when it has this share of ``|u|^2 + |v|^2`` (else "mixed").
SUPPORT_SHARE = 0.99


def predicted_energy(group, orbit) -> tuple:
    """``(value, text)``: the full-table maximum ``n/(2d)`` (real) or ``n/(4d)`` (complex pair,
    quaternionic) of an orbit (``sigma = z^2``)."""
    from fractions import Fraction

    n, d = group.order, orbit.dim
    k = 1 if orbit.type == "real" else 2
    f = Fraction(n, 2 * k * d)
    return float(f), str(f)


@dataclass
class Maximum:
    """One kind of local maximum (a row of ``symflow li2``)."""

    orbit: object               # IrrepOrbit or None (mixed support)
    energy: float
    energy_exact: str | None
    predicted: float | None
    flat_dimension: int
    stable: bool
    spectrum: list              # sorted tangent eigenvalues (the engine's representative; radial direction excluded)
    count: int
    starts: int
    share: float                # support share of the dominant orbit
    split: float                # |u|^2 / (|u|^2 + |v|^2)
    rank: int
    alignment: float            # ||U V||_F / (||U||_F ||V||_F) on the dominant irrep
    representative: np.ndarray = field(repr=False, default=None)

    @property
    def basin(self) -> dict:
        lo, hi = wilson_interval(self.count, self.starts)
        return {"count": self.count, "fraction": self.count / self.starts if self.starts else 0.0, "ci95": [lo, hi]}

    def to_json(self, group) -> dict:
        o = self.orbit
        return {"orbit": [group.irreps[i].label for i in o] if o is not None else ["mixed"],
                "dim": o.dim if o is not None else None, "type": o.type if o is not None else "mixed",
                "energy": self.energy, "energy_exact": self.energy_exact, "predicted": self.predicted,
                "flat_dimension": self.flat_dimension, "stable": self.stable, "basin": self.basin,
                "structure": {"support_share": self.share, "split_u": self.split, "rank": self.rank,
                              "alignment": self.alignment},
                "spectrum": [float(s) for s in self.spectrum]}


def _structure(group, x, orbit):
    n = group.order
    u, v = x[:n], x[n:]
    split = float(u @ u / max(x @ x, 1e-300))
    if orbit is None or orbit.is_trivial:
        return split, 0, 0.0
    rho = group.irreps[orbit[0]]
    U, V = representation_sum(u, rho.matrices), representation_sum(v, rho.matrices)
    s = np.linalg.svd(U, compute_uv=False)
    rank = int(np.sum(s > 1e-6 * max(s[0], 1e-300)))
    align = float(np.linalg.norm(U @ V) / max(np.linalg.norm(U) * np.linalg.norm(V), 1e-300))
    return split, rank, align


def maxima(group, fraction: float = 1.0, activation: str = "x^2", starts: int = 128, seed: int = 0,
           mask=None, force: bool | None = None) -> dict:
    """Li2's local maxima from the landscape engine (module doc). Returns ``{"model", "activation",
    "maxima": [Maximum], "unconverged", "wall_time", "starts", "seed", "landscape"}``. A search whose memory
    estimate (:func:`symflow.landscape.engine.memory_estimate`) exceeds the machine's memory raises
    :class:`~symflow.errors.ResourceError` before computing, unless ``force`` (``None``: the CLI's ``--force``)."""
    from ..landscape import landscape

    t0 = time.perf_counter()
    starts = integer(starts, "starts", minimum=1)
    seed = integer(seed, "seed", minimum=0)
    activation = check_activation(activation)
    if mask is None:
        mask = training_mask(group, fraction, seed)
    model = li2_model(group, mask, activation)
    L = landscape(model, starts=starts, seed=seed, search="ascent", analysis="spectrum", force=force)
    n = group.order
    full = model.mask is None and activation == "x^2"
    out = []
    for a in L.attractors:
        xb = stack(model, a.representative)
        shares = orbit_shares(group, xb[None, :])[0]
        j = int(np.argmax(shares))
        orbit = group.orbits[j] if shares[j] >= SUPPORT_SHARE else None
        pred = predicted_energy(group, orbit) if (full and orbit is not None and not orbit.is_trivial) else None
        exact = pred[1] if pred and abs(pred[0] - a.energy) <= 1e-7 * pred[0] else None
        split, rank, align = _structure(group, xb, orbit)
        out.append(Maximum(orbit, a.energy, exact, pred[0] if pred else None, a.zero_modes, a.stable,
                           list(a.eigenvalues), a.count, starts, float(shares[j]), split, rank, align, xb))
    return {"model": model, "activation": activation, "maxima": out, "unconverged": L.unconverged,
            "wall_time": time.perf_counter() - t0, "starts": starts, "seed": seed, "landscape": L,
            "order": n}


def maxima_json(result) -> dict:
    """The public contract of ``symflow li2 --json``."""
    from .._version import __version__

    model = result["model"]
    G = model.group
    return {"group": G.name, "order": G.order, "activation": result["activation"], "fraction": training_fraction(model),
            "starts": result["starts"], "seed": result["seed"], "unconverged": result["unconverged"],
            "wall_time": result["wall_time"], "version": __version__,
            "maxima": [m.to_json(G) for m in result["maxima"]]}
