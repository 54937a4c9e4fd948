"""Band-limited real functions on a compact group as points of ``R^D``: the orthonormal real basis, the Fourier
transform of coordinates and the two numbers ``n`` of the GC formulas.

A real function of band ``<= L`` is ``f = sum_i x_i phi_i`` in the ``L^2``-orthonormal real basis (Haar
probability), orbit by orbit in ``group.orbits`` order (trivial first):

* a real irrep ``rho`` of dimension ``d``: ``phi_ab = sqrt(d) rho_ab`` (``a, b`` row-major, ``d^2`` coordinates);
* a complex pair ``{rho, conj rho}``: ``sqrt(2d) Re rho_ab`` then ``sqrt(2d) Im rho_ab`` (``2 d^2`` coordinates).

By Schur orthogonality (``int rho_ab conj(sigma_cd) = delta delta delta / d``) these are orthonormal, so the unit
``L^2`` sphere is the unit sphere of ``R^D`` and the coordinates are the compact group's parameter space (what a
finite group's ``n`` values are): ``D = sum_O (real dimension of O's isotypic component)``. The Fourier transform
``f_hat(rho) = int f rho^dagger dg`` of coordinates is then, exactly, ``C^T / sqrt(d)`` on a real irrep (``C`` the
``d x d`` coordinates) and ``(A - i B)^T / sqrt(2d)`` on the first member of a complex pair (its conjugate on the
second), with Plancherel ``int f^2 = sum_rho d ||f_hat(rho)||^2 = |x|^2`` (tests: against the quadrature).

The GC formulas use one number ``n`` in two roles that a compact group separates: the total mass of the measure
the energy sums with (:func:`mass`: ``n`` for counting measure, ``1`` for Haar probability), which sets the
Plancherel weights ``n d`` of the spectral layout and the ``n`` of the block flows; and the real coordinates of
one vector (:func:`coordinate_count`: ``n`` values, or ``D`` coordinates).
"""
from __future__ import annotations

import numpy as np

from ...errors import SymflowError


def is_compact(group) -> bool:
    """True for a band-limited compact group (:class:`~symflow.groups.compact.CompactGroup`)."""
    return bool(getattr(group, "is_compact", False))


def mass(group) -> int:
    """The total mass of the measure of GC's sums: ``n`` (counting measure) for a finite group, ``1`` (Haar
    probability) for a compact group; the ``n`` of the Plancherel weights ``n d`` and of the block flows."""
    return 1 if is_compact(group) else group.order


def coordinate_count(group) -> int:
    """Real coordinates of one real function: the order ``n`` of a finite group (its values), ``D`` of a
    band-limited compact group (:func:`orbit_slices`)."""
    return orbit_slices(group)[-1].stop if is_compact(group) else group.order


def _size(group, orbit) -> int:
    d = group.irreps[orbit[0]].dim
    return d * d * (2 if group.irreps[orbit[0]].type == "complex" else 1)


def orbit_slices(group) -> tuple:
    """``(slice, ...)``: the coordinates of each orbit of ``group.orbits`` (trivial first), kept on the group."""
    cached = group.__dict__.get("_orbit_slices")
    if cached is None:
        out, pos = [], 0
        for o in group.orbits:
            size = _size(group, o)
            out.append(slice(pos, pos + size))
            pos += size
        cached = group.__dict__["_orbit_slices"] = tuple(out)
    return cached


def basis_values(group, elements) -> np.ndarray:
    """``phi_i(g)`` of the orthonormal real basis (module doc) at defining matrices ``elements``, shape ``(N, D)``."""
    cols = []
    for o in group.orbits:
        r = group.irreps[o[0]]
        M = r.matrices(elements).reshape(len(elements), -1)
        if r.type == "complex":
            cols += [np.sqrt(2 * r.dim) * M.real, np.sqrt(2 * r.dim) * M.imag]
        else:
            cols.append(np.sqrt(r.dim) * np.real(M))
    return np.concatenate(cols, axis=1)


def fourier(group, x):
    """:class:`~symflow.groups.fourier.FourierCoefficients` (blocks by dimension, ``group.irreps_by_dim`` order) of
    coordinates ``x`` ``(..., D)`` (module doc; exact, no quadrature)."""
    from ..fourier import FourierCoefficients

    x = np.asarray(x)
    D = coordinate_count(group)
    if x.shape[-1:] != (D,):
        raise SymflowError(f"a band-limited function on {group.name} (band limit {group.bandlimit}) has {D} "
                           f"coordinates in the orthonormal real basis; got last axis of shape {x.shape[-1:]}")
    batch = x.shape[:-1]
    dtype = np.result_type(x.dtype, np.complex128) if x.dtype != object else object
    blocks = {d: np.zeros(batch + (len(idx), d, d), dtype=dtype) for d, idx in group.irreps_by_dim.items()}
    where = {i: (d, pos) for d, idx in group.irreps_by_dim.items() for pos, i in enumerate(idx)}
    for o, s in zip(group.orbits, orbit_slices(group)):
        r = group.irreps[o[0]]
        d = r.dim
        c = x[..., s]
        if r.type == "complex":
            A = c[..., :d * d].reshape(batch + (d, d))
            B = c[..., d * d:].reshape(batch + (d, d))
            hat = np.swapaxes(A - 1j * B, -1, -2) / np.sqrt(2 * d)
            dd, pos = where[o[0]]
            blocks[dd][..., pos, :, :] = hat
            dd, pos = where[o[1]]
            blocks[dd][..., pos, :, :] = np.conj(hat)
        else:
            dd, pos = where[o[0]]
            blocks[dd][..., pos, :, :] = np.swapaxes(c.reshape(batch + (d, d)), -1, -2) / np.sqrt(d)
    return FourierCoefficients(group, blocks)


def inverse_fourier(group, coeffs, real: bool | None = None) -> np.ndarray:
    """Coordinates ``(..., D)`` of the function with Fourier blocks ``coeffs`` (the inverse of :func:`fourier`);
    ``real=True`` demands the blocks of a real function (an imaginary residue above ``SYNTHESIS_IMAG_TOL`` is
    an error, never dropped), ``real=None`` returns complex coordinates only when it is not rounding."""
    from ..fourier import _realify

    batch = coeffs.batch_shape
    parts = []
    for o in group.orbits:
        r = group.irreps[o[0]]
        d = r.dim
        hat = coeffs[o[0]]
        if r.type == "complex":
            # f_hat(rho) = (A - iB)^T / sqrt(2d), f_hat(conj rho) = (A + iB)^T / sqrt(2d) (any complex A, B)
            P = np.swapaxes(hat, -1, -2) * np.sqrt(2 * d)
            Q = np.swapaxes(coeffs[o[1]], -1, -2) * np.sqrt(2 * d)
            parts += [((P + Q) / 2).reshape(batch + (d * d,)), (0.5j * (P - Q)).reshape(batch + (d * d,))]
            continue
        parts.append((np.swapaxes(hat, -1, -2) * np.sqrt(d)).reshape(batch + (d * d,)))
    return _realify(np.concatenate(parts, axis=-1).astype(np.complex128), real)


def orbit_shares(group, *signals) -> np.ndarray:
    """Orbit energy shares of coordinates ``(..., D)``, shape ``(..., #orbits)`` (as
    :func:`symflow.groups.fourier.orbit_shares`: the shares of the summed squared norms of the signals)."""
    from ..fourier import energy_shares

    energy = [sum((np.asarray(x)[..., s] ** 2).sum(axis=-1) for x in signals) for s in orbit_slices(group)]
    return energy_shares(np.stack(energy, axis=-1))


def fourier_block(group, x, irrep: int) -> np.ndarray:
    """One irrep's block ``f_hat(rho)`` of coordinates ``x`` ``(..., D)``, shape ``(..., d, d)``."""
    return fourier(group, x)[irrep]


def antisymmetric_dimension(group) -> int:
    """Dimension of the antisymmetric part of the band-limited group algebra ``(+)_rho M_d``: ``d (d - 1) / 2`` per real
    irrep, ``d^2`` per complex pair (the anti-Hermitian ``d x d`` matrices)."""
    total = 0
    for o in group.orbits[1:]:
        d = group.irreps[o[0]].dim
        total += d * d if group.irreps[o[0]].type == "complex" else d * (d - 1) // 2
    return total


def translation_generators(group, count: int | None = None, seed: int = 0) -> np.ndarray:
    """``(2 K, D, D)``: the group-algebra rotations ``R_h - R_h^T`` and ``L_h - L_h^T`` on coordinates, with
    ``(R_h f)(g) = f(g h)`` (blocks ``f_hat -> rho(h) f_hat``) and ``(L_h f)(g) = f(h g)`` (``f_hat -> f_hat rho(h)``),
    for ``K`` seeded Haar-random ``h`` (default :func:`antisymmetric_dimension` + 8, so that they span the
    antisymmetric part of the group algebra almost surely): the compact group's version of the finite candidates
    of :class:`symflow.landscape.analysis.SymmetryAlgebra` (there every ``h`` of the group)."""
    K = antisymmetric_dimension(group) + 8 if count is None else int(count)
    D = coordinate_count(group)
    h = group.random_elements(K, seed=seed)
    basis = fourier(group, np.eye(D))                   # blocks of every coordinate vector, batch (D,)
    out = []
    for side in ("right", "left"):
        blocks = {}
        for d, idx in group.irreps_by_dim.items():
            R = np.stack([group.irreps[i].matrices(h) for i in idx], axis=1)      # (K, k_d, d, d)
            B = basis.blocks[d][None]                                             # (1, D, k_d, d, d)
            blocks[d] = (R[:, None] @ B) if side == "right" else (B @ R[:, None])
        from ..fourier import FourierCoefficients

        T = inverse_fourier(group, FourierCoefficients(group, blocks), real=True)   # (K, D_in, D_out)
        M = np.swapaxes(T, -1, -2)                                                 # x -> M x
        out.append(M - np.swapaxes(M, -1, -2))
    return np.concatenate(out, axis=0)
