"""Events of an integration, checked after every accepted step and separate from stepping.

* equilibrium: a neuron whose speed ``|F(y_m)|`` (its Riemannian gradient norm on the spheres) is
  below ``gtol`` has reached equilibrium; the crossing time is recorded per neuron (geometric
  interpolation of the speed between the two steps, :func:`crossing_time`). The stepper then stops
  integrating it.
* blow-up: a non-finite state, or a sphere norm beyond ``blowup_norm`` (default :data:`BLOWUP_NORM`;
  the unconstrained flow blows up in finite time), raises :class:`~symflow.errors.IntegrationError`
  naming the time and the neuron.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import IntegrationError

#: Default sphere-norm threshold of the blow-up event.
BLOWUP_NORM = 1e6


class Events:
    """Equilibrium bookkeeping and blow-up checks for one chunk (rows ``offset + rows``)."""

    def __init__(self, flow, gtol, blowup_norm, eq_time, offset):
        self.flow, self.gtol, self.blowup_norm = flow, gtol, blowup_norm
        self.eq_time, self.offset = eq_time, offset

    def check(self, y, t_prev, t_new, speed_prev, speed_new, rows=None, norms_enforced=False, layout=None):
        """Blow-up checks on ``y`` (the chunk rows ``rows``, default all) and the equilibrium event.

        Returns a boolean array: which of these rows have ``speed_new < gtol`` (``None`` without
        ``gtol``). First crossings are recorded in ``eq_time``. ``norms_enforced``: the stepper
        retracts onto the spheres, so only finiteness is checked, through ``speed_new`` (finite
        exactly when ``F(y)``, a polynomial in ``y``, is; ``y`` may then be ``None``). ``layout``:
        how ``y`` is stored (default the flow's row layout).
        """
        layout = layout or self.flow.layout
        if norms_enforced and speed_new is not None:
            finite = bool(np.all(np.isfinite(speed_new)))
        else:
            finite = bool(np.all(np.isfinite(y)))
        if not finite:
            if speed_new is not None and not np.all(np.isfinite(speed_new)):
                bad = int(np.nonzero(~np.isfinite(speed_new))[0][0])
            else:
                rows_y = layout.to_rows(y)
                bad = int(np.nonzero(~np.isfinite(rows_y).all(axis=1))[0][0])
            bad = (int(rows[bad]) if rows is not None else bad) + self.offset
            raise IntegrationError(f"blow-up: neuron {bad} became non-finite at t = {float(np.max(t_new)):.6g}")
        if self.blowup_norm is not None and layout.spheres and not norms_enforced:
            norms = layout.sphere_norms(y)
            if np.any(norms > self.blowup_norm):
                bad = int(np.argwhere((norms > self.blowup_norm).any(axis=1))[0, 0])
                bad = (int(rows[bad]) if rows is not None else bad) + self.offset
                raise IntegrationError(f"blow-up: neuron {bad} has a sphere norm above {self.blowup_norm:g} at "
                                       f"t = {float(np.max(t_new)):.6g} (the unconstrained flow blows up in finite time)")
        if self.gtol is None or speed_new is None:
            return None
        below = speed_new < self.gtol
        if np.any(below):
            idx = self.offset + (np.arange(len(speed_new)) if rows is None else np.asarray(rows))
            eq = self.eq_time[idx]
            hit = np.isnan(eq) & below
            if np.any(hit):
                tp = t_prev[hit] if np.ndim(t_prev) else t_prev
                tn = t_new[hit] if np.ndim(t_new) else t_new
                self.eq_time[idx[hit]] = crossing_time(tp, tn, speed_prev[hit] if speed_prev is not None
                                                        else None, speed_new[hit], self.gtol)
        return below



def crossing_time(t0, t1, s0, s1, gtol):
    """Time where the speed crosses ``gtol``, interpolating ``log speed`` linearly in ``t``."""
    if s0 is None:
        return np.broadcast_to(np.asarray(t1, dtype=float), s1.shape).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        l0, l1, lg = np.log(np.maximum(s0, 1e-300)), np.log(np.maximum(s1, 1e-300)), math.log(gtol)
        frac = np.where(l0 > l1, (l0 - lg) / (l0 - l1), 1.0)
    frac = np.clip(np.nan_to_num(frac, nan=1.0), 0.0, 1.0)
    return t0 + frac * (t1 - t0)
