"""Quadrature rules exact to a band limit, and the Fourier transform of sampled signals on compact groups.

``f_hat(rho) = int f(g) rho(g)^dagger dg`` (Haar probability; ``rho(g^-1) = rho(g)^dagger``),
``f(g) = sum_rho d_rho tr(f_hat(rho) rho(g))`` and Plancherel ``int |f|^2 dg = sum_rho d_rho ||f_hat(rho)||_F^2``.

Rules exact for every matrix entry of an irrep of band ``<= D`` (hence for products of two band-``L``
functions when ``D = 2L``):

* ``SO(2)``: ``N = D + 1`` uniform angles ``2 pi j / N``, weights ``1/N``
  (``sum_j e^{i k phi_j} = 0`` for ``0 < |k| < N``);
* ``O(2)``: the same rotations and their reflections ``r_phi f``, weights ``1/(2N)``;
* ``SO(3)``: ``alpha, gamma`` on ``N = D + 1`` uniform angles, ``cos beta`` on ``floor(D/2) + 1`` Gauss-Legendre
  nodes (exact to degree ``D`` in ``cos beta``, which is all that survives the ``alpha, gamma`` sums:
  ``d^l_{00}(beta) = P_l(cos beta)``), weights ``w_GL / (2 N^2)``;
* ``O(3)``: the ``SO(3)`` rule and its negatives, weights halved.
"""
from __future__ import annotations

import numpy as np

from ...errors import SymflowError
from . import rotations as rot


def quadrature(group, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """``(elements, weights)`` of the rule of ``group`` exact to band ``degree`` (see the module doc)."""
    return rot.quadrature_rule(group.name, degree)


def fourier(group, samples, grid=None) -> list[np.ndarray]:
    """``f_hat(rho) = sum_j w_j f(g_j) rho(g_j)^dagger`` for every irrep (``d x d`` arrays, id order); ``samples``
    are ``f`` on ``grid = (elements, weights)`` (default ``group.quadrature()``, exact for band-limited ``f``)."""
    elements, weights = group.quadrature() if grid is None else grid
    f = np.asarray(samples)
    if f.shape != (len(weights),):
        raise SymflowError(f"samples must have one value per grid element ({len(weights)}), got shape {f.shape}")
    out = []
    for r in group.irreps:
        M = r.matrices(elements)
        out.append(np.tensordot(weights * f, M.conj(), axes=(0, 0)).T)
    return out


def inverse_fourier(group, coefficients, elements) -> np.ndarray:
    """``f(g) = sum_rho d_rho tr(f_hat(rho) rho(g))`` at ``elements``."""
    f = 0
    for r, c in zip(group.irreps, coefficients):
        M = r.matrices(elements)
        f = f + r.dim * (M.reshape(len(M), -1) @ np.asarray(c).T.reshape(-1))
    return np.asarray(f)


def plancherel(group, coefficients) -> float:
    """``sum_rho d_rho ||f_hat(rho)||_F^2`` (equals ``int |f|^2 dg`` for band-limited ``f``)."""
    return float(sum(r.dim * np.sum(np.abs(c) ** 2) for r, c in zip(group.irreps, coefficients)))
