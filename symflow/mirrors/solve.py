r"""The convex problems, solved by kept libraries and checked by certificates.

* ``beta = 0``, minimum-norm interpolation ``min ||z||_1  s.t.  A z + xi 1 = y`` as a linear program
  in ``(u, v, xi)``, ``z = u - v``, ``u, v >= 0`` (SciPy's HiGHS, ``scipy.optimize.linprog``, interior
  point with crossover to a vertex), its constraints multiplied by the invertible :func:`slope_transform`
  (same feasible set, sparse for piecewise-linear dictionaries). The optimal face: a second LP (dual
  simplex, at most ``FACE_TIME_LIMIT`` seconds, else ``unique`` stays undecided) maximises the mass
  ``sum_{j not in S} |z_j|`` off the first solution's support ``S`` over ``{feasible z : ||z||_1 <= opt
  (1 + 1e-9)}``; the solution is unique iff that mass is 0 and ``[A_S, 1]`` has full column rank (if the
  mass is 0 every optimum lives on ``S``; there, a null vector of ``[A_S, 1]`` would be a direction along
  which ``||z||_1`` is linear and so constant at the optimum).
* ``beta > 0``, the Lasso ``min 1/2 ||A z + xi 1 - y||^2 + beta ||z||_1`` (bias unpenalised) by
  scikit-learn's coordinate descent (``sklearn.linear_model.Lasso``, whose objective is
  ``(1/(2N)) ||.||^2 + alpha ||z||_1``, so ``alpha = beta / N``; ``fit_intercept=True`` centres the
  columns and ``y``, which handles the free bias exactly), warm-started along a geometric ``beta`` path
  and polished on the equicorrelation set (:func:`polish`). Chosen over cvxpy + Clarabel because
  scikit-learn is one pip install with no solver choice to make, and its result is certified here anyway.
  Certificate: the dual ``max_theta 1/2 ||y||^2 - 1/2 ||y - theta||^2`` s.t. ``1^T theta = 0``,
  ``||A^T theta||_inf <= beta``; the centred residual scaled into the constraint is dual feasible, so
  ``[dual, primal]`` brackets the optimum (``lower`` is a certified lower bound). KKT residuals:
  ``A_j^T r = beta sign(z_j)`` on the support, ``|A_j^T r| <= beta`` off it, ``1^T r = 0``.

A solver state other than optimal is :class:`SolverStateError` (a ``SymflowError``): infeasible and
unbounded are reported as such, never as a number.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SymflowError

#: Relative size below which a coefficient counts as zero (support, face).
ZERO = 1e-7

#: Largest certified relative duality gap accepted as the Lasso optimum.
GAP = 1e-6

#: Seconds allowed to the optimal-face LP (beyond: uniqueness not decided).
FACE_TIME_LIMIT = 20.0

#: Points of the warm-started beta path of the Lasso.
PATH_STEPS = 20


class SolverStateError(SymflowError):
    """A solver that did not end at an optimum (infeasible, unbounded, iteration limit, ...)."""


@dataclass
class Solution:
    """``z`` (on the dictionary's columns), bias ``xi``, ``objective`` (``||z||_1`` at ``beta = 0``),
    ``unique`` (``None`` when not decided), ``face`` (column indices used by some optimum found)."""

    beta: float
    z: np.ndarray
    xi: float
    objective: float
    l1: float
    status: str
    unique: bool | None = None
    face: list = field(default_factory=list)
    certificate: dict = field(default_factory=dict)

    @property
    def support(self) -> np.ndarray:
        scale = max(1.0, float(np.max(np.abs(self.z)))) if len(self.z) else 1.0
        return np.flatnonzero(np.abs(self.z) > ZERO * scale)


_HIGHS_STATUS = {0: "optimal", 1: "iteration or time limit reached", 2: "infeasible", 3: "unbounded",
                 4: "numerical difficulties"}


def _linprog(c, A_eq, b_eq, A_ub=None, b_ub=None, bounds=None, what="LP", method="highs", time_limit=None):
    from scipy.optimize import linprog

    options = {} if time_limit is None else {"time_limit": float(time_limit)}
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method=method, options=options)
    if res.status != 0:
        raise SolverStateError(f"the {what} is {_HIGHS_STATUS.get(res.status, res.message)} (HiGHS: {res.message})")
    return res


def slope_transform(x: np.ndarray):
    """The invertible sparse ``T`` (``N x N``, ``x`` sorted and distinct) with ``(T v)_0 = v_0``,
    ``(T v)_1 = v_1 - v_0`` and ``(T v)_i`` = the change of slope ``(v_i - v_{i-1})/(x_i - x_{i-1}) -
    (v_{i-1} - v_{i-2})/(x_{i-1} - x_{i-2})``: a piecewise-linear feature with few kinks has few nonzero
    entries in ``T a``, so ``T A z + xi T 1 = T y`` (the same constraints) is a sparse LP."""
    from scipy import sparse

    N = len(x)
    rows, cols, vals = [0], [0], [1.0]
    if N > 1:
        rows += [1, 1]
        cols += [1, 0]
        vals += [1.0, -1.0]
    for i in range(2, N):
        h1, h0 = x[i] - x[i - 1], x[i - 1] - x[i - 2]
        rows += [i, i, i]
        cols += [i, i - 1, i - 2]
        vals += [1 / h1, -1 / h1 - 1 / h0, 1 / h0]
    return sparse.csr_matrix((vals, (rows, cols)), shape=(N, N))


def _sparse_system(A, y, x):
    """``(M, b)``: the constraints ``[A, -A, 1] (u, v, xi) = y`` with repeated points dropped and, when
    ``x`` is given, multiplied by :func:`slope_transform` (entries within 64 ulp of the rounding bound
    ``||T_i||_1 max|a|`` set to 0: they are exact zeros computed in floating point)."""
    from scipy import sparse

    N, K = A.shape
    M = np.hstack([A, np.ones((N, 1))])
    b = np.asarray(y, dtype=float)
    if x is not None:
        keep = np.concatenate([[True], np.diff(x) != 0])
        M, b, xs = M[keep], b[keep], np.asarray(x)[keep]
        T = slope_transform(xs)
        col_max = np.max(np.abs(M), axis=0, keepdims=True)
        row_l1 = np.asarray(abs(T).sum(axis=1))               # (N, 1): |(T a)_i| <= row_l1_i max|a|
        M = np.asarray(T @ M)
        b = T @ b
        M[np.abs(M) <= 64 * np.finfo(float).eps * row_l1 * col_max] = 0.0   # rounding noise of exact zeros
    Ms = sparse.csr_matrix(M)
    return sparse.hstack([Ms[:, :K], -Ms[:, :K], Ms[:, K:]], format="csr"), b


def full_column_rank(M: np.ndarray) -> bool:
    """Whether ``M`` has full column rank (pivoted QR, tolerance ``max(shape) eps |R_00|``; one BLAS thread:
    multi-threaded factorisations collapse on a busy machine)."""
    import scipy.linalg

    from ..blas import blas_limits

    if M.shape[1] > M.shape[0]:
        return False
    if M.shape[1] == 0:
        return True
    with blas_limits(1):
        R = scipy.linalg.qr(M, mode="r", pivoting=True)[0]
    d = np.abs(np.diag(R))
    return bool(d[-1] > max(M.shape) * np.finfo(float).eps * d[0])


def min_norm(A: np.ndarray, y: np.ndarray, face: bool = True, x: np.ndarray | None = None) -> Solution:
    """``min ||z||_1 s.t. A z + xi 1 = y`` by HiGHS, with the optimal face (module docstring). With the
    sorted data ``x`` the constraints are passed through :func:`slope_transform` (sparse, same solution)."""
    N, K = A.shape
    ones = np.ones((N, 1))
    A_eq, b_eq = _sparse_system(A, y, x)
    c = np.concatenate([np.ones(2 * K), [0.0]])
    bounds = [(0, None)] * (2 * K) + [(None, None)]
    res = _linprog(c, A_eq, b_eq, bounds=bounds, what="minimum-norm interpolation LP", method="highs-ipm")
    z = res.x[:K] - res.x[K:2 * K]
    xi = float(res.x[-1])
    opt = float(np.sum(np.abs(z)))
    sol = Solution(beta=0.0, z=z, xi=xi, objective=opt, l1=opt, status="optimal")
    sol.certificate = {"residual": float(np.max(np.abs(A @ z + xi - y))) if N else 0.0}
    if face:
        S = sol.support
        off = np.ones(K, dtype=bool)
        off[S] = False
        c2 = -np.concatenate([off.astype(float), off.astype(float), [0.0]])
        try:
            res2 = _linprog(c2, A_eq, b_eq, A_ub=c[None, :], b_ub=[opt * (1 + 1e-9) + 1e-12], bounds=bounds,
                            what="optimal-face LP", method="highs-ds", time_limit=FACE_TIME_LIMIT)
        except SolverStateError as exc:          # e.g. the time limit: the face is not decided, not guessed
            sol.certificate["face"] = str(exc)
            return sol
        z2 = res2.x[:K] - res2.x[K:2 * K]
        off_mass = float(np.sum(np.abs(z2[off])))
        rank_ok = full_column_rank(np.hstack([A[:, S], ones]))
        sol.unique = bool(off_mass <= 1e-6 * max(1.0, opt) and rank_ok)
        other = np.flatnonzero(np.abs(z2) > ZERO * max(1.0, float(np.max(np.abs(z2)))))
        sol.face = sorted(set(S.tolist()) | set(other.tolist()))
        sol.certificate.update({"off_support_mass": off_mass, "support_rank_full": bool(rank_ok)})
    return sol


def lasso_objective(A, y, z, xi, beta) -> float:
    """``1/2 ||A z + xi 1 - y||^2 + beta ||z||_1``."""
    r = A @ z + xi - y
    return float(0.5 * r @ r + beta * np.sum(np.abs(z)))


def dual_bound(A, y, z, xi, beta) -> tuple[float, dict]:
    """A certified lower bound on the Lasso optimum from the dual point built from the residual of
    ``(z, xi)``, and the KKT residuals (relative to ``beta``); see the module docstring."""
    r = y - A @ z - xi
    theta = r - r.mean()
    g = A.T @ theta
    gmax = float(np.max(np.abs(g))) if len(g) else 0.0
    if gmax > beta:
        theta = theta * (beta / gmax)
    lower = float(0.5 * y @ y - 0.5 * np.sum((y - theta) ** 2))
    g = A.T @ r
    scale = max(1.0, float(np.max(np.abs(z)))) if len(z) else 1.0
    on = np.abs(z) > ZERO * scale
    kkt = {"stationarity": float(np.max(np.abs(g[on] - beta * np.sign(z[on]))) / beta) if on.any() else 0.0,
           "dual_feasibility": float(max(0.0, np.max(np.abs(g[~on])) - beta) / beta) if (~on).any() else 0.0,
           "bias": float(abs(r.sum()))}
    return lower, kkt


def polish(A, y, z, xi, beta) -> tuple | None:
    """The exact Lasso solution on the equicorrelation set of a near-optimal ``(z, xi)``, or ``None``.

    With the centred residual ``theta`` of ``(z, xi)``: ``E = {j : |A_j^T theta| >= beta (1 - tol)}``,
    ``sigma = sign(A_E^T theta)``. The optimal residual solves the normal equations of
    ``min 1/2 ||M w - y||^2 + beta (sigma, 0)^T w``, ``M = [A_E, 1]`` (least squares: unique fitted
    values even when ``M`` has dependent columns); a coefficient vector with those fitted values and
    signs ``sigma_j z_j >= 0`` is found by HiGHS. Accepted only if ``|A^T r| <= beta`` holds everywhere
    (then the pair satisfies the KKT conditions). Returns ``(z, xi, unique, face)``: a second LP decides
    uniqueness as for the minimum norm (every solution shares the fitted values, support in ``E``, signs)."""
    N = A.shape[0]
    r0 = y - A @ z - xi
    theta = r0 - r0.mean()
    corr = A.T @ theta
    for tol in (1e-6, 1e-4, 1e-3, 1e-2):
        E = np.flatnonzero(np.abs(corr) >= beta * (1 - tol))
        if len(E) == 0:
            continue
        sigma = np.sign(corr[E])
        M = np.hstack([A[:, E], np.ones((N, 1))])
        rhs = M.T @ y - beta * np.concatenate([sigma, [0.0]])
        w = np.linalg.lstsq(M.T @ M, rhs, rcond=None)[0]
        fitted = M @ w
        r = y - fitted
        if np.max(np.abs(A.T @ r)) > beta * (1 + 1e-9) or np.max(np.abs(M.T @ (M @ w) - rhs)) > 1e-9 * max(
                1.0, float(np.max(np.abs(rhs)))):
            continue
        from scipy.optimize import linprog

        K = len(E)
        bounds = [(0, None) if sg > 0 else (None, 0) for sg in sigma] + [(None, None)]
        res = linprog(np.concatenate([sigma, [0.0]]), A_eq=M, b_eq=fitted, bounds=bounds, method="highs")
        if res.status != 0:
            continue
        out = np.zeros(A.shape[1])
        out[E] = res.x[:K]
        # every Lasso solution has these fitted values and its support in E with signs sigma: the solution
        # is unique iff no such point puts mass off this one's support S and [A_S, 1] has full rank
        zE = res.x[:K]
        onS = np.abs(zE) > ZERO * max(1.0, float(np.max(np.abs(zE))) if K else 1.0)
        res2 = linprog(-np.concatenate([sigma * ~onS, [0.0]]), A_eq=M, b_eq=fitted, bounds=bounds, method="highs-ds",
                       options={"time_limit": FACE_TIME_LIMIT})
        face = sorted(E[onS].tolist())
        unique = None
        if res2.status == 0:
            z2 = res2.x[:K]
            mass = float(np.sum(np.abs(z2[~onS])))
            unique = bool(mass <= 1e-6 * max(1.0, float(np.sum(np.abs(zE))))
                          and full_column_rank(np.hstack([A[:, E[onS]], np.ones((N, 1))])))
            face = sorted(set(face) | set(E[np.abs(z2) > ZERO * max(1.0, float(np.max(np.abs(z2))))].tolist()))
        return out, float(res.x[-1]), unique, face
    return None


def lasso(A: np.ndarray, y: np.ndarray, beta: float, tol: float = 1e-12, max_iter: int = 20000) -> Solution:
    """``min 1/2 ||A z + xi 1 - y||^2 + beta ||z||_1`` by scikit-learn, then :func:`polish` (module
    docstring); a point whose certified gap is not small is :class:`SolverStateError`."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso

    N, K = A.shape
    converged = True
    polished = None
    if K == 0:
        z = np.zeros(0)
        xi = float(np.mean(y))
    else:
        # a warm-started path from the smallest beta with z = 0 down to beta (coordinate descent converges
        # badly from zero on the strongly correlated ramp columns)
        centred = A - A.mean(axis=0)
        beta_max = float(np.max(np.abs(centred.T @ (y - y.mean()))))
        model = Lasso(alpha=beta / N, fit_intercept=True, tol=tol, max_iter=max_iter, selection="cyclic",
                      warm_start=True, precompute=K <= 4000)
        path = np.geomspace(beta_max, beta, PATH_STEPS) if beta_max > beta else [beta]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            for b in path:
                model.set_params(alpha=float(b) / N)
                model.fit(A, y)
            converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught[-1:])
        z = np.asarray(model.coef_, dtype=float)
        xi = float(np.mean(y) - np.mean(A, axis=0) @ z)
        polished = polish(A, y, z, xi, beta)
        if polished is not None and (lasso_objective(A, y, *polished[:2], beta)
                                     <= lasso_objective(A, y, z, xi, beta) + 1e-12 * max(1.0, float(y @ y))):
            z, xi = polished[:2]
        else:
            polished = None
    obj = lasso_objective(A, y, z, xi, beta)
    lower, kkt = dual_bound(A, y, z, xi, beta)
    gap = obj - lower
    if gap > GAP * max(abs(obj), 1e-300):
        raise SolverStateError(f"the Lasso solver stopped {'without converging' if not converged else 'early'}: "
                               f"certified gap {gap:.2e} (objective {obj:.10g}, dual bound {lower:.10g}); no "
                               f"optimum is reported")
    sol = Solution(beta=float(beta), z=z, xi=xi, objective=obj, l1=float(np.sum(np.abs(z))), status="optimal",
                   unique=polished[2] if polished else None, face=polished[3] if polished else [])
    sol.certificate = {"lower": lower, "upper": obj, "gap": gap, "kkt": kkt, "coordinate_descent_converged": converged,
                       "polished": polished is not None if K else True}
    return sol
