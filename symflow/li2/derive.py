r"""Li2's energy derived by SymPy from the network definition, and proved against brute force.

:func:`derive_energy` builds the network literally: the one-hot input matrix ``X`` (``N x 2n``), the
targets ``Y`` (``N x n``), the centring ``P = I - 1 1^T / N`` over the samples, a node ``w = [u; v]`` of
symbols and ``E = 1/2 || Y^T P sigma(X w) ||^2`` for a polynomial ``sigma``; nothing is typed in.
:func:`verify_energy` proves it (as polynomials, exactly) equal to (1) the written-out form
``1/2 sum_h (z_h - q_h s)^2`` evaluated at random rational points in exact arithmetic (here, independently),
checks (2) the core's masked energy ``Model(G, loss="mse", mask=S)`` (:func:`symflow.li2.core.li2_model`,
brute force) against it at those points, and, on the full table, proves it equal to (3) the parameter-space
energy of ``Model(G, loss="mse")`` whose Fourier form
``E = (2/n) sum_{rho != 1} d_rho ||U(rho) V(rho)||_F^2`` is proved by
:meth:`symflow.theory.energy.EnergyFunctional.verify` (real, complex and quaternionic irreps).

:func:`paper_constant_check` evaluates both the derived constant ``2/n`` and Li2's printed one (4 times
smaller: its cross term drops the factor 2 of ``(u + v)^2 = u^2 + v^2 + 2 u v``) against the literal
brute-force sum at random points and says which one it confirms.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ..errors import SymflowError
from ..groups.fourier import orbit_shares as orbit_shares_of_signals, representation_sum
from ..neuron.activation import polynomial_activation_of

#: Largest group order for which the literal SymPy network (n^2 samples) is built.
DERIVE_MAX_ORDER = 12


def _poly_activation(activation: str):
    """``sigma`` as a SymPy ``Lambda`` of the one activation object (:mod:`symflow.neuron.activation`; Li2
    spells the variable ``x``: ``x^2``, ``x^2+x^3``); it must be a polynomial."""
    z = sp.Symbol("z")
    return sp.Lambda(z, polynomial_activation_of(activation.replace("x", "z")).expression)


def derive_energy(group, mask=None, activation: str = "x^2"):
    """``(E, u, v)``: the energy as a SymPy polynomial in the node's symbols ``u_g, v_g``."""
    n = group.order
    if n > DERIVE_MAX_ORDER:
        raise SymflowError(f"the literal symbolic network is built for groups of order <= {DERIVE_MAX_ORDER}; "
                           f"{group.name} has order {n}")
    mask = np.ones((n, n), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    sig = _poly_activation(activation)
    u = sp.symbols(f"u0:{n}")
    v = sp.symbols(f"v0:{n}")
    pairs = [(a, b) for a in range(n) for b in range(n) if mask[a, b]]
    N = len(pairs)
    X = sp.zeros(N, 2 * n)
    Y = sp.zeros(N, n)
    T = group.table
    for i, (a, b) in enumerate(pairs):
        X[i, a] = 1
        X[i, n + b] = 1
        Y[i, int(T[a][b])] = 1
    w = sp.Matrix(list(u) + list(v))
    P = sp.eye(N) - sp.ones(N, N) / N
    f = (X * w).applyfunc(sig)
    g = Y.T * P * f                                   # n x 1: the centred target-feature correlation
    E = sp.expand(sp.Rational(1, 2) * (g.T * g)[0, 0])
    return E, u, v


def verify_energy(group, mask=None, activation: str = "x^2", points: int = 3, seed: int = 0) -> dict:
    """Prove the derived energy equal to the written-out sums (exactly at random rational points; the
    difference is a polynomial, so agreement at random points from a large range is a proof with failure
    probability below ``(deg / 2R)^points``) and, on the full table, equal as a polynomial to
    ``Model(G, loss="mse")``'s parameter-space energy; the core's masked model agrees with it at the same
    points to ``1e-9`` relative (floating point). Raises :class:`SymflowError` on a mismatch."""
    from ..neuron import bruteforce
    from .core import li2_model

    E, u, v = derive_energy(group, mask, activation)
    n = group.order
    rng = np.random.default_rng(seed)
    M = np.ones((n, n), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    N = int(M.sum())
    core = li2_model(group, M, activation.replace("x", "z"))
    sig = _poly_activation(activation)
    R = 10 ** 6
    out = {"group": group.name, "points": points, "full_table": mask is None or bool(np.all(mask))}
    for _ in range(points):
        vals = [int(t) for t in rng.integers(-R, R, size=2 * n)]
        exact = E.subs(dict(zip(list(u) + list(v), vals)))
        # the written-out form in exact rationals: E = 1/2 sum_h (z_h - q_h s)^2
        T = group.table
        z = [Fraction(0)] * n
        s = Fraction(0)
        for a in range(n):
            for b in range(n):
                if M[a, b]:
                    h = sig(vals[a] + vals[n + b])
                    h = Fraction(int(h.p), int(h.q))
                    z[int(T[a][b])] += h
                    s += h
        q = [Fraction(int(c), N) for c in np.bincount(np.asarray(T)[M], minlength=n)]
        ref = sum((z[h] - q[h] * s) ** 2 for h in range(n)) / 2
        if sp.Rational(ref.numerator, ref.denominator) != exact:
            raise SymflowError(f"Li2 energy of {group.name}: the derived network energy differs from the written-out sum")
        got = float(bruteforce.energy(core, np.array(vals, dtype=float)))
        if abs(got - float(exact)) > 1e-9 * max(abs(float(exact)), 1e-300):
            raise SymflowError(f"Li2 energy of {group.name}: the core's masked model gives {got!r}, the derived "
                               f"network energy {float(exact)!r}")
    out["written_out"] = True
    out["equals_core_model"] = True
    if out["full_table"] and activation == "x^2":
        from ..theory.model import Model

        model = Model(group, loss="mse")
        ps = model.energy().parameter_space
        sym = model.energy().parameter_symbols()
        in1, in2 = model.input_names
        sub = dict(zip(sym[in1], u))
        sub.update(dict(zip(sym[in2], v)))
        if sp.expand(ps.xreplace(sub) - E) != 0:
            raise SymflowError(f"Li2 energy of {group.name}: differs from Model(G, loss='mse')'s parameter-space form")
        out["equals_model_mse"] = True
    return out


def riemannian_gradient(E, u, v):
    """The symbolic Riemannian gradient on the unit sphere: ``grad E - <w, grad E> w / |w|^2`` (SymPy)."""
    w = list(u) + list(v)
    g = [sp.diff(E, s) for s in w]
    lam = sp.Add(*[a * b for a, b in zip(w, g)]) / sp.Add(*[a * a for a in w])
    return [gi - lam * wi for gi, wi in zip(g, w)]


def fourier_energy(group, x) -> np.ndarray:
    """``(2/n) sum_{rho != 1} d_rho ||U(rho) V(rho)||_F^2`` at stacked points ``x`` (``sigma = z^2``,
    full table), with ``U = sum_g u(g) rho(g)``: the Fourier form, numerically."""
    n = group.order
    x = np.asarray(x, dtype=float)
    u, v = x[..., :n], x[..., n:]
    total = 0
    for rho in group.irreps:
        if rho.is_trivial:
            continue
        U, V = representation_sum(u, rho.matrices), representation_sum(v, rho.matrices)
        total = total + rho.dim * (np.abs(U @ V) ** 2).sum(axis=(-2, -1))
    return 2 * total / n


def orbit_shares(group, x) -> np.ndarray:
    """Plancherel share of ``|u|^2 + |v|^2`` on each irrep orbit, shape ``(..., orbits)`` (columns in
    ``group.orbits`` order)."""
    n = group.order
    x = np.asarray(x, dtype=float)
    return orbit_shares_of_signals(group, x[..., :n], x[..., n:])


def paper_constant_check(group, points: int = 8, seed: int = 0) -> dict:
    """Derived ``2/n`` against Li2's printed constant ``1/(2n)`` (4 times smaller), both against the
    literal brute-force sum at random points; returns the largest relative errors and the verdict."""
    from ..neuron import bruteforce
    from ..theory.model import Model

    x = np.random.default_rng(seed).normal(size=(points, 2 * group.order))
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    brute = bruteforce.energy(Model(group, loss="mse"), x)
    derived = fourier_energy(group, x)
    paper = derived / 4
    err = lambda a: float(np.max(np.abs(a - brute) / np.maximum(np.abs(brute), 1e-300)))
    e_d, e_p = err(derived), err(paper)
    return {"derived_constant": "2/n", "paper_constant": "1/(2n)", "derived_rel_error": e_d,
            "paper_rel_error": e_p, "confirmed": "derived" if e_d < 1e-9 < e_p else ("paper" if e_p < 1e-9 else "neither")}
