r"""Li2's local maxima: per irrep orbit the exact energy, the maximisers' structure, flat directions,
the tangent spectrum and basins from seeded random starts.

Prediction (full table, ``sigma = z^2``; derived in docs/theory.md section 11 from the Fourier form
``E = (2/n) sum_{rho != 1} d_rho ||U V||_F^2`` and Plancherel ``|u|^2 = (1/n) sum_rho d_rho ||U(rho)||_F^2``):
a node supported on one orbit has ``E <= (2 n / (k d)) |u|^2 |v|^2 / s <= n / (2 k d)`` with ``k = 1`` for a
real irrep, ``k = 2`` for a complex pair (the two conjugate blocks share ``|u|^2``) and for a quaternionic
irrep (its blocks have doubly degenerate singular values, so ``||U||_op^2 <= ||U||_F^2 / 2``); equality at
``|u| = |v| = 1/sqrt 2``, rank-one (real, complex) or rank-two (quaternionic) blocks with ``U V``
aligned. So ``E* = n / (2 d)`` (real), ``n / (4 d)`` (complex pair, quaternionic).

Search: seeded Gaussian starts, projected gradient ascent on the sphere (:meth:`Li2Problem.ascend`), kinds
by dominant orbit (share >= 0.99, else "mixed") and energy; per kind the tangent Hessian
``P (nabla^2 E - <x, nabla E> I) P`` by central differences of the gradient at the best member: its
eigenvalues (the tangent spectrum), zero modes within ``FLAT_TOL`` of the energy scale (the flat
dimension) and stability (no positive mode). Basins with Wilson 95 % intervals. For the full table with
``sigma = z^2`` the landscape engine (:mod:`symflow.landscape`) gives the same kinds with exact
energies and symmetry/family splits (``engine="landscape"``, slower).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..groups.fourier import representation_sum
from ..statistics import wilson_interval
from ..validation import integer
from .core import Li2Problem, training_mask
from .derive import orbit_shares

#: A node counts as supported on one orbit when that orbit has this share of ``|u|^2 + |v|^2``.
SUPPORT_SHARE = 0.99
#: Tangent eigenvalues within this fraction of the energy scale count as flat.
FLAT_TOL = 1e-5
#: Residual (|riemannian gradient| / energy scale) under which an ascent counts as converged.
CONVERGED = 1e-5
#: ReLU: a node whose step (times the energy scale) fell below this has stalled at a kink maximum.
STALLED = 1e-9


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
    spectrum: list              # sorted tangent eigenvalues (without the radial direction)
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


def tangent_spectrum(problem: Li2Problem, x, h: float = 1e-5) -> np.ndarray:
    """Eigenvalues of the tangent Hessian at a unit point ``x`` (the ``2n - 1`` tangent modes)."""
    x = np.asarray(x, dtype=float)
    x = x / np.linalg.norm(x)
    D = x.size
    I = np.eye(D)
    G = (problem.gradient(x + h * I) - problem.gradient(x - h * I)) / (2 * h)
    H = (G + G.T) / 2
    lam = float(x @ problem.gradient(x))
    P = I - np.outer(x, x)
    T = P @ (H - lam * I) @ P
    ev = np.linalg.eigvalsh(T)
    # drop the radial direction (eigenvector x, eigenvalue 0 of the projection)
    k = int(np.argmin(np.abs(ev)))
    return np.sort(np.delete(ev, k))


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


def memory_estimate(group, starts: int):
    """The peak memory of :func:`maxima` (:class:`~symflow.resources.MemoryEstimate`): with ``n`` the order, the
    energy and gradient of every start (four ``(starts, n, n)`` arrays, the pre-activations ``u_a + v_b`` and
    their images) and the finite-difference tangent Hessian (``2 n`` points: four ``(2n, n, n)`` arrays)."""
    from ..resources import MemoryEstimate

    n = group.order
    est = MemoryEstimate(f"li2 {group.name} with {starts} starts", lower="--starts or a smaller group")
    est.add("the energy of every start", arrays=4, shape=(starts, n, n), lower="--starts")
    est.add("the tangent Hessian", arrays=4, shape=(2 * n, n, n),
            lower="a smaller group (the Hessian grows as the cube of the order; --starts does not change it)")
    return est


def maxima(group, fraction: float = 1.0, activation: str = "x^2", starts: int = 128, seed: int = 0,
           steps: int = 3000, mask=None, force: bool | None = None) -> dict:
    """Seeded search of Li2's local maxima (module doc). Returns ``{"problem", "maxima": [Maximum],
    "unconverged", "wall_time"}``. A search whose :func:`memory_estimate` exceeds the machine's memory raises
    :class:`~symflow.errors.ResourceError` before computing, unless ``force`` (``None``: the CLI's ``--force``)."""
    t0 = time.perf_counter()
    starts = integer(starts, "starts", minimum=1)
    seed = integer(seed, "seed", minimum=0)
    memory_estimate(group, starts).check(force)
    if mask is None:
        mask = training_mask(group, fraction, seed)
    prob = Li2Problem(group, mask, activation)
    n = group.order
    x0 = np.random.default_rng(seed).normal(size=(starts, 2 * n))
    x, E, res = prob.ascend(x0, steps=steps)
    scale = float(np.max(E))
    shares = orbit_shares(group, x)
    orbits = group.orbits
    keys = []
    for m in range(starts):
        j = int(np.argmax(shares[m]))
        oid = j if shares[m, j] >= SUPPORT_SHARE else None
        keys.append((oid, round(float(E[m]) / scale, 5 if prob.activation != "relu" else 3)))
    ok = res <= CONVERGED
    if prob.activation == "relu":                       # maxima at kinks: the step collapses instead
        ok |= prob.last_step <= STALLED
    kinds: dict = {}
    for m in np.nonzero(ok)[0]:
        kinds.setdefault(keys[m], []).append(int(m))
    out = []
    full = prob.N == n * n and prob.activation == "x^2"
    for (oid, _), members in kinds.items():
        best = members[int(np.argmin(res[members]))]
        xb = x[best] / np.linalg.norm(x[best])
        orbit = orbits[oid] if oid is not None else None
        spec = tangent_spectrum(prob, xb)
        flat = int(np.sum(np.abs(spec) <= FLAT_TOL * max(scale, 1e-12) * 100))
        stable = bool(np.all(spec <= FLAT_TOL * max(scale, 1e-12) * 100))
        pred = predicted_energy(group, orbit) if (full and orbit is not None and not orbit.is_trivial) else None
        exact = pred[1] if pred and abs(pred[0] - E[best]) <= 1e-7 * pred[0] else None
        split, rank, align = _structure(group, xb, orbit)
        out.append(Maximum(orbit, float(E[best]), exact, pred[0] if pred else None, flat, stable, list(spec),
                           len(members), starts, float(shares[best].max()), split, rank, align, xb))
    out.sort(key=lambda a: (-a.count, -a.energy))
    return {"problem": prob, "maxima": out, "unconverged": int((~ok).sum()), "wall_time": time.perf_counter() - t0,
            "starts": starts, "seed": seed}


def maxima_json(result) -> dict:
    """The public contract of ``symflow li2 --json``."""
    from .._version import __version__

    prob = result["problem"]
    G = prob.group
    return {"group": G.name, "order": G.order, "activation": prob.activation, "fraction": prob.fraction,
            "starts": result["starts"], "seed": result["seed"], "unconverged": result["unconverged"],
            "wall_time": result["wall_time"], "version": __version__,
            "maxima": [m.to_json(G) for m in result["maxima"]]}
