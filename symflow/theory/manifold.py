"""The constraint manifold of one neuron: a product of unit spheres (or no constraint).

Stage I of GC keeps every vector of a neuron on a unit sphere and follows the projected
(Riemannian) gradient ascent of the energy ``E``:

    d nu/dt = grad_nu E - (<nu, grad_nu E> / |nu|^2) nu                (separate spheres)
    d [t1; t2]/dt = g - ((<t1, g1> + <t2, g2>) / (|t1|^2 + |t2|^2)) [t1; t2]   (joint sphere)

with ``<u, v> = sum_g u(g) v(g) = n sum_rho d_rho tr(u_hat^* v_hat)`` (Plancherel). On the
manifold the norms are 1, so the radial coefficient is the inner product ``<nu, grad_nu E>``.
When ``E`` is homogeneous of degree ``k_nu`` in ``nu`` (Euler), ``<nu, grad_nu E> = k_nu E``; the
engine derives ``k_nu`` from the energy itself (:func:`radial_coefficients`), it is not assumed.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import ModelError
from .symbols import OMEGA


@dataclass(frozen=True)
class SphereProduct:
    """Which vectors share a unit sphere.

    ``spheres`` is a tuple of groups of vector names; each group is one unit sphere (the
    concatenation of its vectors has norm 1). ``constrained=False`` means no sphere at all
    (plain gradient ascent, no radial terms).
    """

    spheres: tuple
    constrained: bool = True

    @classmethod
    def for_vectors(cls, names: tuple, kind: str, constraint: str, joint_pair: tuple | None) -> "SphereProduct":
        if constraint == "none":
            return cls(tuple((v,) for v in names), constrained=False)
        if kind == "separate":
            return cls(tuple((v,) for v in names))
        if kind == "joint":
            if joint_pair is None:
                raise ModelError("spheres='joint' normalises the two input embeddings together and needs "
                                 "unshared embeddings; use shared=False or spheres='separate'")
            rest = tuple((v,) for v in names if v not in joint_pair)
            return cls((tuple(joint_pair),) + rest)
        raise ModelError(f"spheres must be 'separate' or 'joint', got {kind!r}")

    def sphere_of(self, name: str) -> tuple:
        for s in self.spheres:
            if name in s:
                return s
        raise ModelError(f"no vector named {name!r}; the vectors are {[v for s in self.spheres for v in s]}")

    def describe(self) -> str:
        if not self.constrained:
            return "unconstrained (no sphere projection)"
        parts = ["S^{n-1}" if len(s) == 1 else "S^{%dn-1}" % len(s) for s in self.spheres]
        names = ["[" + "; ".join(s) + "]" if len(s) > 1 else s[0] for s in self.spheres]
        return " x ".join(f"{p} ({nm})" for p, nm in zip(parts, names))


def radial_coefficients(manifold: SphereProduct, degrees: dict) -> dict:
    """Radial coefficient per vector as a multiple of ``Omega``.

    ``degrees[name]`` is the Euler degree ``<nu, grad_nu E> / E`` (derived from the energy). A
    vector on a sphere shared with others gets the sum of their degrees (the joint inner product
    ``sum <nu_i, grad_i E>`` over the joint sphere); no constraint gives ``0``.
    """
    out = {}
    for sphere in manifold.spheres:
        total = sum(degrees[v] for v in sphere) if manifold.constrained else 0
        for v in sphere:
            out[v] = sp.nsimplify(total) * OMEGA
    return out
