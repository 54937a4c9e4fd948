"""The exact derivation of the rates: the tangent Hessian of an orbit class, by polarisation of the
model's block drive on sparse exact matrices, diagonalised with SymPy (:func:`orbit_closed_form`).

See :mod:`symflow.theory.rates` ("Derived (exact)") for the method. The exact sparse block algebra
(:class:`_Sparse`, the real forms and their coordinates) is used only here.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ...errors import ModelError, SymflowError
from ...groups.orbits import TYPE_OF_INDICATOR, doubling_of
from ..model import Model
from ..symbols import N, OMEGA
from ..trace_calculus import drive_expressions
from .results import _LABEL, MODE_ORDER, ClosedForm


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



def orbit_closed_form(model, d: int = 1, type: str = "complex") -> ClosedForm:
    """The exact spectrum of an orbit of dimension ``d`` and ``type`` (``"real"``,
    ``"complex"`` or ``"quaternionic"``) for ``model``'s neuron, with ``n`` symbolic.

    ``orbit_closed_form(Model("Z7"), 1, "complex")`` is the abelian closed form of every
    frequency pair of every abelian group (``n`` free); ``type="real"`` the order-2 characters.
    """
    model = Model.coerce(model)
    model.require_stage_one()
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
