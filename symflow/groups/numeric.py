"""Numeric unitary irreps of any finite group given by its Cayley table (Burnside-Dixon style).

This is the fallback of :attr:`Group.irreps` for groups without a family constructor.

1. **Characters.** The class-sum structure constants ``c_ijk`` (``C_i C_j = sum_k c_ijk C_k``)
   define commuting matrices ``A_i[k, j] = c_ijk`` whose common eigenvectors are
   ``v_chi[k] = conj(chi(g_k))`` up to scale. One random combination ``sum_i a_i A_i`` (made
   normal by the scaling ``sqrt|C_k|``) is diagonalised; ``chi(1)^2 = n / sum_k |C_k| |v_k|^2``.
2. **One irrep per character.** ``P_chi = (d/n) sum_g conj(chi(g)) L(g)`` projects the left
   regular representation ``(L(g) f)(x) = f(g^-1 x)`` onto its ``chi``-isotypic part ``W``
   (``d`` copies of the irrep, ``dim W = d^2``). A random Hermitian element of the commutant (right
   convolution ``(R_c f)(x) = sum_g c_g f(x g)``, ``c_{g^-1} = conj(c_g)``) acts on ``W`` with ``d``
   eigenvalues of multiplicity ``d``; the eigenspace ``V`` of the smallest is irreducible. With an
   orthonormal basis ``B`` of ``V``, ``rho(g) = B^* L(g) B`` is unitary.
3. **Forms.** For a complex-type pair only one member is constructed; the other is its complex
   conjugate. Real-type irreps (indicator ``+1``) are brought to real orthogonal form: the
   symmetric unitary ``C = sum_g rho(g) X rho(g)^T`` (``X`` real symmetric, ``C`` normalised)
   intertwines ``conj(rho)`` with ``rho``; its Takagi factorisation ``C = U U^T`` makes
   ``U^* rho U`` real. Quaternionic irreps stay complex.

The random choices use a fixed seed, so results are deterministic. Order: the trivial irrep
first, then by dimension (conjugate pairs adjacent); labels ``rho_0, rho_1, ...``. Exact matrices
are recognised entry by entry (:mod:`symflow.groups.recognise`); they depend on the basis found
here, so only characters are canonical. Cost ``O(n^3)``: fine up to ``n`` of a few thousand.
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError
from .irrep import Irrep, frobenius_schur_indicator
from .orbits import character_conjugates

#: Seed of every random choice in this module.
SEED = 20240607
_ATTEMPTS = 8


def numeric_character_table(group, rng=None) -> np.ndarray:
    """Numeric irreducible characters, shape ``(r, n_classes)`` (columns in ``group.classes`` order;
    rows in no particular order)."""
    rng = np.random.default_rng(SEED) if rng is None else rng
    n = group.order
    T, inv = group.table, group.inverse
    classes = group.classes
    cls = group.class_of
    r = len(classes)
    sizes = np.array([len(c) for c in classes], dtype=float)
    reps = [c[0] for c in classes]
    scale = np.sqrt(sizes)
    for _ in range(_ATTEMPTS):
        a = rng.standard_normal(r) + 1j * rng.standard_normal(r)
        M = np.zeros((r, r), dtype=complex)
        weights = a[cls]
        for k, z in enumerate(reps):
            y = T[inv, z]  # x^-1 z for every x
            M[k] = np.bincount(cls[y], weights=weights.real, minlength=r) \
                + 1j * np.bincount(cls[y], weights=weights.imag, minlength=r)
        Mn = scale[:, None] * M / scale[None, :]  # normal: eigenvectors = scaled character columns
        lam, vecs = np.linalg.eig(Mn)
        gaps = np.abs(lam[:, None] - lam[None, :])
        np.fill_diagonal(gaps, np.inf)
        if r > 1 and gaps.min() < 1e-6 * max(1.0, np.abs(lam).max()):
            continue
        v = vecs / scale[:, None]  # v[:, chi] ~ conj(chi(g_k))
        v = v / v[cls[group.identity]][None, :]
        deg2 = n / (sizes[:, None] * np.abs(v) ** 2).sum(axis=0)
        deg = np.sqrt(deg2)
        chars = (np.conj(v) * deg[None, :]).T
        if np.abs(deg - np.round(deg)).max() > 1e-6:
            continue
        chars[:, cls[group.identity]] = np.round(deg)
        return chars
    raise SymflowError(f"{group.name}: could not separate the characters numerically")  # pragma: no cover


def _irrep_from_character(group, chi_el: np.ndarray, d: int, H: np.ndarray, rng) -> np.ndarray:
    """``rho(g)`` for all ``g`` of one irrep with character ``chi_el`` (per element)."""
    n = group.order
    T, inv = group.table, group.inverse
    if d == 1:
        return chi_el[:, None, None].astype(complex)
    # P[x, y] = (d/n) conj(chi(x y^-1))
    P = (d / n) * np.conj(chi_el[T[:, inv]])
    omega = rng.standard_normal((n, d * d)) + 1j * rng.standard_normal((n, d * d))
    W = _orthonormalise(P @ omega)
    if W is None:
        raise SymflowError(f"{group.name}: isotypic component of dimension < {d * d}")  # pragma: no cover
    h = W.conj().T @ (H @ W)
    h = (h + h.conj().T) / 2
    lam, U = np.linalg.eigh(h)
    span = lam[-1] - lam[0]
    if lam[d] - lam[d - 1] < 1e-6 * span or lam[d - 1] - lam[0] > 1e-8 * span:
        raise _Retry
    B = W @ U[:, :d]
    out = np.empty((n, d, d), dtype=complex)
    Bc = B.conj()
    chunk = max(1, 2_000_000 // (n * d))
    for g0 in range(0, n, chunk):
        gs = np.arange(g0, min(n, g0 + chunk))
        out[gs] = np.matmul(Bc.T[None], B[T[inv[gs]]])
    return out


def _orthonormalise(Y: np.ndarray) -> np.ndarray | None:
    """Orthonormal basis of the column span of ``Y`` (full column rank) by Cholesky QR, twice."""
    for _ in range(2):
        G = Y.conj().T @ Y
        try:
            L = np.linalg.cholesky((G + G.conj().T) / 2)
        except np.linalg.LinAlgError:
            return None
        Y = np.linalg.solve(L, Y.conj().T).conj().T  # Y L^-H
    if np.abs(Y.conj().T @ Y - np.eye(Y.shape[1])).max() > 1e-10:
        return None
    return Y


class _Retry(Exception):
    pass


def real_form(mats: np.ndarray, rng=None) -> np.ndarray | None:
    """A real orthogonal conjugate ``U^* rho U`` of a unitary real-type irrep (``None`` if not found)."""
    rng = np.random.default_rng(SEED) if rng is None else rng
    d = mats.shape[1]
    for _ in range(_ATTEMPTS):
        X = rng.standard_normal((d, d))
        X = X + X.T
        C = np.einsum("gij,jk,glk->il", mats, X, mats, optimize=True)
        C = (C + C.T) / 2
        norm = np.sqrt(np.abs((C @ C.conj().T)[0, 0]))
        if norm < 1e-8:
            continue
        C = C / norm
        if np.abs(C @ C.conj().T - np.eye(d)).max() > 1e-8:
            return None  # not of real type
        t = rng.uniform(0.3, 0.7)
        _, O = np.linalg.eigh(C.real + t * C.imag)
        D = O.T @ C @ O
        if np.abs(D - np.diag(np.diag(D))).max() > 1e-8:
            continue
        U = O * np.exp(0.5j * np.angle(np.diag(D)))[None, :]
        out = np.einsum("ai,gab,bj->gij", U.conj(), mats, U, optimize=True)
        if np.abs(out.imag).max() < 1e-9:
            return out.real.astype(complex)
    return None


def numeric_irreps(group) -> list[Irrep]:
    """A complete list of unitary irreps of ``group`` (see the module docstring)."""
    n = group.order
    rng = np.random.default_rng(SEED)
    chars = numeric_character_table(group, rng)
    cls = group.class_of
    per_el = chars[:, cls]  # (r, n)
    degs = np.round(chars[:, cls[group.identity]].real).astype(int)
    if (degs ** 2).sum() != n:
        raise SymflowError(f"{group.name}: character degrees {sorted(degs)} do not add up to |G| = {n}")
    # conjugate partner of every character
    partner = character_conjugates(chars)

    def key(i):
        c = chars[i]
        return (degs[i],) + tuple(float(np.round(x, 8)) + 0.0 for x in np.concatenate([-c.real, -c.imag]))

    trivial = [i for i in range(len(chars)) if degs[i] == 1 and np.allclose(per_el[i], 1)]
    # orbits {chi, conj chi}, sorted; within a pair, the member with the larger imaginary parts first
    seen, orbits = set(), []
    for i in sorted(range(len(chars)), key=key):
        if i in seen:
            continue
        orb = [i] if partner[i] == i else [i, partner[i]]
        seen.update(orb)
        orbits.append(orb)
    orbits.sort(key=lambda o: (o != trivial, degs[o[0]]))
    H = None
    irreps = []
    for orb in orbits:
        i = orb[0]
        d = int(degs[i])
        chi_el = per_el[i]
        if d > 1 and H is None:
            c = rng.standard_normal(n) + 1j * rng.standard_normal(n)
            c = (c + np.conj(c[group.inverse])) / 2
            T, inv = group.table, group.inverse
            H = c[T[inv[:, None], np.arange(n)[None, :]]]  # H[x, y] = c(x^-1 y)
        for _ in range(_ATTEMPTS):
            try:
                mats = _irrep_from_character(group, chi_el, d, H, rng)
                break
            except _Retry:
                c = rng.standard_normal(n) + 1j * rng.standard_normal(n)
                c = (c + np.conj(c[group.inverse])) / 2
                H = c[group.table[group.inverse[:, None], np.arange(n)[None, :]]]
        else:  # pragma: no cover
            raise SymflowError(f"{group.name}: could not split the isotypic component of a {d}-dim irrep")
        if len(orb) == 1 and d > 1 and frobenius_schur_indicator(group, chi_el, group.name) == 1:
            real = real_form(mats, rng)
            if real is not None:
                mats = real
        if len(orb) == 1 and d == 1 and np.abs(mats.imag).max() < 1e-9:
            mats = mats.real.astype(complex)
        members = [mats] if len(orb) == 1 else [mats, np.conj(mats)]
        for m in members:
            irreps.append(Irrep(group, f"rho_{len(irreps)}", numeric=m, meta={"construction": "numeric"}))
    return irreps
