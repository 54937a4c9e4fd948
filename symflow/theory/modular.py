"""Modular addition without the sphere (docs/theory.md section 5, MA): the per-frequency ODE, derived.

Model on ``Z_p``, one neuron of a shared-embedding network (neurons decouple, see below)::

    f(x, y)[j] = xi[j] * sigma(theta[x] + theta[y]),        sigma(z) = z^2 by default

Summed cross-entropy over the ``p^2`` pairs, small initialisation: to first order in the logits
``CE = p^2 log p - L + O(f^2)`` with the linear gain

    L = sum_{x,y} ( xi[x+y] - (1/p) sum_j xi[j] ) * sigma(theta[x] + theta[y]),

which is a sum over neurons, so the gradient flow ``d(params)/dt = -grad CE ~ grad L`` decouples
neuron by neuron. :class:`ModularAdditionODE` derives, with SymPy, from the local block
``l = (xi_h - xi_bar) sigma(t_x + t_y)`` of one table entry:

1. the parameter-space gradient by the chain rule over the Cayley table
   ``dL/dtheta(a) = sum_y dl/dt_x |_{x=a} + sum_x dl/dt_y |_{y=a}``,
   ``dL/dxi(h) = sum_x dl/dxi_h |_{y=h-x} + (1/p) sum_{x,y} dl/dxi_bar``;
2. at the single-frequency ansatz ``theta(j) = alpha cos(w j + phi)``,
   ``xi(j) = beta cos(w j + psi)``, ``w = 2 pi k / p``, every sum over ``Z_p`` is evaluated exactly
   by character orthogonality ``sum_j e^{i m w j} = p [p | m k]`` (for symbolic ``p`` under the
   stated non-resonance assumption ``p does not divide m k`` for the multiples ``m`` that occur;
   for a concrete ``p`` the divisibility is decided exactly);
3. the gradient is projected onto the ansatz,
   ``theta' = alpha' cos(w a + phi) - alpha phi' sin(w a + phi)`` (and likewise for ``xi``), and the
   off-ansatz residual is computed (it is exactly zero for ``sigma = z^2``: the ansatz is invariant).

Result for ``sigma = z^2`` and the summed loss (MA's claim, re-derived and checked in the tests)::

    alpha' = 2 p alpha beta cos D,   beta' = p alpha^2 cos D,   D = 2 phi - psi
    phi'   = -2 p beta sin D,        psi'  = p (alpha^2 / beta) sin D
    D'     = -p (4 beta + alpha^2 / beta) sin D                    (mean loss: divide by p^2)

with first integrals ``I1 = alpha^2 - 2 beta^2`` and ``I2 = alpha^2 beta sin D`` (Lie derivative 0).
Several frequencies in one neuron evolve independently (the gain is diagonal in Fourier space), and
the DC parts are frozen. The blow-up time is in :mod:`symflow.theory.blowup`.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy as sp

from ..errors import ModelError, SymflowError

__all__ = ["ModularAdditionODE", "sum_over_Zp", "frequency_coordinates", "misalignment"]

#: symbols of the derivation (real, with the amplitudes positive)
alpha, beta = sp.symbols("alpha beta", positive=True)
phi, psi, D = sp.symbols("phi psi D", real=True)
w = sp.Symbol("omega", positive=True)  # w = 2 pi k / p
_z = sp.Symbol("z")


def _exponent_coefficient(term, var):
    """Split ``term = c * exp(E)`` and return ``(dE/dvar, term)``; ``E`` must be linear in ``var``."""
    total = sp.Integer(0)
    for factor in sp.Mul.make_args(term):
        if isinstance(factor, sp.exp):
            total += factor.args[0]
        elif factor.is_Pow and isinstance(factor.base, sp.exp):
            total += factor.exp * factor.base.args[0]
        elif factor.has(var):
            raise ModelError(f"cannot sum {term} over Z_p: the factor {factor} is not an exponential in {var}")
    slope = sp.expand(sp.diff(total, var))
    if slope.has(var):
        raise ModelError(f"exponent {total} is not linear in {var}")
    return slope


def sum_over_Zp(expr, var, p, k=None, resonances: set | None = None):
    """``sum_{var=0}^{p-1} expr`` for ``expr`` a polynomial in ``exp(+-i w var)`` (``w = 2 pi k/p``).

    Exact by orthogonality: ``sum_j e^{i m w j} = p`` when ``p | m k`` and ``0`` otherwise. With a
    symbolic ``p`` (or ``k``) every multiple ``m != 0`` is taken as non-resonant and recorded in
    ``resonances`` (a set the caller reports as an assumption); with integers ``p`` and ``k`` the
    divisibility is decided exactly.
    """
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        if not term.has(var):
            out += p * term
            continue
        slope = _exponent_coefficient(term, var)
        m = sp.nsimplify(sp.simplify(slope / (sp.I * w)))
        if not m.is_integer:
            raise ModelError(f"term {term} is not a character of Z_p in {var} (frequency multiple {m})")
        if m == 0:
            out += p * term
            continue
        concrete = isinstance(p, (int, sp.Integer)) and isinstance(k, (int, sp.Integer))
        if concrete:
            if (int(m) * int(k)) % int(p) == 0:  # resonance: e^{i m w var} == 1 on Z_p
                out += p * term.subs(var, 0)
        elif resonances is not None:
            resonances.add(abs(int(m)))
    return out


def _cos_exp(amp, arg):
    """``amp cos(arg)`` written with exponentials (what the orthogonality sums act on)."""
    return amp * (sp.exp(sp.I * arg) + sp.exp(-sp.I * arg)) / 2


class ModularAdditionODE:
    """Per-(neuron, frequency) ODE of modular addition, derived from the network by SymPy.

    Parameters
    ----------
    p : int or None
        Modulus. ``None`` derives for a symbolic odd ``p`` (non-resonance assumptions listed in
        :attr:`assumptions`); an integer decides the orthogonality sums exactly for that ``p``.
    k : int or None
        Frequency (``w = 2 pi k/p``); only used with a concrete ``p``.
    activation : sympy expression in ``z`` or None
        ``sigma(z)``, a polynomial; default ``z**2`` (MA, docs/theory.md section 5). For other polynomials the ansatz is
        generally not invariant and :attr:`residual` says by how much.
    loss : {"sum", "mean"}
        Summed CE over the ``p^2`` pairs (MA's time unit) or the mean (rates divided by ``p^2``).

    Attributes (lazy): ``grad_theta`` (expression in ``a``), ``grad_xi`` (in ``h``), ``rates``
    (dict ``alpha, beta, phi, psi, D -> rate``), ``residual`` (off-ansatz parts), ``assumptions``.
    """

    def __init__(self, p=None, k=None, activation=None, loss: str = "sum"):
        if loss not in ("sum", "mean"):
            raise ModelError(f"loss must be 'sum' or 'mean', got {loss!r}")
        if p is None:
            self.p = sp.Symbol("p", positive=True, integer=True)
            self.k = sp.Symbol("k", positive=True, integer=True)
        else:
            if int(p) != p or p < 3 or p % 2 == 0:
                raise ModelError(f"p must be an odd integer >= 3, got {p!r}")
            k = 1 if k is None else k
            if int(k) != k or not 1 <= k <= (p - 1) // 2:
                raise ModelError(f"k must be an integer in 1..{(p - 1) // 2} for p = {p}, got {k!r}")
            self.p, self.k = sp.Integer(int(p)), sp.Integer(int(k))
        self.activation = _z ** 2 if activation is None else sp.sympify(activation)
        if not self.activation.is_polynomial(_z) or self.activation.free_symbols - {_z}:
            raise ModelError(f"activation must be a polynomial in z (e.g. z**2, z**2 + z**4), got {activation!r}")
        self.loss = loss
        self._resonances: set = set()

    # ------------------------------------------------------------------ derivation
    @cached_property
    def local_block(self):
        """``(l, (t_x, t_y, xi_h, xi_bar))``: the gain of one table entry, ``(xi_h - xi_bar) sigma(t_x + t_y)``."""
        tx, ty, xh, xbar = sp.symbols("t_x t_y xi_h xibar", real=True)
        return (xh - xbar) * self.activation.subs(_z, tx + ty), (tx, ty, xh, xbar)

    def _theta(self, j):
        return _cos_exp(alpha, w * j + phi)

    def _xi(self, j):
        return _cos_exp(beta, w * j + psi)

    def _sum(self, expr, var):
        return sum_over_Zp(expr, var, self.p, self.k, self._resonances)

    @cached_property
    def _xi_bar(self):
        j = sp.Symbol("j", integer=True)
        return sp.expand(self._sum(self._xi(j), j) / self.p)

    @cached_property
    def grad_theta(self):
        """``dL/dtheta(a)`` at the ansatz (expression in the symbol ``a``), exact."""
        l, (tx, ty, xh, xbar) = self.local_block
        a, x, y = sp.symbols("a x y", integer=True)
        at = lambda X, Y: {tx: self._theta(X), ty: self._theta(Y), xh: self._xi(X + Y), xbar: self._xi_bar}
        first = sp.diff(l, tx).subs(at(a, y), simultaneous=True)
        second = sp.diff(l, ty).subs(at(x, a), simultaneous=True)
        return self._sum(first, y) + self._sum(second, x)

    @cached_property
    def grad_xi(self):
        """``dL/dxi(h)`` at the ansatz (expression in the symbol ``h``), exact."""
        l, (tx, ty, xh, xbar) = self.local_block
        h, x, y = sp.symbols("h x y", integer=True)
        fibre = sp.diff(l, xh).subs({tx: self._theta(x), ty: self._theta(h - x)}, simultaneous=True)
        mean = sp.diff(l, xbar).subs({tx: self._theta(x), ty: self._theta(y)}, simultaneous=True)
        return self._sum(fibre, x) + self._sum(self._sum(mean, x), y) / self.p

    def _project(self, g, var, amp, phase):
        """Coefficients ``(A, B)`` with ``g = A cos(w var + phase) + B sin(w var + phase) + residual``."""
        c = (sp.exp(sp.I * (w * var + phase)) + sp.exp(-sp.I * (w * var + phase))) / 2
        s = (sp.exp(sp.I * (w * var + phase)) - sp.exp(-sp.I * (w * var + phase))) / (2 * sp.I)
        A = self._sum(sp.expand(g * c), var) * 2 / self.p
        B = self._sum(sp.expand(g * s), var) * 2 / self.p
        residual = sp.expand(g - A * c - B * s)
        return A, B, residual

    def _clean(self, expr):
        """Rewrite in real form and in terms of ``D = 2 phi - psi``."""
        e = sp.expand(sp.simplify(sp.expand(expr).rewrite(sp.cos)))
        e = sp.simplify(sp.expand_trig(e.subs(psi, 2 * phi - D)))
        return sp.factor(sp.simplify(e))

    @cached_property
    def _projection(self):
        a, h = sp.symbols("a h", integer=True)
        At, Bt, rt = self._project(self.grad_theta, a, alpha, phi)
        Ax, Bx, rx = self._project(self.grad_xi, h, beta, psi)
        scale = 1 if self.loss == "sum" else 1 / self.p ** 2
        rates = {
            alpha: self._clean(At * scale),
            phi: self._clean(-Bt / alpha * scale),
            beta: self._clean(Ax * scale),
            psi: self._clean(-Bx / beta * scale),
        }
        rates[D] = sp.factor(sp.simplify(2 * rates[phi] - rates[psi]))
        residual = {"theta": sp.simplify(rt.rewrite(sp.cos)), "xi": sp.simplify(rx.rewrite(sp.cos))}
        return rates, residual

    @property
    def rates(self) -> dict:
        """``{alpha: alpha', beta: beta', phi: phi', psi: psi', D: D'}`` as SymPy expressions in ``alpha, beta, phi, D``."""
        return self._projection[0]

    @property
    def residual(self) -> dict:
        """Off-ansatz part of the gradient, ``{"theta": ..., "xi": ...}``; ``0`` means the ansatz is invariant."""
        return self._projection[1]

    @property
    def is_closed(self) -> bool:
        """True when the single-frequency ansatz is invariant under the flow (zero residual)."""
        return all(sp.simplify(r) == 0 for r in self.residual.values())

    @property
    def assumptions(self) -> list[str]:
        """Non-resonance conditions used by the exact sums (symbolic ``p`` only)."""
        self.rates  # noqa: B018 - triggers the derivation that records them
        return [f"p does not divide {m}*k" for m in sorted(self._resonances)]

    # ------------------------------------------------------------------ MA's claim
    def theory_claim(self) -> dict:
        """docs/theory.md section 5's rates (summed loss; divided by ``p^2`` for the mean loss)."""
        p = self.p
        s = 1 if self.loss == "sum" else 1 / p ** 2
        return {
            alpha: s * 2 * p * alpha * beta * sp.cos(D),
            beta: s * p * alpha ** 2 * sp.cos(D),
            phi: -s * 2 * p * beta * sp.sin(D),
            psi: s * p * alpha ** 2 / beta * sp.sin(D),
            D: -s * p * (4 * beta + alpha ** 2 / beta) * sp.sin(D),
        }

    def compare_with_theory(self) -> dict:
        """``{variable: derived - claimed}`` simplified; all zeros means MA's claim is confirmed."""
        claim = self.theory_claim()
        return {str(v): sp.simplify(self.rates[v] - claim[v]) for v in claim}

    # ------------------------------------------------------------------ first integrals
    def lie_derivative(self, F):
        """``dF/dt`` along the reduced flow in ``(alpha, beta, D)`` (and ``phi, psi`` if present)."""
        F = sp.sympify(F)
        return sp.simplify(sum(sp.diff(F, v) * self.rates[v] for v in (alpha, beta, D, phi, psi) if F.has(v)))

    def is_first_integral(self, F) -> bool:
        """True when the Lie derivative of ``F`` simplifies to zero."""
        return sp.simplify(self.lie_derivative(F)) == 0

    @staticmethod
    def candidate_integrals() -> dict:
        """MA's candidates ``I1 = alpha^2 - 2 beta^2`` and ``I2 = alpha^2 beta sin D``."""
        return {"I1": alpha ** 2 - 2 * beta ** 2, "I2": alpha ** 2 * beta * sp.sin(D)}

    def derive_I1(self):
        """Solve ``d alpha/d beta = alpha'/beta'`` (``cos D`` cancels) with ``dsolve``; returns the integral."""
        f = sp.Function("f")
        b = sp.Symbol("b", positive=True)
        ratio = sp.simplify((self.rates[alpha] / self.rates[beta]).subs({alpha: f(b), beta: b}))
        if ratio.has(D):
            raise ModelError(f"d alpha/d beta = {ratio} depends on D: no magnitude-only integral")
        sol = sp.dsolve(sp.Eq(f(b).diff(b), ratio), f(b))
        sol = sol[0] if isinstance(sol, list) else sol
        C1 = sp.Symbol("C1")
        c = sp.solve(sp.Eq(sol.rhs ** 2, alpha ** 2).subs(b, beta), C1)
        return sp.expand(c[0]) if c else sol

    # ------------------------------------------------------------------ numerics
    def rate_expressions(self) -> tuple:
        """``(exprs, args)``: the rates ``(alpha', beta', D', phi', psi')`` as expressions in
        ``args = (alpha, beta, D, p)`` (a concrete ``p`` is replaced by the symbol ``p``).

        The vectorised NumPy function of these is generated and cached by the code generator,
        :func:`symflow.codegen.modular_rates` (the layer above the theory).
        """
        P = self.p if self.p.is_Symbol else sp.Symbol("p", positive=True, integer=True)
        exprs = [self.rates[v].subs(self.p, P) for v in (alpha, beta, D, phi, psi)]
        return exprs, (alpha, beta, D, P)

    # ------------------------------------------------------------------ display
    def equations(self) -> list[sp.Eq]:
        t = sp.Symbol("t")
        return [sp.Eq(sp.Derivative(sp.Function(str(v))(t), t), self.rates[v]) for v in (alpha, beta, phi, psi, D)]

    def __repr__(self) -> str:
        head = f"ModularAdditionODE(p={self.p}, sigma={self.activation}, loss={self.loss!r})"
        lines = [head] + [f"  {v}' = {self.rates[v]}" for v in (alpha, beta, phi, psi, D)]
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        rows = r" \\ ".join(
            rf"\dot{{{sp.latex(v)}}} &= {sp.latex(self.rates[v])}" for v in (alpha, beta, phi, psi, D))
        return rf"$\begin{{aligned}} {rows} \end{{aligned}}$"


# ---------------------------------------------------------------------- numeric coordinates
def frequency_coordinates(signal, p: int | None = None):
    """Magnitude/phase coordinates of real signals on ``Z_p`` per frequency ``k = 1..(p-1)/2``.

    ``signal(j) = c_0 + sum_k amp_k cos(2 pi k j / p + phase_k)``; returns ``(amp, phase, c0)`` with
    ``amp, phase`` of shape ``(..., (p-1)/2)`` and ``c0`` of shape ``(...)``. Exact up to rounding
    (``amp_k e^{i phase_k} = (2/p) sum_j signal(j) e^{-2 pi i k j / p}``).
    """
    x = np.asarray(signal, dtype=float)
    if x.ndim == 0:
        raise SymflowError("a signal on Z_p must be an array of shape (..., p)")
    n = x.shape[-1]
    if p is not None and n != p:
        raise SymflowError(f"signal has last axis {n}, expected p = {p}")
    if n < 3 or n % 2 == 0:
        raise SymflowError(f"modular addition needs an odd p >= 3, got a last axis of length {n}")
    c = np.fft.fft(x, axis=-1) / n
    K = (n - 1) // 2
    ck = 2 * c[..., 1:K + 1]
    return np.abs(ck), np.angle(ck), c[..., 0].real


def misalignment(phase_theta, phase_xi):
    """``D = 2 phi - psi`` wrapped to ``(-pi, pi]``."""
    d = 2 * np.asarray(phase_theta) - np.asarray(phase_xi)
    return np.angle(np.exp(1j * d))
