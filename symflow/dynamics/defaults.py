"""Run defaults of the reduced-flow drivers, in the natural units of a group of order ``n``.

Time unit ``c = 1`` (docs/theory.md section 2); the equilibrium energy is ``Omega* ~ n^-3/2`` and a uniform
start reaches equilibrium within ``~ 15 n^2``:

* final time ``T_END_FACTOR n^2`` (:func:`simulation_t_end`), ``SIMULATION_N_SAVE`` save times;
* equilibrium tolerance ``GTOL_FACTOR n^-3/2`` on the Riemannian gradient norm;
* largest geometric step ``MAX_STEP_FACTOR n^3/2`` (``FLOW_MAX_STEP_FACTOR n^3/2`` in ``simulate``).
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError
from ..validation import real

#: Default final time in units of n^2: measured equilibrium times (all neurons at |grad| <
#: 1e-6 n^-3/2 from uniform starts) were at most 13.6 n^2 (Q8), 12.1 n^2 (F21), 9.1 n^2 (S4),
#: 5.0 n^2 (Z101 unshared), 1.4 n^2 (Z1009 shared); runs stop earlier at the equilibrium event.
T_END_FACTOR = 50.0
#: Equilibrium event tolerance on the Riemannian gradient norm, in units of n^(-3/2) (the scale
#: of Omega* in docs/theory.md section 3).
GTOL_FACTOR = 1e-6
#: Largest geometric step in units of n^(3/2): the fastest tangent decay rate at the equilibria is
#: about 5 Omega* <= 3.6 n^(-3/2) (docs/theory.md section 3), and DOPRI5 is stable for h*rate < 3.3.
MAX_STEP_FACTOR = 0.5
#: Largest geometric step of ``simulate`` (populations to equilibrium), in units of n^(3/2):
#: ``h * 3.6 n^(-3/2) <= 2.9`` stays below DOPRI5's stability bound 3.3 at the fastest equilibrium rate.
#: Measured against ``MAX_STEP_FACTOR`` (256 neurons, seed 0, to equilibrium; Z1009 shared, F21, Q8, Z101,
#: D5 shared, Z2xZ2, S4, Z7 shared): the same orbits, final states within 1.3e-7, equilibrium times
#: within 1.7e-4 relative, 10-34 % fewer steps; at 1.5 n^(3/2) (beyond the bound) Z1009's neurons never
#: reach ``gtol``. The landscape keeps ``MAX_STEP_FACTOR`` (it polishes to far tighter tolerances near
#: critical points and bounds the step by its own measured stiffness), and so does ``run_until_aligned``
#: (it stops before the stiff approach to equilibrium; F21: 58 steps at 0.5, 65 at 0.8).
FLOW_MAX_STEP_FACTOR = 0.8
#: Save times of ``simulate`` (including ``t = 0`` and the final time).
SIMULATION_N_SAVE = 11


def time_scale(group) -> float:
    """The ``n^2`` of these defaults for ``group``: ``n^2`` for a finite group; on a band-limited compact group (Haar
    probability, ``Omega* = (k d)^(-1/2)`` of order one, so ``n = 1`` for the tolerance and the step) ``D^(3/2)``
    with ``D`` the coordinates of a vector: a finite group's time in Haar units (unit ``L^2`` spheres) is
    ``t / sqrt(n)``, so its ``15 n^2`` to equilibrium is ``15 n^(3/2)`` there, with ``n`` the dimension."""
    from ..groups.compact.signals import coordinate_count, is_compact

    return float(coordinate_count(group)) ** 1.5 if is_compact(group) else float(group.order) ** 2


def simulation_t_end(n: int) -> float:
    """``T_END_FACTOR * n^2``: the default final time of a reduced-flow simulation (time unit ``c = 1``)."""
    return T_END_FACTOR * float(n) ** 2


def check_time(name: str, v) -> float:
    """``v`` as a positive finite float, else :class:`SymflowError` naming ``name``."""
    v = real(v, name, minimum=None)
    if v <= 0:
        raise SymflowError(f"{name} must be positive, got {v!r}")
    return float(v)


def save_times(t_end=None, n_save: int = SIMULATION_N_SAVE, t_eval=None, n: int = 1) -> np.ndarray:
    """The save times: ``t_eval`` if given (finite, increasing, >= 0; 0 is prepended if absent),
    else ``n_save`` equally spaced times from 0 to ``t_end`` (default :func:`simulation_t_end`)."""
    if t_eval is not None:
        te = np.asarray(t_eval, dtype=float).reshape(-1)
        if te.size == 0 or not np.all(np.isfinite(te)):
            raise SymflowError("t_eval must be a non-empty list of finite times")
        if np.any(te < 0) or np.any(np.diff(te) <= 0):
            raise SymflowError("t_eval must be strictly increasing and >= 0")
        return te if te[0] == 0 else np.concatenate([[0.0], te])
    t_end = simulation_t_end(n) if t_end is None else check_time("t_end", t_end)
    if isinstance(n_save, (bool, np.bool_)) or not isinstance(n_save, (int, np.integer)) or n_save < 2:
        raise SymflowError(f"n_save must be an integer >= 2 (it includes t = 0 and t_end), got {n_save!r}")
    return np.linspace(0.0, t_end, int(n_save))


def default_gtol(n: int, gtol=None) -> float:
    """The equilibrium tolerance: ``gtol`` checked, or ``GTOL_FACTOR n^-3/2``."""
    return GTOL_FACTOR * n ** -1.5 if gtol is None else check_time("gtol", gtol)
