"""The limits, measured: finite subgroups and sampled grids against the band-limited compact group.

**Scaling (derived).** A finite group ``H`` of order ``n`` carries counting measure: ``theta`` is a unit vector of
``R^n`` and ``Omega = n^-2 sum_{g1,g2} xi~(g1 g2) theta1(g1) theta2(g2)``. Its probability measure ``1/n`` makes
``u = sqrt(n) theta`` a unit vector of ``L^2(H, 1/n)`` and ``Omega(theta) = n^(-3/2) Omega_P(u)``, ``Omega_P`` the
energy with probability-normalised sums (the Haar integrals of a compact group). The flow
``d theta/dt = (I - theta theta^T) grad_theta Omega`` (Euclidean gradient, counting metric) becomes, with
``grad_theta = sqrt(n) grad_u`` and the probability metric's gradient ``grad^P_u = n grad_u``,

    du/dt = sqrt(n) dtheta/dt = n^(-3/2) (I - u <u, .>_P) grad^P_u Omega_P,

the Haar flow slowed by ``n^(-3/2)``. So the Haar time is ``tau = n^(-3/2) t`` and a rate ``lambda`` (per ``t``) is
``n^(3/2) lambda`` per ``tau``: **energies and rates scale by the same ``n^(3/2)``**, and rates in units of
``Omega*`` do not change (:func:`haar_scale`; ``tests/test_compact_limits.py`` checks the flow velocity and the
tangent spectrum of ``Z_8`` against ``SO(2)`` by brute force).

**Finite subgroups** (:func:`subgroup_rows`). Each non-trivial orbit of the compact group restricts to the subgroup
(:func:`symflow.groups.compact.subgroups.restriction_multiplicities`): ``exact`` when it restricts to one subgroup
irrep of the same dimension and type that no lower band reaches (then the subgroup's equilibrium on that orbit,
scaled, has the compact energy and in-orbit rates exactly: the restricted basis stays orthonormal), ``aliased`` when
a lower band already restricts to that irrep (same values, shared with the lower band), ``type change`` (one irrep of
another type: ``chi_{n/2}`` of ``Z_n`` is real, ``n^(3/2) Omega* = 1`` against ``2^(-1/2)``), ``split`` (several
irreps: no equilibrium of the subgroup is the compact one), ``invisible`` (the trivial irrep). ``Z_n -> SO(2)`` and
``D_n -> O(2)`` are exact for every band ``k < n/2``; ``T, O`` for ``l <= 1``, ``I`` for ``l <= 2``.

**Sampled grids** (:func:`sampled_grid`, :func:`grid_rows`). A grid is **not a group**: ``N`` points ``g_a`` of the
compact group with weights ``w_a`` summing to 1, not closed under products. Its network keeps the band-limited
functions (coefficients in the orthonormal basis of an orbit's span, on the Haar unit sphere, exact) and replaces
the Haar double integral by the grid's double sum

    Omega_N = sum_a sum_b w_a w_b xi~(g_a g_b) theta1(g_a) theta2(g_b)

(``xi`` is evaluated at the product ``g_a g_b``, off the grid: it is a band-limited function). By the homomorphism
``rho(g_a g_b) = rho(g_a) rho(g_b)`` the tensor is a contraction of two grid Gram matrices
``G[p, m, j] = sum_a w_a R_pm(g_a) phi_j(g_a)`` (:func:`grid_energy_tensor`), so ``Omega_N - Omega`` is linear in the
grid's quadrature error on band-``2l`` integrands: **zero** for a rule exact to band ``2l`` (Gauss-Legendre x
uniform of degree ``D >= 2l``; on the circle the uniform grid of ``N > 2l`` points, which is ``Z_N`` itself), and
otherwise of the order of that error: ``N^(-1/2)`` for Haar-random points (Monte Carlo), faster for low-discrepancy
points (golden-angle on the circle, super-Fibonacci spirals on ``SO(3)``); the table in docs/theory.md section 13
gives the measured slopes. The grid breaks the continuous symmetry, so the compact maximiser's zero modes become
small negative rates of the order of the same error.
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError
from ..neuron.geometry import tangent_basis
from .compact import _maximiser, _tangent_rates, in_orbit_rates, predicted_energy, tensor_spectrum

#: Subgroup families swept per compact group (``Z<n>``/``D<n>`` for ``n`` in ``3..nmax``; the polyhedral groups).
FAMILIES = {"SO(2)": "Z", "O(2)": "D", "SO(3)": ("A4", "S4", "A5"), "O(3)": ("A4", "S4", "A5")}
#: Grid kinds (:func:`sampled_grid`).
GRID_KINDS = ("gauss-legendre", "random", "fibonacci")
#: Default grid sizes (points) of the random and Fibonacci grids.
GRID_SIZES = (100, 1000, 10000)
#: Highest band whose orbits are measured on grids (the energy tensor has ``d^6`` entries: 117649 at ``l = 3``).
GRID_MAX_BAND = 3
#: Largest grid accepted (points).
MAX_GRID_POINTS = 10 ** 6
#: Super-Fibonacci constants (Alexa, CVPR 2022): ``phi = sqrt 2``, ``psi`` the root of ``psi^4 = psi + 4``.
_SF_PHI, _SF_PSI = np.sqrt(2.0), 1.533751168755204288118041
#: Golden ratio (the golden-angle grid on the circle).
_GOLDEN = (1 + 5 ** 0.5) / 2


def haar_scale(n: int) -> float:
    """``n^(3/2)``: counting -> Haar factor of energies **and** rates (time ``tau = n^(-3/2) t``; module doc)."""
    return float(n) ** 1.5


# ---------------------------------------------------------------------------------------------------- grids
def super_fibonacci(N: int) -> np.ndarray:
    """``N`` rotations of the super-Fibonacci spiral (Alexa 2022): unit quaternions
    ``(r sin a, r cos a, R sin b, R cos b)``, ``s = i + 1/2``, ``r = sqrt(s/N)``, ``R = sqrt(1 - s/N)``,
    ``a = 2 pi s / sqrt 2``, ``b = 2 pi s / psi``."""
    from ..groups.compact.rotations import quaternion_matrices

    s = np.arange(N) + 0.5
    r, R = np.sqrt(s / N), np.sqrt(1 - s / N)
    a, b = 2 * np.pi * s / _SF_PHI, 2 * np.pi * s / _SF_PSI
    return quaternion_matrices(np.stack([r * np.sin(a), r * np.cos(a), R * np.sin(b), R * np.cos(b)], -1))


def sampled_grid(name: str, kind: str, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(elements, weights)`` of a grid on the compact group ``name`` (weights sum to 1):

    * ``gauss-legendre``: the quadrature rule exact to band ``size`` (``size`` is the degree ``D``; on ``SO(2)`` the
      ``D + 1`` uniform angles, i.e. ``Z_{D+1}``);
    * ``random``: ``size`` Haar-random elements (seeded), equal weights;
    * ``fibonacci``: ``size`` low-discrepancy points, equal weights: golden-angle rotations ``r_{2 pi j / golden}``
      on ``SO(2)``, super-Fibonacci rotations on ``SO(3)``; ``O(2)``, ``O(3)``: the same on both cosets.
    """
    from ..groups import group
    from ..groups.compact.rotations import FLIP, quadrature_rule, rotation_2d

    if kind not in GRID_KINDS:
        raise SymflowError(f"grid kind must be one of {', '.join(GRID_KINDS)}, got {kind!r}")
    size = int(size)
    if kind == "gauss-legendre":
        return quadrature_rule(name, size)
    if not 1 <= size <= MAX_GRID_POINTS:
        raise SymflowError(f"grid size must be an integer 1 <= N <= {MAX_GRID_POINTS}, got {size}")
    if kind == "random":
        return group(name, bandlimit=0).random_elements(size, seed), np.full(size, 1.0 / size)
    if name in ("SO(2)", "O(2)"):
        E = rotation_2d(2 * np.pi * np.arange(size) / _GOLDEN)
        other = E @ FLIP
    else:
        E = super_fibonacci(size)
        other = -E
    if name in ("O(2)", "O(3)"):
        return np.concatenate([E, other]), np.full(2 * size, 0.5 / size)
    return E, np.full(size, 1.0 / size)


def _real_rep(group, orbit, elements) -> tuple[np.ndarray, float, list]:
    """``(R, c, entries)``: a real matrix representation ``R(g)`` (the irrep, or the realification
    ``[[Re, -Im], [Im, Re]]`` of a complex one) and the orbit's orthonormal basis ``phi_i = c R[p_i, q_i]`` (the
    order of :func:`symflow.theory.compact._basis`)."""
    r = group.irreps[orbit[0]]
    M = r.matrices(elements)
    d = r.dim
    if r.type == "complex":
        R = np.block([[M.real, -M.imag], [M.imag, M.real]])
        entries = [(p, q) for p in range(d) for q in range(d)] + [(d + p, q) for p in range(d) for q in range(d)]
        return R, np.sqrt(2 * d), entries
    return M.real, np.sqrt(d), [(p, q) for p in range(d) for q in range(d)]


def grid_energy_tensor(group, orbit, elements, weights) -> np.ndarray:
    """``T_ijk = sum_a sum_b w_a w_b phi_i(g_a g_b) phi_j(g_a) phi_k(g_b)`` on the orbit's span (module doc), by
    ``R(g_a g_b) = R(g_a) R(g_b)``: ``T_ijk = c sum_m G[p_i, m, j] G[m, q_i, k]``. Equals
    :func:`symflow.theory.compact.energy_tensor` on a rule exact to band ``2l`` (test)."""
    R, c, entries = _real_rep(group, orbit, np.asarray(elements, dtype=float))
    w = np.asarray(weights, dtype=float)
    phi = c * np.stack([R[:, p, q] for p, q in entries], axis=1)
    G = np.einsum("a,apm,aj->pmj", w, R, phi, optimize=True)
    P = np.array([p for p, _ in entries])
    Q = np.array([q for _, q in entries])
    return c * np.einsum("imj,imk->ijk", G[P], np.swapaxes(G, 0, 1)[Q], optimize=True)


def _tangent_frame(point) -> np.ndarray:
    """The tangent basis of the three unit spheres at ``point = (x, y, z)`` (the one :func:`tangent_basis`)."""
    names = ("x", "y", "z")
    return tangent_basis(names, [(v,) for v in names], dict(zip(names, point)))


def refine_maximum(T, best, iterations: int = 100, tol: float = 1e-11):
    """Riemannian trust-region Newton ascent of ``T(x, y, z)`` on the three unit spheres from ``best = (value, x, y,
    z)`` (the alternating maximiser converges slowly along the directions a grid makes almost flat): the step
    ``-(J - mu)^-1 g`` (``J`` the tangent Hessian, ``g`` the gradient; ``mu = 0`` for the Newton step when ``J < 0``
    and it fits the radius, else ``mu > max eig J`` with the step on the radius), accepted when the energy rises
    (radius doubled), else the radius quartered; out of a saddle along the top eigenvector. Stops when the gradient is
    below ``tol * Omega`` and no tangent eigenvalue is above ``1e-9 Omega``. Returns the refined ``(value, x, y, z)``."""
    from .compact import trilinear_hessian

    omega, x, y, z = best
    B = len(x)
    if B == 1:
        return best
    omega = float(np.einsum("ijk,i,j,k->", T, x, y, z))
    radius = 0.1
    for _ in range(iterations):
        point = [x, y, z]
        grads = [np.einsum("ijk,j,k->i", T, y, z), np.einsum("ijk,i,k->j", T, x, z), np.einsum("ijk,i,j->k", T, x, y)]
        Q = _tangent_frame(point)
        g = Q.T @ np.concatenate(grads)
        lam, V = np.linalg.eigh(Q.T @ (trilinear_hessian(T, point) - omega * np.eye(3 * B)) @ Q)
        gv, gn, scale = V.T @ g, np.linalg.norm(g), max(abs(omega), 1e-300)
        if gn < tol * scale and lam[-1] <= 1e-9 * scale:
            break
        step = V @ (-gv / lam) if lam[-1] < 0 else None
        if step is None or np.linalg.norm(step) > radius:
            if gn < 1e-9 * scale:
                step = radius * V[:, -1]
            else:
                lo, hi = max(lam[-1], 0.0), max(lam[-1], 0.0) + gn / radius
                for _ in range(60):
                    mid = (lo + hi) / 2
                    lo, hi = (mid, hi) if np.linalg.norm(gv / (mid - lam)) > radius else (lo, mid)
                step = V @ (gv / (hi - lam))
        moved = [v / np.linalg.norm(v) for v in np.split(np.concatenate(point) + Q @ step, 3)]
        value = float(np.einsum("ijk,i,j,k->", T, *moved))
        if value >= omega:
            (x, y, z), omega = moved, value
            radius = min(2 * radius, 1.0) if np.linalg.norm(step) > 0.9 * radius else radius
        else:
            radius /= 4
            if radius < 1e-14:
                break
    return omega, x, y, z


def grid_spectrum(T, starts: int = 4, seed: int = 0, sweeps: int = 200) -> tuple[float, np.ndarray]:
    """``(Omega_N, rates)`` (rates absolute, ascending) at the grid energy's maximum: the best of ``starts``
    alternating maximisations, each refined by :func:`refine_maximum`."""
    from ..blas import blas_limits

    rng = np.random.default_rng(seed)
    best = None
    with blas_limits(1):   # many small eigh/svd: one BLAS thread (symflow/blas.py)
        for s in rng.integers(0, 2 ** 31, starts):
            cand = refine_maximum(T, _maximiser(T, 1, int(s), sweeps))
            if best is None or cand[0] > best[0]:
                best = cand
        omega, rates = tensor_spectrum(T, best)
    return omega, np.sort(rates * omega)


# ---------------------------------------------------------------------------------------------------- rows
def _expand(pairs) -> np.ndarray:
    return np.sort(np.concatenate([np.full(int(m), float(r)) for r, m in pairs] or [np.zeros(0)]))


def _pairs(values, digits: int = 9) -> list:
    out: dict = {}
    for v in np.round(np.asarray(values, dtype=float), digits) + 0.0:
        out[float(v)] = out.get(float(v), 0) + 1
    return [[r, m] for r, m in sorted(out.items())]


def _rate_error(a: np.ndarray, b: np.ndarray):
    return float(np.max(np.abs(a - b), initial=0.0)) if len(a) == len(b) else None


def compact_rows(group) -> list[dict]:
    """Per non-trivial orbit: label, band, dim, type, ``Omega* = (k d)^(-1/2)`` and the in-orbit rates (absolute,
    Haar time, ``[[rate, multiplicity], ...]``)."""
    rows = []
    for o in group.orbits[1:]:
        omega = predicted_energy(o)
        rates = [[r * omega, m] for r, m in sorted(in_orbit_rates(group, o).items())]
        rows.append({"orbit": o.label, "band": group.irreps[o[0]].band, "dim": o.dim, "type": o.type,
                     "omega_star": omega, "rates": rates})
    return rows


def _finite_rates(H, orbit_id) -> tuple[float, list]:
    """``(Omega*, in-orbit rates [[rate, multiplicity]])`` of the finite group's equilibrium (the exact engine)."""
    from .model import Model
    from .rates import spectrum

    s = spectrum(Model(H), orbit_id, verify=False)
    rates = [[float(m.rate), int(m.multiplicity)] for m in s.modes
             if not m.mode.startswith(("losing irreps", "trivial component"))]
    return float(s.omega_star), rates


def subgroup_rows(group, subgroup: str, compact: list | None = None) -> dict:
    """The finite ``subgroup`` of the band-limited ``group`` against it: per non-trivial compact orbit, the restriction,
    its status (module doc) and, when it is one irrep, the subgroup equilibrium's scaled ``n^(3/2) Omega*`` and scaled
    in-orbit rates with their errors against the compact values."""
    from ..groups.compact.subgroups import embedding, restriction_multiplicities

    H, mats = embedding(group.name, subgroup)
    m = restriction_multiplicities(group, H, mats)
    scale = haar_scale(H.order)
    compact = compact if compact is not None else compact_rows(group)
    orbit_of = {i: o for o in H.orbits for i in o}
    seen: set = set()
    cache: dict = {}
    out = []
    for o, c in zip(group.orbits[1:], compact):
        row = m[o[0]]
        into = [{"irrep": H.irreps[j].label, "dim": H.irreps[j].dim, "multiplicity": int(k)}
                for j, k in enumerate(row) if k]
        entry = {"orbit": o.label, "band": c["band"], "restriction": into}
        if row.sum() != 1:
            entry["status"] = "split"
        elif int(np.argmax(row)) in H.orbits[0]:   # the trivial irrep
            entry["status"] = "invisible"
        else:
            ho = orbit_of[int(np.argmax(row))]
            if ho.id not in cache:
                cache[ho.id] = _finite_rates(H, ho.id)
            omega, rates = cache[ho.id]
            status = "type change" if ho.type != o.type else ("aliased" if ho.id in seen else "exact")
            seen.add(ho.id)
            scaled = [[r * scale, k] for r, k in rates]
            entry.update({"status": status, "subgroup_orbit": ho.label, "scaled_omega_star": omega * scale,
                          "scaled_rates": scaled, "energy_error": abs(omega * scale - c["omega_star"]),
                          "rate_error": _rate_error(_expand(scaled), _expand(c["rates"]))})
        out.append(entry)
    return {"subgroup": H.name, "order": H.order, "scale": scale, "orbits": out}


def grid_rows(group, kind: str, size: int, seed: int = 0, max_band: int = GRID_MAX_BAND,
              compact: list | None = None) -> dict:
    """One grid against the band-limited ``group``: per non-trivial orbit of band ``<= max_band``, the grid energy's
    maximum ``Omega_N``, its tangent rates on the orbit's span, and their errors against the compact values; also the
    grid's quadrature error on the orbit's band-``2l`` Gram matrix (``max |G_N - G|``, the quantity driving both)."""
    from ..groups.compact.rotations import quadrature_rule

    E, w = sampled_grid(group.name, kind, size, seed)
    compact = compact if compact is not None else compact_rows(group)
    out = []
    for o, c in zip(group.orbits[1:], compact):
        if c["band"] > max_band:
            continue
        T = grid_energy_tensor(group, o, E, w)
        T_exact = grid_energy_tensor(group, o, *quadrature_rule(group.name, 2 * c["band"]))
        omega, rates = grid_spectrum(T, seed=seed)
        out.append({"orbit": o.label, "band": c["band"], "omega": omega, "energy_error": abs(omega - c["omega_star"]),
                    "rate_error": _rate_error(rates, _expand(c["rates"])),
                    "tensor_error": float(np.abs(T - T_exact).max()), "rates": _pairs(rates, 6)})
    return {"kind": kind, "size": int(size), "points": int(len(w)), "orbits": out}


def default_grids(name: str, bandlimit: int, sizes=GRID_SIZES) -> list[tuple[str, int]]:
    """Gauss-Legendre x uniform of degree ``D = 1 .. 2 min(L, GRID_MAX_BAND)`` (exact from ``D = 2l`` on; ``SO(3)``,
    ``O(3)`` only: on the circle it is ``Z_{D+1}``, in the sweep already), and random and Fibonacci grids of
    ``sizes`` points."""
    top = 2 * min(bandlimit, GRID_MAX_BAND)
    gl = [("gauss-legendre", D) for D in range(1, top + 1)] if name in ("SO(3)", "O(3)") else []
    return gl + [(kind, N) for kind in ("random", "fibonacci") for N in sizes]


def sweep_estimate(name: str, bandlimit: int, grids, max_band: int = GRID_MAX_BAND):
    """The peak memory of :func:`limits_sweep` (its largest grid: the elements, the irrep matrices with their
    temporaries, the real representation, basis values and a temporary, at the highest measured band) as a
    :class:`~symflow.resources.MemoryEstimate` (measured: ``SO(3)``, band 3, ``2 x 10^5`` random points, peak RSS
    930 MB with about 150 MB of interpreter and libraries; this estimate 0.8 GB)."""
    from ..resources import MemoryEstimate

    est = MemoryEstimate(f"limits of {name} (band limit {bandlimit})", "smaller --sizes")
    band = min(int(bandlimit), int(max_band))
    if not grids or band < 1:
        return est
    points = max((2 if name in ("O(2)", "O(3)") and kind == "fibonacci" else 1) *
                 (size if kind != "gauss-legendre" else (size + 1) ** 2 * (size // 2 + 1)) for kind, size in grids)
    D = 2 if name == "SO(2)" else (2 if name == "O(2)" else 2 * band + 1)
    degree = 2 if name in ("SO(2)", "O(2)") else 3
    est.add("grid elements", 1, (points, degree, degree))
    est.add("irrep matrices on the grid (complex, with their temporaries)", 4, (points, D, D), itemsize=16)
    est.add("real representation, basis values and a temporary on the grid", 3, (points, D, D))
    return est


def limits_sweep(name: str, bandlimit: int, nmax: int = 64, grids=None, seed: int = 0,
                 max_band: int = GRID_MAX_BAND, progress=None) -> dict:
    """The sweep of issue 24: the band-limited compact group ``name`` against its finite subgroups (``Z_n -> SO(2)``,
    ``D_n -> O(2)`` for ``n = 3..nmax``; ``T, O, I -> SO(3), O(3)``) and against sampled grids (``grids``: a list of
    ``(kind, size)``, default :func:`default_grids`; ``[]`` for none), energies and in-orbit rates scaled to Haar
    measure and Haar time (``n^(3/2)``, module doc). ``progress(done, total)`` is called after each item."""
    from ..groups import group as make_group

    G = make_group(name, bandlimit=bandlimit)
    family = FAMILIES[G.name]
    subgroups = [f"{family}{n}" for n in range(3, nmax + 1)] if isinstance(family, str) else list(family)
    grids = default_grids(G.name, G.bandlimit) if grids is None else list(grids)
    sweep_estimate(G.name, G.bandlimit, grids, max_band).check()
    compact = compact_rows(G)
    total, done = len(subgroups) + len(grids), 0
    rows = []
    for s in subgroups:
        rows.append(subgroup_rows(G, s, compact))
        done += 1
        if progress:
            progress(done, total)
    grid_out = []
    for kind, size in grids:
        grid_out.append(grid_rows(G, kind, size, seed, max_band, compact))
        done += 1
        if progress:
            progress(done, total)
    from ..provenance import versions

    return {"group": G.name, "bandlimit": G.bandlimit, "seed": int(seed), "nmax": int(nmax),
            "versions": versions("sympy", "scipy"),
            "normalisation": "Haar probability measure, unit L^2 spheres (band-limited)",
            "scaling": {"energy": "n^(3/2) Omega", "rates": "n^(3/2) rate", "time": "tau = n^(-3/2) t",
                        "grids": "weights sum to 1: no scaling"},
            "compact": compact, "subgroups": rows, "grids": grid_out, "grid_max_band": int(max_band),
            "slopes": error_slopes(grid_out)}


def error_slopes(grids: list, floor: float = 1e-12) -> list[dict]:
    """Per grid kind (random, Fibonacci) and orbit: the least-squares slope of ``log error`` against ``log points``
    over the sizes measured (the decay exponent; ``None`` with fewer than two sizes above ``floor``)."""
    out = []
    for kind in ("random", "fibonacci"):
        runs = [g for g in grids if g["kind"] == kind]
        for label in dict.fromkeys(o["orbit"] for g in runs for o in g["orbits"]):
            row = {"kind": kind, "orbit": label}
            for key in ("energy_error", "rate_error"):
                pts = [(g["points"], o[key]) for g in runs for o in g["orbits"]
                       if o["orbit"] == label and o[key] is not None and o[key] > floor]
                row[key.replace("error", "slope")] = (float(np.polyfit(*np.log(np.array(pts)).T, 1)[0])
                                                      if len({p for p, _ in pts}) >= 2 else None)
            out.append(row)
    return out
