"""The Riemannian flow of one generic irrep block, derived by Wirtinger calculus.

For a nontrivial irrep ``rho`` of dimension ``d`` the energy contributes ``omega_rho`` (a
polynomial in the block matrices and their conjugates, :func:`~symflow.theory.energy.block_energy`).
The parameter-space metric ``<u, v> = sum_g u(g) v(g) = n sum_rho d_rho tr(u_hat^* v_hat)``
(Plancherel) makes the Fourier-coordinate Euclidean gradient

    G_rho = (1 / (n d)) * d(omega_rho + conj(omega_rho)) / d conj(B_rho)

(Wirtinger derivative, ``B`` and ``conj(B)`` independent). This is the Fourier transform of the
parameter-space gradient, for complex-type pairs (both members contribute) as well as for
real and quaternionic self-dual irreps. The flow on the constraint manifold is

    dB/dt = G - k_B * Omega * B,      k_B = <B, G> / Omega   (derived by Euler homogeneity)

and on the trivial block ``d nu_hat[1]/dt = -k * Omega * nu_hat[1]`` (the drive vanishes there
because of the centring). Each block formula is derived once per block shape ``d`` (cached on
the model), in terms of the symbols ``n`` and ``Omega``; never per neuron or per irrep.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import ModelError, SymflowError
from .energy import block_energy
from .manifold import radial_coefficients
from .symbols import N, OMEGA, block_symbols, conjugate_partner, wirtinger_conjugate, wirtinger_join, wirtinger_split


class BlockFlow:
    """Flow of one generic nontrivial irrep block of dimension ``d`` (derived, SymPy).

    Attributes
    ----------
    d : int
    n : Symbol ``n`` (the group order, positive)
    blocks : dict name -> ``d x d`` Matrix of complex symbols ``name_i_j``
    omega_block : contribution of ONE irrep block to the energy (``d tr(xi^* theta2 theta1)`` for
        quadratic CE); complex in general, the sum over all nontrivial irreps is real
    drive : dict name -> Matrix, Fourier-coordinate Euclidean gradient of the energy
    radial : dict name -> coefficient (multiple of ``Omega``) of the radial term
    rhs : dict name -> Matrix, ``drive - radial * block``
    omega_symbol : Symbol ``Omega`` (the energy of the whole neuron)
    degrees : dict name -> Euler degree ``<B, G> / omega`` (the radial coefficients are sums of these)
    """

    def __init__(self, model, d, blocks, omega_block, drive, degrees, radial):
        self.model = model
        self.d = d
        self.n = N
        self.blocks = blocks
        self.omega_block = omega_block
        self.drive = drive
        self.degrees = degrees
        self.radial = radial
        self.omega_symbol = OMEGA
        self.rhs = {k: sp.ImmutableMatrix((drive[k] - radial[k] * blocks[k]).applyfunc(sp.expand))
                    for k in blocks}

    @property
    def names(self) -> tuple:
        return tuple(self.blocks)

    @property
    def symbols(self) -> list:
        """All block entry symbols, in ``names`` order, row-major."""
        return [s for k in self.names for s in self.blocks[k]]

    def equations(self) -> list:
        """``[Eq(Derivative(B, t), rhs_B), ...]`` as matrix equations, one per vector."""
        t = sp.Symbol("t", real=True)
        out = []
        for k in self.names:
            lhs = sp.Derivative(sp.MatrixSymbol(_hat_name(k), self.d, self.d), t)
            out.append(sp.Eq(lhs, self.rhs[k], evaluate=False))
        return out

    def __repr__(self) -> str:
        parts = "; ".join(f"d{k}/dt = {sp.sstr(self.compact(k))}" for k in self.names)
        return f"<BlockFlow d={self.d} {self.model.settings_key()}: {parts}>"

    def compact(self, name: str) -> sp.Expr:
        """The right-hand side as a matrix expression in the blocks (``MatrixSymbol`` ``<name>hat``).

        Derived by trace-word calculus from the energy's trace words (``d tr(B^* W)/d conj(B) = W``,
        ``conj(d tr(B W)/d B) = W^*``) and checked entry by entry against :attr:`rhs` when the
        flow is derived.
        """
        return self.compact_rhs[name]

    def _repr_latex_(self) -> str:
        from .display import block_flow_latex

        return "$\\displaystyle " + block_flow_latex(self) + "$"

    def latex(self) -> str:
        from .display import block_flow_latex

        return block_flow_latex(self)


def _hat_name(k: str) -> str:
    return "\\hat{\\" + k + "}" if k in ("theta", "xi") else ("\\hat{%s}" % _greek(k))


def _greek(k: str) -> str:
    for g in ("theta", "xi"):
        if k.startswith(g) and k[len(g):].isdigit():
            return "\\%s_{%s}" % (g, k[len(g):])
    return k


def derive_block_flow(model, d: int) -> BlockFlow:
    """Derive the :class:`BlockFlow` of ``model`` for block dimension ``d`` (see module docstring)."""
    model.require_block_flow()
    names = model.vector_names
    blocks = {k: block_symbols(k, d) for k in names}

    def block_of(name, power):
        if power != 1:
            raise ModelError("reduced flow needs a quadratic activation (pointwise powers couple blocks)")
        return blocks[name]

    omega = block_energy(model, block_of, d, N)
    syms = [s for k in names for s in blocks[k]]
    partners = [conjugate_partner(s) for s in syms]
    split = wirtinger_split(sp.expand(omega), syms)
    # omega + conj(omega) = 2 Re omega, as a polynomial in the entries and their Wirtinger partners
    real2 = sp.Poly(split + wirtinger_conjugate(split, syms), *(syms + partners))
    drive, degrees = {}, {}
    scale = 1 / (N * d)
    for k in names:
        B = blocks[k]
        G = sp.ImmutableMatrix(d, d, lambda i, j: wirtinger_join(
            sp.expand(scale * real2.diff(conjugate_partner(B[i, j])).as_expr()), syms))
        drive[k] = G
        # Euler degree: <B, G>_block = n d Re tr(B^* G), compared with Re omega
        inner = wirtinger_split(sp.expand(N * d * sum(sp.conjugate(B[i, j]) * G[i, j]
                                                      for i in range(d) for j in range(d))), syms)
        inner2 = sp.Poly(inner + wirtinger_conjugate(inner, syms), *(syms + partners))
        ratio = _constant_ratio(inner2, real2)
        if ratio is None:
            raise ModelError(f"the energy is not homogeneous in {k}; the radial term of the sphere "
                             f"projection is not a multiple of Omega (reduced flow needs a quadratic activation)")
        degrees[k] = ratio
    radial = radial_coefficients(model.manifold, degrees)
    bf = BlockFlow(model, d, blocks, omega, drive, degrees, radial)
    bf.compact_drive = compact_drive(model, d)
    bf.compact_rhs = {k: bf.compact_drive[k] - radial[k] * hat_matrix(k, d) for k in names}
    for k in names:
        explicit = _explicit(bf.compact_rhs[k], blocks)
        if (explicit - bf.rhs[k]).applyfunc(sp.expand) != sp.zeros(d, d):
            raise ModelError(f"internal check failed: the compact flow of {k} (trace-word calculus) differs "
                             f"from the entrywise Wirtinger derivation for d = {d}")  # pragma: no cover
    return bf


def _constant_ratio(p: sp.Poly, q: sp.Poly):
    """``c`` with ``p == c q`` for a constant ``c`` (free of the generators), else ``None``."""
    if q.is_zero:
        return sp.Integer(0) if p.is_zero else None
    lm = q.monoms()[0]
    c = sp.cancel(p.coeff_monomial(lm) / q.coeff_monomial(lm))
    if (p - q.mul_ground(c) if c.is_Number else p.as_expr() - c * q.as_expr()) in (0,) or \
            sp.expand(p.as_expr() - c * q.as_expr()) == 0:
        return c
    return None


def hat_matrix(name: str, d: int) -> sp.MatrixSymbol:
    """The block of ``name`` as a ``MatrixSymbol`` ``<name>hat`` (for compact matrix formulas)."""
    return sp.MatrixSymbol(f"{name}hat", d, d)


def _explicit(expr, blocks) -> sp.Matrix:
    """Evaluate a matrix expression in ``hat_matrix`` symbols with explicit block matrices."""
    d = next(iter(blocks.values())).rows
    sub = {hat_matrix(k, d): sp.Matrix(B) for k, B in blocks.items()}

    def ev(e):
        if isinstance(e, sp.MatrixSymbol):
            return sub[e]
        if isinstance(e, sp.ZeroMatrix):
            return sp.zeros(d, d)
        if isinstance(e, sp.Adjoint):
            return ev(e.arg).H
        if isinstance(e, sp.MatPow):
            return ev(e.base) ** int(e.exp)
        if isinstance(e, sp.MatAdd):
            out = sp.zeros(d, d)
            for a in e.args:
                out += ev(a)
            return out
        if isinstance(e, sp.MatMul):
            scalar, mats = sp.Integer(1), []
            for a in e.args:
                if a.is_Matrix:
                    mats.append(ev(a))
                else:
                    scalar *= a
            out = mats[0]
            for M in mats[1:]:
                out = out * M
            return scalar * out
        raise ModelError(f"cannot evaluate matrix expression {e}")  # pragma: no cover

    return ev(expr)


def compact_drive(model, d: int) -> dict:
    """Drive per vector as a matrix expression, by trace-word calculus on the energy's trace words.

    ``G_B = (1/(n d)) [sum over letters B^* in a word: the rest of the cyclically rotated word
    + sum over letters B: the adjoint of the rest]`` (coefficients are real).
    """
    from .energy import energy_trace_words

    out = {k: sp.ZeroMatrix(d, d) for k in model.vector_names}
    for coef, word in energy_trace_words(model, d, N):
        for pos, (name, power, adj) in enumerate(word):
            rest = word[pos + 1:] + word[:pos]
            mats = [sp.Adjoint(hat_matrix(nm, d)) if a else hat_matrix(nm, d) for nm, _, a in rest]
            prod = sp.MatMul(*mats) if len(mats) > 1 else mats[0]
            term = prod if adj else sp.Adjoint(prod).doit()
            out[name] = out[name] + (coef / (N * d)) * term
    return {k: v.doit() if hasattr(v, "doit") else v for k, v in out.items()}


# ---------------------------------------------------------------------- numeric convenience
def _lambdified(bf: BlockFlow):
    cache = getattr(bf, "_numeric", None)
    if cache is None:
        syms = bf.symbols
        rhs_entries = [e for k in bf.names for e in bf.rhs[k]]
        f_rhs = sp.lambdify([OMEGA, N] + syms, rhs_entries, modules="numpy", cse=True)
        f_omega = sp.lambdify([N] + syms, bf.omega_block, modules="numpy", cse=True)
        cache = bf._numeric = (f_rhs, f_omega)
    return cache


def fourier_flow_numeric(model, state):
    """See :meth:`symflow.theory.model.Model.fourier_flow_numeric`."""
    from ..groups.fourier import FourierCoefficients

    G = model.group
    names = model.vector_names
    if not isinstance(state, dict) or set(state) != set(names):
        raise SymflowError(f"state must be a dict with keys {names}, got {sorted(state) if isinstance(state, dict) else type(state).__name__}")
    coeffs = {}
    for k in names:
        v = state[k]
        coeffs[k] = v if isinstance(v, FourierCoefficients) else G.fourier(np.asarray(v, dtype=float))
    n = G.order
    triv = G.trivial_index
    fft = G.abelian_factors is not None
    dims = {1: None} if fft else G.irreps_by_dim
    omega = 0.0
    parts = {}
    for d in dims:
        bf = model.block_flow(d)
        f_rhs, f_omega = _lambdified(bf)
        arrays = [coeffs[k].blocks[d][..., i, j] for k in bf.names for i in range(d) for j in range(d)]
        om = np.asarray(f_omega(n, *arrays)) * np.ones(np.broadcast(*arrays).shape)
        tpos = triv if fft else (G.irreps_by_dim[d].index(triv) if triv in G.irreps_by_dim[d] else None)
        if tpos is not None:
            om[..., tpos] = 0.0
        omega = omega + om.sum(axis=-1)
        parts[d] = (arrays, tpos)
    omega = np.asarray(omega)
    scale = max(float(np.abs(omega).max(initial=0.0)), 1e-300)
    if float(np.abs(omega.imag).max(initial=0.0)) > 1e-9 * scale + 1e-14:
        raise SymflowError("the energy computed from these Fourier coefficients has a non-negligible imaginary "
                           "part: the coefficients are not those of real signals (nu_hat[conj rho] must be conj(nu_hat[rho]))")
    omega = omega.real
    out = {k: FourierCoefficients(G, {}) for k in names}
    for d, (arrays, tpos) in parts.items():
        bf = model.block_flow(d)
        f_rhs, _ = _lambdified(bf)
        vals = f_rhs(omega[..., None], n, *arrays)
        shape = np.broadcast(*arrays).shape
        pos = 0
        for k in bf.names:
            blk = np.empty(shape + (d, d), dtype=complex)
            for i in range(d):
                for j in range(d):
                    blk[..., i, j] = vals[pos]
                    pos += 1
            if tpos is not None:
                c = float(model.trivial_flow[k])
                blk[..., tpos, :, :] = -c * omega[..., None, None] * coeffs[k].blocks[d][..., tpos, :, :]
            out[k].blocks[d] = blk
    return out, omega
