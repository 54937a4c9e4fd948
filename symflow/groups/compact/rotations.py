"""Rotations of the plane and of space, and the real Wigner matrices ``D^l`` (NumPy; SymPy on demand).

Conventions (docs/theory.md, "Compact groups"):

* ``R_z(a) = [[cos a, -sin a, 0], [sin a, cos a, 0], [0, 0, 1]]``, ``R_y(b)`` likewise about ``y``;
  ZYZ Euler angles ``R = R_z(alpha) R_y(beta) R_z(gamma)``.
* Spin-``l`` operators in the basis ``|l, m>``, ``m = -l..l``: ``J_z = diag(m)``,
  ``J_+ |m> = sqrt(l(l+1) - m(m+1)) |m+1>`` (Condon-Shortley), ``J_y = (J_+ - J_-)/(2i)``.
  The complex Wigner matrix is ``D^l(alpha, beta, gamma) = e^{-i alpha J_z} e^{-i beta J_y} e^{-i gamma J_z}``
  (the representation ``exp(t L_k) -> exp(-i t J_k)`` of ``SO(3)``).
* The real basis is the real spherical harmonics: ``C`` maps ``|l, m>`` to ``S_{l m}`` with
  ``S_{l,m>0} = ((-1)^m Y_m + Y_{-m})/sqrt 2``, ``S_{l,0} = Y_0``, ``S_{l,m<0} = i((-1)^m Y_{-|m|} - Y_{|m|})/sqrt 2``;
  the real Wigner matrix is ``C D^l C^dagger`` (real orthogonal). ``D^1(R) = P R P^T`` with ``P`` the
  permutation ``(x, y, z) -> (y, z, x)`` (the order ``m = -1, 0, 1`` of ``S_{1,m} ~ y, z, x``).
* Character of a rotation by angle ``t``: ``chi_l(t) = sum_{m=-l}^{l} e^{i m t} = sin((2l+1)t/2) / sin(t/2)``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...errors import SymflowError


#: ``diag(1, -1)``: the reflection ``f`` of ``O(2)``.
FLIP = np.diag([1.0, -1.0])


def rotation_z(angle) -> np.ndarray:
    """``R_z(a)``, shape ``(..., 3, 3)``."""
    a = np.asarray(angle, dtype=float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def rotation_y(angle) -> np.ndarray:
    """``R_y(b) = [[cos b, 0, sin b], [0, 1, 0], [-sin b, 0, cos b]]``, shape ``(..., 3, 3)``."""
    b = np.asarray(angle, dtype=float)
    c, s, o, z = np.cos(b), np.sin(b), np.ones_like(b), np.zeros_like(b)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rotation_2d(angle) -> np.ndarray:
    """``r_phi = [[cos, -sin], [sin, cos]]``, shape ``(..., 2, 2)``."""
    a = np.asarray(angle, dtype=float)
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def euler_to_matrix(alpha, beta, gamma) -> np.ndarray:
    """``R_z(alpha) R_y(beta) R_z(gamma)``."""
    return rotation_z(alpha) @ rotation_y(beta) @ rotation_z(gamma)


def matrix_to_euler(R) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ZYZ angles of rotation matrices ``R`` (``(..., 3, 3)``): ``beta = atan2(|R[:2, 2]|, R[2, 2])``,
    ``alpha = atan2(R[1,2], R[0,2])``, ``gamma = atan2(R[2,1], -R[2,0])``; at ``beta = 0`` (``pi``) the
    angle of ``R`` (of ``R R_y(pi)``) in the ``xy`` plane goes to ``alpha`` and ``gamma = 0``."""
    R = np.asarray(R, dtype=float)
    sb = np.hypot(R[..., 0, 2], R[..., 1, 2])
    beta = np.arctan2(sb, R[..., 2, 2])
    alpha = np.arctan2(R[..., 1, 2], R[..., 0, 2])
    gamma = np.arctan2(R[..., 2, 1], -R[..., 2, 0])
    flat = sb < 1e-9
    up = flat & (R[..., 2, 2] > 0)
    down = flat & (R[..., 2, 2] < 0)
    alpha = np.where(up, np.arctan2(R[..., 1, 0], R[..., 0, 0]), alpha)
    alpha = np.where(down, np.arctan2(-R[..., 0, 1], R[..., 1, 1]), alpha)
    gamma = np.where(flat, 0.0, gamma)
    beta = np.where(up, 0.0, np.where(down, np.pi, beta))
    return alpha, beta, gamma


def rotation_angle(R) -> np.ndarray:
    """The angle ``t in [0, pi]`` of rotations ``R``: ``cos t = (tr R - 1)/2``, ``sin t = |axial part|``."""
    R = np.asarray(R, dtype=float)
    c = (np.trace(R, axis1=-2, axis2=-1) - 1) / 2
    s = np.linalg.norm(np.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0],
                                 R[..., 1, 0] - R[..., 0, 1]], -1), axis=-1) / 2
    return np.arctan2(s, c)


def axis_angle(axis, angle) -> np.ndarray:
    """Rodrigues: ``I + sin t K + (1 - cos t) K^2`` with ``K`` the cross-product matrix of the unit axis."""
    n = np.asarray(axis, dtype=float)
    n = n / np.linalg.norm(n)
    K = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def quaternion_matrices(q) -> np.ndarray:
    """Rotation matrices of quaternions ``q = (w, x, y, z)`` (``(..., 4)``, normalised here), shape ``(..., 3, 3)``;
    ``q`` and ``-q`` give the same rotation (uniform ``q`` on ``S^3`` gives Haar rotations)."""
    q = np.asarray(q, dtype=float)
    w, x, y, z = np.moveaxis(q / np.linalg.norm(q, axis=-1, keepdims=True), -1, 0)
    return np.stack([np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
                     np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
                     np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], -2)


def so3_character(l: int, angle) -> np.ndarray:
    """``chi_l(t) = 1 + 2 sum_{m=1}^{l} cos(m t)`` (``= sin((2l+1)t/2) / sin(t/2)``, ``2l+1`` at ``t = 0``)."""
    t = np.asarray(angle, dtype=float)
    return 1 + 2 * sum((np.cos(m * t) for m in range(1, l + 1)), np.zeros_like(t))


@lru_cache(maxsize=None)
def spin_operators(l: int) -> tuple[np.ndarray, np.ndarray]:
    """``(m, J_y)``: the weights ``m = -l..l`` and the Hermitian ``J_y`` (Condon-Shortley ladder)."""
    m = np.arange(-l, l + 1, dtype=float)
    up = np.sqrt(l * (l + 1) - m[:-1] * (m[:-1] + 1))     # <m+1| J_+ |m>
    Jp = np.diag(up, -1).astype(complex)                   # row m+1, column m
    Jy = (Jp - Jp.conj().T) / 2j
    return m, Jy


def real_basis_entries(l: int):
    """The nonzero entries of ``C`` as ``(row, column, sign, imaginary, halved)``: ``C[row, column] = sign *
    (i if imaginary else 1) * (1/sqrt 2 if halved else 1)`` (rows: real ``S_{l m}``, columns: complex ``|l, m>``,
    ``m = -l..l``; see the module doc). The one definition, filled numerically and exactly below."""
    for m in range(-l, l + 1):
        i = m + l
        if m > 0:
            yield i, m + l, (-1) ** m, False, True
            yield i, -m + l, 1, False, True
        elif m == 0:
            yield i, l, 1, False, False
        else:
            a = -m
            yield i, -a + l, (-1) ** a, True, True
            yield i, a + l, -1, True, True


@lru_cache(maxsize=None)
def real_basis_change(l: int) -> np.ndarray:
    """``C`` as a complex NumPy array (:func:`real_basis_entries`)."""
    d = 2 * l + 1
    C = np.zeros((d, d), dtype=complex)
    for i, j, sign, imaginary, halved in real_basis_entries(l):
        C[i, j] = sign * (1j if imaginary else 1) * (1 / np.sqrt(2) if halved else 1)
    return C


@lru_cache(maxsize=None)
def _jy_eigen(l: int):
    m, Jy = spin_operators(l)
    w, V = np.linalg.eigh(Jy)
    return np.round(w), V


def wigner_d_small(l: int, beta) -> np.ndarray:
    """``d^l(beta) = e^{-i beta J_y}`` (complex basis), shape ``(..., 2l+1, 2l+1)``, from the eigenbasis of ``J_y``;
    each distinct ``beta`` is computed once (a quadrature grid has few)."""
    w, V = _jy_eigen(l)
    b = np.asarray(beta, dtype=float)
    uniq, inv = np.unique(b.ravel(), return_inverse=True)
    phase = np.exp(-1j * uniq[:, None] * w)
    d = (V * phase[:, None, :]) @ V.conj().T
    return d[inv].reshape(b.shape + d.shape[1:])


def wigner_D_complex(l: int, alpha, beta, gamma) -> np.ndarray:
    """``D^l = e^{-i alpha J_z} d^l(beta) e^{-i gamma J_z}`` (complex basis ``m = -l..l``)."""
    m = np.arange(-l, l + 1)
    ea = np.exp(-1j * np.asarray(alpha, dtype=float)[..., None] * m)
    eg = np.exp(-1j * np.asarray(gamma, dtype=float)[..., None] * m)
    return ea[..., :, None] * wigner_d_small(l, beta) * eg[..., None, :]


def wigner_D_real(l: int, R) -> np.ndarray:
    """Real Wigner matrices ``C D^l(R) C^dagger`` of rotations ``R`` (``(..., 3, 3)``), shape ``(..., 2l+1, 2l+1)``."""
    alpha, beta, gamma = matrix_to_euler(R)
    return wigner_D_real_euler(l, alpha, beta, gamma)


@lru_cache(maxsize=None)
def _sparse_basis_change(l: int):
    """``C`` row by row as its two non-zero entries: ``C[i] = c1[i] e_{p[i]} + c2[i] e_{q[i]}``."""
    C = real_basis_change(l)
    p = np.abs(C).argmax(axis=1)
    rest = C.copy()
    rest[np.arange(len(C)), p] = 0
    q = np.abs(rest).argmax(axis=1)
    return p, q, C[np.arange(len(C)), p], rest[np.arange(len(C)), q]


def wigner_D_real_euler(l: int, alpha, beta, gamma) -> np.ndarray:
    """Real Wigner matrices ``C D^l C^dagger`` at ZYZ Euler angles (``C`` applied through its two entries a row)."""
    p, q, c1, c2 = _sparse_basis_change(l)
    D = wigner_D_complex(l, alpha, beta, gamma)
    left = c1[:, None] * D[..., p, :] + c2[:, None] * D[..., q, :]
    return (left[..., :, p] * c1.conj() + left[..., :, q] * c2.conj()).real


def wigner_D_exact(l: int, alpha, beta, gamma):
    """The exact real Wigner matrix ``C D^l C^dagger`` (SymPy), the complex entries from
    ``sympy.physics.quantum.spin.Rotation.D`` (``<l m| e^{-i alpha J_z} e^{-i beta J_y} e^{-i gamma J_z} |l m'>``)."""
    import sympy as sp
    from sympy.physics.quantum.spin import Rotation

    a, b, g = (sp.sympify(x) for x in (alpha, beta, gamma))
    D = sp.Matrix(2 * l + 1, 2 * l + 1,
                  lambda i, j: Rotation.D(l, i - l, j - l, a, b, g).doit())
    C = sp.zeros(2 * l + 1, 2 * l + 1)
    for i, j, sign, imaginary, halved in real_basis_entries(l):
        C[i, j] = sign * (sp.I if imaginary else 1) * (1 / sp.sqrt(2) if halved else 1)
    return (C * D * C.H).applyfunc(lambda e: sp.radsimp(sp.expand(sp.expand_complex(e))))


def quadrature_rule(name: str, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """``(elements, weights)`` of the rule of the compact group ``name`` exact to band ``degree`` (the rules are
    stated in :mod:`symflow.groups.compact.fourier`)."""
    D = int(degree)
    if D < 0:
        raise SymflowError(f"quadrature degree must be >= 0, got {D}")
    N = D + 1
    phi = 2 * np.pi * np.arange(N) / N
    if name == "SO(2)":
        return rotation_2d(phi), np.full(N, 1 / N)
    if name == "O(2)":
        R = rotation_2d(phi)
        return np.concatenate([R, R @ FLIP]), np.full(2 * N, 1 / (2 * N))
    x, w = np.polynomial.legendre.leggauss(D // 2 + 1)
    a, b, g = np.meshgrid(phi, np.arccos(x), phi, indexing="ij")
    wt = np.broadcast_to((w / 2)[None, :, None], a.shape) / N ** 2
    R = euler_to_matrix(a.ravel(), b.ravel(), g.ravel())
    if name == "SO(3)":
        return R, wt.ravel().copy()
    return np.concatenate([R, -R]), np.concatenate([wt.ravel(), wt.ravel()]) / 2
