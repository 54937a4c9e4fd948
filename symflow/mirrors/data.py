"""One-dimensional training data for :mod:`symflow.mirrors`: read, checked, sorted.

Accepted forms: a CSV file of two columns ``x,y`` (an optional header line, ``#`` comments, blank
lines ignored) or two equal-length lists of finite numbers. Refused with one
:class:`~symflow.errors.SymflowError` line: fewer than 2 points, lengths that differ, NaN or
infinite values, the same ``x`` with different ``y``. Points are sorted by ``x`` (ascending); repeated
points with the same ``y`` are kept (each counts once in the squared loss).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from ..errors import SymflowError

ACCEPTED = "a CSV file with two columns x,y (optional header) or --x X1,X2,... --y Y1,Y2,..."


@dataclass(frozen=True)
class Data:
    """Sorted training points ``x`` (ascending) and labels ``y``; ``order`` maps sorted to given positions."""

    x: np.ndarray
    y: np.ndarray
    order: np.ndarray

    @property
    def n(self) -> int:
        return len(self.x)

    @property
    def scale(self) -> float:
        """``max(|x|)`` (at least 1): the unit of the merge tolerances."""
        return float(max(1.0, np.max(np.abs(self.x))))


def _numbers(text: str, name: str) -> list[float]:
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(p == "" for p in parts):
        raise SymflowError(f"{name} must be a comma-separated list of numbers, got {text!r}")
    out = []
    for p in parts:
        try:
            out.append(float(p))
        except ValueError:
            raise SymflowError(f"{name} must be a comma-separated list of numbers, got {p!r} in {text!r}") from None
    return out


def parse_lists(x_text: str, y_text: str) -> Data:
    """``--x 0,1,2 --y 0,1,0`` as :class:`Data`."""
    return make_data(_numbers(x_text, "--x"), _numbers(y_text, "--y"))


def read_csv(path) -> Data:
    """Two columns ``x,y`` from a CSV file (see the module docstring)."""
    try:
        with open(path, newline="") as fh:
            rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")
                    and any(c.strip() for c in r)]
    except OSError as exc:
        raise SymflowError(f"cannot read the data file {path}: {exc.strerror or type(exc).__name__}; "
                           f"expected {ACCEPTED}") from None
    except (UnicodeDecodeError, csv.Error):
        raise SymflowError(f"the data file {path} is not a text CSV file; expected {ACCEPTED}") from None
    xs, ys = [], []
    for i, row in enumerate(rows):
        cells = [c.strip() for c in row]
        if len(cells) != 2:
            raise SymflowError(f"{path}: row {i + 1} has {len(cells)} columns; expected {ACCEPTED}")
        try:
            xv, yv = float(cells[0]), float(cells[1])
        except ValueError:
            if i == 0:
                continue   # a header
            raise SymflowError(f"{path}: row {i + 1} is not two numbers ({','.join(cells)}); expected "
                               f"{ACCEPTED}") from None
        xs.append(xv)
        ys.append(yv)
    return make_data(xs, ys)


def make_data(x, y) -> Data:
    """Check and sort the points (see the module docstring)."""
    try:
        x = np.asarray(x, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError):
        raise SymflowError(f"x and y must be numbers; expected {ACCEPTED}") from None
    if len(x) != len(y):
        raise SymflowError(f"x has {len(x)} values but y has {len(y)}; they must have the same length")
    if len(x) < 2:
        raise SymflowError(f"the data need at least 2 points, got {len(x)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise SymflowError("the data contain NaN or infinite values; every x and y must be a finite number")
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    same = np.flatnonzero(np.diff(xs) == 0)
    bad = [i for i in same if ys[i] != ys[i + 1]]
    if bad:
        i = bad[0]
        raise SymflowError(f"x = {xs[i]:g} appears with different y ({ys[i]:g} and {ys[i + 1]:g}); no function "
                           f"fits both: remove or average the repeated points")
    if xs[-1] == xs[0]:
        raise SymflowError(f"all points have the same x = {xs[0]:g}; the data need at least 2 distinct x")
    return Data(x=xs, y=ys, order=order)
