"""Group Fourier transform in the GC convention, batched over leading axes.

For ``nu: G -> C`` stored as an array of shape ``(..., n)`` in the group's element order:

* forward   ``nu_hat[rho] = (1/n) sum_g nu(g) rho(g^-1) = (1/n) sum_g nu(g) rho(g)^*``
* inverse   ``nu(g) = sum_rho d_rho tr(nu_hat[rho] rho(g))``
* Plancherel ``sum_g |nu(g)|^2 = n sum_rho d_rho ||nu_hat[rho]||_F^2``

Coefficients are returned as a :class:`FourierCoefficients`: irreps of equal dimension ``d``
are stacked into one array of shape ``(..., k_d, d, d)`` (the batching the dynamics uses), in
the order of ``group.irreps_by_dim[d]``. For abelian groups given as products of cyclic groups,
the transform is ``numpy.fft.fftn / n`` (irreps in mixed-radix order of their frequency), so
``Z_n`` with ``n = 10^5`` transforms in milliseconds.

:func:`real_fourier_basis` gives an orthogonal real change of basis for real signals with one
block per conjugate-pair orbit (real, complex and quaternionic irreps handled). :func:`orbit_shares`
is the one orbit energy share of real signals, :func:`fourier_block` one irrep's coefficient.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import SymflowError

#: Imaginary part of a synthesised signal, relative to its largest entry, that
#: :func:`inverse_fourier` treats as rounding (a real signal).
SYNTHESIS_IMAG_TOL = 1e-9


class FourierCoefficients:
    """Fourier coefficients of a batch of signals, grouped by irrep dimension.

    ``blocks[d]`` has shape ``(..., k_d, d, d)``; ``self[i]`` is the ``(..., d, d)`` block of irrep
    ``i`` (an index into ``group.irreps``).
    """

    def __init__(self, group, blocks: dict[int, np.ndarray]):
        self.group = group
        self.blocks = blocks

    @property
    def batch_shape(self) -> tuple:
        b = next(iter(self.blocks.values()))
        return b.shape[:-3]

    def _where(self, i: int) -> tuple[int, int]:
        if _use_fft(self.group):
            return 1, i
        d = self.group.irreps[i].dim
        return d, self.group.irreps_by_dim[d].index(i)

    def __getitem__(self, i: int) -> np.ndarray:
        d, pos = self._where(i)
        return self.blocks[d][..., pos, :, :]

    def __setitem__(self, i: int, value) -> None:
        d, pos = self._where(i)
        self.blocks[d][..., pos, :, :] = value

    def to_list(self) -> list[np.ndarray]:
        """One ``(..., d, d)`` array per irrep, in ``group.irreps`` order."""
        n_irr = self.group.order if _use_fft(self.group) else len(self.group.irreps)
        return [self[i] for i in range(n_irr)]

    def copy(self) -> "FourierCoefficients":
        return FourierCoefficients(self.group, {d: b.copy() for d, b in self.blocks.items()})

    def __repr__(self) -> str:
        shapes = {d: b.shape for d, b in self.blocks.items()}
        return f"<FourierCoefficients of {self.group.name}: blocks {shapes}>"


def _use_fft(group) -> bool:
    return group.abelian_factors is not None


def _as_signal(group, x) -> np.ndarray:
    x = np.asarray(x)
    if x.shape[-1:] != (group.order,):
        raise SymflowError(f"a signal on {group.name} must have last axis of length {group.order}, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise SymflowError("the signal contains non-finite values (nan or inf)")
    return x


@lru_cache(maxsize=64)
def _stacked_matrices(group) -> dict[int, np.ndarray]:
    """``R[d]`` of shape ``(k_d, n, d, d)``: irreps of dimension ``d`` stacked."""
    return {d: np.stack([group.irreps[i].matrices for i in idx]) for d, idx in group.irreps_by_dim.items()}


def fourier(group, x) -> FourierCoefficients:
    """Forward transform of ``x`` with shape ``(..., n)``: ``(1/n) sum_g x(g) rho(g)^*``."""
    x = _as_signal(group, x)
    n = group.order
    if _use_fft(group):
        f = group.abelian_factors
        xr = x.reshape(x.shape[:-1] + f)
        axes = tuple(range(-len(f), 0))
        hat = np.fft.fftn(xr, axes=axes) / n
        return FourierCoefficients(group, {1: hat.reshape(x.shape[:-1] + (n, 1, 1))})
    blocks = {}
    for d, R in _stacked_matrices(group).items():
        # hat[..., r, i, j] = (1/n) sum_g x[..., g] conj(R[r, g, j, i])
        W = np.conj(np.transpose(R, (1, 0, 3, 2))).reshape(n, -1) / n
        blocks[d] = (x.reshape(-1, n) @ W).reshape(x.shape[:-1] + (R.shape[0], d, d))
    return FourierCoefficients(group, blocks)


def representation_sum(x, matrices) -> np.ndarray:
    """``sum_g x(g) R(g)`` for signals ``x`` of shape ``(..., n)`` and matrices ``R`` of shape
    ``(n, d, d)`` (one irrep's ``rho(g)``, or their adjoints): shape ``(..., d, d)``."""
    return np.einsum("...g,gij->...ij", x, matrices)


def fourier_block(group, x, irrep: int) -> np.ndarray:
    """One irrep's coefficient ``nu_hat[rho] = (1/n) sum_g x(g) rho(g)^*`` (``^*``: conjugate
    transpose) of signals ``x`` with shape ``(..., n)``; ``irrep`` indexes ``group.irreps``.
    Shape ``(..., d, d)``; the same numbers as :func:`fourier` gives for that irrep."""
    if getattr(group, "is_compact", False):
        return group.fourier(x)[irrep]
    R = group.irreps[irrep].matrices
    return representation_sum(x, np.conj(np.swapaxes(R, -1, -2))) / group.order


def inverse_fourier(group, coeffs: FourierCoefficients, real: bool | None = None) -> np.ndarray:
    """Inverse transform ``nu(g) = sum_rho d tr(nu_hat[rho] rho(g))``, shape ``(..., n)``.

    ``real=None`` returns a real array when the imaginary part is rounding
    (``<= SYNTHESIS_IMAG_TOL * max|nu|``) and a complex one otherwise; ``real=True`` demands a real result
    and raises :class:`SymflowError` if the imaginary part is not negligible (it is never
    silently dropped); ``real=False`` always returns complex.
    """
    if getattr(group, "is_compact", False):     # coordinates of a band-limited function
        return group.inverse_fourier(coeffs, real)
    n = group.order
    if _use_fft(group):
        f = group.abelian_factors
        hat = coeffs.blocks[1]
        batch = hat.shape[:-3]
        hr = hat.reshape(batch + f)
        axes = tuple(range(-len(f), 0))
        x = (np.fft.ifftn(hr, axes=axes) * n).reshape(batch + (n,))
    else:
        x = None
        for d, R in _stacked_matrices(group).items():
            hat = coeffs.blocks[d]
            batch = hat.shape[:-3]
            # x[..., g] += d * sum_{r,i,j} hat[..., r, i, j] R[r, g, j, i]
            W = np.transpose(R, (0, 3, 2, 1)).reshape(-1, n) * d
            part = (hat.reshape(-1, W.shape[0]) @ W).reshape(batch + (n,))
            x = part if x is None else x + part
    return _realify(x, real)


def _realify(x: np.ndarray, real: bool | None) -> np.ndarray:
    if real is False:
        return x
    scale = max(float(np.abs(x).max(initial=0.0)), 1e-300)
    imag = float(np.abs(x.imag).max(initial=0.0))
    if imag <= SYNTHESIS_IMAG_TOL * scale:
        return x.real.copy()
    if real:
        raise SymflowError(f"the inverse transform has an imaginary part of size {imag:.3g} "
                           f"(relative {imag/scale:.3g} > {SYNTHESIS_IMAG_TOL}); the coefficients are not those of a real signal")
    return x


def plancherel(group, coeffs: FourierCoefficients) -> np.ndarray:
    """``n sum_rho d_rho ||nu_hat[rho]||_F^2`` (equals ``sum_g |nu(g)|^2``), shape ``batch``."""
    total = 0.0
    for d, b in coeffs.blocks.items():
        total = total + d * (np.abs(b) ** 2).sum(axis=(-3, -2, -1))
    return group.order * total


def fourier_matrix(group) -> np.ndarray:
    """The unitary change of basis of the regular representation, shape ``(n, n)``.

    Row ``g``, column ``(rho, i, j)`` (irreps in order, entries row-major) holds
    ``sqrt(d_rho / n) rho(g)_{ij}``: the columns are orthonormal by Schur orthogonality.
    """
    cols = []
    for r in group.irreps:
        d = r.dim
        cols.append(np.sqrt(d / group.order) * r.matrices.reshape(group.order, d * d))
    return np.concatenate(cols, axis=1)


@dataclass(frozen=True)
class RealFourierBasis:
    """Orthogonal real basis of ``R^n`` with one block of columns per conjugate-pair orbit.

    ``matrix`` is ``(n, n)`` orthogonal; columns ``slices[k]`` span the real isotypic component of
    orbit ``group.orbits[k]`` (dimension ``|orbit| d^2``). Coordinates of a real signal ``x`` are
    ``x @ matrix``; its energy on orbit ``k`` is ``||(x @ matrix)[..., slices[k]]||^2``, which
    equals ``n sum_{rho in orbit} d ||x_hat[rho]||_F^2``.
    """

    matrix: np.ndarray
    slices: tuple
    orbits: tuple

    def coordinates(self, x):
        return np.asarray(x) @ self.matrix

    def orbit_energy(self, x) -> np.ndarray:
        """Squared norm of ``x`` on each orbit, shape ``(..., n_orbits)``."""
        c = self.coordinates(x)
        return np.stack([(c[..., s] ** 2).sum(-1) for s in self.slices], axis=-1)


def energy_shares(energy) -> np.ndarray:
    """``e_O / sum_O e_O`` over the last axis (orbit energies -> shares; zero for a zero signal)."""
    energy = np.asarray(energy)
    return energy / np.maximum(energy.sum(axis=-1, keepdims=True), 1e-300)


def orbit_shares(group, *signals) -> np.ndarray:
    """Orbit energy shares of real signals on ``group``, shape ``(..., #orbits)`` (``group.orbits`` order).

    ``e_O = n sum_{rho in O} d_rho ||x_hat[rho]||_F^2 / |x|^2`` (Plancherel: the shares sum to 1),
    with ``n^2 ||x_hat[rho]||_F^2 = ||sum_g x(g) rho(g)||_F^2`` (:func:`representation_sum`). With
    several signals (e.g. the two embeddings of one neuron) the share is that of their summed
    energy, ``sum_x e_O(x) |x|^2 / sum_x |x|^2``.
    """
    if getattr(group, "is_compact", False):
        return group.orbit_shares(*signals)
    n = group.order
    energy = []
    for orb in group.orbits:
        e = 0
        for i in orb:
            rho = group.irreps[i]
            for x in signals:
                e = e + rho.dim * (np.abs(representation_sum(x, rho.matrices)) ** 2).sum(axis=(-2, -1)) / n
        energy.append(e)
    return energy_shares(np.stack(energy, axis=-1))


def real_fourier_basis(group) -> RealFourierBasis:
    """Build the :class:`RealFourierBasis` of ``group``.

    Real-type irreps given by real matrices contribute ``sqrt(d/n) rho_ij``; complex pairs
    contribute ``sqrt(2d/n) Re rho_ij`` and ``sqrt(2d/n) Im rho_ij`` of one member; quaternionic
    (and real-type irreps given in a complex form) are orthonormalised from the real and imaginary
    parts of their entries (an SVD keeping ``d^2`` directions).
    """
    n = group.order
    cols, slices, start = [], [], 0
    for orb in group.orbits:
        r = group.irreps[orb[0]]
        d = r.dim
        m = r.matrices.reshape(n, d * d)
        if len(orb) == 1 and r.is_real_matrix:
            block = np.sqrt(d / n) * m.real
        elif len(orb) == 2:
            block = np.sqrt(2 * d / n) * np.concatenate([m.real, m.imag], axis=1)
        else:
            raw = np.concatenate([m.real, m.imag], axis=1)
            u, s, _ = np.linalg.svd(raw, full_matrices=False)
            rank = d * d
            if s[rank - 1] < 1e-8 * s[0] or (len(s) > rank and s[rank] > 1e-8 * s[0]):
                raise SymflowError(f"{group.name}: real isotypic component of {r.label} does not have dimension d^2")
            block = u[:, :rank]
        cols.append(block)
        slices.append(slice(start, start + block.shape[1]))
        start += block.shape[1]
    Q = np.concatenate(cols, axis=1)
    if Q.shape != (n, n):
        raise SymflowError(f"{group.name}: real Fourier basis has shape {Q.shape}, expected ({n}, {n})")
    return RealFourierBasis(Q, tuple(slices), tuple(group.orbits))
