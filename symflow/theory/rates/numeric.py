"""The numeric check of the rates: the brute-force tangent spectrum from the Cayley table
(:func:`numeric_spectrum`), independent of the exact derivation; and :func:`energy_hessians`, the project's one
analytic Hessian of the brute-force energy (every model; the landscape's Newton steps and spectra use it too).

See :mod:`symflow.theory.rates` ("Verified (numeric)") for the method.
"""
from __future__ import annotations

import numpy as np

from ...errors import SymflowError
from ...groups.fourier import fourier_block
from ...neuron import bruteforce
from ...neuron.geometry import tangent_basis
from ..equilibria import Equilibrium, equilibrium
from ..model import Model
from .derivation import _components
from .results import _LABEL

#: Two numeric eigenvalues closer than this (relative to Omega*) are one mode.
CLUSTER_TOL = 1e-8
#: A numeric eigenvalue below this (relative to Omega*) in absolute value is a zero mode.
ZERO_TOL = 1e-9
#: Largest coupling allowed between the labelled numeric subspaces (relative to Omega*).
COUPLING_TOL = 1e-9
#: Largest group order the numeric spectrum accepts at all.
NUMERIC_MAX_ORDER = 1500


def energy_hessians(model, x) -> np.ndarray:
    """Euclidean Hessians of the model's energy (:mod:`symflow.neuron.bruteforce`'s sums, CE or MSE, shared or
    not, any activation with ``sigma''``, the model's training mask) at stacked points ``x``: ``(M, D, D)`` for
    ``(M, D)``, ``(D, D)`` for ``(D,)``; analytic, ``O(n^2)`` entries per point. The one analytic Hessian of the
    project (the fast path of the rates and of the landscape's Newton steps and spectra), checked against the
    complex step of :func:`symflow.neuron.bruteforce.hessian` in the tests.

    With ``S[a, b] = u_a + v_b`` (``u, v`` the two inputs), ``c_h = sum_{ab = h} M_ab sigma(S_ab)``, and the
    input-input part ``K = [[diag(W 1), W], [W^T, diag(W^T 1)]]`` for a weight matrix ``W`` (below):

    * CE, ``E = (1/2) n^-2 sum xi~(ab) sigma(S_ab)``: ``W = xi~(ab) sigma''(S_ab) / (2 n^2)``; input-output
      ``d^2 E / d(u, v) dxi_h = C~ / (2 n^2)``, ``C = [Cu, Cv]``, ``Cu[h, a] = sigma'(S[a, a^-1 h])``,
      ``Cv[h, b] = sigma'(S[h b^-1, b])``, ``C~`` centred over ``h``; output-output 0.
    * MSE, ``E = 1/2 |r|^2``, ``r = L c``, ``L = I - q 1^T`` (``q_h = N_h / N``, without a mask ``1/n``):
      ``J^T J + K`` with ``J = L [M Cu, M Cv]`` and ``W_ab = rho_{ab} M_ab sigma''(S_ab)``, ``rho = L^T r``.
    * shared ``u = v``: the four input blocks summed (and the two input-output blocks).
    """
    from ...neuron.bruteforce import _pairs

    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        return energy_hessians(model, x[None])[0]
    G = model.group
    n = G.order
    T, inv = np.asarray(G.table), np.asarray(G.inverse)
    vec, S = _pairs(model, x)
    sig = model.sigma
    rows = np.arange(n)[:, None]
    left = T[inv]                                       # left[a, h] = a^-1 h
    right = T[:, inv].T                                 # right[b, h] = h b^-1
    weights = getattr(model, "training", None) if model.loss == "mse" else None
    M = None if weights is None else weights[0]
    D1 = sig.dsigma(S) if M is None else sig.dsigma(S) * M
    Cu = np.swapaxes(D1[..., rows, left], -1, -2)       # Cu[h, a] = D1[a, a^-1 h]
    Cv = np.swapaxes(D1[..., right, np.arange(n)[:, None]], -1, -2)     # Cv[h, b] = D1[h b^-1, b]
    C = np.concatenate([Cu, Cv], axis=-1)               # (m, n, 2n)
    if model.loss == "ce":
        X = vec[model.output_name]
        X = (X - X.mean(axis=-1, keepdims=True))[..., T]
        W = X * sig.d2sigma(S) / (2 * n * n)
        cross = (C - C.mean(axis=-2, keepdims=True)) / (2 * n * n)     # (m, n_out, 2n)
    else:
        if weights is None:
            q = np.full(n, 1.0 / n)
            H = sig(S)
        else:
            q = weights[1] / weights[2]
            H = sig(S) * M
        c = H[..., rows, left].sum(axis=-2)             # c_h = sum_a H[a, a^-1 h]
        r = c - q * c.sum(axis=-1, keepdims=True)
        rho = r - (q * r).sum(axis=-1, keepdims=True)   # L^T r
        W = rho[..., T] * sig.d2sigma(S)
        if M is not None:
            W = W * M
        J = C - q[:, None] * C.sum(axis=-2, keepdims=True)
    K = np.zeros(S.shape[:-2] + (2 * n, 2 * n))
    idx = np.arange(n)
    K[..., idx, idx] = W.sum(axis=-1)
    K[..., n + idx, n + idx] += W.sum(axis=-2)
    K[..., :n, n:] = W
    K[..., n:, :n] = np.swapaxes(W, -1, -2)
    if model.loss == "mse":
        K += np.swapaxes(J, -1, -2) @ J
    in1, in2 = model.input_names
    shared = in1 == in2
    if shared:
        K = K[..., :n, :n] + K[..., :n, n:] + K[..., n:, :n] + K[..., n:, n:]
        if model.loss == "ce":
            cross = cross[..., :n] + cross[..., n:]
    inputs = [in1] if shared else [in1, in2]
    names = list(model.vector_names)
    D = len(names) * n
    out = np.zeros(S.shape[:-2] + (D, D))
    pos = {nm: names.index(nm) * n for nm in names}
    sl = [pos[nm] for nm in inputs]
    for i, a in enumerate(sl):
        for j, b in enumerate(sl):
            out[..., a:a + n, b:b + n] = K[..., i * n:(i + 1) * n, j * n:(j + 1) * n]
    if model.loss == "ce":
        o = pos[model.output_name]
        for i, a in enumerate(sl):
            out[..., o:o + n, a:a + n] = cross[..., :, i * n:(i + 1) * n]
            out[..., a:a + n, o:o + n] = np.swapaxes(cross[..., :, i * n:(i + 1) * n], -1, -2)
    return out


def euclidean_hessian(model: Model, point) -> np.ndarray:
    """Euclidean Hessian of ``f`` at ``point`` ``(theta1, theta2, xi)`` (:func:`energy_hessians` of the stacked
    point). Coordinates: the model's vectors stacked (``theta1, theta2, xi`` or shared ``theta, xi``)."""
    return energy_hessians(model, np.concatenate(_vectors_of(model, point)))


def _vectors_of(model: Model, point) -> list:
    """The point ``(theta1, theta2, xi)`` as the model's vectors (``model.vector_names`` order)."""
    by_role = dict(zip(model.neuron.roles[::-1], point[::-1]))  # a shared theta is the first input
    return [np.asarray(by_role[name], float) for name in model.vector_names]


def sphere_multipliers(model: Model, point) -> np.ndarray:
    """``lambda_S = <nu_S, grad_S f> / |nu_S|^2`` per stacked coordinate (:func:`symflow.neuron.bruteforce.multipliers`)."""
    return bruteforce.multipliers(model, np.concatenate(_vectors_of(model, point)))


def tangent_jacobian(model, orbit=None, point=None) -> tuple:
    """``(J, B)``: the Riemannian Hessian ``B^T (H - Lambda) B`` in an orthonormal tangent basis ``B``.

    ``model`` may be an :class:`Equilibrium` (then no ``orbit``), or a model with an ``orbit``
    or with any critical ``point = (theta1, theta2, xi)``.
    """
    if isinstance(model, Equilibrium):
        model, point = model.model, model.point
    else:
        model = Model.coerce(model)
        model.require_stage_one()
        if point is None:
            point = equilibrium(model, orbit).point
    H = euclidean_hessian(model, point)
    lam = sphere_multipliers(model, point)
    names = model.vector_names
    B = tangent_basis(names, model.neuron.sphere_groups, dict(zip(names, _vectors_of(model, point))))
    return B.T @ (H - lam[:, None] * np.eye(len(lam))) @ B, B


def _orbit_split(eq: Equilibrium, vec: np.ndarray, Q: np.ndarray) -> dict:
    """Bases (in R^n) of the phase / cross / comp parts of ``V_O`` relative to ``vec``'s block."""
    G = eq.group
    rho = G.irreps[eq.orbit[0]].matrices
    d = rho.shape[1]
    c = 2.0 if eq.orbit_size == 2 else 1.0
    block = fourier_block(G, vec, eq.orbit[0])
    U, s, Vh = np.linalg.svd(block)
    rank = int((s > 1e-8 * s[0]).sum())
    L = U[:, :rank] @ U[:, :rank].conj().T
    R = Vh[:rank].conj().T @ Vh[:rank]
    I = np.eye(d)
    # Fourier coefficients of the V_O basis vectors, then projected and synthesised back
    hatQ = fourier_block(G, Q.T, eq.orbit[0])  # (m, d, d)

    def proj(Lp, Rp):
        Y = np.einsum("ij,mjk,kl->mil", Lp, hatQ, Rp)
        X = c * d * np.einsum("mij,gji->gm", Y, rho).real  # (n, m): projected basis vectors
        Pm = Q.T @ X  # the projector in V_O coordinates
        w, V = np.linalg.eigh((Pm + Pm.T) / 2)
        if not np.all((w < 1e-8) | (w > 1 - 1e-8)):  # pragma: no cover - a failed theorem
            raise SymflowError(f"internal check failed: orbit projector of {G.name} has eigenvalues {np.unique(np.round(w, 6))}")
        return Q @ V[:, w > 0.5]

    return {"phase": proj(L, R), "cross": np.concatenate([proj(L, I - R), proj(I - L, R)], axis=1),
            "comp": proj(I - L, I - R)}


def _symmetry_directions(eq: Equilibrium, QO: np.ndarray) -> np.ndarray:
    """Symmetry generators' tangent vectors at the point, in stacked V_O coordinates.

    For antisymmetric ``c`` on G, ``R_c nu(g) = sum_h c(h) nu(gh)`` and ``L_c nu(g) = sum_h c(h) nu(hg)``
    multiply each block by ``X = sum_h c(h) rho(h)`` (anti-Hermitian) on the left and on the
    right: ``(-L_c theta1, 0, -L_c xi)``, ``(R_c theta1, -L_c theta2, 0)``, ``(0, R_c theta2, R_c xi)``;
    shared ``(R_c theta - L_c theta, R_c xi - L_c xi)`` and, for antisymmetric class functions,
    ``(R_c theta, 2 R_c xi)``.
    """
    model = eq.model
    G = eq.group
    T, inv = G.table, G.inverse
    vecs = _vectors_of(model, eq.point)
    hs = [h for h in range(G.order) if h < inv[h]]
    if not hs:
        return np.zeros((QO.shape[1] * len(vecs), 0))

    hs_arr = np.array(hs)
    inv_arr = inv[hs_arr]

    def Rm(v):  # (n, k): R_{e_h - e_h^-1} v for every h
        return v[T[:, hs_arr]] - v[T[:, inv_arr]]

    def Lm(v):
        return (v[T[hs_arr, :]] - v[T[inv_arr, :]]).T

    def co(v):
        return QO.T @ v

    cols = []
    if model.shared:
        th, xi = vecs
        cols.append(np.concatenate([co(Rm(th) - Lm(th)), co(Rm(xi) - Lm(xi))]))
        Rt, Rx = co(Rm(th)), co(Rm(xi))
        pos = {h: i for i, h in enumerate(hs)}
        seen = set()
        for cl in G.classes:
            cl_t = tuple(cl)
            inv_cl = tuple(sorted(int(inv[g]) for g in cl))
            if inv_cl == cl_t or cl_t in seen:
                continue
            seen.update({cl_t, inv_cl})
            a = sum(Rt[:, pos[g]] for g in cl if g in pos) - sum(Rt[:, pos[int(inv[g])]] for g in cl if g not in pos)
            b = sum(Rx[:, pos[g]] for g in cl if g in pos) - sum(Rx[:, pos[int(inv[g])]] for g in cl if g not in pos)
            cols.append(np.concatenate([a, 2 * b])[:, None])
    else:
        t1, t2, xi = vecs
        z = np.zeros((QO.shape[1], len(hs)))
        cols.append(np.concatenate([-co(Lm(t1)), z, -co(Lm(xi))]))
        cols.append(np.concatenate([co(Rm(t1)), -co(Lm(t2)), z]))
        cols.append(np.concatenate([z, co(Rm(t2)), co(Rm(xi))]))
    S = np.concatenate(cols, axis=1)
    U, s, _ = np.linalg.svd(S, full_matrices=False)
    return U[:, s > 1e-8]  # generators have entries of order |nu| = 1; absolute rank threshold


def numeric_spectrum(eq: Equilibrium) -> tuple:
    """Brute-force spectrum: ``(modes, classification)`` with ``modes = [(rate/Omega*, mult, label)]``.

    Accuracy about ``1e-13`` relative to ``Omega*`` (double precision eigenvalues of a symmetric
    matrix built exactly from the Cayley table).
    """
    model = eq.model
    G = eq.group
    if G.order > NUMERIC_MAX_ORDER:
        raise SymflowError(f"{G.name} has order {G.order} > {NUMERIC_MAX_ORDER}: the dense brute-force "
                           f"Hessian is not built for it (use the derived spectrum, verify=False)")
    n = G.order
    names = model.vector_names
    N = n * len(names)
    om = eq.omega_star_float
    vecs = _vectors_of(model, eq.point)
    rfb = G.real_fourier_basis
    QO = rfb.matrix[:, rfb.slices[eq.orbit_index]]
    others = [rfb.matrix[:, s] for k, s in enumerate(rfb.slices)
              if k != eq.orbit_index and not G.orbits[k].is_trivial]
    Qrest = np.concatenate(others, axis=1) if others else np.zeros((n, 0))
    J = euclidean_hessian(model, eq.point)
    lam = sphere_multipliers(model, eq.point)
    J[np.diag_indices(N)] -= lam

    def embed(i, B):
        out = np.zeros((N, B.shape[1]))
        out[i * n:(i + 1) * n] = B
        return out

    # outside the orbit: J must act as -lambda (checked, not assumed)
    out_modes = []
    for i, name in enumerate(names):
        for label, B in (("trivial component", np.full((n, 1), 1 / np.sqrt(n))), ("losing irreps", Qrest)):
            if not B.shape[1]:
                continue
            Be = embed(i, B)
            JB = J @ Be
            lam_i = lam[i * n]
            err = np.abs(JB + lam_i * Be).max() / om
            if err > COUPLING_TOL:
                raise SymflowError(f"{G.name} orbit {eq.irreps}: the {label} directions of {name} are not an "
                                   f"eigenspace of the tangent Hessian (deviation {err:.3g} Omega*)")
            out_modes.append((-lam_i / om, B.shape[1], f"{label} ({name})"))
    # inside the orbit: labelled subspaces
    subs = []
    phase_cols = []
    radial_cols = {}
    for i, name in enumerate(names):
        parts = _orbit_split(eq, vecs[i], QO)
        u = vecs[i] / np.linalg.norm(vecs[i])
        ph = parts["phase"] - np.outer(u, u @ parts["phase"])
        q, s, _ = np.linalg.svd(ph, full_matrices=False)
        phase_cols.append(embed(i, q[:, s > 1e-8]))
        radial_cols[name] = (embed(i, u[:, None]), np.linalg.norm(vecs[i]))
        for key in ("cross", "comp"):
            if parts[key].shape[1]:
                subs.append((_LABEL[key], embed(i, parts[key])))
    ph = np.concatenate(phase_cols, axis=1)
    if ph.shape[1]:
        subs.insert(0, ("phase alignment", ph))
    for S in model.neuron.sphere_groups:
        if len(S) < 2:
            continue
        R = np.concatenate([radial_cols[v][0] for v in S], axis=1)
        w = np.array([radial_cols[v][1] for v in S])
        rad = R @ (w / np.linalg.norm(w))
        q, s, _ = np.linalg.svd(R - np.outer(rad, rad @ R), full_matrices=False)
        subs.insert(1, ("magnitude balance", q[:, s > 1e-8]))
    total = sum(B.shape[1] for _, B in subs) + sum(m for _, m, _ in out_modes)
    if total != N - len(model.neuron.sphere_groups):  # pragma: no cover - a failed theorem
        raise SymflowError(f"internal check failed: {total} labelled tangent directions for {G.name} orbit "
                           f"{eq.irreps}, expected {N - len(model.neuron.sphere_groups)}")
    Ball = np.concatenate([B for _, B in subs], axis=1) if subs else np.zeros((N, 0))
    C = Ball.T @ J @ Ball / om
    C = (C + C.T) / 2
    bounds = np.cumsum([0] + [B.shape[1] for _, B in subs])
    k = len(subs)
    edges = [(a, b) for a in range(k) for b in range(a + 1, k)
             if np.abs(C[bounds[a]:bounds[a + 1], bounds[b]:bounds[b + 1]]).max(initial=0.0) > COUPLING_TOL]
    in_modes, zero_vecs = [], []
    for members in _components(k, edges):
        idx = np.concatenate([np.arange(bounds[a], bounds[a + 1]) for a in members])
        label = " + ".join(dict.fromkeys(subs[a][0] for a in members))
        w, V = np.linalg.eigh(C[np.ix_(idx, idx)])
        for val, mult, pos in _cluster(w, CLUSTER_TOL):
            if abs(val) <= ZERO_TOL:
                zero_vecs.append(Ball[:, idx] @ V[:, pos])
                in_modes.append((0.0, mult, "zero"))
            else:
                in_modes.append((val, mult, label))
    classification = "saddle" if any(v > 0 for v, _, _ in in_modes) else "stable"
    modes = [(v, m, lab) for v, m, lab in in_modes if lab != "zero"] + out_modes
    if zero_vecs:
        Z = np.concatenate(zero_vecs, axis=1)
        # to stacked V_O coordinates (zero modes live in the orbit)
        ZO = np.concatenate([QO.T @ Z[i * n:(i + 1) * n] for i in range(len(names))])
        sym = _symmetry_directions(eq, QO)
        overlap = np.linalg.svd(sym.T @ ZO, compute_uv=False) if sym.shape[1] else np.zeros(0)
        s_in = int((overlap > 1 - 1e-6).sum())
        if s_in != sym.shape[1]:
            raise SymflowError(f"internal check failed: {G.name} orbit {eq.irreps}: {sym.shape[1]} symmetry "
                               f"directions, only {s_in} of them zero modes")
        if s_in:
            modes.append((0.0, s_in, "symmetry zero modes"))
        if Z.shape[1] > s_in:
            modes.append((0.0, Z.shape[1] - s_in, "zero modes (manifold of maxima)"))
    return modes, classification


def _cluster(values: np.ndarray, tol: float) -> list:
    order = np.argsort(values)
    out = []
    for k in order:
        if out and abs(values[k] - out[-1][0]) <= tol:
            idx = out[-1][2] + [int(k)]
            out[-1] = (float(np.mean(values[idx])), len(idx), idx)
        else:
            out.append((float(values[k]), 1, [int(k)]))
    return out
