"""The constraint manifold of one neuron: a product of unit spheres (or no constraint).

Stage I of GC keeps every vector of a neuron on a unit sphere and follows the projected
(Riemannian) gradient ascent of the energy ``E``:

    d nu/dt = grad_nu E - (<nu, grad_nu E> / |nu|^2) nu                (separate spheres)
    d [t1; t2]/dt = g - ((<t1, g1> + <t2, g2>) / (|t1|^2 + |t2|^2)) [t1; t2]   (joint sphere)

with ``<u, v> = sum_g u(g) v(g) = n sum_rho d_rho tr(u_hat^* v_hat)`` (Plancherel). On the
manifold the norms are 1, so the radial coefficient is the inner product ``<nu, grad_nu E>``.
When ``E`` is homogeneous of degree ``k_nu`` in ``nu`` (Euler), ``<nu, grad_nu E> = k_nu E``; the
engine derives ``k_nu`` from the energy itself (:func:`radial_coefficients`), it is not assumed.
At a point the tangent space is the orthogonal complement of one radial direction per sphere
(:func:`tangent_basis`).
"""
from __future__ import annotations

import numpy as np


def tangent_basis(names, sphere_groups, vectors) -> np.ndarray:
    """Orthonormal basis (columns) of the tangent space of the product of spheres at the stacked point
    ``[vectors[names[0]]; vectors[names[1]]; ...]`` (each of length ``n``): the orthogonal complement
    of the unit radial directions ``R_S`` (the point on the sphere ``S``, zero elsewhere), from the QR
    factorisation of ``[R, I]``."""
    names = list(names)
    n = len(vectors[names[0]])
    R = []
    for S in sphere_groups:
        c = np.zeros(n * len(names))
        for v in S:
            i = names.index(v)
            c[i * n:(i + 1) * n] = vectors[v]
        R.append(c / np.linalg.norm(c))
    R = np.column_stack(R)
    q, _ = np.linalg.qr(np.concatenate([R, np.eye(R.shape[0])], axis=1))
    return q[:, R.shape[1]:R.shape[0]]


def radial_coefficients(neuron, degrees: dict) -> dict:
    """Radial coefficient per vector of a :class:`~symflow.neuron.Neuron` as a multiple of ``Omega``.

    ``degrees[name]`` is the Euler degree ``<nu, grad_nu E> / E`` (derived from the energy). A
    vector on a sphere shared with others gets the sum of their degrees (the joint inner product
    ``sum <nu_i, grad_i E>`` over the joint sphere); no constraint gives ``0``.
    """
    import sympy as sp  # derivation only: the model itself is built without SymPy

    from .symbols import OMEGA

    out = {}
    for sphere in neuron.sphere_groups:
        total = sum(degrees[v] for v in sphere) if neuron.constrained else 0
        for v in sphere:
            out[v] = sp.nsimplify(total) * OMEGA
    return out
