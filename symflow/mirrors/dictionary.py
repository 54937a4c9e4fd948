r"""The Lasso dictionary of a network on 1-D data: raw columns, merged columns, evaluation.

For sorted training points ``x_1 < ... < x_N`` (repeats allowed) the raw columns are the features of
:mod:`.symbolic` at breakpoints built from the data:

* depth 2, activation ``sigma``: ``sigma(s (x - x_j))``, ``s = +-1``: ``2N`` columns;
* depth 3 (deep narrow ReLU): signs ``(s1, s2)``, breakpoints ``(x_{j1}, x_{j2})``: ``4 N^2`` columns
  (ramps and capped ramps between two data points);
* depth 4: signs ``(s1, s2, s3)``, breakpoints ``(a1, x_{j2}, x_{j3})`` with ``a1 = x_{j1}`` (``k = 0``)
  or the reflection ``a1 = 2 x_{j2} - x_{j1}`` of ``x_{j1}`` about ``x_{j2}`` (``k = 1``): ``16 N^3`` columns.

Merging (exact for the Lasso ``min 1/2 ||A z + xi 1 - y||^2 + beta ||z||_1``, whose bias ``xi`` is
free): a column that is constant on the data vanishes (the bias absorbs it); columns equal up to an
added constant and a sign are one column (``-a`` with ``z`` is ``a`` with ``-z``, same penalty).
Equality is decided after rounding to ``1e-9`` of the largest column entry. The first raw column of a
class (order: ``k = 0`` before ``k = 1``, signs ``+`` before ``-``, then the indices) represents it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..errors import SymflowError
from .data import Data
from ..neuron.activation import PIECEWISE
from .symbolic import feature_function

DEPTHS = (2, 3, 4)

#: Arrays of the raw dictionary's size alive at once while it is evaluated and merged (the values, their
#: differences, the rounded keys and the printed feature's temporaries).
RAW_ARRAYS = 6


def raw_count(n: int, depth: int) -> int:
    """Raw columns: ``2N``, ``4N^2``, ``16N^3`` at depth 2, 3, 4."""
    return {2: 2 * n, 3: 4 * n ** 2, 4: 16 * n ** 3}[depth]


def memory_estimate(n: int, depth: int):
    """:class:`symflow.resources.MemoryEstimate` of :func:`build_dictionary` (the raw ``N x columns`` arrays)."""
    from ..resources import MemoryEstimate

    est = MemoryEstimate(f"the depth-{depth} dictionary on {n} points", lower="fewer points or a smaller --depth")
    return est.add(f"{raw_count(n, depth)} raw columns", arrays=RAW_ARRAYS, shape=(n, raw_count(n, depth)))


def check_setting(depth, activation) -> tuple[int, str]:
    """``(depth, activation)`` validated (the activation by the one vocabulary, canonical name returned, e.g.
    ``step`` -> ``threshold``): depth 2 for every activation, 3 and 4 for ``relu`` only."""
    from ..errors import ModelError
    from ..neuron.activation import as_activation

    try:
        name = as_activation(activation).name if isinstance(activation, str) else activation
    except ModelError:
        name = None
    if name not in PIECEWISE:
        raise SymflowError(f"--activation must be one of {', '.join(PIECEWISE)}, got {activation!r}")
    activation = name
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth not in DEPTHS:
        raise SymflowError(f"--depth must be 2, 3 or 4, got {depth!r}")
    if depth > 2 and activation != "relu":
        raise SymflowError(f"--depth {depth} (deep narrow network) is derived for --activation relu only, got "
                           f"{activation!r}; use --depth 2 for {activation}")
    return int(depth), activation


@dataclass
class Dictionary:
    """Merged dictionary of one ``(depth, activation)`` on one data set.

    ``matrix`` ``(N, K)``: the representative columns on the sorted data; per column ``signs``,
    ``indices`` (data indices ``j_l``), ``k`` (1 for a reflection), ``breakpoints`` ``a_l`` (``(K, L-1)``)
    and ``multiplicity`` (raw columns merged into it). ``raw``: raw column count; ``vanished``: raw
    columns constant on the data."""

    depth: int
    activation: str
    data: Data
    matrix: np.ndarray
    signs: np.ndarray
    indices: np.ndarray
    k: np.ndarray
    breakpoints: np.ndarray
    multiplicity: np.ndarray
    raw: int
    vanished: int

    @property
    def columns(self) -> int:
        return self.raw

    @property
    def distinct(self) -> int:
        return self.matrix.shape[1]

    def evaluate(self, x, cols=None) -> np.ndarray:
        """Representative features ``F_c(x)`` at points ``x``: ``(len(x), len(cols))``."""
        cols = np.arange(self.distinct) if cols is None else np.asarray(cols, dtype=int)
        return raw_features(self.depth, self.activation, np.asarray(x, dtype=float),
                            self.breakpoints[cols], self.signs[cols])

    def summary(self) -> dict:
        return {"columns": int(self.raw), "distinct": int(self.distinct), "vanished": int(self.vanished)}


def raw_features(depth, activation, x, breakpoints, signs) -> np.ndarray:
    """``F(x_i; a_c, s_c)`` for points ``x`` ``(N,)`` and columns ``(C, L-1)``: ``(N, C)``."""
    f = feature_function(depth, activation)
    xs = np.asarray(x, dtype=float)[:, None]
    args = [breakpoints[:, i][None, :] for i in range(depth - 1)] + [signs[:, i][None, :].astype(float)
                                                                       for i in range(depth - 1)]
    out = f(xs, *args)
    return np.broadcast_to(np.asarray(out, dtype=float), (len(xs), len(breakpoints))).copy()


def raw_columns(data: Data, depth: int) -> tuple:
    """``(signs, indices, k, breakpoints)`` of every raw column, in representative order."""
    n, m = data.n, depth - 1
    sign_rows = np.array(list(itertools.product((1, -1), repeat=m)), dtype=np.int8)     # (2^m, m)
    idx_rows = np.array(list(itertools.product(range(n), repeat=m)), dtype=np.int64)    # (n^m, m)
    ks = (0, 1) if depth == 4 else (0,)
    signs = np.concatenate([np.repeat(sign_rows, len(idx_rows), axis=0)] * len(ks))
    indices = np.concatenate([np.tile(idx_rows, (len(sign_rows), 1))] * len(ks))
    k = np.repeat(np.array(ks, dtype=np.int8), len(sign_rows) * len(idx_rows))
    a = data.x[indices]
    if depth == 4:
        refl = k == 1
        a[refl, 0] = 2 * data.x[indices[refl, 1]] - data.x[indices[refl, 0]]
    return signs, indices, k, a


def merge_key(A: np.ndarray, scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, vanishing)``: integer row keys (column ``a`` minus its first entry, sign fixed so the
    first nonzero entry is positive, rounded to ``1e-9`` of ``scale``) and the constant-column mask."""
    B = A - A[0:1, :]
    scale = float(max(1.0, np.max(np.abs(A)) if scale is None else scale))
    q = 1e-9 * scale
    R = np.rint(B / q).astype(np.int64)
    nz = R != 0
    vanishing = ~nz.any(axis=0)
    first = np.argmax(nz, axis=0)
    sgn = np.sign(R[first, np.arange(R.shape[1])])
    sgn[sgn == 0] = 1
    return (R * sgn).T, vanishing


def build_dictionary(data: Data, depth: int = 2, activation: str = "relu") -> Dictionary:
    """Raw columns (module docstring), evaluated on the data by the printed SymPy features, merged; a
    dictionary that would not fit in memory is refused first (:func:`memory_estimate`)."""
    depth, activation = check_setting(depth, activation)
    memory_estimate(data.n, depth).check()          # before allocating (refused unless --force / force=True)
    signs, indices, k, a = raw_columns(data, depth)
    A = raw_features(depth, activation, data.x, a, signs)
    keys, vanishing = merge_key(A)
    keep = np.flatnonzero(~vanishing)
    if len(keep) == 0:
        rep = np.zeros(0, dtype=np.int64)
        counts = np.zeros(0, dtype=np.int64)
    else:
        _, first, inverse, counts = np.unique(keys[keep], axis=0, return_index=True, return_inverse=True,
                                              return_counts=True)
        order = np.argsort(first, kind="stable")     # classes in order of their first raw column
        rep = keep[first[order]]
        counts = counts[order]
    return Dictionary(depth=depth, activation=activation, data=data, matrix=A[:, rep], signs=signs[rep],
                      indices=indices[rep], k=k[rep], breakpoints=a[rep], multiplicity=counts.astype(np.int64),
                      raw=A.shape[1], vanished=int(vanishing.sum()))
