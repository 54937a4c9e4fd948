"""Per-neuron observables of a population state, and population summaries.

For a neuron with Fourier blocks ``nu_hat[rho]`` (GC convention):

* orbit energy share of vector ``nu``: ``e_O = n sum_{rho in O} d_rho ||nu_hat[rho]||_F^2 / |nu|^2``
  (Plancherel; the shares of one vector sum to 1); the neuron's share is the mean over its vectors;
* dominant orbit: the nontrivial orbit with the largest share;
* rank-one ratio ``sigma_2 / sigma_1`` of each vector's block on the dominant orbit (first member
  of a complex pair: the other is its conjugate, with the same singular values; ``0`` for
  ``d = 1``);
* alignment cosines on the dominant block (CE models), ``cos(A, B) = Re<A, B>_F / (|A| |B|)``:
  ``xi_hat`` vs ``th2_hat th1_hat``, ``th1_hat`` vs ``th2_hat^* xi_hat``, ``th2_hat`` vs ``xi_hat th1_hat^*``
  (shared: ``th1 = th2 = theta``); all three are 1 at GC's rotationally aligned equilibria;
* phases (abelian): ``phi1, phi2, psi`` = arguments of ``theta1_hat, theta2_hat, xi_hat`` at the
  dominant frequency and the misalignment ``D = phi1 + phi2 - psi`` (shared ``2 phi - psi``),
  wrapped to ``(-pi, pi]``;
* inverse participation ratio of the Fourier energy over nontrivial orbits,
  ``IPR = sum_O s_O^2 / (sum_O s_O)^2`` (1 for a single orbit, ``1/#orbits`` when spread evenly);
* ``Omega`` from the flow.

"Aligned" (used by :func:`aligned_fraction` and ``run_until_aligned``): the criterion of
:mod:`symflow.dynamics.alignment` (every vector's ``sigma_2/sigma_1 < RANK_THRESHOLD`` and all
three cosines ``> COSINE_THRESHOLD``) on the dominant block.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..groups.fourier import energy_shares
from . import alignment as crit
from .alignment import COSINE_THRESHOLD, RANK_THRESHOLD  # noqa: F401  (the thresholds, re-exported)
from .state import FourierState

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def slot_energies(state: FourierState, name: str) -> np.ndarray:
    """``n d ||nu_hat[rho]||_F^2`` for every irrep slot, shape ``(M, #slots)``."""
    lay = state.layout
    parts = []
    for d in lay.dims:
        b = lay.view(state.data, name, d)
        parts.append(lay.n * d * (b.real ** 2 + b.imag ** 2).sum(axis=(-2, -1)))
    return np.concatenate(parts, axis=1)


def orbit_energy(state: FourierState, normalised: bool = True) -> dict:
    """``{name: (M, #orbits)}`` energy (share if ``normalised``) of each vector on each orbit."""
    first, second = state.layout.orbit_slots
    out = {}
    for name in state.names:
        e = slot_energies(state, name)
        orb = e[:, first] + np.where(second >= 0, e[:, np.maximum(second, 0)], 0.0)
        if normalised:
            orb = energy_shares(orb)
        out[name] = orb
    return out


def orbit_share(state: FourierState) -> np.ndarray:
    """Mean over the neuron's vectors of the orbit energy shares, ``(M, #orbits)``."""
    e = orbit_energy(state)
    return sum(e.values()) / len(e)


def dominant_orbit(state: FourierState, share: np.ndarray | None = None) -> np.ndarray:
    """Index (into ``layout.orbits``) of each neuron's largest nontrivial orbit, ``(M,)``."""
    share = orbit_share(state) if share is None else share
    s = share.copy()
    s[:, 0] = -1.0  # the trivial orbit is first
    return np.argmax(s, axis=1)


def dominant_blocks(state: FourierState, dominant: np.ndarray | None = None) -> dict:
    """``{name: list of (d x d) complex arrays}`` per neuron: its block on its dominant orbit.

    Grouped by dimension for speed: returns ``{name: {d: (idx, blocks (m_d, d, d))}}``.
    """
    lay = state.layout
    dominant = dominant_orbit(state) if dominant is None else dominant
    slots = lay.orbit_slots[0][dominant] if len(dominant) else np.array([], dtype=int)
    out = {name: {} for name in state.names}
    dims = lay.slot_dims[slots] if len(slots) else np.array([], dtype=int)
    for d in sorted(set(dims.tolist())):   # not np.unique: its first call imports numpy.ma (~70 ms of start-up)
        idx = np.nonzero(dims == d)[0]
        first = lay.slot(d, 0)
        pos = slots[idx] - first
        for name in state.names:
            out[name][d] = (idx, lay.view(state.data, name, d)[idx, pos])
    return out


def rank_ratio(state: FourierState, dominant: np.ndarray | None = None, method: str = "svd") -> dict:
    """``{name: (M,)}`` ratio ``sigma_2 / sigma_1`` of the dominant block (0 for ``d = 1``;
    :func:`symflow.dynamics.alignment.rank_ratio`, ``method`` ``"svd"`` or ``"eig"``)."""
    blocks = dominant_blocks(state, dominant)
    out = {}
    for name, by_d in blocks.items():
        r = np.zeros(state.width)
        for d, (idx, b) in by_d.items():
            if d > 1:
                r[idx] = crit.rank_ratio(b, method)
        out[name] = r
    return out


def roles(state) -> tuple:
    """``(first input, second input, output)`` vector names of a CE state (:attr:`Neuron.roles`)."""
    neuron = state.layout.neuron
    if neuron is None or neuron.output_name is None:
        raise ModelError(f"alignment cosines are defined for the cross-entropy model (theta1, theta2, xi); "
                         f"this state has vectors {state.names}")
    return neuron.roles




def alignment(state: FourierState, dominant: np.ndarray | None = None) -> np.ndarray:
    """``(M, 3)`` cosines: (xi, th2 th1), (th1, th2^* xi), (th2, xi th1^*) on the dominant block
    (:func:`symflow.dynamics.alignment.alignment_cosines`)."""
    n1, n2, nx = roles(state)
    blocks = dominant_blocks(state, dominant)
    out = np.zeros((state.width, 3))
    for d in blocks[nx]:
        idx, X = blocks[nx][d]
        out[idx] = crit.alignment_cosines(blocks[n1][d][1], blocks[n2][d][1], X)
    return out


def phases(state: FourierState, dominant: np.ndarray | None = None) -> dict:
    """Abelian groups: ``{"phi1", "phi2", "psi", "D"}`` at the dominant frequency, each ``(M,)``."""
    if any(d != 1 for d in state.layout.dims):
        raise ModelError("phases are defined for abelian groups (all blocks 1 x 1)")
    n1, n2, nx = roles(state)
    blocks = dominant_blocks(state, dominant)
    phi1 = np.angle(blocks[n1][1][1][:, 0, 0])
    phi2 = np.angle(blocks[n2][1][1][:, 0, 0])
    psi = np.angle(blocks[nx][1][1][:, 0, 0])
    D = np.angle(np.exp(1j * (phi1 + phi2 - psi)))
    return {"phi1": phi1, "phi2": phi2, "psi": psi, "D": D}


def ipr(state: FourierState, share: np.ndarray | None = None) -> np.ndarray:
    """Inverse participation ratio of the Fourier energy over nontrivial orbits, ``(M,)``."""
    share = orbit_share(state) if share is None else share
    s = share[:, 1:]
    return (s ** 2).sum(axis=1) / np.maximum(s.sum(axis=1) ** 2, 1e-300)


def aligned(state: FourierState, dominant: np.ndarray | None = None, rank_threshold: float = RANK_THRESHOLD,
            cosine_threshold: float = COSINE_THRESHOLD, method: str = "svd") -> np.ndarray:
    """``(M,)`` bool: :func:`symflow.dynamics.alignment.is_aligned` on the dominant block (every
    ``sigma2/sigma1 < rank_threshold``, all cosines ``> cosine_threshold``). ``method="eig"``: the
    closed-form ratio (``run_until_aligned``'s stop, ~15x faster for 3 x 3 blocks)."""
    dominant = dominant_orbit(state) if dominant is None else dominant
    r = np.max(np.stack(list(rank_ratio(state, dominant, method).values())), axis=0)
    return crit.is_aligned(r, alignment(state, dominant), rank_threshold, cosine_threshold)


def aligned_fraction(state: FourierState, **kw) -> float:
    return float(np.mean(aligned(state, **kw)))


def neuron_table(state: FourierState, flow=None) -> dict:
    """All per-neuron observables as arrays ``(M,)`` (keys documented in the module docstring)."""
    share = orbit_share(state)
    dom = dominant_orbit(state, share)
    out = {"dominant_orbit": dom, "dominant_share": share[np.arange(state.width), dom], "ipr": ipr(state, share)}
    for name, r in rank_ratio(state, dom).items():
        out[f"rank_ratio_{name}"] = r
    try:
        cos = alignment(state, dom)
        out.update({"cos_xi": cos[:, 0], "cos_theta1": cos[:, 1], "cos_theta2": cos[:, 2]})
        if all(d == 1 for d in state.layout.dims):
            out["misalignment_D"] = phases(state, dom)["D"]
    except ModelError:
        pass
    if flow is not None:
        out["omega"] = flow.omega(state.data)
    return out


def _quantiles(x) -> dict:
    x = np.asarray(x, dtype=float)
    return {f"q{int(q * 100):02d}": float(np.quantile(x, q)) for q in QUANTILES}


def population_summary(state: FourierState, flow=None) -> dict:
    """JSON-able population summary: fractions per dominant orbit and quantiles of observables."""
    lay = state.layout
    table = neuron_table(state, flow)
    dom = table["dominant_orbit"]
    counts = np.bincount(dom, minlength=len(lay.orbits))
    fractions = {o.display_label: float(counts[o.id] / state.width) for o in lay.orbits if o.type != "trivial"}
    orbits = [{"label": o.display_label, "dim": o.dim, "type": o.type, "size": o.size,
               "fraction": float(counts[o.id] / state.width)} for o in lay.orbits if o.type != "trivial"]
    if len(orbits) > 64:  # large abelian groups: keep the populated orbits only
        orbits = [o for o in orbits if o["fraction"] > 0]
        fractions = {k: v for k, v in fractions.items() if v > 0}
    summary = {"width": int(state.width), "group": lay.group.name, "orbits": orbits, "fractions": fractions,
               "quantiles": {}}
    rank = np.max(np.stack([v for k, v in table.items() if k.startswith("rank_ratio_")]), axis=0)
    summary["quantiles"]["rank_ratio_max"] = _quantiles(rank)
    summary["quantiles"]["dominant_share"] = _quantiles(table["dominant_share"])
    summary["quantiles"]["ipr"] = _quantiles(table["ipr"])
    if "cos_xi" in table:
        cmin = np.minimum(np.minimum(table["cos_xi"], table["cos_theta1"]), table["cos_theta2"])
        summary["quantiles"]["cos_min"] = _quantiles(cmin)
        summary["aligned_fraction"] = float(np.mean(crit.is_aligned(rank, cmin[:, None])))
    if "misalignment_D" in table:
        summary["quantiles"]["abs_misalignment_D"] = _quantiles(np.abs(table["misalignment_D"]))
    if "omega" in table:
        summary["quantiles"]["omega"] = _quantiles(table["omega"])
        summary["omega_mean"] = float(np.mean(table["omega"]))
    return summary
