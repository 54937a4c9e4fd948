r"""A population run recorded as observables, not as parameter arrays.

``symflow study`` needs, at every save time and for every neuron, only a handful of numbers
(the population of a large group would not fit in memory as ``(K, M, n)`` arrays):

* ``top_orbit`` / ``top_share``: the nontrivial orbit with the largest energy share and that share
  (shares from Plancherel, ``e_O = n sum_{rho in O} d_rho ||nu_hat[rho]||_F^2 / |nu|^2``, averaged
  over the neuron's vectors; see :mod:`symflow.dynamics.observables`);
* ``rank_ratio``: the largest ``sigma_2 / sigma_1`` of the neuron's blocks on its top orbit;
* ``cos_min``: the smallest of the three alignment cosines on that block;
* ``phase``: ``|arg tr(xi_hat^* theta2_hat theta1_hat)|`` on that block (the angle the
  phase-alignment mode rotates; for abelian groups it is ``|D|``, the misalignment);
  ``cos_min`` and ``phase`` are NaN for the MSE model (no output vector ``xi``);
* ``omega``: the neuron's energy ``Omega`` (for MSE, Li2's ``E``);
* ``orbit_mean``: the population mean of the shares per orbit, ``(#orbits,)``.

:func:`run_observed` integrates the reduced flow (geometric integrator, same defaults as
:func:`symflow.dynamics.simulate`) with these recorded at ``n_save`` equally spaced times.
The equilibrium tolerance is set far below ``simulate``'s default (``1e-11 n^-3/2``) so that
deviations are followed down to about ``1e-10`` before a neuron is declared at rest and its
chunk frozen: the exponential rate fits of :func:`symflow.study.claims.rates` use that range.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..dynamics import observables as obs
from ..dynamics.integrators import integrate
from ..dynamics.defaults import check_time
from ..dynamics.drivers import run_stepper, start_population
from ..dynamics.state import FourierState

#: Equilibrium tolerance of a study run, in units of ``n^-3/2``.
STUDY_GTOL_FACTOR = 1e-11
#: Default number of save times of a study run (rate fits need dense samples).
STUDY_N_SAVE = 241


def _trace_phase(state: FourierState, dominant: np.ndarray, roles: tuple) -> np.ndarray:
    """``|arg tr(xi_hat^* theta2_hat theta1_hat)|`` on each neuron's ``dominant`` block, ``(M,)``;
    ``roles``: the neuron's ``(first input, second input, output)`` names (``Neuron.roles``)."""
    n1, n2, nx = roles
    blocks = obs.dominant_blocks(state, dominant)
    out = np.zeros(state.width)
    for d, (idx, X) in blocks[nx].items():
        T1, T2 = blocks[n1][d][1], blocks[n2][d][1]
        tr = np.einsum("mji,mjk,mki->m", np.conj(X), T2, T1)
        out[idx] = np.abs(np.angle(tr))
    return out


def observe(state: FourierState, flow) -> dict:
    """The per-save record described in the module docstring (orbits by id, ``group.orbits``)."""
    share = obs.orbit_share(state)
    top = obs.dominant_orbit(state, share)
    rank = np.max(np.stack(list(obs.rank_ratio(state, top).values())), axis=0)
    roles = flow.model.neuron.roles
    if roles[2] is None:      # MSE: no output vector, so no alignment cosines and no trace phase
        cos_min = phase = np.full(state.width, np.nan)
    else:
        cos_min = np.min(obs.alignment(state, top), axis=1)
        phase = _trace_phase(state, top, roles)
    return {"top_orbit": top.astype(np.int32), "top_share": share[np.arange(state.width), top],
            "rank_ratio": rank, "cos_min": cos_min, "phase": phase,
            "omega": flow.omega(state.data), "orbit_mean": share.mean(axis=0)}


@dataclass
class ObservedRun:
    """Observables of a population run (arrays stacked over the ``K`` save times)."""

    model: object
    t: np.ndarray
    records: dict                      # name -> (K, M) or (K, #orbits)
    final_state: FourierState
    initial_state: FourierState
    equilibrium_time: np.ndarray       # (M,)
    flow: object
    info: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.records[name]

    @property
    def width(self) -> int:
        return self.final_state.width

    @property
    def orbits(self) -> list:
        """The group's :class:`~symflow.groups.orbits.IrrepOrbit` records; the recorded orbit indices
        (``top_orbit``, the columns of ``orbit_mean``) are their ids."""
        return self.model.group.orbits


def run_observed(model, width: int, seed: int, t_end: float, n_save: int = STUDY_N_SAVE, progress: bool = False,
                 init: str = "uniform") -> ObservedRun:
    """Integrate ``width`` neurons from a seeded uniform start to ``t_end``, recording :func:`observe`.

    ``KeyboardInterrupt`` ends the run at the last completed save (``info["interrupted"]``).
    """
    t_end = check_time("t_end", t_end)
    flow, state0, width, seed = start_population(model, width, seed, init)
    n = model.group.order
    times = np.linspace(0.0, t_end, int(n_save))
    stepper = run_stepper("geometric", n=n)
    wall = time.perf_counter()
    out = integrate(flow, state0.data, times, stepper, gtol=STUDY_GTOL_FACTOR * n ** -1.5,
                    save=lambda t, y: observe(FourierState(flow.layout, y), flow),
                    stop_at_equilibrium=True, progress=progress)
    records = {k: np.stack([s[k] for s in out.saved]) for k in out.saved[0]}
    info = {"steps": int(out.counts.steps), "rejected_steps": int(out.counts.rejected),
            "rhs_evaluations": int(out.counts.evaluations), "wall_time_s": round(time.perf_counter() - wall, 3),
            "interrupted": bool(out.interrupted), "stopped_at_equilibrium": bool(out.stopped_early),
            "t_reached": float(out.t[-1]), "gtol": STUDY_GTOL_FACTOR * n ** -1.5,
            "integrator": {"method": "geometric", **stepper.tolerances, "max_step": stepper.max_step}}
    return ObservedRun(model, np.asarray(out.t, dtype=float), records, FourierState(flow.layout, out.final),
                       state0, np.asarray(out.equilibrium_time), flow, info)
