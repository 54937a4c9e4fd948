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

from functools import lru_cache

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


# ============================================================================ any model, any dtype
# The defining sums for every model symflow has (CE or MSE, shared or not, any polynomial activation),
# written literally with ``sigma(theta1(g1) + theta2(g2))`` (no binomial expansion, no dropped terms:
# independent of the derivation in :mod:`symflow.theory.energy`). They use only ``+``, ``*``, ``**``,
# indexing and sums, so the same code runs on float arrays, on complex arrays (complex-step Hessians,
# exact to rounding for a polynomial) and on object arrays of ``mpmath.mpf`` (high-precision
# refinement). Points are stacked vectors ``x = [nu_1; nu_2; ...]`` in ``model.vector_names`` order,
# shape ``(..., V n)``; ``S[g1, g2] = theta1(g1) + theta2(g2)``, ``c(h) = sum_{g1 g2 = h} sigma(S)``.
#
# * CE:  ``E = (1/2) n^-2 sum_{g1,g2} xi~(g1 g2) sigma(S)``, ``xi~ = xi - mean xi``;
#   ``dE/dtheta1(a) = (1/2) n^-2 sum_b xi~(ab) sigma'(S[a, b])`` (``theta2``: the sum over ``a``),
#   ``dE/dxi = (1/2) n^-2 (c - mean c)``.
# * MSE: ``E = (1/2) sum_h z~(h)^2``, ``z~ = c - mean c``; ``dE/dtheta1(a) = sum_b z~(ab) sigma'(S[a, b])``.
# * shared embeddings: ``theta1 = theta2 = theta`` and ``dE/dtheta = dE/dtheta1 + dE/dtheta2``.
@lru_cache(maxsize=64)
def _polynomial(model) -> list:
    """``[(k, p, q)]``: ``sigma(z) = sum_k (p / q) z^k`` with integer ``p, q`` (exact in any dtype; cached
    per model)."""
    import sympy as sp

    from .symbols import Z

    return [(int(k), int(c.p), int(c.q)) for (k,), c in sp.Poly(model.activation, Z).terms()]


def _sigma(coeffs, S, derivative: bool = False):
    out = 0
    for k, p, q in coeffs:
        if derivative:
            if k:
                out = out + S ** (k - 1) * (k * p) / q
        else:
            out = out + (S ** k if k else 1) * p / q
    return out + 0 * S


def stack(model, arrays: dict) -> np.ndarray:
    """``{name: (..., n)}`` to stacked points ``(..., V n)`` in ``model.vector_names`` order (the one
    stacked layout of a neuron's parameters: the landscape, the checks and the rates use it)."""
    return np.concatenate([np.asarray(arrays[name], float) for name in model.vector_names], axis=-1)


def split(model, x) -> dict:
    """Stacked points to ``{name: view (..., n)}`` (views: writing to them writes to ``x``)."""
    n = model.group.order
    return {name: x[..., i * n:(i + 1) * n] for i, name in enumerate(model.vector_names)}


def _centred(v):
    return v - v.sum(axis=-1, keepdims=True) / v.shape[-1]


def _fibres(group, H):
    """``c(h) = sum_{g1 g2 = h} H[..., g1, g2] = sum_g1 H[..., g1, g1^-1 h]``, shape ``(..., n)``."""
    n = group.order
    left = group.table[group.inverse]                    # left[g1, h] = g1^-1 h
    return H[..., np.arange(n)[:, None], left].sum(axis=-2)


def _pairs(model, x):
    vec = split(model, np.asarray(x))
    in1, in2 = model.input_names
    return vec, vec[in1][..., :, None] + vec[in2][..., None, :]


def energy(model, x):
    """The model's energy ``E`` at stacked points ``x`` (module comment above), shape ``(...)``."""
    vec, S = _pairs(model, x)
    H = _sigma(_polynomial(model), S)
    n = model.group.order
    if model.loss == "ce":
        X = _centred(vec[model.output_name])[..., model.group.table]
        return (X * H).sum(axis=(-2, -1)) / (2 * n * n)
    z = _centred(_fibres(model.group, H))
    return (z * z).sum(axis=-1) / 2


def gradient(model, x):
    """Euclidean gradient ``dE/dx`` at stacked points ``x``, same shape as ``x``."""
    vec, S = _pairs(model, x)
    G = model.group
    n = G.order
    coeffs = _polynomial(model)
    D = _sigma(coeffs, S, derivative=True)
    c = _fibres(G, _sigma(coeffs, S))
    if model.loss == "ce":
        W = _centred(vec[model.output_name])[..., G.table] / (2 * n * n)
    else:
        W = _centred(c)[..., G.table]
    WD = W * D
    g1, g2 = WD.sum(axis=-1), WD.sum(axis=-2)
    in1, in2 = model.input_names
    out = {in1: g1 + g2} if in1 == in2 else {in1: g1, in2: g2}
    if model.loss == "ce":
        out[model.output_name] = _centred(c) / (2 * n * n)
    return np.concatenate([out[name] for name in model.vector_names], axis=-1)


def sphere_slices(model) -> list:
    """``[(sphere, [slice, ...])]``: the stacked coordinates of each sphere group of the neuron."""
    n = model.group.order
    names = model.vector_names
    return [(S, [slice(names.index(v) * n, (names.index(v) + 1) * n) for v in S])
            for S in model.neuron.sphere_groups]


def multipliers(model, x, g=None):
    """Per stacked coordinate, ``lambda_S = <nu_S, g_S> / |nu_S|^2`` of its sphere (0 without constraint)."""
    x = np.asarray(x)
    g = gradient(model, x) if g is None else g
    lam = np.zeros_like(x)
    for _, sl in sphere_slices(model):
        num = sum((x[..., s] * g[..., s]).sum(axis=-1) for s in sl)
        den = sum((x[..., s] * x[..., s]).sum(axis=-1) for s in sl)
        for s in sl:
            lam[..., s] = np.asarray(num / den)[..., None]
    return lam


def riemannian_gradient(model, x):
    """``g - lambda_S nu_S`` on each sphere: the projected flow's velocity at ``x`` (ascent of ``E``)."""
    x = np.asarray(x)
    g = gradient(model, x)
    if not model.neuron.constrained:
        return g
    return g - multipliers(model, x, g) * x


def hessian(model, x, step: float = 1e-30) -> np.ndarray:
    """Euclidean Hessian of ``E`` at one stacked point ``x`` (shape ``(D, D)``) by the complex step
    ``H e_k = Im grad(x + i h e_k) / h``: exact to rounding for the polynomial energy (no cancellation)."""
    x = np.asarray(x, dtype=float)
    D = x.shape[-1]
    pts = x[None, :] + 1j * step * np.eye(D)
    H = gradient(model, pts).imag / step
    return (H + H.T) / 2


def tangent_hessian(model, x) -> tuple:
    """``(J, B)``: the Riemannian Hessian ``B^T (H - Lambda) B`` at a critical point ``x`` in an orthonormal
    basis ``B`` of the tangent space of the product of spheres (:func:`symflow.theory.manifold.tangent_basis`).
    Its eigenvalues are the flow's linear rates there (time unit ``c = 1``)."""
    from .manifold import tangent_basis

    x = np.asarray(x, dtype=float)
    H = hessian(model, x)
    if not model.neuron.constrained:
        return H, np.eye(len(x))
    lam = multipliers(model, x)
    names = model.vector_names
    B = tangent_basis(names, model.neuron.sphere_groups, split(model, x))
    return B.T @ (H - np.diag(lam)) @ B, B
