"""Small statistics used to compare predictions with simulated populations (study, landscape).

* :func:`wilson_interval` - score interval for a binomial proportion ``k/N``:
  ``(p + z^2/2N -+ z sqrt(p(1-p)/N + z^2/4N^2)) / (1 + z^2/N)``.
* :func:`chi_square_uniform` - Pearson chi-square test that counts over categories are uniform.
* :func:`ks_uniform_circle` - Kolmogorov-Smirnov test that angles are Haar (uniform) on the circle.
* :func:`fit_exponential_rate` - least-squares slope of ``log y`` against ``t`` over the window
  where ``y`` lies between two thresholds (the "near equilibrium" part of a decaying deviation).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def wilson_interval(k: int, N: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the proportion ``p = k / N`` at the given confidence:
    ``(p + z^2/2N -+ z sqrt(p (1-p)/N + z^2/4N^2)) / (1 + z^2/N)``. It always contains ``p`` (exactly
    ``[0, .]`` at ``k = 0`` and ``[., 1]`` at ``k = N``), so the endpoints are clamped to ``p`` against rounding."""
    if N <= 0:
        return (0.0, 1.0)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = k / N
    denom = 1 + z * z / N
    centre = (p + z * z / (2 * N)) / denom
    half = z * np.sqrt(p * (1 - p) / N + z * z / (4 * N * N)) / denom
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def chi_square_uniform(counts) -> tuple[float, float]:
    """``(statistic, p_value)`` of Pearson's test that ``counts`` come from a uniform law."""
    counts = np.asarray(counts, dtype=float)
    if counts.size < 2 or counts.sum() == 0:
        return (0.0, 1.0)
    res = stats.chisquare(counts)
    return float(res.statistic), float(res.pvalue)


def ks_uniform_circle(angles) -> tuple[float, float]:
    """``(statistic, p_value)`` of the KS test of ``angles mod 2 pi`` against uniform on [0, 2 pi)."""
    a = np.mod(np.asarray(angles, dtype=float), 2 * np.pi) / (2 * np.pi)
    if a.size == 0:
        return (0.0, 1.0)
    res = stats.kstest(a, "uniform")
    return float(res.statistic), float(res.pvalue)


@dataclass
class RateFit:
    """Result of :func:`fit_exponential_rate`: ``y ~ C exp(rate * t)`` over ``[t0, t1]``."""

    rate: float
    stderr: float
    t0: float
    t1: float
    points: int

    @property
    def ok(self) -> bool:
        return self.points >= 4 and np.isfinite(self.rate)


def fit_exponential_rate(t, y, upper: float = 1e-2, lower: float = 1e-9) -> RateFit:
    """Fit ``log y = log C + rate * t`` on samples with ``lower < y < upper``.

    ``y`` is a non-negative deviation from equilibrium (e.g. ``|Im w|`` or a losing orbit's
    amplitude); only the part between the thresholds is used, so the transient and the rounding
    floor are both excluded. Returns ``rate = nan`` when fewer than 4 samples qualify.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    mask = np.isfinite(y) & (y > lower) & (y < upper)
    # keep the last contiguous run below `upper` (the asymptotic regime)
    idx = np.nonzero(mask)[0]
    if idx.size:
        breaks = np.nonzero(np.diff(idx) > 1)[0]
        if breaks.size:
            idx = idx[breaks[-1] + 1:]
    if idx.size < 4:
        return RateFit(float("nan"), float("nan"), float("nan"), float("nan"), int(idx.size))
    res = stats.linregress(t[idx], np.log(y[idx]))
    return RateFit(float(res.slope), float(res.stderr), float(t[idx[0]]), float(t[idx[-1]]), int(idx.size))

