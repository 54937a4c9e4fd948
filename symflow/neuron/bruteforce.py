"""Brute-force parameter-space reference: sums over the Cayley table (on a band-limited compact group, Haar
integrals by quadrature: the last section), no Fourier analysis.

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
The sphere projections are those of the one geometry (:class:`~symflow.neuron.geometry.StackedGeometry`),
the activation the model's :class:`~symflow.neuron.activation.Activation` (its exact coefficients).
The analytic Cayley-table Hessian of the CE quadratic model (:func:`symflow.theory.rates.euclidean_hessian`,
the fast path of the rates) is checked against :func:`hessian` here.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .geometry import StackedGeometry, tangent_basis
from .points import split

__all__ = ["omega", "euclidean_gradients", "flow", "energy", "gradient",
           "multipliers", "riemannian_gradient", "hessian", "tangent_hessian", "training_weights",
           "training_counts", "energy_gradient"]



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


def flow(group, theta1, theta2, xi, shared: bool = False, spheres: str = "separate"):
    """Riemannian gradient-ascent velocity of Omega.

    Returns ``(dtheta1, dtheta2, dxi)``; with ``shared=True`` pass ``theta2 = theta1`` and the
    returned ``dtheta1`` equals ``dtheta2`` (the velocity of the shared ``theta``). ``spheres`` is
    ``"separate"`` (theta1, theta2, xi each on a unit sphere) or ``"joint"`` (``[theta1; theta2]``
    on one sphere, xi on its own).
    """
    g1, g2, gx = euclidean_gradients(group, theta1, theta2, xi)
    n = group.order
    one = StackedGeometry(("nu",), (("nu",),), n)       # one vector on its own sphere
    dxi = one.project_tangent(xi, gx)
    if shared:
        d = one.project_tangent(theta1, g1 + g2)
        return d, d, dxi
    if spheres == "separate":
        return one.project_tangent(theta1, g1), one.project_tangent(theta2, g2), dxi
    if spheres == "joint":
        joint = StackedGeometry(("nu",), (("nu",),), 2 * n)
        d = joint.project_tangent(np.concatenate([theta1, theta2], axis=-1), np.concatenate([g1, g2], axis=-1))
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
#
# Training mask (MSE only, Li2's energy on a subset ``S`` of the table; ``mask=None`` is the model's own mask,
# ``model.mask``, and the full table without one, the formulas above): with ``M`` the boolean ``(n, n)`` mask,
# ``N = |S|``, ``N_h = #{(a, b) in S: ab = h}``, ``q_h = N_h / N``, ``z_h = sum_{(a, b) in S, ab = h} sigma(S[a, b])``,
# ``s = sum_h z_h``, ``r = z - q s`` (computed as ``z - N_h s / N``: exact on object arrays):
# ``E = (1/2) sum_h r_h^2`` and ``dE/dtheta1(a) = sum_b M[a, b] (r_{ab} - <q, r>) sigma'(S[a, b])``.
#
# Activation: a polynomial is evaluated from its exact coefficients (any dtype); any other activation of the
# one vocabulary (relu, silu: models with loss="mse" only) through its ``sigma`` / ``sigma'`` on float arrays,
# and its Hessian by central differences of the gradient (``FD_STEP``).
#: Central-difference step of the Hessian of a non-polynomial activation.
FD_STEP = 1e-5


def training_weights(group, mask) -> tuple:
    """``(M, q)``: the mask as a boolean ``(n, n)`` array and the target frequencies ``q_h`` of its entries
    (module comment); ModelError naming the accepted form unless ``mask`` is ``(n, n)`` with two targets."""
    M, counts = training_counts(group, mask)
    return M, counts / counts.sum()


def training_counts(group, mask) -> tuple:
    """``(M, N_h)``: the mask as a boolean ``(n, n)`` array and the integer target counts of its entries
    (:func:`training_weights` without the division)."""
    n = group.order
    M = np.asarray(mask, dtype=bool)
    if M.shape != (n, n):
        raise ModelError(f"the training mask must be a boolean array of shape ({n}, {n}) over the table "
                         f"entries (g1, g2), got shape {M.shape}")
    counts = np.bincount(np.asarray(group.table)[M], minlength=n)
    if np.count_nonzero(counts) < 2:
        raise ModelError("the training mask needs entries with at least two distinct products g1 g2 "
                         "(else the centred targets vanish)")
    return M, counts


def _masked(model, mask):
    """``(M, N_h, N)`` of ``mask`` (else of the model's own mask), or ``None`` for the full table."""
    if mask is None:
        return getattr(model, "training", None)
    if model.loss != "mse":
        raise ModelError("a training mask is defined for the MSE (Li2) energy only; use loss='mse' or mask=None")
    M, counts = training_counts(model.group, mask)
    return M, counts, int(counts.sum())


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


def _sigma(model, S, derivative: bool = False):
    """``sigma(S)`` (or ``sigma'``): the activation's own callables on float and complex arrays (for a polynomial the same
    values as its coefficients), the exact coefficients of a polynomial on any other dtype."""
    act = model.sigma
    if act.is_polynomial and S.dtype not in (np.float64, np.complex128):
        return act.polynomial(S, derivative=derivative)
    return act.dsigma(S) if derivative else act.sigma(S)


def _residual(model, H, weights):
    """MSE: ``r = z - q s`` on the mask (``weights``), else the centred fibre sums ``z~``."""
    if weights is None:
        return _centred(_fibres(model.group, H))
    M, counts, N = weights
    c = _fibres(model.group, H * M)
    return c - counts * c.sum(axis=-1)[..., None] / N


def energy(model, x, mask=None):
    """The model's energy ``E`` at stacked points ``x`` (module comment above), shape ``(...)``; ``mask``:
    Li2's energy on a subset of the table (MSE only; ``None``: the model's own mask, else the full table)."""
    if getattr(model.group, "is_compact", False):
        return _haar_energy_gradient(model, x)[0]
    vec, S = _pairs(model, x)
    weights = _masked(model, mask)
    H = _sigma(model, S)
    n = model.group.order
    if model.loss == "ce":
        X = _centred(vec[model.output_name])[..., model.group.table]
        return (X * H).sum(axis=(-2, -1)) / (2 * n * n)
    z = _residual(model, H, weights)
    return (z * z).sum(axis=-1) / 2


def energy_gradient(model, x, mask=None) -> tuple:
    """``(E, dE/dx)`` at stacked points ``x`` in one pass (:func:`energy`, :func:`gradient`)."""
    if getattr(model.group, "is_compact", False):
        return _haar_energy_gradient(model, x)
    vec, S = _pairs(model, x)
    G = model.group
    n = G.order
    D = _sigma(model, S, derivative=True)
    H = _sigma(model, S)
    weights = _masked(model, mask)
    if model.loss == "ce":
        X = _centred(vec[model.output_name])[..., G.table]
        E = (X * H).sum(axis=(-2, -1)) / (2 * n * n)
        W = X / (2 * n * n)
        c = _fibres(G, H)
    else:
        r = _residual(model, H, weights)
        E = (r * r).sum(axis=-1) / 2
        if weights is not None:
            M, counts, N = weights
            W = (r - (r * counts).sum(axis=-1)[..., None] / N)[..., G.table] * M
        else:
            W = r[..., G.table]
    WD = W * D
    g1, g2 = WD.sum(axis=-1), WD.sum(axis=-2)
    in1, in2 = model.input_names
    out = {in1: g1 + g2} if in1 == in2 else {in1: g1, in2: g2}
    if model.loss == "ce":
        out[model.output_name] = _centred(c) / (2 * n * n)
    return E, np.concatenate([out[name] for name in model.vector_names], axis=-1)


def gradient(model, x, mask=None):
    """Euclidean gradient ``dE/dx`` at stacked points ``x``, same shape as ``x`` (``mask`` as in :func:`energy`)."""
    return energy_gradient(model, x, mask)[1]


def multipliers(model, x, g=None, mask=None):
    """Per stacked coordinate, ``lambda_S = <nu_S, g_S> / |nu_S|^2`` of its sphere (0 without constraint;
    :meth:`~symflow.neuron.geometry.SphereGeometry.multipliers`)."""
    x = np.asarray(x)
    g = gradient(model, x, mask) if g is None else g
    lam = np.zeros_like(x)
    geometry = StackedGeometry.of(model)
    for coef, spans in zip(geometry.multipliers(x, g), geometry.sphere_spans):
        for a, b in spans:
            lam[..., a:b] = np.asarray(coef)[..., None]
    return lam


def riemannian_gradient(model, x, mask=None):
    """``g - lambda_S nu_S`` on each sphere: the projected flow's velocity at ``x`` (ascent of ``E``;
    :meth:`~symflow.neuron.geometry.SphereGeometry.project_tangent`)."""
    x = np.asarray(x)
    g = gradient(model, x, mask)
    if not model.neuron.constrained:
        return g
    return StackedGeometry.of(model).project_tangent(x, g)


def hessian(model, x, step: float = 1e-30, mask=None) -> np.ndarray:
    """Euclidean Hessian of ``E`` at one stacked point ``x`` (shape ``(D, D)``) by the complex step
    ``H e_k = Im grad(x + i h e_k) / h``: exact to rounding for the polynomial energy (no cancellation).
    A non-polynomial activation (no complex extension used): central differences
    ``H e_k = (grad(x + h e_k) - grad(x - h e_k)) / 2h`` with ``h = FD_STEP``."""
    x = np.asarray(x, dtype=float)
    D = x.shape[-1]
    if not model.sigma.is_polynomial:
        I = FD_STEP * np.eye(D)
        H = (gradient(model, x[None, :] + I, mask) - gradient(model, x[None, :] - I, mask)) / (2 * FD_STEP)
        return (H + H.T) / 2
    pts = x[None, :] + 1j * step * np.eye(D)
    H = gradient(model, pts, mask).imag / step
    return (H + H.T) / 2


def tangent_hessian(model, x, mask=None) -> tuple:
    """``(J, B)``: the Riemannian Hessian ``B^T (H - Lambda) B`` at a critical point ``x`` in an orthonormal
    basis ``B`` of the tangent space of the product of spheres (:func:`symflow.neuron.geometry.tangent_basis`).
    Its eigenvalues are the flow's linear rates there (time unit ``c = 1``)."""
    x = np.asarray(x, dtype=float)
    H = hessian(model, x, mask=mask)
    if not model.neuron.constrained:
        return H, np.eye(len(x))
    lam = multipliers(model, x, mask=mask)
    names = model.vector_names
    B = tangent_basis(names, model.neuron.sphere_groups, split(model, x))
    return B.T @ (H - np.diag(lam)) @ B, B


# ============================================================================ band-limited compact groups
# The same defining sums with the Cayley table's ``n^-2 sum_{g1, g2}`` replaced by the Haar double integral, evaluated
# by the quadrature exact to band ``2L`` (:meth:`~symflow.groups.compact.CompactGroup.quadrature`: elements ``g_a``,
# weights ``w_a`` summing to 1). A point holds each vector's ``D`` coordinates in the orthonormal real basis
# (:mod:`symflow.groups.compact.signals`, the unit ``L^2`` sphere is the unit sphere of ``R^D``); the functions are
# evaluated at the nodes (``Phi[a] = phi(g_a)``) and at the products of two nodes (``Phi2[a, b] = phi(g_a g_b)``, the
# matrix products formed literally, no Fourier transform):
#
#   ``E = (1/2) sum_{a,b} w_a w_b xi~(g_a g_b) sigma(theta1(g_a) + theta2(g_b))``, ``xi~ = xi - sum_c w_c xi(g_c)``.
#
# Exact for ``sigma = z^2`` (the one activation compact models take): the cross term ``xi~(g1 g2) theta1(g1)
# theta2(g2)`` has band ``<= 2L`` in each variable, and each pure term's inner sum (``sum_b w_b xi~(g_a g_b)``, band
# ``L``) is exactly ``int xi~ = 0``. Cost ``O(N^2 D)`` per point (``N`` nodes: ``(2L+1)^2 (L+1)`` on ``SO(3)``).

#: The grids of the groups used so far (a few at a time: ``Phi2`` has ``N^2 D`` entries).
_HAAR_GRIDS: dict = {}


def haar_grid(group) -> tuple:
    """``(w, Phi, Phi2)``: the weights ``(N,)``, the basis at the nodes ``(N, D)`` and at the products of two nodes
    ``(N, N, D)`` (see the comment above), cached per group."""
    key = (group.name, group.bandlimit)
    if key not in _HAAR_GRIDS:
        from ..groups.compact.signals import basis_values

        E, w = group.quadrature()
        N = len(w)
        products = np.einsum("aij,bjk->abik", E, E).reshape(N * N, E.shape[1], E.shape[2])
        Phi2 = basis_values(group, products).reshape(N, N, -1)
        if len(_HAAR_GRIDS) >= 4:
            _HAAR_GRIDS.pop(next(iter(_HAAR_GRIDS)))
        _HAAR_GRIDS[key] = (w, basis_values(group, E), Phi2)
    return _HAAR_GRIDS[key]


def pair_count(group) -> int:
    """Pairs ``(g1, g2)`` the brute force sums over per point: ``n^2`` table entries, or ``N^2`` node pairs of the
    quadrature on a compact group (:func:`haar_grid_entries`); its arrays per point have this many entries."""
    if getattr(group, "is_compact", False):
        return haar_grid_entries(group)[0] ** 2
    return group.order ** 2


def haar_grid_entries(group) -> tuple:
    """``(N, D)``: nodes and coordinates of :func:`haar_grid` (its largest array has ``N^2 D`` entries), without
    building it (for the memory estimates of :mod:`symflow.resources`)."""
    from ..groups.compact.signals import coordinate_count

    L2 = 2 * group.bandlimit
    N = {"SO(2)": L2 + 1, "O(2)": 2 * (L2 + 1), "SO(3)": (L2 + 1) ** 2 * (L2 // 2 + 1),
         "O(3)": 2 * (L2 + 1) ** 2 * (L2 // 2 + 1)}[group.name]
    return N, coordinate_count(group)


def _haar_energy_gradient(model, x) -> tuple:
    """``(E, dE/dx)`` of a CE model on a band-limited compact group (the comment above). The nodes and weights are
    double precision, so on ``mpmath`` object arrays the sums run in double precision and return ``mpf`` values: the
    compact brute force is exact to rounding, not to 40 digits (the landscape's refinement gains nothing there)."""
    x = np.asarray(x)
    if x.dtype == object:
        import mpmath

        E, g = _haar_energy_gradient(model, x.astype(float))
        as_mpf = np.vectorize(mpmath.mpf, otypes=[object])
        return (as_mpf(E) if np.ndim(E) else mpmath.mpf(float(E))), as_mpf(g)
    w, Phi, Phi2 = haar_grid(model.group)
    vec = split(model, np.asarray(x))
    in1, in2 = model.input_names
    t1, t2 = vec[in1] @ Phi.T, vec[in2] @ Phi.T                       # (..., N) values at the nodes
    xi = vec[model.output_name]
    X = np.einsum("abk,...k->...ab", Phi2, xi) - np.asarray((xi @ Phi.T) @ w)[..., None, None]   # xi~(g_a g_b)
    S = t1[..., :, None] + t2[..., None, :]
    ww = w[:, None] * w[None, :] / 2
    H = _sigma(model, S)
    WD = X * ww * _sigma(model, S, derivative=True)
    E = (X * ww * H).sum(axis=(-2, -1))
    g1, g2 = WD.sum(axis=-1) @ Phi, WD.sum(axis=-2) @ Phi
    wH = ww * H
    gx = np.einsum("...ab,abk->...k", wH, Phi2) - np.asarray(wH.sum(axis=(-2, -1)))[..., None] * (w @ Phi)
    out = {in1: g1 + g2} if in1 == in2 else {in1: g1, in2: g2}
    out[model.output_name] = gx
    return E, np.concatenate([out[name] for name in model.vector_names], axis=-1)
