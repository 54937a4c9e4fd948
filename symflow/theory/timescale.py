"""From symflow's time unit ``c = 1`` to training steps.

In Stage I (docs/theory.md section 2) each neuron's direction follows ``d nu/dt = c * Riemannian grad
Omega`` because the small-logit loss is ``R ~ log n - (2/M) sum_m a_m Omega_m`` with the mean over
the ``n^2`` pairs, so gradient descent with learning rate ``lr`` moves ``nu`` by
``lr * (2 a / M) * grad Omega`` per step. Hence

    ``c = 2 a / M``            (loss reduction ``mean``)
    ``c = 2 a n^2 / M``        (loss reduction ``sum``: the summed loss is ``n^2`` times the mean)
    ``steps = t / (lr * c)``,  a rate ``r`` (per unit ``c = 1``) is ``r * lr * c`` per step,

with width ``M``, output scale ``a`` (frozen in Stage I) and group order ``n``. Small steps are
assumed (gradient descent tracks the flow when ``lr * c * |rate| << 1``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import SymflowError

REDUCTIONS = ("mean", "sum")


def time_unit(width: int, scale: float, reduction: str = "mean", n: int | None = None) -> float:
    """``c = 2 a / M`` (mean) or ``2 a n^2 / M`` (sum)."""
    return TimeScale(lr=1.0, width=width, scale=scale, reduction=reduction, n=n).c


@dataclass(frozen=True)
class TimeScale:
    """Conversion between flow time (``c = 1``) and training steps; see the module docstring."""

    lr: float
    width: int
    scale: float
    reduction: str = "mean"
    n: int | None = None

    def __post_init__(self):
        for name, val in (("learning rate lr", self.lr), ("scale a", self.scale)):
            if not isinstance(val, (int, float)) or isinstance(val, bool) or not math.isfinite(val) or val <= 0:
                raise SymflowError(f"{name} must be a positive finite number, got {val!r}")
        if isinstance(self.width, bool) or not isinstance(self.width, int) or self.width < 1:
            raise SymflowError(f"width M must be a positive integer, got {self.width!r}")
        if self.reduction not in REDUCTIONS:
            raise SymflowError(f"loss reduction must be 'mean' or 'sum', got {self.reduction!r}")
        if self.reduction == "sum" and (self.n is None or self.n < 1):
            raise SymflowError("reduction 'sum' needs the group order n (c = 2 a n^2 / M)")

    @property
    def c(self) -> float:
        """Flow time advanced per unit learning rate and step: ``2a/M`` or ``2 a n^2 / M``."""
        base = 2.0 * self.scale / self.width
        return base * self.n ** 2 if self.reduction == "sum" else base

    @property
    def time_per_step(self) -> float:
        """``lr * c``: flow time (unit ``c = 1``) covered by one training step."""
        return self.lr * self.c

    def steps(self, t: float) -> float:
        """Training steps covering flow time ``t``: ``t / (lr c)``."""
        return t / self.time_per_step

    def per_step(self, rate: float) -> float:
        """A rate per unit flow time, as a rate per training step: ``rate * lr * c``."""
        return rate * self.time_per_step

    def e_folding_steps(self, rate: float) -> float:
        """Steps for a mode of rate ``rate`` to change by a factor ``e``: ``1 / (|rate| lr c)``
        (``inf`` for a zero rate)."""
        return math.inf if rate == 0 else 1.0 / (abs(rate) * self.time_per_step)

    def to_dict(self) -> dict:
        return {"lr": self.lr, "width": self.width, "scale": self.scale, "reduction": self.reduction,
                "n": self.n, "c": self.c}

    def __repr__(self) -> str:
        form = "2 a n^2 / M" if self.reduction == "sum" else "2 a / M"
        return (f"TimeScale(lr={self.lr}, M={self.width}, a={self.scale}, reduction={self.reduction!r}"
                f"{'' if self.n is None else f', n={self.n}'}: c = {form} = {self.c:.6g}, "
                f"one step = {self.time_per_step:.6g} flow time)")
