"""The per-neuron energy functional, in parameter space and in Fourier space, with a proof of equality.

Derivation (the engine carries it out for the model's activation ``sigma(z) = sum_k c_k z^k``):
expand ``sigma(x + y) = sum_{a,b} C_ab x^a y^b`` binomially and drop the pure terms (``a = 0``
or ``b = 0``): for CE they vanish because ``sum_{g2} xi~(g1 g2) = 0``; for MSE they are constant in
``h`` and the centring removes them. With pointwise powers ``P_a = theta1^a``, ``Q_b = theta2^b``:

* CE, parameter space:
  ``E = (1/2) sum_ab C_ab [ n^-2 sum_h xi(h) S_ab(h) - n^-3 (sum xi)(sum P_a)(sum Q_b) ]``,
  ``S_ab(h) = sum_{g1 g2 = h} P_a(g1) Q_b(g2)`` (the centring of ``xi`` written out).
  Fourier space (convolution theorem in the GC convention, ``(P*Q)_hat = n Q_hat P_hat``):
  ``E = (1/2) sum_ab C_ab sum_{rho != 1} d_rho tr(xi_hat^* Q_b_hat P_a_hat)``. For ``sigma = z^2``:
  ``Omega = sum_{rho != 1} d_rho tr(xi_hat^* theta2_hat theta1_hat)``.
* MSE (Li2), parameter space: ``E = (1/2) sum_h z~(h)^2``,
  ``z~(h) = sum_ab C_ab [S_ab(h) - n^-1 (sum P_a)(sum Q_b)]``; Fourier space
  ``E = (n/2) sum_{rho != 1} d_rho ||Z_rho||_F^2`` with ``Z_rho = n sum_ab C_ab Q_b_hat P_a_hat``.
  For ``sigma = z^2``: ``E = 2 n^3 sum_{rho != 1} d ||v_hat u_hat||_F^2 = (2/n) sum d ||U V||_F^2``
  in Li2's convention ``U = sum_g u(g) rho(g) = n u_hat^*`` (docs/theory.md section 7's constant).

:meth:`EnergyFunctional.verify` proves ``parameter_space == fourier`` (and both equal the literal
definition with ``sigma(theta1 + theta2)`` summed over the Cayley table) for the model's group,
exactly: at random integer points, with the group's EXACT irreps mapped into a number field
(:func:`~symflow.groups.number_fields.exact_field`: the multiquadratic field ``Q(sqrt p_1, ..., i)`` of
:mod:`symflow.groups.multiquadratic` when the entries are square roots of rationals and ``i``,
``Q(zeta_L)`` for roots of unity, otherwise the field SymPy builds from the radicals), where equality
is decided by canonical reduction, not by rounding. The
difference is a polynomial of degree ``D`` in the parameters, so by Schwartz-Zippel a false pass
has probability at most ``(D / (2 R + 1))^points`` with coordinates drawn from ``[-R, R]``
(``R = 10^6``: ``< 10^-25`` for 5 points).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy as sp

from ..errors import ModelError, SymflowError
from ..progress import progress_bar
from .matrix_expr import Factor, MatrixExpr
from ..groups.number_fields import NotCyclotomic, exact_field
from .display import energy_latex
from .symbols import (conjugate_partner, irrep_block_symbols, parameter_symbols, power_name,
                      wirtinger_split)

#: Coordinates of the random exact points are drawn from ``[-POINT_RANGE, POINT_RANGE]``.
POINT_RANGE = 10 ** 6
#: Numeric fallback (groups whose irreps are only numeric): coordinates and relative tolerance.
NUMERIC_RANGE = 10
NUMERIC_RTOL = 1e-9
#: Above this order verify() does not compile the n^2-term parameter-space form by default.
PARAMETER_CHECK_MAX_ORDER = 200


# ---------------------------------------------------------------------- the block energy
def energy_trace_words(model, d, n) -> MatrixExpr:
    """The block energy ``omega_rho = sum coef * tr(word)`` as a trace-kind :class:`MatrixExpr`.

    Its factors ``(name, power, adjoint)`` stand for the block of the pointwise power
    ``name^power`` (its conjugate transpose when ``adjoint``), multiplied left to right; iterating
    gives ``(coef, word)`` pairs. CE: ``(c_ab d / 2) tr(xi^* Q_b P_a)``; MSE: ``(n d / 2) tr(Z^* Z)``
    with ``Z = n sum c_ab Q_b P_a`` expanded into pairs of cross terms.
    """
    in1, in2 = model.input_names
    terms = []
    if model.loss == "ce":
        for a, b, c in model.cross_terms:
            terms.append((sp.Rational(1, 2) * c * d,
                          (Factor(model.output_name, 1, True), Factor(in2, b), Factor(in1, a))))
        return MatrixExpr.collect("trace", terms)
    for a, b, c in model.cross_terms:
        for a2, b2, c2 in model.cross_terms:
            terms.append((sp.Rational(1, 2) * n ** 3 * d * c * c2,
                          (Factor(in1, a2, True), Factor(in2, b2, True), Factor(in2, b), Factor(in1, a))))
    return MatrixExpr.collect("trace", terms)


def word_matrix(word, block_of):
    """The matrix product of a word, with ``block_of(name, power)`` giving the blocks."""
    out = None
    for name, power, adj in word:
        M = sp.Matrix(block_of(name, power))
        M = M.H if adj else M
        out = M if out is None else out * M
    return out


def block_energy(model, block_of, d: int, n) -> sp.Expr:
    """Energy contribution of ONE nontrivial irrep block of dimension ``d``.

    ``block_of(name, power)`` returns the ``d x d`` SymPy matrix of the Fourier block of the
    pointwise power ``name^power``; ``n`` is the group order (an integer or the symbol ``n``).
    Built from :func:`energy_trace_words`.
    """
    return sp.Add(*[coef * word_matrix(word, block_of).trace() for coef, word in energy_trace_words(model, d, n)])


# ---------------------------------------------------------------------- parameter space
def _sum_over_products(table, inv, P, Q, h):
    """``S(h) = sum_{g1 g2 = h} P[g1] Q[g2]`` as a SymPy ``Add`` (``g2 = g1^-1 h``)."""
    n = len(P)
    return sp.Add(*[P[g1] * Q[int(table[inv[g1], h])] for g1 in range(n)])


def parameter_space_energy(model) -> sp.Expr:
    """The energy as a SymPy expression in the parameter symbols of one neuron (see module doc)."""
    G = model.group
    n = G.order
    T, inv = G.table, G.inverse
    in1, in2 = model.input_names
    t1, t2 = parameter_symbols(in1, n), parameter_symbols(in2, n)
    terms = []
    if model.loss == "ce":
        xi = parameter_symbols(model.output_name, n)
        for a, b, c in model.cross_terms:
            P = [s ** a for s in t1]
            Q = [s ** b for s in t2]
            S = [_sum_over_products(T, inv, P, Q, h) for h in range(n)]
            main = sp.Add(*[xi[h] * S[h] for h in range(n)])
            mean = sp.Add(*xi) * sp.Add(*P) * sp.Add(*Q)
            terms.append(sp.Rational(1, 2) * c * (sp.Rational(1, n ** 2) * main - sp.Rational(1, n ** 3) * mean))
        return sp.Add(*terms)
    ztil = [sp.Integer(0)] * n
    for a, b, c in model.cross_terms:
        P = [s ** a for s in t1]
        Q = [s ** b for s in t2]
        mean = sp.Rational(1, n) * sp.Add(*P) * sp.Add(*Q)
        for h in range(n):
            ztil[h] = ztil[h] + c * (_sum_over_products(T, inv, P, Q, h) - mean)
    return sp.Rational(1, 2) * sp.Add(*[zh ** 2 for zh in ztil])


def literal_energy(model, values: dict) -> Fraction:
    """The defining formula evaluated exactly (Fractions) at integer/rational ``values``.

    CE: ``(1/2) n^-2 sum_{g1,g2} xi~(g1 g2) sigma(theta1(g1) + theta2(g2))``;
    MSE: ``(1/2) sum_h (z_h - mean z)^2``, ``z_h = sum_{ab=h} sigma(u(a) + v(b))``. No expansion,
    no dropped terms: this is the reference the derived expressions are proven against.
    """
    G = model.group
    n = G.order
    T = G.table
    coeffs = [(int(k), Fraction(int(c.p), int(c.q))) for (k,), c in sp.Poly(model.activation, sp.Symbol("z")).terms()]

    in1, in2 = model.input_names
    a, b = [int(x) for x in values[in1]], [int(x) for x in values[in2]]
    # integer arithmetic: sigma = (1/den) sum_k num_k x^k
    den = math.lcm(*[c.denominator for _, c in coeffs])
    icoef = [(k, int(c * den)) for k, c in coeffs]
    z = [0] * n
    for g1 in range(n):
        row = T[g1]
        x1 = a[g1]
        for g2 in range(n):
            x = x1 + b[g2]
            z[int(row[g2])] += sum(c * x ** k for k, c in icoef)
    if model.loss == "ce":
        xi = [int(x) for x in values[model.output_name]]
        total = n * sum(x * zh for x, zh in zip(xi, z)) - sum(xi) * sum(z)   # n * sum_h (xi_h - mean) z_h
        return Fraction(total, 2 * n ** 3 * den)
    sz = sum(z)
    total = sum((n * zh - sz) ** 2 for zh in z)                              # n^2 sum_h (z_h - mean)^2
    return Fraction(total, 2 * n * n * den * den)


# ---------------------------------------------------------------------- the functional
@dataclass
class EnergyVerification:
    """Result of :meth:`EnergyFunctional.verify`: exact equality at random integer points."""

    group: str
    model: str
    points: int
    seed: int
    field: str
    passed: bool
    values: list = field(default_factory=list)   # exact energies (Fractions) at the points
    mismatches: list = field(default_factory=list)
    degree: int = 3
    seconds: float = 0.0
    exact: bool = True
    parameter_checked: bool = True

    @property
    def failure_probability(self) -> float:
        """Schwartz-Zippel bound on a false pass: ``(degree / (2 R + 1))^points`` (exact mode only)."""
        if not self.exact:
            return float("nan")
        return (self.degree / (2 * POINT_RANGE + 1)) ** self.points

    def __bool__(self) -> bool:
        return self.passed

    def summary(self) -> str:
        if not self.exact:
            verdict = "NUMERICALLY EQUAL" if self.passed else "FAILED"
            return (f"{verdict}: {'parameter-space energy == ' if self.parameter_checked else ''}literal definition (exact) and Fourier energy "
                    f"(numeric irreps) on {self.group} at {self.points} random integer points (seed {self.seed}), "
                    f"{self.field}" + ("" if self.passed else f"; mismatches: {self.mismatches}"))
        verdict = "PROVEN" if self.passed else "FAILED"
        forms = "parameter-space energy == Fourier energy" if self.parameter_checked else \
            "Fourier energy (parameter-space form not compiled: n > %d)" % PARAMETER_CHECK_MAX_ORDER
        return (f"{verdict}: {forms} == literal definition on {self.group} "
                f"at {self.points} random integer points (seed {self.seed}), exact arithmetic in {self.field}; "
                f"false-pass probability <= {self.failure_probability:.1e} (Schwartz-Zippel, degree {self.degree})"
                + ("" if self.passed else f"; mismatches: {self.mismatches}"))

    def __repr__(self) -> str:
        return f"<EnergyVerification {self.summary()}>"


class EnergyFunctional:
    """The energy of one neuron of a :class:`~symflow.theory.model.Model` (see module docstring).

    >>> from symflow import Model
    >>> E = Model("Z5").energy()
    >>> E.verify().passed                  # parameter-space sum == Fourier form, in exact arithmetic
    True

    Attributes (SymPy, built lazily and cached)
    -------------------------------------------
    parameter_space : expression in the real symbols ``theta1_0 .. xi_{n-1}`` (sums over the Cayley table)
    fourier : expression in the per-irrep block symbols ``theta1hat_r_i_j`` and their conjugates
        (pointwise powers ``theta1p2hat_r_i_j`` for higher activations)
    """

    def __init__(self, model):
        self.model = model

    # -- symbols
    @property
    def group(self):
        return self.model.group

    def parameter_symbols(self) -> dict:
        """``{name: (symbols...)}`` of the parameter-space form."""
        n = self.group.order
        return {k: parameter_symbols(k, n) for k in self.model.vector_names}

    def powers(self) -> dict:
        """``{name: sorted powers}`` of the pointwise powers the Fourier form uses."""
        in1, in2 = self.model.input_names
        pw: dict = {}
        for a, b, _ in self.model.cross_terms:
            pw.setdefault(in1, set()).add(a)
            pw.setdefault(in2, set()).add(b)
        if self.model.output_name:
            pw[self.model.output_name] = {1}
        return {k: sorted(v) for k, v in pw.items()}

    def fourier_symbols(self) -> dict:
        """``{(name, power, irrep index): Matrix}`` of every block symbol in the Fourier form."""
        out = {}
        for name, pws in self.powers().items():
            for p in pws:
                for r, irr in enumerate(self.group.irreps):
                    out[(name, p, r)] = irrep_block_symbols(power_name(name, p), r, irr.dim)
        return out

    # -- the two forms
    @cached_property
    def parameter_space(self) -> sp.Expr:
        return parameter_space_energy(self.model)

    @cached_property
    def fourier(self) -> sp.Expr:
        G = self.group
        terms = []
        for r, irr in enumerate(G.irreps):
            if r == G.trivial_index:
                continue  # the centring removes the trivial irrep
            d = irr.dim

            def block_of(name, power, r=r, d=d):
                return irrep_block_symbols(power_name(name, power), r, d)

            terms.append(block_energy(self.model, block_of, d, G.order))
        return sp.Add(*terms)

    def gradient(self, name: str) -> list:
        """Parameter-space Euclidean gradient ``[dE/d name_0, ..., dE/d name_{n-1}]`` (SymPy)."""
        syms = self.parameter_symbols().get(name)
        if syms is None:
            raise ModelError(f"no vector named {name!r}; the vectors are {self.model.vector_names}")
        return [sp.diff(self.parameter_space, s) for s in syms]

    def numeric(self):
        """``f(**arrays) -> E`` (NumPy, vectorised over leading axes) from the parameter-space form."""
        syms = self.parameter_symbols()
        names = list(syms)
        flat = [s for k in names for s in syms[k]]
        f = sp.lambdify(flat, self.parameter_space, modules="numpy", cse=True)
        n = self.group.order

        def energy(**arrays):
            args = [np.asarray(arrays[k])[..., g] for k in names for g in range(n)]
            return f(*args)

        return energy

    # -- proof
    @cached_property
    def _field(self):
        """The number field of the exact irreps, or ``None`` when the group's irreps are only numeric."""
        import warnings

        values = set()
        bar = self._bar
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # numeric irreps: recognition warnings are expected here
            for irr in self.group.irreps:
                for m in irr.exact_matrices:
                    values.update(sp.sympify(v) for v in m)
                bar.advance()
        if any(v.has(sp.Float) for v in values):
            return None
        try:
            field = exact_field(values)
            self._exact_irreps = self._build_exact_irreps(field)
        except (SymflowError, NotCyclotomic, NotImplementedError, ValueError, TypeError):
            return None
        return field

    def _build_exact_irreps(self, F):
        """Per irrep ``(R, den)``: integer array ``(n, d, d, D)`` with ``rho(g) = R[g] / den`` in the field basis."""
        D = F.degree
        out = []
        for irr in self.group.irreps:
            d = irr.dim
            arr = np.empty((self.group.order, d, d, D), dtype=object)
            for g, m in enumerate(irr.exact_matrices):
                for i in range(d):
                    for j in range(d):
                        arr[g, i, j, :] = F.coefficients(F.convert(sp.sympify(m[i, j])), D)
            den = 1
            for c in arr.flat:
                den = math.lcm(den, int(c.denominator))
            ints = np.vectorize(lambda c: int(c.numerator) * (den // int(c.denominator)), otypes=[object])(arr)
            big = max((abs(int(x)) for x in ints.flat), default=0)
            out.append((ints, den, big))
            self._bar.advance()
        return out

    def _exact_hats(self, values: list) -> tuple:
        """Exact ``(hat, conj(hat))`` per irrep for integer ``values`` (length n): field elements.

        ``hat = (1/n) sum_g nu(g) rho(g^-1)``; ``conj(hat)_ij = (1/n) sum_g nu(g) rho(g)_ji`` (unitarity).
        Integer matrix products (int64 when provably free of overflow, Python integers otherwise).
        """
        F = self._field
        n = self.group.order
        inv = self.group.inverse
        vmax = max((abs(int(x)) for x in values), default=0)
        hats, conjs = [], []
        for ints, den, big in self._exact_irreps:
            d, D = ints.shape[1], ints.shape[3]
            safe = vmax * big * n < 2 ** 62
            dtype = np.int64 if safe else object
            v = np.array([int(x) for x in values], dtype=dtype)
            R = ints.astype(dtype).reshape(n, -1)
            H = (v @ R[inv]).reshape(d, d, D)
            C = (v @ R).reshape(d, d, D).transpose(1, 0, 2)
            scale = F.ground(Fraction(1, n * den))

            def mk(c):
                return F.from_coefficients(c) * scale

            hats.append([[mk(H[i, j]) for j in range(d)] for i in range(d)])
            conjs.append([[mk(C[i, j]) for j in range(d)] for i in range(d)])
        return hats, conjs

    @cached_property
    def _fourier_poly(self):
        fs = self.fourier_symbols()
        syms = [s for M in fs.values() for s in M]
        split = wirtinger_split(sp.expand(self.fourier), syms)
        gens = []
        for s in syms:
            gens += [s, conjugate_partner(s)]
        from sympy.polys.rings import PolyRing

        ring = PolyRing(gens, sp.QQ)
        poly = ring.from_expr(split)
        terms = [(Fraction(int(c.numerator), int(c.denominator)), [(i, e) for i, e in enumerate(m) if e])
                 for m, c in poly.items()]
        return terms, gens

    def _param_evaluator(self):
        syms = self.parameter_symbols()
        flat = [s for k in syms for s in syms[k]]
        return _exact_lambdify(flat, self.parameter_space)

    @property
    def degree(self) -> int:
        """Total degree of the energy in the parameters."""
        k = max(a + b for a, b, _ in self.model.cross_terms)
        return k + 1 if self.model.loss == "ce" else 2 * k

    #: A disabled bar: :meth:`verify` sets a live one while it runs with ``progress=True``.
    _bar = progress_bar("", None, enabled=False)

    def verify(self, points: int = 5, seed: int = 0, parameter_space: bool | None = None,
               progress: bool = False) -> EnergyVerification:
        """Prove ``parameter_space == fourier == literal definition`` exactly at random integer points.

        See the module docstring for the method and the false-pass bound. ``parameter_space=None``
        includes the SymPy parameter-space form for groups of order ``<= PARAMETER_CHECK_MAX_ORDER``
        (it has ``n^2`` terms); the Fourier form is always proven against the literal definition.
        ``progress=True`` shows a transient progress bar on stderr (exact irreps of the field, then
        the points; minutes for ``Z1009``). Returns an :class:`EnergyVerification` (truthy when proven).
        """
        if not isinstance(points, int) or isinstance(points, bool) or points < 1:
            raise SymflowError(f"points must be a positive integer, got {points!r}")
        if "_field" in self.__dict__:
            total = points
        else:
            total = 2 * len(self.group.irreps) + points
        with progress_bar(f"exact energy proof on {self.group.name}", total=total, enabled=progress,
                          counts=True, remaining=True) as bar:
            self._bar = bar
            try:
                return self._verify(points, seed, parameter_space)
            finally:
                del self._bar

    def _verify(self, points: int, seed: int, parameter_space: bool | None) -> EnergyVerification:
        if parameter_space is None:
            parameter_space = self.group.order <= PARAMETER_CHECK_MAX_ORDER
        self._check_parameter_space = bool(parameter_space)
        t0 = time.perf_counter()
        rng = np.random.default_rng(seed)
        n = self.group.order
        names = self.model.vector_names
        poly, gens = self._fourier_poly
        index = {g: i for i, g in enumerate(gens)}
        fs = self.fourier_symbols()
        param_eval = self._param_evaluator() if self._check_parameter_space else None
        F = self._field
        if F is None:
            return self._verify_numeric(points, seed, t0)
        values_out, mismatches = [], []
        for p in range(points):
            vals = {k: [int(x) for x in rng.integers(-POINT_RANGE, POINT_RANGE + 1, size=n)] for k in names}
            self._hat_memo = {}
            lit = literal_energy(self.model, vals)
            par = param_eval([x for k in names for x in vals[k]]) if param_eval else lit
            # exact Fourier blocks of the pointwise powers
            assign = [None] * len(gens)
            for (name, pw, r), M in fs.items():
                key = (name, pw)
                hats, conjs = self._hats_cache(vals, key)
                for i in range(M.rows):
                    for j in range(M.cols):
                        s = M[i, j]
                        assign[index[s]] = hats[r][i][j]
                        assign[index[conjugate_partner(s)]] = conjs[r][i][j]
            four = F.ground(0)
            for coeff, factors in poly:
                term = F.ground(coeff)
                for i, e in factors:
                    term = term * (assign[i] if e == 1 else assign[i] ** e)
                four = four + term
            diff_four = four - F.ground(lit)
            ok = (lit == par) and diff_four.is_zero
            values_out.append(lit)
            if not ok:
                mismatches.append({"point": p, "literal": str(lit), "parameter_space": str(par),
                                   "fourier_minus_literal_zero": bool(diff_four.is_zero)})
            self._bar.advance()
        return EnergyVerification(group=self.group.name, model=self.model.key(), points=points, seed=seed,
                                  field=F.description, passed=not mismatches, values=values_out,
                                  mismatches=mismatches, degree=self.degree,
                                  seconds=time.perf_counter() - t0, parameter_checked=self._check_parameter_space)

    def _verify_numeric(self, points: int, seed: int, t0: float) -> "EnergyVerification":
        """Fallback for groups whose irreps are only numeric: exact parameter side, float Fourier side.

        Passes when ``|fourier - literal| <= NUMERIC_RTOL * sum_terms |term|`` (the rounding scale
        of the Fourier sum) and the parameter-space form equals the literal definition exactly.
        """
        rng = np.random.default_rng(seed)
        G = self.group
        n = G.order
        names = self.model.vector_names
        poly, gens = self._fourier_poly
        index = {g: i for i, g in enumerate(gens)}
        fs = self.fourier_symbols()
        param_eval = self._param_evaluator() if self._check_parameter_space else None
        values_out, mismatches = [], []
        for p in range(points):
            vals = {k: [int(x) for x in rng.integers(-NUMERIC_RANGE, NUMERIC_RANGE + 1, size=n)] for k in names}
            lit = literal_energy(self.model, vals)
            par = param_eval([x for k in names for x in vals[k]]) if param_eval else lit
            assign = [None] * len(gens)
            hats = {}
            for (name, pw, r), M in fs.items():
                if (name, pw) not in hats:
                    hats[(name, pw)] = G.fourier(np.array(vals[name], dtype=float) ** pw).to_list()
                H = hats[(name, pw)][r]
                for i in range(M.rows):
                    for j in range(M.cols):
                        assign[index[M[i, j]]] = H[i, j]
                        assign[index[conjugate_partner(M[i, j])]] = np.conj(H[i, j])
            four, scale = 0j, 0.0
            for coeff, factors in poly:
                term = complex(coeff)
                for i, e in factors:
                    term *= assign[i] ** e
                four += term
                scale += abs(term)
            ok = lit == par and abs(four - float(lit)) <= NUMERIC_RTOL * max(scale, 1e-300)
            values_out.append(lit)
            if not ok:
                mismatches.append({"point": p, "literal": str(lit), "parameter_space": str(par), "fourier": four})
            self._bar.advance()
        return EnergyVerification(group=G.name, model=self.model.key(), points=points, seed=seed,
                                  field=f"floating point (numeric irreps; rtol {NUMERIC_RTOL:g} of the term sum)",
                                  passed=not mismatches, values=values_out, mismatches=mismatches,
                                  degree=self.degree, seconds=time.perf_counter() - t0, exact=False,
                                  parameter_checked=self._check_parameter_space)

    def _hats_cache(self, vals, key):
        memo = getattr(self, "_hat_memo", None)
        if memo is None:
            memo = self._hat_memo = {}
        if key not in memo:
            name, pw = key
            memo[key] = self._exact_hats([x ** pw for x in vals[name]])
        return memo[key]

    def trace_words(self, d, n) -> list:
        """:func:`energy_trace_words` of this model (the generic block energy, for display)."""
        return energy_trace_words(self.model, d, n)

    # -- display
    def latex(self, form: str = "fourier") -> str:
        return energy_latex(self, form)

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __repr__(self) -> str:
        return f"<EnergyFunctional of {self.model!r}>"


def _exact_lambdify(args, expr):
    """Compile ``expr`` to a Python function of a flat argument list with exact rational arithmetic.

    A minimal code printer (SymPy's printers are too slow for the ``n^2``-term energies of groups
    like S5): integers stay Python integers, rationals become ``Fraction``.
    """
    names = {s: f"a[{i}]" for i, s in enumerate(args)}
    memo: dict = {}

    def code(e):
        hit = memo.get(e)
        if hit is not None:
            return hit
        if e.is_Symbol:
            out = names[e]
        elif e.is_Integer:
            out = f"({int(e)})"
        elif e.is_Rational:
            out = f"Fraction({int(e.p)}, {int(e.q)})"
        elif e.is_Add:
            out = "(" + " + ".join(code(t) for t in e.args) + ")"
        elif e.is_Mul:
            out = "(" + " * ".join(code(t) for t in e.args) + ")"
        elif e.is_Pow and e.exp.is_Integer and int(e.exp) >= 0:
            out = f"({code(e.base)} ** {int(e.exp)})"
        else:
            raise SymflowError(f"cannot evaluate {e} exactly (not a polynomial with rational coefficients)")
        memo[e] = out
        return out

    src = f"def _f(a):\n    return {code(expr)}\n"
    ns = {"Fraction": Fraction}
    exec(compile(src, "<energy>", "exec"), ns)
    f = ns["_f"]
    return lambda flat: Fraction(f(list(flat)))
