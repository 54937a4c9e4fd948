"""Brute-force parameter-space reference: sums over the Cayley table, no Fourier analysis.

This module is the independent check for every symbolic and generated result. It implements,
for a neuron ``(theta1, theta2, xi)`` with quadratic activation in the small-logit CE regime:

* energy ``Omega = n^-2 sum_{g1,g2} xi~(g1 g2) theta1(g1) theta2(g2)``, ``xi~ = xi - mean(xi)``
* Euclidean gradients (``P = I - 11^T/n`` centres):
  ``dOmega/dtheta1(a) = n^-2 sum_b xi~(ab) theta2(b)``,
  ``dOmega/dtheta2(b) = n^-2 sum_a xi~(ab) theta1(a)``,
  ``dOmega/dxi = P c / n^2`` with ``c(h) = sum_{ab=h} theta1(a) theta2(b)``
* the Riemannian gradient-ascent flow on spheres: separate ``d nu/dt = (I - nu nu^T) grad_nu``
  for each of ``theta1, theta2, xi``; joint: ``[theta1; theta2]`` projected jointly; shared
  (``theta1 = theta2 = theta``): ``grad_theta = dOmega/dtheta1 + dOmega/dtheta2``.

All functions are vectorised over leading axes: arrays ``(..., n)``. Cost ``O(n^2)`` per neuron.
"""
from __future__ import annotations

import numpy as np


def _centre(xi):
    return xi - xi.mean(axis=-1, keepdims=True)


def omega(group, theta1, theta2, xi) -> np.ndarray:
    """``n^-2 sum_{g1,g2} xi~(g1 g2) theta1(g1) theta2(g2)``, shape ``(...)``."""
    n = group.order
    X = _centre(np.asarray(xi, dtype=float))[..., group.table]  # (..., n, n): xi~(g1 g2)
    return np.einsum("...ab,...a,...b->...", X, theta1, theta2) / n ** 2


def euclidean_gradients(group, theta1, theta2, xi):
    """``(dOmega/dtheta1, dOmega/dtheta2, dOmega/dxi)``, each of shape ``(..., n)``."""
    n = group.order
    T = group.table
    X = _centre(np.asarray(xi, dtype=float))[..., T]
    g1 = np.einsum("...ab,...b->...a", X, theta2) / n ** 2
    g2 = np.einsum("...ab,...a->...b", X, theta1) / n ** 2
    outer = np.asarray(theta1)[..., :, None] * np.asarray(theta2)[..., None, :]  # (..., n, n) over (a, b)
    c = np.zeros(outer.shape[:-2] + (n,))
    flat_T = T.reshape(-1)
    np.add.at(np.moveaxis(c, -1, 0), flat_T, np.moveaxis(outer.reshape(outer.shape[:-2] + (n * n,)), -1, 0))
    gx = _centre(c) / n ** 2
    return g1, g2, gx


def _project(nu, g):
    """Tangent projection ``(I - nu nu^T / |nu|^2) g`` on the sphere through ``nu``."""
    return g - nu * (np.sum(nu * g, axis=-1, keepdims=True) / np.sum(nu * nu, axis=-1, keepdims=True))


def flow(group, theta1, theta2, xi, shared: bool = False, spheres: str = "separate"):
    """Riemannian gradient-ascent velocity of Omega.

    Returns ``(dtheta1, dtheta2, dxi)``; with ``shared=True`` pass ``theta2 = theta1`` and the
    returned ``dtheta1`` equals ``dtheta2`` (the velocity of the shared ``theta``). ``spheres`` is
    ``"separate"`` (theta1, theta2, xi each on a unit sphere) or ``"joint"`` (``[theta1; theta2]``
    on one sphere, xi on its own).
    """
    g1, g2, gx = euclidean_gradients(group, theta1, theta2, xi)
    dxi = _project(xi, gx)
    if shared:
        g = g1 + g2
        d = _project(theta1, g)
        return d, d, dxi
    if spheres == "separate":
        return _project(theta1, g1), _project(theta2, g2), dxi
    if spheres == "joint":
        th = np.concatenate([theta1, theta2], axis=-1)
        d = _project(th, np.concatenate([g1, g2], axis=-1))
        n = group.order
        return d[..., :n], d[..., n:], dxi
    raise ValueError(f"spheres must be 'separate' or 'joint', got {spheres!r}")
