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
    return _maximiser(energy_tensor(group, orbit), starts, seed, sweeps)[0]


def subgroup_limits(compact_name: str, subgroup: str, measure_band: int = 3) -> list[dict]:
    """For each non-trivial orbit of the finite ``subgroup`` of ``compact_name``: its exact ``Omega*`` scaled by
    ``n^(3/2)``, the lowest irrep of the compact group containing it, that irrep's predicted ``(k d)^(-1/2)`` and,
    when its band is ``<= measure_band``, its measured energy (:func:`orbit_energy`). The other direction (each
    compact orbit restricted to a family of subgroups, with rates, and sampled grids) is
    :func:`symflow.theory.limits.limits_sweep`."""
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
    rates = tensor_spectrum(T, _maximiser(T, starts, seed, sweeps))[1]
    out: dict = {}
    for r in np.round(rates, 6) + 0.0:
        out[float(r)] = out.get(float(r), 0) + 1
    return out


def trilinear_hessian(T, point) -> np.ndarray:
    """The Euclidean Hessian of ``Omega = T(x, y, z)`` over ``(x, y, z)`` at ``point`` (``3B x 3B``)."""
    x, y, z = point
    B = T.shape[0]
    Tz, Ty, Tx = np.einsum("ijk,k->ij", T, z), np.einsum("ijk,j->ik", T, y), np.einsum("ijk,i->jk", T, x)
    H = np.zeros((3 * B, 3 * B))
    H[:B, B:2 * B], H[:B, 2 * B:] = Tz, Ty
    H[B:2 * B, :B], H[B:2 * B, 2 * B:] = Tz.T, Tx
    H[2 * B:, :B], H[2 * B:, B:2 * B] = Ty.T, Tx.T
    return H


def tensor_spectrum(T, best) -> tuple[float, np.ndarray]:
    """``(Omega, rates / Omega)`` of the flow ``d nu/dt = grad_nu Omega - Omega nu`` (``Omega = T(x, y, z)``, each
    factor on its unit sphere) linearised at ``best = (value, x, y, z)`` (a maximiser, :func:`_maximiser`)."""
    omega, x, y, z = best
    return omega, _tangent_rates(omega, trilinear_hessian(T, [x, y, z]), [x, y, z])


#: Names of the in-orbit modes by rate (units of ``Omega*``), as the finite engine classifies them for irreps of the
#: same dimension and type (``tests/test_compact.py`` compares the rates).
IN_ORBIT_MODES = {-3.0: "phase alignment", -2.0: "rotational alignment", -1.0: "rank reduction",
                  0.0: "symmetry zero modes"}


def real_orbit_hessian(d: int) -> tuple[float, np.ndarray, list]:
    """``(Omega*, Hessian, point)`` of ``Omega = d^(-1/2) tr(X^T Y Z)`` (the energy on a real irrep's span in the
    orthonormal basis ``sqrt(d) rho_ab``, by Schur orthogonality ``int rho_ab rho_cd = delta_ac delta_bd / d``) at the
    rank-one maximiser ``X = Y = Z = E_00``; the Hessian over ``(X, Y, Z)`` flattened row-major. Checked against the
    quadrature tensor :func:`energy_tensor` in the tests."""
    s = d ** -0.5
    B = d * d
    E = np.zeros((d, d))
    E[0, 0] = 1.0
    X = Y = Z = E
    Id = np.eye(d)
    H = np.zeros((3 * B, 3 * B))
    H[:B, B:2 * B] = s * np.kron(Id, Z.T)
    H[:B, 2 * B:] = s * np.kron(Y, Id)
    H[B:2 * B, 2 * B:] = s * np.einsum("ab,cd->acdb", X, Id).reshape(B, B)
    H = H + H.T
    return s * float(np.trace(X.T @ Y @ Z)), H, [X.ravel(), Y.ravel(), Z.ravel()]


def _blockwise_eigvalsh(A) -> np.ndarray:
    """Eigenvalues of the symmetric ``A``, one connected block of its sparsity pattern at a time."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    count, label = connected_components(csr_matrix(np.abs(A) > 1e-14), directed=False)
    out = [np.linalg.eigvalsh(A[np.ix_(idx, idx)]) for idx in (np.flatnonzero(label == c) for c in range(count))]
    return np.sort(np.concatenate(out)) if out else np.zeros(0)


def _tangent_rates(omega, H, point) -> np.ndarray:
    """Eigenvalues of ``Q^T (H - Omega I) Q / Omega`` with ``Q`` an orthonormal basis of the tangent space at ``point``
    (when every factor is a coordinate vector, ``Q`` just drops those coordinates)."""
    B = len(point[0])
    if all(np.count_nonzero(v) == 1 for v in point):
        keep = np.setdiff1d(np.arange(3 * B), [s * B + int(np.flatnonzero(v)[0]) for s, v in enumerate(point)])
        return _blockwise_eigvalsh((H - omega * np.eye(3 * B))[np.ix_(keep, keep)]) / omega
    Q = np.zeros((3 * B, 3 * (B - 1)))
    for s, v in enumerate(point):
        Q[s * B:(s + 1) * B, s * (B - 1):(s + 1) * (B - 1)] = np.linalg.svd(np.eye(B) - np.outer(v, v))[0][:, :B - 1]
    return np.linalg.eigvalsh(Q.T @ (H - omega * np.eye(3 * B)) @ Q) / omega


def in_orbit_rates(group, orbit) -> dict:
    """``{rate/Omega*: multiplicity}`` of the tangent spectrum on the orbit's span: the closed-form Hessian of a real
    irrep (:func:`real_orbit_hessian`), the measured one (:func:`orbit_spectrum`) of a complex pair."""
    if group.irreps[orbit[0]].type == "complex":
        return orbit_spectrum(group, orbit)
    omega, H, point = real_orbit_hessian(orbit.dim)
    out: dict = {}
    for r in np.round(_tangent_rates(omega, H, point), 6) + 0.0:
        out[float(r)] = out.get(float(r), 0) + 1
    return out


def compact_rates(group) -> dict:
    """The ``symflow rates NAME --json`` contract on a band-limited compact group (unshared, separate spheres, time
    unit ``c = 1``, Haar probability and unit ``L^2`` spheres): per non-trivial orbit ``Omega* = (k d)^(-1/2)``, the
    in-orbit rates (:func:`in_orbit_rates`), and ``-Omega*`` for the directions into every other orbit of the band
    limit ("losing irreps") and into the trivial irrep, three spheres each (the energy is block-diagonal over
    orbits)."""
    import sympy as sp

    def size(o):
        return o.dim * o.dim * (2 if o.type == "complex" else 1)

    orbits = []
    for o in group.orbits[1:]:
        exact = 1 / sp.sqrt(o.doubling * o.dim)
        omega = float(exact)
        rows = [(rate, IN_ORBIT_MODES.get(rate, "in-orbit"), m) for rate, m in sorted(in_orbit_rates(group, o).items())]
        others = 3 * sum(size(p) for p in group.orbits[1:] if p.id != o.id)
        rows += [(-1.0, "losing irreps (theta1, theta2, xi)", others)] if others else []
        rows += [(-1.0, "trivial component (theta1, theta2, xi)", 3)]
        spectrum = [{"rate": rate * omega, "exact": str(sp.nsimplify(rate) * exact), "multiplicity": int(m),
                     "mode": mode} for rate, mode, m in sorted(rows, key=lambda r: r[0])]
        orbits.append({"irreps": [group.irreps[i].label for i in o], "dim": o.dim, "orbit_size": o.size,
                       "omega_star": omega, "omega_star_exact": str(exact),
                       "stable": all(e["rate"] <= 1e-12 for e in spectrum), "spectrum": spectrum})
    return {"group": group.name, "bandlimit": group.bandlimit, "shared": False, "spheres": "separate",
            "time_unit": "c=1", "normalisation": "Haar probability measure, unit L^2 spheres (band-limited)",
            "orbits": orbits}
