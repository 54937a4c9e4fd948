"""Exact number fields for the entries of a group's exact irreps (used by the exact energy proof).

:func:`exact_field` picks the field of a set of exact SymPy numbers: square roots of rationals and
``I`` only give the multiquadratic field (:class:`~symflow.groups.multiquadratic.MultiquadraticField`);
roots of unity and trigonometric values of rational multiples of ``pi`` the cyclotomic field
``Q(zeta_L)``; anything else SymPy's algebraic field of the atoms (both :class:`ExactField`). Every field
is a :class:`~symflow.groups.multiquadratic.NumberField`: exact elements with ``+ - * ** quo`` and
``is_zero``. SymPy is imported where a field is built, not with this module.
"""
from __future__ import annotations

import math
from fractions import Fraction

from .multiquadratic import MultiquadraticField, NotCyclotomic, NumberField, squarefree_part


def exact_field(values) -> NumberField:
    """The number field of the exact numbers ``values`` (entries of a group's exact irreps).

    Square roots of rationals and ``I`` only: the multiquadratic field of
    :mod:`symflow.groups.multiquadratic` (:class:`MultiquadraticField`); roots of unity and
    trigonometric values of rational multiples of ``pi``: the cyclotomic field ``Q(zeta_L)``;
    anything else: SymPy's algebraic field of the atoms (both :class:`ExactField`).
    """
    atoms = set()
    for v in values:
        atoms |= _algebraic_atoms(v)
    try:
        return MultiquadraticField(atoms)
    except NotCyclotomic:
        return ExactField(atoms)


class ExactField(NumberField):
    """Exact arithmetic for the entries of a group's exact irreps (SymPy ``ANP`` elements).

    Roots of unity (``exp(i pi q)``, ``I``, ``cos``/``sin`` of rational multiples of ``pi``) and
    square roots of rationals are mapped into the cyclotomic field ``Q(zeta_L)`` (square roots via
    Gauss sums: ``sqrt(p) = sum_a (a/p) zeta_p^a`` for ``p = 1 mod 4``, ``-i`` times it for
    ``p = 3 mod 4``; ``sqrt 2 = zeta_8 + zeta_8^-1``); elements are reduced modulo the cyclotomic
    polynomial ``Phi_L``, a canonical form, so ``x == 0`` is decided exactly. Other algebraic
    atoms (nested radicals) fall back to SymPy's ``QQ.algebraic_field`` of the atoms. (Square roots
    and ``I`` alone use :class:`MultiquadraticField`; see :func:`exact_field`.)
    """

    def __init__(self, atoms):
        from sympy.polys.domains import QQ
        from sympy.polys.polyclasses import ANP

        self.QQ = QQ
        self._ANP = ANP
        self.atoms = atoms
        self._cache: dict = {}
        try:
            self._setup_cyclotomic(atoms)
        except NotCyclotomic:
            self._setup_algebraic(atoms)

    # -- construction
    def _setup_cyclotomic(self, atoms):
        import sympy as sp

        exps = {}
        L = 1
        for a in atoms:
            spec = _cyclotomic_spec(a)
            exps[a] = spec
            L = math.lcm(L, spec[0])
        x = sp.Symbol("x")
        mod = [self.QQ(int(c)) for c in sp.Poly(sp.cyclotomic_poly(L, x), x).all_coeffs()]
        self.L, self.mod = L, mod
        self.description = f"Q(zeta_{L})" if L > 2 else "Q"
        ANP = self._ANP

        x_elem = ANP([self.QQ(1), self.QQ(0)], mod, self.QQ)
        powers: dict = {}

        def zeta(k):
            """``zeta_L^k`` reduced modulo ``Phi_L``."""
            k %= L
            if k not in powers:
                powers[k] = x_elem ** k if k else ANP([self.QQ(1)], mod, self.QQ)
            return powers[k]

        self._zeta = zeta
        self._atom_values = {a: _eval_cyclotomic_spec(spec, L, zeta, self) for a, spec in exps.items()}

    def _setup_algebraic(self, atoms):
        import sympy as sp

        K = self.QQ.algebraic_field(*sorted(atoms, key=sp.default_sort_key))
        self.L = None
        self.mod = K.mod.to_list()
        self.description = f"Q(alpha), [Q(alpha):Q] = {len(self.mod) - 1}"
        self._atom_values = {a: K.from_sympy(a) for a in atoms}

    # -- elements
    def ground(self, q) -> "object":
        q = self.QQ(int(q.numerator), int(q.denominator)) if isinstance(q, Fraction) else self.QQ(q)
        return self._ANP([q] if q else [], self.mod, self.QQ)

    def coefficients(self, elem, size: int) -> list:
        rep = elem.to_list()
        return [self.QQ(0)] * (size - len(rep)) + list(rep)

    def from_coefficients(self, ints):
        return self._ANP(_strip([self.QQ(int(x)) for x in ints]), self.mod, self.QQ)

    @property
    def degree(self) -> int:
        return max(len(self.mod) - 1, 1)


def _algebraic_atoms(expr) -> set:
    """Irrational building blocks of an exact number: radicals, exponentials, trig values, ``I``."""
    import sympy as sp

    out = set()
    if expr.is_Rational:
        return out
    if expr == sp.I or isinstance(expr, (sp.exp, sp.cos, sp.sin)):
        return {expr}
    if expr.is_Pow and not expr.exp.is_Integer:
        return {expr}
    if expr.is_Pow and expr.base == sp.E:
        return {expr}
    for a in expr.args:
        out |= _algebraic_atoms(a)
    return out


def _cyclotomic_spec(atom):
    """``(L, kind, data)`` describing ``atom`` inside ``Q(zeta_L)``; raises NotCyclotomic."""
    import sympy as sp

    if atom == sp.I:
        return (4, "zeta", 1)
    if isinstance(atom, sp.exp) or (atom.is_Pow and atom.base == sp.E):
        arg = atom.args[0] if isinstance(atom, sp.exp) else atom.exp
        q = sp.simplify(arg / (sp.I * sp.pi))
        if not q.is_Rational:
            raise NotCyclotomic(atom)
        # exp(i pi q) = zeta_{2 den}^{num}
        return (2 * int(q.q), "zeta", int(q.p))
    if isinstance(atom, (sp.cos, sp.sin)):
        q = sp.simplify(atom.args[0] / sp.pi)
        if not q.is_Rational:
            raise NotCyclotomic(atom)
        return (math.lcm(2 * int(q.q), 4), "cos" if isinstance(atom, sp.cos) else "sin", (int(q.p), int(q.q)))
    if atom.is_Pow and atom.base.is_Rational and atom.exp in (sp.Rational(1, 2), sp.Rational(-1, 2)):
        r = atom.base
        num, den = int(r.p), int(r.q)
        m = abs(num * den)
        primes = [p for p, e in sp.factorint(m).items() if e % 2 == 1]
        L = 4
        for p in primes:
            L = math.lcm(L, 8 if p == 2 else 4 * p)
        return (L, "sqrt", (r, atom.exp))
    raise NotCyclotomic(atom)


def _eval_cyclotomic_spec(spec, L, zeta, F):
    import sympy as sp

    _, kind, data = spec
    if kind == "zeta":
        # zeta_{L0}^{k} with L0 = spec[0]
        return zeta(data * (L // spec[0]))
    if kind in ("cos", "sin"):
        # angle pi p / q = 2 pi k / L with k = p L / (2 q)  (2 q divides L)
        p, q = data
        k = p * L // (2 * q)
        if kind == "cos":
            return (zeta(k) + zeta(-k)) * F.ground(Fraction(1, 2))
        i = zeta(L // 4)
        return (zeta(k) - zeta(-k)) * F.ground(1).quo(i * F.ground(2))
    r, e = data
    num, den = int(r.p), int(r.q)
    m = num * den
    sign = -1 if m < 0 else 1
    square, free = squarefree_part(abs(m))
    val = F.ground(Fraction(square, den))
    i = zeta(L // 4)
    for p in sp.factorint(free):
        if p == 2:
            s = zeta(L // 8) + zeta(-(L // 8))
        else:
            g = F.ground(0)
            for a in range(1, p):
                if sp.legendre_symbol(a, p) == 1:
                    g = g + zeta(a * (L // p))
                else:
                    g = g - zeta(a * (L // p))
            s = g if p % 4 == 1 else g * (F.ground(0) - i)
        val = val * s
    if sign < 0:
        val = val * i
    if e == sp.Rational(-1, 2):
        val = F.ground(1).quo(val)
    return val


def _strip(coeffs: list) -> list:
    i = 0
    while i < len(coeffs) and not coeffs[i]:
        i += 1
    return coeffs[i:]
