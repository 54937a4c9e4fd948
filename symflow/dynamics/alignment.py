"""The one alignment criterion: rank one and GC's three alignment cosines on a neuron's dominant block.

For a CE neuron with Fourier blocks ``T1 = theta1_hat[rho]``, ``T2 = theta2_hat[rho]``,
``X = xi_hat[rho]`` on its dominant irrep ``rho`` (GC, docs/theory.md section 3):

* rank-one ratio ``sigma_2 / sigma_1`` of each block (``0`` for ``d = 1``);
* alignment cosines ``cos(A, B) = Re<A, B>_F / (|A|_F |B|_F)`` of
  ``X`` vs ``T2 T1``, ``T1`` vs ``T2^* X`` and ``T2`` vs ``X T1^*`` (all three are 1 at GC's
  rotationally aligned equilibria; shared embeddings: ``T1 = T2``).

A neuron is *aligned* when every ratio is ``< RANK_THRESHOLD`` and every cosine ``> COSINE_THRESHOLD``.
:func:`rank_ratio` computes the ratio by SVD (``method="svd"``, accurate to rounding) or from the
closed-form eigenvalues of ``B^* B`` (``method="eig"``, about 15x faster for 3 x 3 blocks, agrees
with the SVD to ~1e-9 near the threshold; it loses accuracy only for nearly degenerate small
singular values, ~1e-4 at rank one, far from any threshold). The population observables
(:mod:`symflow.dynamics.observables`), the alignment stop of ``run_until_aligned`` and the
parameter-space network (:func:`symflow.dynamics.network.neuron_alignment`) all use these functions.
"""
from __future__ import annotations

import numpy as np

#: ``sigma_2 / sigma_1`` below this counts as rank one.
RANK_THRESHOLD = 0.1
#: Alignment cosines above this count as aligned.
COSINE_THRESHOLD = 0.99


def _adjoint(A: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(A, -1, -2))


def cosine(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``Re<A, B>_F / (|A|_F |B|_F)`` over the last two axes."""
    num = (np.conj(A) * B).real.sum(axis=(-2, -1))
    den = np.sqrt((np.abs(A) ** 2).sum(axis=(-2, -1)) * (np.abs(B) ** 2).sum(axis=(-2, -1)))
    return num / np.maximum(den, 1e-300)


def alignment_cosines(T1: np.ndarray, T2: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``(..., 3)`` cosines ``(X, T2 T1)``, ``(T1, T2^* X)``, ``(T2, X T1^*)`` of ``(..., d, d)`` blocks."""
    return np.stack([cosine(X, T2 @ T1), cosine(T1, _adjoint(T2) @ X), cosine(T2, X @ _adjoint(T1))], axis=-1)


def hermitian_eigvals(G: np.ndarray) -> np.ndarray:
    """Eigenvalues (descending, ``(..., d)``) of Hermitian ``(..., d, d)`` matrices; closed forms for
    ``d <= 3`` (trigonometric solution of the characteristic cubic), ``numpy.linalg.eigvalsh`` above."""
    d = G.shape[-1]
    if d == 1:
        return G[..., 0, :].real
    if d == 2:
        a, b, c = G[..., 0, 0].real, G[..., 1, 1].real, G[..., 0, 1]
        mean, half = 0.5 * (a + b), np.sqrt(0.25 * (a - b) ** 2 + np.abs(c) ** 2)
        return np.stack([mean + half, mean - half], axis=-1)
    if d == 3:
        a, b, c = G[..., 0, 0].real, G[..., 1, 1].real, G[..., 2, 2].real
        x, y, z = G[..., 0, 1], G[..., 1, 2], G[..., 0, 2]
        q = (a + b + c) / 3.0
        off = np.abs(x) ** 2 + np.abs(y) ** 2 + np.abs(z) ** 2
        p = np.sqrt(((a - q) ** 2 + (b - q) ** 2 + (c - q) ** 2 + 2.0 * off) / 6.0)
        A, B, C = a - q, b - q, c - q
        det = A * B * C + 2.0 * np.real(x * y * np.conj(z)) - A * np.abs(y) ** 2 - B * np.abs(z) ** 2 - C * np.abs(x) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(p > 0, det / (2.0 * np.where(p > 0, p, 1.0) ** 3), 0.0)
        phi = np.arccos(np.clip(r, -1.0, 1.0)) / 3.0
        l1 = q + 2.0 * p * np.cos(phi)
        l3 = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
        return np.stack([l1, 3.0 * q - l1 - l3, l3], axis=-1)
    return np.linalg.eigvalsh(G)[..., ::-1]


def rank_ratio(blocks: np.ndarray, method: str = "svd") -> np.ndarray:
    """``sigma_2 / sigma_1`` of ``(..., d, d)`` blocks (``0`` for ``d = 1``); ``method`` ``"svd"`` or ``"eig"``."""
    blocks = np.asarray(blocks)
    if blocks.shape[-1] == 1:
        return np.zeros(blocks.shape[:-2])
    if method == "svd":
        sv = np.linalg.svd(blocks, compute_uv=False)
        return sv[..., 1] / np.maximum(sv[..., 0], 1e-300)
    if method == "eig":
        lam = hermitian_eigvals(_adjoint(blocks) @ blocks)
        return np.sqrt(np.maximum(lam[..., 1], 0.0) / np.maximum(lam[..., 0], 1e-300))
    raise ValueError(f"method must be 'svd' or 'eig', got {method!r}")


def is_aligned(ratio: np.ndarray, cosines: np.ndarray, rank_threshold: float = RANK_THRESHOLD,
               cosine_threshold: float = COSINE_THRESHOLD) -> np.ndarray:
    """``ratio < rank_threshold`` and every cosine ``> cosine_threshold`` (``cosines`` ``(..., 3)``)."""
    return (np.asarray(ratio) < rank_threshold) & (np.min(cosines, axis=-1) > cosine_threshold)
