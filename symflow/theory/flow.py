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

import sympy as sp

from ..errors import ModelError
from .energy import energy_trace_words
from .manifold import radial_coefficients
from .symbols import N, OMEGA, block_symbols, conjugate_partner, hat_matrix, wirtinger_join
from .trace_calculus import compact_drive, drive_expressions


class BlockFlow:
    """Flow of one generic nontrivial irrep block of dimension ``d`` (derived, SymPy).

    >>> from symflow import Model
    >>> Model("Z5").block_flow(1).rhs["xi"]
    Matrix([[-Omega*xi_0_0 + theta1_0_0*theta2_0_0/n]])

    A block flow depends only on the model's settings (loss, sharing, spheres, activation,
    constraint) and ``d``, never on the group: it is derived once per process and shared by every
    model with the same settings (``model`` is the one it was first derived for).

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
        self.rhs = {k: sp.ImmutableMatrix(d, d, lambda i, j: drive[k][i, j] - radial[k] * blocks[k][i, j])
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
            lhs = sp.Derivative(hat_matrix(k, self.d), t)
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


class _RingBlocks:
    """Block matrices as elements of a sparse polynomial ring over ``QQ(n)`` in the entries and partners.

    The whole derivation runs here (SymPy ``Expr`` arithmetic is ~100x slower for d = 6); the
    results are converted to ``Expr`` once at the end.
    """

    def __init__(self, names, d):
        from sympy.polys.rings import PolyRing

        self.d = d
        self.syms = [s for k in names for s in block_symbols(k, d)]
        self.partners = [conjugate_partner(s) for s in self.syms]
        # Laurent polynomials in n over QQ: n and 1/n are two generators, normalised by _laurent
        self.ring = PolyRing(self.syms + self.partners + [N, _NINV], sp.QQ)
        gens = self.ring.gens
        K = len(self.syms)
        self.K = K
        self.n, self.ninv = gens[-2], gens[-1]
        self.mats, self.adjs = {}, {}
        for t, k in enumerate(names):
            base = t * d * d
            self.mats[k] = [[gens[base + i * d + j] for j in range(d)] for i in range(d)]
            self.adjs[k] = [[gens[K + base + j * d + i] for j in range(d)] for i in range(d)]

    def const(self, expr):
        """A coefficient ``c n^k`` (``k`` any integer) as a ring element."""
        num, den = sp.fraction(sp.together(sp.sympify(expr)))
        dpoly = sp.Poly(den, N)
        if len(dpoly.terms()) != 1:
            raise ModelError(f"coefficient {expr} is not a monomial in n")  # pragma: no cover
        (k,), c0 = dpoly.terms()[0]
        return self.ring.from_expr(num / c0) * self.ninv ** k

    def laurent(self, p):
        """Cancel ``n * (1/n)`` in every monomial."""
        out = {}
        for m, c in p.items():
            k = min(m[-2], m[-1])
            if k:
                m = m[:-2] + (m[-2] - k, m[-1] - k)
            out[m] = out.get(m, 0) + c
        out = {m: c for m, c in out.items() if c}
        return self.ring.from_dict(out) if out else self.ring.zero

    def index(self, gen) -> int:
        """Position of a generator in the ring."""
        return self.ring.gens.index(gen) if not hasattr(self, "_gen_index") else self._gen_index[gen]

    def partials(self, p, positions) -> dict:
        """``{i: dp/dx_i}`` for all ``i`` in ``positions``, in a single pass over the terms of ``p``."""
        if not hasattr(self, "_gen_index"):
            self._gen_index = {g: i for i, g in enumerate(self.ring.gens)}
        wanted = set(positions)
        out = {i: {} for i in wanted}
        for m, c in p.items():
            for i, e in enumerate(m):
                if e and i in wanted:
                    m2 = m[:i] + (e - 1,) + m[i + 1:]
                    acc = out[i]
                    acc[m2] = acc.get(m2, 0) + c * e
        return {i: (self.ring.from_dict({m: c for m, c in t.items() if c}) if t else self.ring.zero)
                for i, t in out.items()}

    def matmul(self, A, B):
        d = self.d
        return [[sum((A[i][l] * B[l][j] for l in range(d)), self.ring.zero) for j in range(d)] for i in range(d)]

    def word(self, word):
        out = None
        for name, power, adj in word:
            M = self.adjs[name] if adj else self.mats[name]
            out = M if out is None else self.matmul(out, M)
        return out

    def trace(self, M):
        return sum((M[i][i] for i in range(self.d)), self.ring.zero)

    def conjugate(self, p):
        """Swap every entry with its partner (the coefficients, rationals times powers of n, are real)."""
        K = self.K
        out = {}
        for m, c in p.items():
            out[m[K:2 * K] + m[:K] + m[2 * K:]] = c
        return self.ring.from_dict(out) if out else self.ring.zero

    def to_expr(self, p):
        return wirtinger_join(self.laurent(p).as_expr().xreplace({_NINV: 1 / N}), self.syms)


_NINV = sp.Symbol("n_inv", positive=True)


def derive_block_flow(model, d: int) -> BlockFlow:
    """Derive the :class:`BlockFlow` of ``model`` for block dimension ``d`` (see module docstring)."""
    model.require_block_flow()
    names = model.vector_names
    blocks = {k: block_symbols(k, d) for k in names}
    R = _RingBlocks(names, d)
    omega = R.ring.zero
    for coef, word in energy_trace_words(model, d, N):
        if any(power != 1 for _, power, _ in word):
            raise ModelError("reduced flow needs a quadratic activation (pointwise powers couple blocks)")
        omega += R.const(coef) * R.trace(R.word(word))
    real2 = omega + R.conjugate(omega)          # omega + conj(omega) = 2 Re omega
    scale = R.const(1 / (N * d))
    drive_ring, drive, degrees = {}, {}, {}
    partials = R.partials(real2, range(R.K, 2 * R.K))   # every d/d conj(entry) in one pass
    for k in names:
        # Wirtinger: G_ij = (1/(n d)) d(2 Re omega)/d conj(B_ij); conj(B)_ij is adjs[k][j][i]
        G = [[R.laurent(partials[R.index(R.adjs[k][j][i])] * scale) for j in range(d)] for i in range(d)]
        drive_ring[k] = G
        drive[k] = sp.ImmutableMatrix(d, d, lambda i, j: R.to_expr(G[i][j]))
        # Euler degree: <B, G>_block = n d Re tr(B^* G), compared with Re omega
        inner = sum((R.adjs[k][j][i] * G[i][j] for i in range(d) for j in range(d)), R.ring.zero)
        inner = R.laurent(inner * R.const(N * d))
        ratio = _constant_ratio(inner + R.conjugate(inner), real2)
        if ratio is None:
            raise ModelError(f"the energy is not homogeneous in {k}; the radial term of the sphere "
                             f"projection is not a multiple of Omega (reduced flow needs a quadratic activation)")
        degrees[k] = ratio
    radial = radial_coefficients(model.neuron, degrees)
    bf = BlockFlow(model, d, blocks, R.to_expr(omega), drive, degrees, radial)
    bf.compact_drive = compact_drive(model, d)
    bf.compact_rhs = {k: bf.compact_drive[k] - radial[k] * hat_matrix(k, d) for k in names}
    ring_blocks = {k: _RingMatrix(R, R.mats[k]) for k in names}
    zero = [[R.ring.zero] * d for _ in range(d)]
    for k, expr in drive_expressions(model, d).items():
        if (expr.evaluate(ring_blocks).rows if expr.terms else zero) != drive_ring[k]:
            raise ModelError(f"internal check failed: the compact flow of {k} (trace-word calculus) differs "
                             f"from the entrywise Wirtinger derivation for d = {d}")  # pragma: no cover
    return bf


def _constant_ratio(p, q):
    """``c`` with ``p == c q`` for a rational ``c`` (sparse ring elements), else ``None``."""
    if not q:
        return sp.Integer(0) if not p else None
    lm = next(iter(q.keys()))
    c = p.get(lm, 0) / q[lm]
    if p == q * c:
        return sp.Rational(int(c.numerator), int(c.denominator))
    return None


class _RingMatrix:
    """A ``d x d`` block of ring elements, the matrix type :meth:`~symflow.theory.matrix_expr.MatrixExpr.evaluate`
    needs (``@``, ``+``, ``* coefficient``, ``.adjoint()``) to evaluate a drive in the ring."""

    def __init__(self, R: "_RingBlocks", rows):
        self.R, self.rows = R, rows

    def __matmul__(self, other):
        return _RingMatrix(self.R, self.R.matmul(self.rows, other.rows))

    def __add__(self, other):
        return _RingMatrix(self.R, [[a + b for a, b in zip(r, q)] for r, q in zip(self.rows, other.rows)])

    def __mul__(self, coeff):
        c = self.R.const(coeff)
        return _RingMatrix(self.R, [[a * c for a in r] for r in self.rows])

    def adjoint(self):
        d = self.R.d
        return _RingMatrix(self.R, [[self.R.conjugate(self.rows[j][i]) for j in range(d)] for i in range(d)])
