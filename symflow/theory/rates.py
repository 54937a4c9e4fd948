"""Rates: the flow linearised at each orbit's equilibrium, on the tangent space of the spheres.

At a critical point ``p`` of the energy ``f`` on a product of spheres, the Jacobian of the
projected flow ``d nu/dt = grad_nu f - lambda_S nu`` restricted to the tangent space is the
Riemannian Hessian

    ``J = P_T (H - Lambda) P_T``,  ``Lambda = lambda_S`` on sphere ``S``,  ``lambda_S = <nu_S, grad_S f>``,

with ``H`` the Euclidean Hessian. ``J`` is symmetric, so every rate is real; negative = decay,
time unit ``c = 1``. For the CE energy ``Omega`` (trilinear), ``lambda_S = Omega*`` for each vector
on its own sphere and ``2 Omega*`` for shared ``theta`` or the joint sphere of ``[theta1; theta2]``.

**Derived (exact).** The tangent space splits into the active orbit's real isotypic component
and the rest. Outside it the drive is quadratic and vanishes to first order, so every direction
decays at ``-lambda_S`` ("losing irreps", "trivial component"). Inside, the Hessian is the
derivative of the model's block drive (:func:`symflow.theory.trace_calculus.drive_expressions`) at the point's
canonical blocks (``E_11`` for real and complex type; the quaternionic line for quaternionic
type), in real coordinates of the orbit's real form (real, complex or quaternionic matrices),
computed exactly by polarisation ``Dq(p) e = q(p + e) - q(p) - q(e)`` on sparse exact matrices.
In units of ``Omega*`` the result depends only on ``(d, type, neuron)``: it is derived once per
class (:func:`orbit_closed_form`, with ``n`` symbolic) and diagonalised exactly with SymPy on the
connected components of its sparsity graph. Coordinates carry the mode labels:

* ``phase alignment``: the block entry on the point's own line (abelian phases; the
  quaternionic phase);
* ``magnitude balance``: joint spheres, moving norm between ``theta1`` and ``theta2``;
* ``rotational alignment``: entries in the point's row or column (``d > 1``);
* ``rank reduction``: entries off the point's row and column (``d > 1``);
* ``symmetry zero modes``: zero rates spanned by the continuous symmetries of ``Omega``
  (``theta1_hat -> V theta1_hat U^*``, ``theta2_hat -> W theta2_hat V^*``, ``xi_hat -> W xi_hat U^*``
  for unitaries of the orbit's real form; shared: ``U = V = W`` and the central phase);
* ``zero modes (manifold of maxima)``: the remaining zero rates. ``Omega*`` is the global maximum
  of ``Omega`` on the orbit's component (:mod:`symflow.theory.equilibria`), so these are flat
  directions of a manifold of maxima; they occur for shared quaternionic orbits, where
  ``theta_hat = r q``, ``xi_hat = r q^2`` is an equilibrium for every unit quaternion ``q``.

**Stability.** Outside the orbit every rate is negative and inside it the point is a global
maximum, so the point is a local maximum of ``Omega`` on the spheres: ``stable`` (Lyapunov; not
asymptotically along zero modes) when no rate is positive, ``saddle`` otherwise.

**Verified (numeric).** :func:`numeric_spectrum` builds ``H`` analytically from the Cayley table
(``d2 Omega / dtheta1(a) dtheta2(b) = n^-2 xi~(ab)``, ``d2 Omega / dtheta1(a) dxi(h) =
n^-2 (P theta2(a^-1 .))(h)``, ...), projects onto the tangent space, splits it into the same
labelled subspaces (by Fourier projections relative to the point's singular spaces) and
diagonalises; zero modes are compared with the symmetry generators ``(R_c, L_c)`` in parameter
space. :func:`spectrum` checks the derived spectrum against it (``VERIFY_TOL`` relative to
``Omega*``) and raises :class:`~symflow.errors.SymflowError` on any disagreement.

**Large abelian groups.** Products of cyclic groups of order ``> ABELIAN_RECORD_ORDER`` take every
spectrum from the orbit records (:class:`OrbitRecordEquilibrium`: the closed form of the orbit's type
at the group's ``n``), building no irreps and no points, so ``Z_p`` and products work up to
``n = 10^6``; the brute-force check is limited to ``n <= NUMERIC_MAX_ORDER`` (a one-line error above).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from ..errors import ModelError, SymflowError
from ..groups.fourier import fourier_block, real_fourier_basis
from ..groups.orbits import TYPE_OF_INDICATOR, doubling_of
from ..neuron import bruteforce
from ..neuron.geometry import tangent_basis
from .equilibria import Equilibrium, as_model, equilibrium, orbit_equilibria
from .model import Model
from .symbols import N, OMEGA
from .trace_calculus import drive_expressions

#: Two numeric eigenvalues closer than this (relative to Omega*) are one mode.
CLUSTER_TOL = 1e-8
#: A numeric eigenvalue below this (relative to Omega*) in absolute value is a zero mode.
ZERO_TOL = 1e-9
#: Largest coupling allowed between the labelled numeric subspaces (relative to Omega*).
COUPLING_TOL = 1e-9
#: Agreement required between derived and brute-force rates (relative to Omega*).
VERIFY_TOL = 1e-9
#: Largest group order verified by default (the dense Hessian has (3n)^2 entries).
VERIFY_MAX_ORDER = 200
#: Largest group order the numeric spectrum accepts at all.
NUMERIC_MAX_ORDER = 1500
#: Abelian groups (products of cyclic groups) of larger order take their spectra from the orbit
#: records alone: an orbit's spectrum depends only on its type, so it is :func:`orbit_closed_form`
#: at the group's ``n``. No irrep is built and no equilibrium point is constructed and checked on
#: the Cayley table (``O(n^2)`` per orbit, ``O(n^3)`` in all); see :class:`OrbitRecordEquilibrium`.
ABELIAN_RECORD_ORDER = 1024

MODE_ORDER = ("phase alignment", "magnitude balance", "rotational alignment", "rank reduction",
              "losing irreps", "trivial component", "symmetry zero modes", "zero modes (manifold of maxima)")


# ============================================================================ results
@dataclass
class Mode:
    """One eigenvalue of the tangent Jacobian: ``rate`` (float, negative = decay, ``c = 1``),
    ``multiplicity``, ``mode`` label, ``exact`` (SymPy or ``None``) and ``units`` (exact
    ``rate / Omega*`` or ``None``)."""

    rate: float
    multiplicity: int
    mode: str
    exact: sp.Expr | None = None
    units: sp.Expr | None = None

    def to_json(self) -> dict:
        return {"rate": float(self.rate), "exact": None if self.exact is None else str(self.exact),
                "multiplicity": int(self.multiplicity), "mode": self.mode}


@dataclass
class Spectrum:
    """Tangent-space spectrum of one orbit's equilibrium: a list of :class:`Mode`.

    ``classification`` is ``"stable"`` (no positive rate: a local maximum of ``Omega``) or
    ``"saddle"`` (a positive rate). ``verified`` tells whether the brute-force Cayley-table spectrum was compared (and agreed).
    """

    equilibrium: Equilibrium
    modes: list = field(default_factory=list)
    classification: str = "stable"
    verified: bool = False

    @property
    def stable(self) -> bool:
        return self.classification == "stable"

    @property
    def omega_star(self) -> sp.Expr:
        return self.equilibrium.omega_star

    @property
    def rates(self) -> np.ndarray:
        """Every eigenvalue with multiplicity, ascending."""
        return np.sort(np.concatenate([np.full(m.multiplicity, m.rate) for m in self.modes]))

    @property
    def dimension(self) -> int:
        """Dimension of the tangent space (sum of multiplicities)."""
        return int(sum(m.multiplicity for m in self.modes))

    def by_rate(self) -> list:
        """``[(rate / Omega*, total multiplicity), ...]`` with equal rates merged, ascending."""
        merged: dict = {}
        om = self.equilibrium.omega_star_float
        for m in self.modes:
            key = m.units if m.units is not None else sp.Float(round(m.rate / om, 10))
            merged[key] = merged.get(key, 0) + m.multiplicity
        return sorted(merged.items(), key=lambda kv: float(kv[0]))

    def mode(self, label: str) -> list:
        """Modes whose label starts with ``label``."""
        return [m for m in self.modes if m.mode.startswith(label)]

    def to_json(self) -> dict:
        eq = self.equilibrium
        return {"irreps": list(eq.irreps), "dim": int(eq.dim), "orbit_size": int(eq.orbit_size),
                "omega_star": float(eq.omega_star), "omega_star_exact": str(eq.omega_star),
                "stable": bool(self.stable), "spectrum": [m.to_json() for m in self.modes]}

    def __repr__(self) -> str:
        eq = self.equilibrium
        parts = ", ".join(f"{m.units if m.units is not None else f'{m.rate / eq.omega_star_float:.10g}'} "
                          f"x{m.multiplicity} ({m.mode})" for m in self.modes)
        return (f"<Spectrum {eq.group.name} {{{', '.join(eq.irreps)}}}: {self.classification}, "
                f"Omega* = {eq.omega_star}; rates in units of Omega*: {parts}>")

    def _repr_latex_(self) -> str:
        eq = self.equilibrium
        rows = r" \\ ".join(
            f"{sp.latex(m.units) if m.units is not None else f'{m.rate / eq.omega_star_float:.10g}'}\\,\\Omega^* & "
            f"{m.multiplicity} & \\text{{{m.mode}}}" for m in self.modes)
        return (f"$\\Omega^* = {sp.latex(eq.omega_star)}\\ (\\text{{{self.classification}}}):\\quad"
                f"\\begin{{array}}{{rrl}} \\text{{rate}} & \\text{{mult.}} & \\text{{mode}} \\\\ {rows} \\end{{array}}$")


# ============================================================================ exact block algebra
class _Sparse(dict):
    """Sparse exact matrix ``{(i, j): sympy value}`` (the blocks here have few nonzeros)."""

    def __add__(self, other):
        out = _Sparse(self)
        for k, v in other.items():
            out[k] = out.get(k, 0) + v
        return _Sparse({k: v for k, v in out.items() if v != 0})

    def __sub__(self, other):
        return self + other.scale(-1)

    def scale(self, c):
        return _Sparse({k: sp.expand(c * v) for k, v in self.items() if c * v != 0})

    def __matmul__(self, other):
        rows: dict = {}
        for (k, j), v in other.items():
            rows.setdefault(k, []).append((j, v))
        out: dict = {}
        for (i, k), a in self.items():
            for j, b in rows.get(k, ()):
                out[(i, j)] = out.get((i, j), 0) + a * b
        return _Sparse({k: sp.expand(v) for k, v in out.items() if sp.expand(v) != 0})

    def adjoint(self):
        return _Sparse({(j, i): sp.conjugate(v) for (i, j), v in self.items()})

    __mul__ = scale  # ``M * coefficient``, as :meth:`~symflow.theory.matrix_expr.MatrixExpr.evaluate` writes it


def _unit(i, j, c=1):
    return _Sparse({(i, j): sp.sympify(c)})


def _real_form(d: int, type: str) -> list:
    """Orthogonal basis (equal norms) of the orbit's real form of ``d x d`` blocks.

    Returns ``[(label, matrix), ...]``; label ``phase`` (on the point's line), ``cross`` (its row
    or column) or ``comp``. The first entry is the point's direction.
    """
    def lab(i, j):
        return "phase" if i == 0 and j == 0 else ("cross" if i == 0 or j == 0 else "comp")

    out = []
    if type == "quaternionic":
        m = d // 2
        for p in range(m):
            for q in range(m):
                a, b, c, e = (2 * p, 2 * q), (2 * p, 2 * q + 1), (2 * p + 1, 2 * q), (2 * p + 1, 2 * q + 1)
                l = lab(p, q)
                out += [(l, _Sparse({a: 1, e: 1})), (l, _Sparse({a: sp.I, e: -sp.I})),
                        (l, _Sparse({c: 1, b: -1})), (l, _Sparse({c: sp.I, b: sp.I}))]
        return out
    for i in range(d):
        for j in range(d):
            out.append((lab(i, j), _unit(i, j)))
            if type == "complex":
                out.append((lab(i, j), _unit(i, j, sp.I)))
    return out


def _coordinates(M: _Sparse, d: int, type: str) -> dict:
    """Nonzero coordinates ``{index: value}`` of ``M`` in the basis of :func:`_real_form`;
    raises :class:`ModelError` if ``M`` is not in the real form."""
    out = {}

    def put(idx, v):
        v = sp.expand(v)
        if v != 0:
            out[idx] = v

    def bad():
        raise ModelError(f"the block drive leaves the {type} real form (d={d}); cannot linearise on the orbit")

    if type == "quaternionic":
        m = d // 2
        slots = {(i // 2, j // 2) for i, j in M}
        for p, q in slots:
            al, be = M.get((2 * p, 2 * q), 0), M.get((2 * p, 2 * q + 1), 0)
            ga, de = M.get((2 * p + 1, 2 * q), 0), M.get((2 * p + 1, 2 * q + 1), 0)
            if sp.expand(al - sp.conjugate(de)) != 0 or sp.expand(ga + sp.conjugate(be)) != 0:
                bad()
            base = 4 * (p * m + q)
            put(base, sp.re(al))
            put(base + 1, sp.im(al))
            put(base + 2, sp.re(ga))
            put(base + 3, sp.im(ga))
        return out
    for (i, j), v in M.items():
        re, im = sp.re(v), sp.im(v)
        if type == "complex":
            put(2 * (i * d + j), re)
            put(2 * (i * d + j) + 1, im)
        else:
            if sp.expand(im) != 0:
                bad()
            put(i * d + j, re)
    return out


def _inner(A: _Sparse, B: _Sparse):
    """``Re tr(A^* B)``."""
    return sp.re(sp.expand(sum(sp.conjugate(v) * B.get(k, 0) for k, v in A.items())))


@dataclass
class ClosedForm:
    """Exact tangent spectrum at the equilibrium of an orbit of dimension ``d`` and ``type``,
    as functions of the group order ``n`` (derived from the model's block drive).

    ``modes``: ``[(units, multiplicity, label), ...]`` with ``units = rate / Omega*`` (exact
    numbers) and ``multiplicity`` a polynomial in ``n``; ``omega_star``: ``Omega*(n)``;
    ``rates``: ``[(rate(n), multiplicity(n), label)]``.
    """

    d: int
    type: str
    settings_key: str
    omega_star: sp.Expr
    modes: list
    n: sp.Symbol
    symmetry_rank: int

    @property
    def rates(self) -> list:
        return [(sp.simplify(u * self.omega_star), m, lab) for u, m, lab in self.modes]

    def at(self, n: int) -> list:
        """``[(units, multiplicity, label)]`` at group order ``n`` (zero multiplicities dropped)."""
        out = []
        for u, m, lab in self.modes:
            k = int(sp.sympify(m).subs(self.n, n))
            if k < 0:
                raise SymflowError(f"closed form for d={self.d} {self.type}: negative multiplicity at n={n}")
            if k:
                out.append((u, k, lab))
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{u} x({m}) [{lab}]" for u, m, lab in self.modes)
        return (f"<ClosedForm d={self.d} {self.type} ({self.settings_key}): Omega* = {self.omega_star}; "
                f"rates in units of Omega*: {parts}>")

    def _repr_latex_(self) -> str:
        rows = r" \\ ".join(f"{sp.latex(u)}\\,\\Omega^* & {sp.latex(sp.sympify(m))} & \\text{{{lab}}}"
                            for u, m, lab in self.modes)
        return (f"$\\Omega^*(n) = {sp.latex(self.omega_star)}:\\quad\\begin{{array}}{{rrl}} \\text{{rate}} & "
                f"\\text{{mult.}} & \\text{{mode}} \\\\ {rows} \\end{{array}}$")


def orbit_closed_form(model, d: int = 1, type: str = "complex") -> ClosedForm:
    """The exact spectrum of an orbit of dimension ``d`` and ``type`` (``"real"``,
    ``"complex"`` or ``"quaternionic"``) for ``model``'s neuron, with ``n`` symbolic.

    ``orbit_closed_form(Model("Z7"), 1, "complex")`` is the abelian closed form of every
    frequency pair of every abelian group (``n`` free); ``type="real"`` the order-2 characters.
    """
    model = as_model(model)
    if type not in TYPE_OF_INDICATOR.values():
        raise SymflowError(f"orbit type must be 'real', 'complex' or 'quaternionic', got {type!r}")
    if type == "quaternionic" and d % 2:
        raise SymflowError(f"a quaternionic irrep has even dimension, got d = {d}")
    if not isinstance(d, (int, np.integer)) or d < 1:
        raise SymflowError(f"d must be a positive integer, got {d!r}")
    return _closed_form(model, int(d), type)


def abelian_rate_closed_forms(model) -> dict:
    """Closed forms of an abelian group's orbits as functions of ``n``:
    ``{"pair": ClosedForm (complex, d = 1), "real": ClosedForm (order-2 character)}``."""
    return {"pair": orbit_closed_form(model, 1, "complex"), "real": orbit_closed_form(model, 1, "real")}


_CACHE: dict = {}


def _closed_form(model: Model, d: int, type: str) -> ClosedForm:
    key = (model.settings_key(), d, type)
    if key in _CACHE:
        return _CACHE[key]
    names = tuple(model.vector_names)
    basis = _real_form(d, type)
    K = len(basis)
    shared = model.shared
    joint = model.spheres == "joint"
    spheres_of = [tuple(s) for s in model.neuron.sphere_groups]
    # canonical point, p = r * p_tilde with r = (k n d)^(-1/2)
    scale = {k: (1 / sp.sqrt(2) if (joint and k in ("theta1", "theta2")) else sp.Integer(1)) for k in names}
    ptil = {k: basis[0][1].scale(scale[k]) for k in names}
    drive = drive_expressions(model, d)

    def q(blocks):
        return {k: drive[k].evaluate(blocks) if drive[k].terms else _Sparse() for k in names}

    q0 = q(ptil)

    def coords(M: _Sparse) -> dict:
        return _coordinates(M, d, type)

    # Jacobian columns by polarisation
    A: dict = {}  # sparse Jacobian {(row, col): value} in stacked coordinates
    for ki, k in enumerate(names):
        for c, (_, E) in enumerate(basis):
            plus = dict(ptil)
            plus[k] = ptil[k] + E
            only = {nm: _Sparse() for nm in names}
            only[k] = E
            qp, qe = q(plus), q(only)
            for kj, k2 in enumerate(names):
                for c2, v in coords(qp[k2] - q0[k2] - qe[k2]).items():
                    A[(kj * K + c2, ki * K + c)] = v
    # sphere multipliers lambda_S (tilde units)
    lam = {}
    for S in spheres_of:
        num = sum(_inner(ptil[k], q0[k]) for k in S)
        den = sum(_inner(ptil[k], ptil[k]) for k in S)
        for k in S:
            lam[k] = sp.simplify(num / den)
    for ki, k in enumerate(names):
        for c in range(K):
            A[(ki * K + c, ki * K + c)] = A.get((ki * K + c, ki * K + c), 0) - lam[k]
    # units: (r / Omega*) = n (separate, shared) or 2 n (joint)
    to_units = N * (2 if joint else 1)
    # tangent basis (sparse columns): every coordinate but the radial ones, plus balance directions
    radial_idx = {k: names.index(k) * K for k in names}
    cols, labels = [], []
    for ki, k in enumerate(names):
        for c, (lab, _) in enumerate(basis):
            if c:
                cols.append({ki * K + c: sp.Integer(1)})
                labels.append(lab)
    for S in spheres_of:
        if len(S) < 2:
            continue
        w = sp.Matrix([scale[k] for k in S])
        others = sp.GramSchmidt([w] + [sp.Matrix([1 if i == j else 0 for i in range(len(S))])
                                       for j in range(len(S) - 1)], True)[1:]
        for o in others:
            cols.append({radial_idx[k]: o[i] for i, k in enumerate(S) if o[i] != 0})
            labels.append("balance")
    by_col: dict = {}
    for (i, j), v in A.items():
        by_col.setdefault(j, []).append((i, v))
    owner: dict = {}
    for a, col in enumerate(cols):
        for i in col:
            owner.setdefault(i, []).append(a)
    Mt: dict = {}
    for a, col in enumerate(cols):  # Mt[b, a] = sum_{i, j} T[i, b] A[i, j] T[j, a]
        Acol: dict = {}
        for j, tj in col.items():
            for i, v in by_col.get(j, ()):
                Acol[i] = Acol.get(i, 0) + v * tj
        for i, v in Acol.items():
            for b in owner.get(i, ()):
                Mt[(b, a)] = Mt.get((b, a), 0) + cols[b][i] * v
    Mt = {key: sp.radsimp(sp.cancel(v * to_units)) for key, v in Mt.items()}
    Mt = {key: v for key, v in Mt.items() if v != 0}
    if any(v.has(N) for v in Mt.values()):
        raise ModelError(f"internal check failed: tangent Hessian in units of Omega* depends on n (d={d}, {type})")
    if any(sp.simplify(v - Mt.get((b, a), 0)) != 0 for (a, b), v in Mt.items()):
        raise ModelError(f"internal check failed: tangent Hessian is not symmetric (d={d}, {type}); "
                         "the block drive is not the gradient in the Plancherel metric")
    in_orbit = _component_eigenvalues(Mt, labels)
    zero_count = int(sum(m for u, m, _ in in_orbit if u == 0))
    sym_rank = _block_symmetry_rank(names, shared, basis, ptil, cols, Mt, type, d)
    if sym_rank > zero_count:
        raise ModelError(f"internal check failed: {sym_rank} symmetry directions but {zero_count} zero modes "
                         f"(d={d}, {type})")
    modes = [(u, m, lab) for u, m, lab in in_orbit if u != 0]
    if sym_rank:
        modes.append((sp.Integer(0), sp.Integer(sym_rank), "symmetry zero modes"))
    if zero_count > sym_rank:
        modes.append((sp.Integer(0), sp.Integer(zero_count - sym_rank), "zero modes (manifold of maxima)"))
    # outside the orbit: the drive vanishes to first order, rate -lambda_S
    radial_model = model.block_flow(1).radial
    dimV = K
    for k in names:
        u = sp.radsimp(sp.cancel(-lam[k] * to_units))
        expected = -radial_model[k] / OMEGA
        if sp.simplify(u - expected) != 0:
            raise ModelError(f"internal check failed: sphere multiplier of {k} is {u} Omega*, the model's "
                             f"radial term says {expected} Omega*")
        modes.append((u, N - 1 - dimV, f"losing irreps ({k})"))
        modes.append((u, sp.Integer(1), f"trivial component ({k})"))
    modes = _merge_closed(modes)
    om = 1 / (sp.sqrt(doubling_of(type) * d) * N ** sp.Rational(3, 2)) / (2 if joint else 1)
    cf = ClosedForm(d, type, model.settings_key(), om, modes, N, sym_rank)
    _CACHE[key] = cf
    return cf


_LABEL = {"phase": "phase alignment", "balance": "magnitude balance", "cross": "rotational alignment",
          "comp": "rank reduction"}


def _components(k: int, edges) -> list:
    """Connected components of the graph on ``range(k)`` with ``edges`` (union-find), as index lists."""
    parent = list(range(k))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in edges:
        parent[find(i)] = find(j)
    comps: dict = {}
    for i in range(k):
        comps.setdefault(find(i), []).append(i)
    return list(comps.values())


def _component_eigenvalues(M: dict, labels: list) -> list:
    """Exact eigenvalues of the symmetric sparse matrix ``M`` (``{(i, j): value}``, size
    ``len(labels)``) per connected component of its sparsity graph."""
    acc: dict = {}
    for idx in _components(len(labels), M.keys()):
        sub = sp.Matrix(len(idx), len(idx), lambda a, b: M.get((idx[a], idx[b]), 0))
        lab = " + ".join(dict.fromkeys(_LABEL[labels[i]] for i in idx))
        ev = sub.eigenvals() if len(idx) > 1 else {sub[0, 0]: 1}
        if sum(ev.values()) != len(idx):
            raise ModelError(f"SymPy could not diagonalise a {len(idx)}x{len(idx)} block of the tangent Hessian")
        for val, mult in ev.items():
            val = sp.radsimp(sp.nsimplify(sp.simplify(val)) if not val.is_Rational else val)
            key = (val, lab)
            acc[key] = acc.get(key, 0) + int(mult)
    return [(u, sp.Integer(m), lab) for (u, lab), m in acc.items()]


def _block_symmetry_rank(names, shared, basis, ptil, cols, Mt, type, d) -> int:
    """Rank of the symmetry generators' tangent vectors in block coordinates (numeric, 1e-9);
    checks that they are zero modes of the tangent Hessian ``Mt``."""
    K = len(basis)
    Bn = [(_to_dense(E, d)) for _, E in basis]
    nrm = np.real(np.vdot(Bn[0], Bn[0]))
    P = {k: _to_dense(ptil[k], d) for k in names}
    alg = []
    for E in Bn:
        X = E - E.conj().T
        if np.abs(X).max() > 0:
            alg.append(X)

    def coords(blocks):
        return np.concatenate([[np.real(np.vdot(E, blocks[k])) / nrm for E in Bn] for k in names])

    gens = []
    if shared:
        th, xi = P["theta"], P["xi"]
        for X in alg:
            gens.append(coords({"theta": X @ th - th @ X, "xi": X @ xi - xi @ X}))
        if type == "complex":
            gens.append(coords({"theta": 1j * th, "xi": 2j * xi}))
    else:
        t1, t2, xi = P["theta1"], P["theta2"], P["xi"]
        Z = np.zeros_like(t1)
        for X in alg:
            gens.append(coords({"theta1": -t1 @ X, "theta2": Z, "xi": -xi @ X}))
            gens.append(coords({"theta1": X @ t1, "theta2": -t2 @ X, "xi": Z}))
            gens.append(coords({"theta1": Z, "theta2": X @ t2, "xi": X @ xi}))
    if not gens:
        return 0
    Tn = np.zeros((len(names) * K, len(cols)))
    for a, col in enumerate(cols):
        for i, v in col.items():
            Tn[i, a] = float(v)
    S = Tn.T @ np.column_stack(gens)
    if not S.size or np.abs(S).max() == 0:
        return 0
    Mn = np.zeros((len(cols), len(cols)))
    for (i, j), v in Mt.items():
        Mn[i, j] = float(v)
    if np.abs(Mn @ S).max() > 1e-9 * np.abs(S).max() * max(1.0, np.abs(Mn).max()):
        raise ModelError(f"internal check failed: a symmetry direction is not a zero mode (d={d}, {type})")
    s = np.linalg.svd(S, compute_uv=False)
    return int((s > 1e-8).sum())  # entries of order 1: absolute rank threshold


def _to_dense(A: _Sparse, d: int) -> np.ndarray:
    out = np.zeros((d, d), dtype=complex)
    for (i, j), v in A.items():
        out[i, j] = complex(v)
    return out


def _merge_closed(modes: list) -> list:
    acc: dict = {}
    for u, m, lab in modes:
        key = (u, lab)
        acc[key] = sp.expand(acc.get(key, 0) + m)
    base = {}
    for (u, lab), m in acc.items():  # merge per-vector labels of equal rate
        head, _, vec = lab.partition(" (")
        if vec:
            k = (u, head)
            entry = base.setdefault(k, [0, []])
            entry[0] = sp.expand(entry[0] + m)
            entry[1].append(vec.rstrip(")"))
        else:
            base[(u, lab)] = [m, []]
    out = [(u, m, f"{lab} ({', '.join(v)})" if v else lab) for (u, lab), (m, v) in base.items()]
    return sorted(out, key=lambda t: (float(t[0]), _mode_rank(t[2])))


def _mode_rank(label: str) -> int:
    head = label.split(" (")[0]
    return MODE_ORDER.index(head) if head in MODE_ORDER else len(MODE_ORDER)


# ============================================================================ numeric (brute force)
def euclidean_hessian(model: Model, point) -> np.ndarray:
    """Euclidean Hessian of ``f`` at ``point`` from the Cayley table (module docstring).

    Coordinates: the model's vectors stacked (``theta1, theta2, xi`` or shared ``theta, xi``).
    """
    G = model.group
    n = G.order
    T = G.table
    t1, t2, xi = (np.asarray(p, dtype=float) for p in point)
    xc = xi - xi.mean()
    H12 = xc[T] / n ** 2
    cols = np.arange(n)
    M1 = np.zeros((n, n))
    M1[T, cols[:, None]] = t2[None, :]  # M1[ab, a] = theta2(b)
    M2 = np.zeros((n, n))
    M2[T, cols[None, :]] = t1[:, None]  # M2[ab, b] = theta1(a)
    H1x = (M1 - M1.mean(axis=0, keepdims=True)).T / n ** 2
    H2x = (M2 - M2.mean(axis=0, keepdims=True)).T / n ** 2
    Z = np.zeros((n, n))
    if model.shared:
        return np.block([[H12 + H12.T, H1x + H2x], [(H1x + H2x).T, Z]])
    return np.block([[Z, H12, H1x], [H12.T, Z, H2x], [H1x.T, H2x.T, Z]])


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
        model = as_model(model)
        if point is None:
            point = equilibrium(model, orbit).point
    H = euclidean_hessian(model, point)
    lam = sphere_multipliers(model, point)
    names = model.vector_names
    B = tangent_basis(names, model.neuron.sphere_groups, dict(zip(names, _vectors_of(model, point))))
    return B.T @ (H - lam[:, None] * np.eye(len(lam))) @ B, B


@lru_cache(maxsize=32)
def _real_basis(group):
    return real_fourier_basis(group)


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
    rfb = _real_basis(G)
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


# ============================================================================ spectrum
class OrbitRecordEquilibrium:
    """The equilibrium of one orbit of a large abelian group, known from the orbit record alone.

    It carries what a :class:`Spectrum` reports of an :class:`Equilibrium` (``model``, ``group``,
    ``orbit``, ``orbit_index``, ``irreps`` labels, ``dim``, ``orbit_size``, ``type``, exact
    ``omega_star``: the closed form's ``Omega*(n)``) but not the point: groups of order
    ``> ABELIAN_RECORD_ORDER`` build no irreps (``Equilibrium(model, orbit)`` gives the point and
    its Cayley-table check for smaller groups).
    """

    def __init__(self, model: Model, orbit, omega_star: sp.Expr | None = None):
        G = model.group
        self.model, self.group = model, G
        self.orbit = G.orbit(orbit)
        self.orbit_index = self.orbit.id
        if self.orbit.is_trivial:
            raise SymflowError(f"the trivial irrep of {G.name} carries no energy, so it has no equilibrium with "
                               f"Omega* > 0; choose a non-trivial orbit")
        self.irreps = self.orbit.label.split("/")
        self.dim, self.orbit_size, self.type = self.orbit.dim, self.orbit.size, self.orbit.type
        if omega_star is None:  # (the orbit spectra pass the value of the orbit's type, derived once)
            cf = _closed_form(model, self.dim, self.type)
            omega_star = sp.radsimp(cf.omega_star.subs(cf.n, G.order))
        self.omega_star = omega_star

    @property
    def omega_star_float(self) -> float:
        return float(self.omega_star)

    def __repr__(self) -> str:
        return (f"<OrbitRecordEquilibrium {self.group.name} orbit {{{', '.join(self.irreps)}}}: d={self.dim}, "
                f"|O|={self.orbit_size}, {self.type}, Omega* = {self.omega_star} ~ {self.omega_star_float:.7g}>")


def _from_records(G, verify) -> bool:
    """True when ``G``'s spectra come from orbit records (large abelian products, no brute-force check).
    A brute-force check asked for above ``NUMERIC_MAX_ORDER`` is a one-line error (its limit and why)."""
    if verify and G.order > NUMERIC_MAX_ORDER:
        raise SymflowError(f"{G.name}: the brute-force check of the rates builds the dense {3 * G.order}x{3 * G.order} "
                           f"Cayley-table Hessian, limited to order <= {NUMERIC_MAX_ORDER} (got {G.order}); "
                           f"use verify=False (symflow rates --no-verify) for the derived spectrum")
    return G.abelian_factors is not None and G.order > ABELIAN_RECORD_ORDER and not verify


def _derived_modes(eq, derived: list) -> list:
    om = eq.omega_star
    return [Mode(rate=float(sp.N(u * om, 17)), multiplicity=int(m), mode=lab,
                 exact=sp.radsimp(u * om), units=u) for u, m, lab in derived]


def spectrum(model, orbit=None, verify: bool | None = None) -> Spectrum:
    """The tangent-space :class:`Spectrum` at the equilibrium of ``orbit``.

    ``model``: a Model, Group, group name or an :class:`Equilibrium` (then omit ``orbit``);
    ``orbit``: anything :meth:`Group.orbit <symflow.groups.group.Group.orbit>` resolves. Rates are derived exactly
    (:func:`orbit_closed_form`). ``verify`` (default: ``n <= VERIFY_MAX_ORDER``) compares them
    with the brute-force Cayley-table spectrum and its symmetry check (:func:`numeric_spectrum`).

    >>> from symflow import Model
    >>> s = spectrum(Model("F21"), 2)
    >>> s.classification, s.verified
    ('stable', True)
    >>> s                                  # rates in units of Omega*, with their multiplicities
    <Spectrum F21 {rho_1, rho_3}: stable, Omega* = sqrt(14)/882; rates in units of Omega*: -3 x1 (phase alignment), -2 x12 (rotational alignment), -1 x24 (rank reduction), -1 x6 (losing irreps (theta1, theta2, xi)), -1 x3 (trivial component (theta1, theta2, xi)), 0 x14 (symmetry zero modes)>
    """
    if isinstance(model, (Equilibrium, OrbitRecordEquilibrium)):
        eq = model
    else:
        m = as_model(model)
        if orbit is None:
            raise SymflowError(f"spectrum({m.group.name}) needs an orbit: an orbit id, label or irrep tuple of "
                               f"{m.group.name} (see group.orbits), or an Equilibrium; spectra(model) gives every orbit")
        eq = OrbitRecordEquilibrium(m, orbit) if _from_records(m.group, verify) else equilibrium(m, orbit)
    if isinstance(eq, OrbitRecordEquilibrium) and verify:
        raise SymflowError(f"{eq.group.name}: an orbit record has no point to check on the Cayley table; build "
                           f"Equilibrium(model, orbit) (order <= {NUMERIC_MAX_ORDER}) to verify")
    cf = _closed_form(eq.model, eq.dim, eq.type)
    n = eq.group.order
    derived = cf.at(n)
    classification = "saddle" if any(u > 0 for u, _, _ in derived) else "stable"
    if verify is None:
        verify = n <= VERIFY_MAX_ORDER
    if verify:
        num, num_class = numeric_spectrum(eq)
        _compare(eq, derived, num)
        if num_class != classification:
            raise SymflowError(f"{eq.group.name} orbit {eq.irreps}: derived classification {classification!r} "
                               f"but the brute-force check says {num_class!r}")
    return Spectrum(eq, _derived_modes(eq, derived), classification, bool(verify))


def _compare(eq: Equilibrium, derived: list, numeric: list) -> None:
    """Raise unless the derived and brute-force spectra agree: per mode label (its head, without
    the vector names), the sorted rates with multiplicity differ by at most ``VERIFY_TOL``."""
    def table(entries):
        acc: dict = {}
        for u, m, lab in entries:
            acc.setdefault(lab.split(" (")[0] if not lab.startswith("zero modes") else lab, []).extend(
                [float(u)] * int(m))
        return {k: np.sort(v) for k, v in acc.items()}

    d_tab, n_tab = table(derived), table(numeric)
    bad = sorted(set(d_tab) ^ set(n_tab))
    for k in set(d_tab) & set(n_tab):
        a, b = d_tab[k], n_tab[k]
        if a.shape != b.shape or np.abs(a - b).max(initial=0.0) > VERIFY_TOL:
            bad.append(k)
    if bad:
        summary = {k: (list(np.round(d_tab.get(k, []), 9)), list(np.round(n_tab.get(k, []), 9))) for k in bad}
        raise SymflowError(f"{eq.group.name} orbit {eq.irreps}: derived and brute-force spectra disagree "
                           f"(label: derived vs brute-force rates / Omega*): {summary}")


def orbit_spectra(model, verify: bool | None = None) -> list:
    """:class:`Spectrum` of every non-trivial orbit, in ``group.orbits`` order.

    ``verify=None`` checks one orbit of each ``(dimension, type)`` class against the brute-force
    spectrum when ``n <= VERIFY_MAX_ORDER``; ``True`` checks every orbit; ``False`` none.
    """
    model = as_model(model)
    n = model.group.order
    if _from_records(model.group, verify):
        return _record_spectra(model)
    out, checked = [], set()
    for eq in orbit_equilibria(model):
        cls = (eq.dim, eq.type)
        v = verify if verify is not None else (n <= VERIFY_MAX_ORDER and cls not in checked)
        checked.add(cls)
        out.append(spectrum(eq, verify=v))
    return out


def _record_spectra(model) -> list:
    """:func:`orbit_spectra` of a large abelian group from its orbit records: one derivation per
    orbit type (every orbit of a type has the same ``Omega*`` and rates), no irreps built."""
    G = model.group
    per_type: dict = {}
    out = []
    for orb in G.orbits:
        if orb.is_trivial:
            continue
        if orb.type not in per_type:
            eq = OrbitRecordEquilibrium(model, orb)
            derived = _closed_form(model, eq.dim, eq.type).at(G.order)
            per_type[orb.type] = ("saddle" if any(u > 0 for u, _, _ in derived) else "stable",
                                  _derived_modes(eq, derived), eq.omega_star)
        classification, modes, om = per_type[orb.type]
        eq = OrbitRecordEquilibrium(model, orb, omega_star=om)
        out.append(Spectrum(eq, [Mode(m.rate, m.multiplicity, m.mode, m.exact, m.units) for m in modes],
                            classification, False))
    return out


def report_from_spectra(model, spectra: list) -> dict:
    """The JSON contract for already computed spectra."""
    model = as_model(model)
    return {"group": model.group.name, "shared": bool(model.shared), "spheres": model.spheres,
            "time_unit": "c=1", "orbits": [s.to_json() for s in spectra]}


def rates_report(model, verify: bool | None = None) -> dict:
    """The public JSON contract of ``symflow rates`` (see :mod:`symflow.commands.rates`)::

        {"group", "shared", "spheres", "time_unit": "c=1",
         "orbits": [{"irreps", "dim", "orbit_size", "omega_star", "omega_star_exact", "stable",
                     "spectrum": [{"rate", "exact", "multiplicity", "mode"}]}]}

    ``verify``: see :func:`orbit_spectra`.
    """
    model = as_model(model)
    return report_from_spectra(model, orbit_spectra(model, verify=verify))

