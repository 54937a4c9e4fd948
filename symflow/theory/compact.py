"""GC's energy on a band-limited compact group, measured by quadrature, and the limits from finite subgroups.

Normalisation: Haar **probability** measure and unit spheres in ``L^2(G)`` (``int theta^2 dg = 1``). The energy of
one neuron (docs/theory.md sections 2 and 13) is

    Omega(xi, theta1, theta2) = int int xi~(g1 g2) theta1(g1) theta2(g2) dg1 dg2,   xi~ = xi - int xi.

On the span of one non-trivial irrep orbit with an ``L^2``-orthonormal real basis ``phi_i`` (``sqrt(d) rho_ab`` for
a real irrep; ``sqrt(2d) Re rho_ab``, ``sqrt(2d) Im rho_ab`` for a complex pair) it is the trilinear form
``Omega = sum T_ijk x_i y_j z_k``, ``T_ijk = int int phi_i(g1 g2) phi_j(g1) phi_k(g2)``, integrated exactly by the
band-``2l`` quadrature (:func:`energy_tensor`); its maximum over unit ``x, y, z`` (:func:`orbit_energy`,
alternating maximisation from seeded starts, a measurement) is the equilibrium energy of the orbit.

A finite group's unit sphere in ``R^n`` (counting measure) maps onto the Haar unit sphere by ``u = sqrt(n) theta``
and ``n^-2 sum_{g1, g2}`` becomes the Haar double integral, so ``Omega_Haar = n^(3/2) Omega``: GC's
``Omega*(O) = (k d)^(-1/2) n^(-3/2)`` becomes ``(k d)^(-1/2)`` (:func:`predicted_energy`), the same formula on a
compact group. :func:`subgroup_limits` sets the scaled ``n^(3/2) Omega*`` of each orbit of a finite subgroup next
to the measured energy of the lowest irrep of the compact group containing it.
"""
from __future__ import annotations

import numpy as np

from ..groups.compact.rotations import quadrature_rule


def predicted_energy(orbit) -> float:
    """``(k d)^(-1/2)``: GC's ``Omega*`` after the counting -> Haar scaling (``k`` the orbit's doubling)."""
    return float((orbit.doubling * orbit.dim) ** -0.5)


def _basis(group, orbit, elements) -> np.ndarray:
    """``phi_i(g)`` of the orbit's orthonormal real basis (module doc), shape ``(N, B)``."""
    r = group.irreps[orbit[0]]
    M = r.matrices(elements).reshape(len(elements), -1)
    if r.type == "complex":
        return np.sqrt(2 * r.dim) * np.concatenate([M.real, M.imag], axis=1)
    return np.sqrt(r.dim) * M.real


def energy_tensor(group, orbit) -> np.ndarray:
    """``T_ijk = int int phi_i(g1 g2) phi_j(g1) phi_k(g2) dg1 dg2`` by the quadrature exact to band ``2l``."""
    band = group.irreps[orbit[0]].band
    E, w = quadrature_rule(group.name, 2 * band)
    P = np.einsum("aij,bjk->abik", E, E).reshape(-1, E.shape[1], E.shape[2])
    at_products = _basis(group, orbit, P).reshape(len(E), len(E), -1)
    phi = _basis(group, orbit, E)
    return np.einsum("abi,a,b,aj,bk->ijk", at_products, w, w, phi, phi, optimize=True)


def orbit_energy(group, orbit, starts: int = 8, seed: int = 0, sweeps: int = 300) -> float:
    """The largest ``Omega`` on the orbit's span over unit ``x, y, z`` (alternating maximisation: each factor set to
    the normalised partial gradient, from ``starts`` seeded Gaussian starts)."""
    T = energy_tensor(group, orbit)
    rng = np.random.default_rng(seed)
    best = -np.inf
    for _ in range(starts):
        x, y, z = (v / np.linalg.norm(v) for v in rng.normal(size=(3, T.shape[0])))
        for _ in range(sweeps):
            x = np.einsum("ijk,j,k->i", T, y, z)
            x /= np.linalg.norm(x)
            y = np.einsum("ijk,i,k->j", T, x, z)
            y /= np.linalg.norm(y)
            z = np.einsum("ijk,i,j->k", T, x, y)
            z /= np.linalg.norm(z)
        best = max(best, float(np.einsum("ijk,i,j,k->", T, x, y, z)))
    return best


def subgroup_limits(compact_name: str, subgroup: str, measure_band: int = 3) -> list[dict]:
    """For each non-trivial orbit of the finite ``subgroup`` of ``compact_name``: its exact ``Omega*`` scaled by
    ``n^(3/2)``, the lowest irrep of the compact group containing it, that irrep's predicted ``(k d)^(-1/2)`` and,
    when its band is ``<= measure_band``, its measured energy (:func:`orbit_energy`)."""
    from ..groups import group
    from ..groups.compact.subgroups import lowest_bands
    from .equilibria import equilibrium
    from .model import Model

    H = group(subgroup)
    model = Model(H)
    bands = lowest_bands(compact_name, subgroup)
    rows = []
    for o in H.orbits[1:]:
        band, label = bands[o[0]]
        C = group(compact_name, bandlimit=band)
        co = next(c for c in C.orbits if C.irrep(label).id in c)
        scaled = float(equilibrium(model, o.id).omega_star) * H.order ** 1.5
        rows.append({"orbit": o.label, "dim": o.dim, "type": o.type, "scaled_omega_star": scaled,
                     "compact_irrep": co.label, "compact_predicted": predicted_energy(co),
                     "compact_measured": orbit_energy(C, co) if band <= measure_band else None})
    return rows


def _maximiser(T, starts: int, seed: int, sweeps: int):
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(starts):
        x, y, z = (v / np.linalg.norm(v) for v in rng.normal(size=(3, T.shape[0])))
        for _ in range(sweeps):
            x = np.einsum("ijk,j,k->i", T, y, z)
            x /= np.linalg.norm(x)
            y = np.einsum("ijk,i,k->j", T, x, z)
            y /= np.linalg.norm(y)
            z = np.einsum("ijk,i,j->k", T, x, y)
            z /= np.linalg.norm(z)
        value = float(np.einsum("ijk,i,j,k->", T, x, y, z))
        if best is None or value > best[0]:
            best = (value, x, y, z)
    return best


def orbit_spectrum(group, orbit, starts: int = 4, seed: int = 0, sweeps: int = 300) -> dict:
    """The tangent spectrum of the flow ``d nu/dt = grad_nu Omega - Omega nu`` (each of ``xi, theta1, theta2`` on its
    unit ``L^2`` sphere) at the measured maximiser on the orbit's span, restricted to that span: eigenvalues of
    ``Q^T (Hess - Omega I) Q`` (``Q`` an orthonormal basis of the tangent space), in units of ``Omega*``, as
    ``{rate/Omega*: multiplicity}`` (rounded to 1e-6). Directions into the other orbits decouple (``T`` is
    block-diagonal over orbits) and decay at ``-Omega*``; they are not included."""
    T = energy_tensor(group, orbit)
    omega, x, y, z = _maximiser(T, starts, seed, sweeps)
    B = T.shape[0]
    Tz, Ty, Tx = np.einsum("ijk,k->ij", T, z), np.einsum("ijk,j->ik", T, y), np.einsum("ijk,i->jk", T, x)
    H = np.zeros((3 * B, 3 * B))
    H[:B, B:2 * B], H[:B, 2 * B:] = Tz, Ty
    H[B:2 * B, :B], H[B:2 * B, 2 * B:] = Tz.T, Tx
    H[2 * B:, :B], H[2 * B:, B:2 * B] = Ty.T, Tx.T
    Q = np.zeros((3 * B, 3 * (B - 1)))
    for s, v in enumerate((x, y, z)):
        basis = np.linalg.svd(np.eye(B) - np.outer(v, v))[0][:, :B - 1]
        Q[s * B:(s + 1) * B, s * (B - 1):(s + 1) * (B - 1)] = basis
    rates = np.linalg.eigvalsh(Q.T @ (H - omega * np.eye(3 * B)) @ Q) / omega
    out: dict = {}
    for r in np.round(rates, 6) + 0.0:
        out[float(r)] = out.get(float(r), 0) + 1
    return out
