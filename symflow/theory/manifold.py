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
(:func:`symflow.neuron.geometry.tangent_basis`, with the rest of the one sphere geometry).
"""
from __future__ import annotations


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
