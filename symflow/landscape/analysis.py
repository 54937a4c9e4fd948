"""What is true at a critical point: exact energy, symmetry and family directions, spectrum and its range.

* **Symmetries of the energy** (:class:`SymmetryAlgebra`), discovered, not assumed: the candidate
  generators are the one-parameter rotations of each vector by the group algebra,
  ``(R_h nu)(g) = nu(g h) - nu(g h^-1)`` and ``(L_h nu)(g) = nu(h g) - nu(h^-1 g)`` (antisymmetric, so
  they keep every sphere); a combination ``A = sum_k c_k A_k`` is a symmetry when
  ``<grad E(x), A x> = 0`` at ``3 K + 30`` random points (the null space of that linear system).
  For GC's energy this recovers ``theta1_hat -> V theta1_hat U^*``, ... per irrep block, with ``U = V = W``
  and the central phases when the embedding is shared; for any other model it finds what is there.
* **Zero modes** of the tangent Hessian ``J`` (:func:`symflow.neuron.bruteforce.tangent_hessian`) split into
  *symmetry* directions (the span of ``A x``), *family* directions (a step of ``FAMILY_STEP`` along one,
  then Riemannian Newton, lands on a critical point with the same energy at distance ``~FAMILY_STEP``:
  the set of equilibria extends that way) and *degenerate* ones (neither: higher-order flatness, where
  the flow converges slower than exponentially).
* **High precision**: :func:`refine` repeats Newton steps with the residual computed in ``mpmath``
  (``DIGITS`` digits, the same brute-force sums on object arrays) and the double-precision tangent
  Hessian, gaining ~14 digits per step; the energy is then recognised exactly
  (:func:`symflow.groups.recognise.recognise_algebraic`).
* **Spectrum ranges**: the sorted eigenvalues of ``J`` at sample points of a kind (other neurons that
  reached it; points reached by walking along its family directions), merged into modes whose
  intervals overlap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np

from ..groups.recognise import recognise_algebraic
from ..neuron import bruteforce
from ..neuron.geometry import StackedGeometry
from ..neuron.points import vector_length
from .search import newton, pseudo_newton_step, retract, tangent_hessian

#: Eigenvalues of J with ``|w| <= ZERO_TOL * max |w|`` are zero modes.
ZERO_TOL = 1e-7
#: Step along a candidate family direction before Newton takes the point back to the critical set.
FAMILY_STEP = 1e-3
#: Relative energy agreement (to the energy scale) of the points along a family.
FAMILY_ENERGY_RTOL = 1e-9
#: Digits of the high-precision refinement (40 digits: 14-digit Newton gains, three steps).
DIGITS = 40
#: Eigenvalue intervals closer than this (relative to the largest |eigenvalue|) merge into one mode.
MODE_GAP = 1e-6


class SymmetryAlgebra:
    """The continuous symmetries of a model's energy among the group-algebra rotations (module docstring)."""

    def __init__(self, model, seed: int = 0):
        self.model = model
        G = model.group
        if getattr(G, "is_compact", False):     # R_h - R_h^T, L_h - L_h^T for Haar-random h, on coordinates
            from ..groups.compact.signals import translation_generators

            self.actions = [(i, A, None) for i in range(len(model.vector_names))
                            for A in translation_generators(G, seed=seed)]
        else:
            T, inv = G.table, G.inverse
            hs = [h for h in range(G.order) if h < inv[h]]
            self.actions = [(i, perm[0], perm[1]) for i in range(len(model.vector_names)) for h in hs
                            for perm in ((T[:, h], T[:, inv[h]]), (T[h, :], T[inv[h], :]))]
        K = len(self.actions)
        if K == 0:
            self.coefficients = np.zeros((0, 0))
            return
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(3 * K + 30, len(model.vector_names) * vector_length(model)))
        g = bruteforce.gradient(model, X)
        M = np.einsum("rd,rdk->rk", g, self.apply(X))
        _, s, Vh = np.linalg.svd(M, full_matrices=True)
        s = np.concatenate([s, np.zeros(K - len(s))]) if len(s) < K else s
        null = s <= 1e-9 * max(s.max(initial=0.0), 1e-300)
        self.coefficients = Vh[null].T                      # (K, dim)

    @property
    def dimension(self) -> int:
        """Dimension of the symmetry algebra found (the symmetry group's, not of an orbit)."""
        return self.coefficients.shape[1]

    def apply(self, x) -> np.ndarray:
        """``(..., D, K)``: every candidate generator applied to the points ``x`` ``(..., D)``."""
        n = vector_length(self.model)
        x = np.asarray(x)
        out = np.zeros(x.shape + (len(self.actions),))
        for k, (i, plus, minus) in enumerate(self.actions):
            v = x[..., i * n:(i + 1) * n]
            out[..., i * n:(i + 1) * n, k] = v @ plus.T if minus is None else v[..., plus] - v[..., minus]
        return out

    def velocities(self, x) -> np.ndarray:
        """``(D, dim)``: the symmetry directions ``A x`` at one point."""
        if not self.dimension:
            return np.zeros((len(x), 0))
        return self.apply(x) @ self.coefficients


#: Symmetry velocities ``A x`` shorter than this are zero (generators and points have entries of order 1).
VELOCITY_TOL = 1e-8


def _orthonormal(A: np.ndarray, tol: float = VELOCITY_TOL) -> np.ndarray:
    """Orthonormal basis of the span of the columns of ``A`` with singular values above ``tol`` (absolute)."""
    if A.shape[1] == 0:
        return A
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    return U[:, s > tol]


@dataclass
class PointSpectrum:
    """Eigenvalues of ``J`` at one critical point, with its zero modes split (module docstring)."""

    eigenvalues: np.ndarray          # sorted ascending
    symmetry: int
    family: int
    degenerate: int
    family_directions: np.ndarray = field(repr=False)   # (D, family) in stacked coordinates

    @property
    def zero(self) -> int:
        return self.symmetry + self.family + self.degenerate

    @property
    def stable(self) -> bool:
        """No growing direction (``max eigenvalue <= ZERO_TOL * max |eigenvalue|``)."""
        w = self.eigenvalues
        return bool(w.max(initial=0.0) <= ZERO_TOL * max(np.abs(w).max(initial=0.0), 1e-300))


def _energy_tol(E0: float, tol: float) -> float:
    """Two critical points have one energy when they differ by ``FAMILY_ENERGY_RTOL`` of the energy scale
    (``tol / GRADIENT_TOL``; the scale, not ``E0``, so that a level at ``E = 0`` is handled)."""
    from .search import GRADIENT_TOL

    return FAMILY_ENERGY_RTOL * max(abs(E0), tol / GRADIENT_TOL)


def point_spectrum(model, x, symmetries: SymmetryAlgebra, tol: float, test_family: bool = True) -> PointSpectrum:
    """Tangent spectrum at a critical point ``x`` with symmetry / family / degenerate zero modes."""
    J, B = tangent_hessian(model, x)
    w, V = np.linalg.eigh(J)
    big = max(np.abs(w).max(initial=0.0), 1e-300)
    zero = np.abs(w) <= ZERO_TOL * big
    Z = V[:, zero]
    S = _orthonormal(B.T @ symmetries.velocities(x))
    S = _orthonormal(Z @ (Z.T @ S)) if S.shape[1] else S     # the symmetry directions are zero modes
    rest = Z - S @ (S.T @ Z)
    C = _orthonormal(rest)[:, :max(Z.shape[1] - S.shape[1], 0)]
    family_dirs = []
    if test_family:
        E0 = float(bruteforce.energy(model, x))
        for j in range(C.shape[1]):
            d = B @ C[:, j]
            y = retract(model, (x + FAMILY_STEP * d)[None, :])[0]
            y, r, _, _ = newton(model, y, tol)
            moved = abs(float((y - x) @ d))
            if r <= tol and abs(float(bruteforce.energy(model, y)) - E0) <= _energy_tol(E0, tol) \
                    and moved >= 0.5 * FAMILY_STEP:
                family_dirs.append(d)
    F = np.stack(family_dirs, axis=1) if family_dirs else np.zeros((len(x), 0))
    return PointSpectrum(w, S.shape[1], F.shape[1], C.shape[1] - F.shape[1], F)


def sample_spectra(model, points) -> list:
    """``[PointSpectrum]`` of the sample points of a kind (other members than its representative): the sorted
    eigenvalues of ``J`` only (what the kind's range and stability need; the zero modes are not split, their
    counts ``None``), the Hessians, products and eigenvalues of all the points in one batch."""
    if not len(points):
        return []
    from .search import analytic_hessians, tangent_frame

    X = np.asarray(points, dtype=float)
    if not analytic_hessians(model):
        Js = [tangent_hessian(model, x)[0] for x in X]
    else:
        from ..theory.rates.numeric import energy_hessians

        H = energy_hessians(model, X)
        H -= bruteforce.multipliers(model, X)[:, None, :] * np.eye(X.shape[1])
        if model.neuron.constrained:
            B = np.stack([tangent_frame(model, x) for x in X])
            Js = np.swapaxes(B, -1, -2) @ (H @ B)
        else:
            Js = H
    W = np.linalg.eigvalsh(np.asarray(Js))
    return [PointSpectrum(w, None, None, None, np.zeros((X.shape[1], 0))) for w in W]


def family_walk(model, x, start: PointSpectrum, symmetries: SymmetryAlgebra, tol: float, points: int, seed: int,
                step: float = 0.25) -> list:
    """``[(point, PointSpectrum)]``: critical points along ``x``'s family (``start`` is ``x``'s spectrum).

    From ``x``, ``points // 2`` steps of length ``step`` each way along a random family direction, each step
    continuing the previous direction projected on the current family directions, followed by Newton; a
    point is kept only if it is critical with ``x``'s energy (else that way ends). Each point's spectrum is
    computed once: it gives the next step's family directions and is the sample of the kind's range."""
    if not start.family:
        return []
    rng = np.random.default_rng(seed)
    E0 = float(bruteforce.energy(model, x))
    d0 = start.family_directions @ rng.normal(size=start.family)
    d0 /= np.linalg.norm(d0)
    out = []
    for sign in (1.0, -1.0):
        cur, here, prev = np.array(x, float), start, sign * d0
        for _ in range(points - points // 2 if sign > 0 else points // 2):
            if not here.family:
                break
            F = _orthonormal(here.family_directions)
            d = F @ (F.T @ prev)
            if np.linalg.norm(d) < 1e-3:
                break
            d /= np.linalg.norm(d)
            y = retract(model, (cur + step * d)[None, :])[0]
            y, r, _, _ = newton(model, y, tol)
            if r > tol or abs(float(bruteforce.energy(model, y)) - E0) > _energy_tol(E0, tol):
                break
            here = point_spectrum(model, y, symmetries, tol)
            out.append((y, here))
            prev, cur = (y - cur) / np.linalg.norm(y - cur), y
    return out


def modes(spectra: list, labels: list) -> list:
    """Merge the sorted eigenvalues of several points into modes ``[(label, min, max, multiplicity)]``.

    ``labels`` gives the label of each index of the sorted list (from the representative's split: zero
    modes by kind, ``decay`` below, ``growth`` above); consecutive indices with one label whose
    ``[min, max]`` intervals overlap (within ``MODE_GAP``) form one mode.
    """
    W = np.stack([s.eigenvalues for s in spectra])
    lo, hi = W.min(axis=0), W.max(axis=0)
    gap = MODE_GAP * max(np.abs(W).max(initial=0.0), 1e-300)
    out = []
    for i in range(W.shape[1]):
        if out and out[-1][0] == labels[i] and lo[i] <= out[-1][2] + gap:
            lab, a, b, m = out[-1]
            out[-1] = (lab, a, max(b, hi[i]), m + 1)
        else:
            out.append((labels[i], float(lo[i]), float(hi[i]), 1))
    return out


def mode_labels(ps: PointSpectrum) -> list:
    """Labels of the representative's sorted eigenvalues: decay, zero modes (symmetry, family,
    degenerate, in that order among the zeros), growth."""
    w = ps.eigenvalues
    big = max(np.abs(w).max(initial=0.0), 1e-300)
    zero = np.abs(w) <= ZERO_TOL * big
    zero_labels = (["symmetry zero modes"] * ps.symmetry + ["family zero modes"] * ps.family
                   + ["degenerate zero modes"] * ps.degenerate)
    out, z = [], 0
    for i, v in enumerate(w):
        if zero[i]:
            out.append(zero_labels[z] if z < len(zero_labels) else "zero modes")
            z += 1
        else:
            out.append("decay" if v < 0 else "growth")
    return out


def refine(model, x, digits: int = DIGITS, steps: int = 6) -> tuple:
    """``(point as mpf object array, |grad| in mpf)`` after Newton steps at ``digits`` digits (module docstring).

    The tangent Hessian is the double-precision one at ``x`` (the point moves by ~the residual, so each step still
    gains ~14 digits); the residuals are the brute-force sums at ``digits`` digits (:func:`mp_gradient`), one per
    step."""
    with mpmath.workdps(digits):
        X = np.array([mpmath.mpf(float(v)) for v in x], dtype=object)
        geometry = StackedGeometry.of(model)
        geometry.retract(X)  # on the spheres to every digit before anything is measured
        target = mpmath.mpf(10) ** (-(digits - 8))
        g = mp_riemannian_gradient(model, X)
        r = _mp_norm(g)
        J = B = None
        for _ in range(steps):
            if r <= target:
                break
            if J is None:
                J, B = tangent_hessian(model, np.array([float(v) for v in X]))
                w, V = np.linalg.eigh(J)
            gt = B.T @ np.array([float(v) for v in g])
            # residuals are tiny, so the double step is exact to ~14 digits of itself
            step = pseudo_newton_step(w, V, B, gt)
            Y = X - np.array([mpmath.mpf(float(v)) for v in step], dtype=object)
            geometry.retract(Y)
            g_new = mp_riemannian_gradient(model, Y)
            r_new = _mp_norm(g_new)
            if not r_new < r:
                break
            X, g, r = Y, g_new, r_new
        return X, r


def _gmpy2():
    try:
        import gmpy2
    except ImportError:  # pragma: no cover - mpmath's own arithmetic then
        return None
    return gmpy2


def _mp_call(fn, model, X):
    """``fn(model, X)`` (a brute-force sum) at the current ``mpmath`` precision, on ``gmpy2.mpfr`` objects when
    gmpy2 is there (MPFR's correctly rounded operations in C, ~20x faster than ``mpmath.mpf`` on object arrays;
    the same sums, the same precision), else on ``X``'s ``mpf`` objects; the result as ``mpf`` objects."""
    gmpy2 = _gmpy2()
    if gmpy2 is None:
        return fn(model, X)
    with gmpy2.context(gmpy2.get_context(), precision=mpmath.mp.prec):
        Y = np.empty(np.shape(X), dtype=object)
        flat, out = np.asarray(X).reshape(-1), Y.reshape(-1)
        for i, v in enumerate(flat):
            sign, man, exp, _ = mpmath.mpf(v)._mpf_
            if not man and exp:                 # inf or nan
                out[i] = gmpy2.mpfr(float(v))
            else:                               # (-1)^sign man 2^exp, exactly
                out[i] = gmpy2.mul_2exp(gmpy2.mpfr(-int(man) if sign else int(man)), int(exp))
        R = fn(model, Y)
    if np.ndim(R) == 0:
        return _from_mpfr(R)
    return np.array([_from_mpfr(v) for v in np.asarray(R).reshape(-1)], dtype=object).reshape(np.shape(R))


def _from_mpfr(v) -> mpmath.mpf:
    """``mpf`` of an ``mpfr`` (its ``_mpf_``; a signed zero, which ``mpf`` does not have, as ``0``)."""
    return mpmath.mpf(v) if v else mpmath.mpf(0)


def mp_riemannian_gradient(model, X) -> np.ndarray:
    """:func:`symflow.neuron.bruteforce.riemannian_gradient` at the ``mpf`` point ``X`` at the current precision
    (:func:`_mp_call`: the gradient and its projection by the one geometry, whose dots are plain sums)."""
    return _mp_call(bruteforce.riemannian_gradient, model, X)


def mp_energy(model, X):
    """:func:`symflow.neuron.bruteforce.energy` at the ``mpf`` point ``X`` at the current precision (:func:`_mp_call`)."""
    return _mp_call(bruteforce.energy, model, X)


def _mp_norm(v) -> mpmath.mpf:
    return mpmath.sqrt(mpmath.fsum(a * a for a in v))


#: Recognised energies by their value at the recognition's precision (``DIGITS - 8`` digits, the binary rounding
#: :func:`~symflow.groups.recognise.recognise_algebraic` works on): the kinds of a landscape, and of the landscapes
#: one process computes, share few energy levels (an atlas task of order 64 has up to 63 kinds on ~3 levels).
_RECOGNISED: dict = {}
RECOGNISED_KEPT = 4096


def exact_energy(model, X):
    """``(energy as mpf, exact SymPy value or None)`` at the refined point ``X``; the recognition is that of the
    energy rounded to ``DIGITS - 8`` digits, so a level recognised before (:data:`_RECOGNISED`, the same rounded
    value) is not recognised again: the same answer, since it depends on that rounded value only."""
    with mpmath.workdps(DIGITS):
        E = mp_energy(model, X)
    with mpmath.workdps(DIGITS - 8):
        key = (+E)._mpf_
    if key not in _RECOGNISED:
        if len(_RECOGNISED) >= RECOGNISED_KEPT:
            _RECOGNISED.clear()
        with mpmath.workdps(DIGITS):
            _RECOGNISED[key] = recognise_algebraic(E, digits=DIGITS - 8)
    return E, _RECOGNISED[key]
