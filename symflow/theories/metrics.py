r"""The three ways symflow compares two matrices ``A`` (the measured side) and ``B`` (the statement), defined once.

* :func:`relative_residual` ``|A - B|_F / |A|_F``: for exact statements (FACT, the bias-free identities).
* :func:`pearson` : the Pearson correlation of the entries of ``A`` and ``B`` (each centred by its mean entry).
* :func:`cosine` : the uncentred cosine ``<A, B>_F / (|A|_F |B|_F)``: for proportionality statements (NFA, CRH),
  1 exactly when ``A = c B`` with ``c > 0``.

Invariance under an orthogonal change of basis ``A, B -> Q A Q^T, Q B Q^T``: the Frobenius inner product and
norm are invariant, so :func:`cosine` and :func:`relative_residual` are; :func:`pearson` is **not** (the mean
entry it subtracts depends on the basis: ``pearson(I + E, I + 2E)`` with ``E`` the all-ones matrix is 1, but
after a rotation that maps the all-ones direction onto a coordinate axis it is not).
``tests/test_theories.py`` checks both facts with Hypothesis.
"""
from __future__ import annotations

import numpy as np

#: name -> (description, basis invariant?)
METRICS = {
    "relative_residual": ("|A - B|_F / |A|_F (0 when the statement holds exactly)", True),
    "cosine": ("<A, B>_F / (|A|_F |B|_F), uncentred (1 when A is a positive multiple of B)", True),
    "pearson": ("Pearson correlation of the entries of A and B (centred by the mean entry)", False),
}

_TINY = 1e-300


def relative_residual(A, B) -> float:
    """``|A - B|_F / |A|_F`` (``inf`` when ``A = 0 != B``; 0 when both vanish)."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    num, den = np.linalg.norm(A - B), np.linalg.norm(A)
    if den < _TINY:
        return 0.0 if num < _TINY else float("inf")
    return float(num / den)


def cosine(A, B) -> float:
    """Uncentred cosine ``<A, B>_F / (|A|_F |B|_F)`` (0 when either vanishes); basis invariant."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    den = np.linalg.norm(A) * np.linalg.norm(B)
    return float(np.sum(A * B) / den) if den > _TINY else 0.0


def pearson(A, B) -> float:
    """Pearson correlation of the entries (0 when either has constant entries); not basis invariant."""
    a = np.asarray(A, dtype=float).ravel()
    b = np.asarray(B, dtype=float).ravel()
    a, b = a - a.mean(), b - b.mean()
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / den) if den > _TINY else 0.0


def compare(metric: str, A, B) -> float:
    """The metric ``metric`` (a key of :data:`METRICS`) of ``A`` against ``B``."""
    return {"relative_residual": relative_residual, "cosine": cosine, "pearson": pearson}[metric](A, B)
