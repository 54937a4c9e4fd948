r"""THE activation of a neuron: one object, one vocabulary.

An :class:`Activation` is an elementwise ``sigma`` with its derivative ``sigma'`` (both vectorised over
arrays), a name, LaTeX, and, when ``sigma`` is a polynomial ``sigma(z) = sum_k (p_k / q_k) z^k``, its exact
coefficients (the theory engine expands it binomially; the brute-force sums evaluate it on any dtype).
:func:`as_activation` is the one parser; every layer (the model, the parameter-space network, Li2, the
modular-addition mechanism, the command line) reads activations through it. The vocabulary::

    quad      sigma = z^2          aliases x^2, x**2, z^2, z**2, quad, quadratic, square, sqr
    relu      sigma = max(z, 0)
    silu      sigma = z / (1 + e^-z)
    tanh      sigma = tanh z
    abs       sigma = |z|                                   (alias absolute)
    leaky     sigma = max(z, z/100)                          (aliases leaky_relu, leakyrelu)
    threshold sigma = 1 for z >= 0, else 0                   (aliases step, heaviside)
    sign      sigma = +1 for z >= 0, else -1 (sign(0) = +1)
    <poly>    a polynomial in z with rational coefficients, e.g. 'z^2+z^3', 'z**2/2 + 3*z'
              (named by its canonical SymPy text, e.g. 'z**3 + z**2'); the cubic z^3 also as x^3, x**3, cube

Also accepted from Python: an :class:`Activation`, a SymPy expression in one symbol (differentiated by
SymPy, named ``sympy:<expr>``; :func:`polynomial_activation_of` reads it as ``<poly>``), a pair ``(sigma, dsigma)`` of vectorised callables, or a callable with a
``.derivative`` attribute. The quadratic and the names need no SymPy; polynomials parse with SymPy
on use. :attr:`Activation.symbolic` is ``sigma`` as a SymPy expression in a real ``z`` for the polynomials
and the piecewise-linear names (``Max``, ``Abs``, ``Piecewise``: :func:`piecewise_expression`), what
:mod:`symflow.mirrors` derives its dictionaries from.

>>> a = as_activation("x^2"); a.name, a.coefficients, a.text
('quad', ((2, 1, 1),), 'z**2')
>>> as_activation("relu").coefficients is None
True
"""
from __future__ import annotations

import sys
from functools import lru_cache
from typing import Callable

import numpy as np

from ..errors import ModelError

#: Canonical names of the named activations (polynomials are named by their SymPy text).
#: Step of the central difference of ``sigma'`` in :meth:`Activation.d2sigma` (non-polynomial activations).
SECOND_DERIVATIVE_STEP = 1e-5

NAMES = ("quad", "relu", "silu", "tanh", "abs", "leaky", "threshold", "sign")
#: The one alias table: lower-case spelling (spaces removed) -> canonical name.
ALIASES = {"quad": "quad", "quadratic": "quad", "square": "quad", "sqr": "quad",
           "x^2": "quad", "x**2": "quad", "z^2": "quad", "z**2": "quad",
           "relu": "relu", "silu": "silu", "tanh": "tanh", "abs": "abs", "absolute": "abs",
           "leaky": "leaky", "leaky_relu": "leaky", "leakyrelu": "leaky",
           "threshold": "threshold", "step": "threshold", "heaviside": "threshold", "sign": "sign"}
#: Spellings of polynomials that are not written in ``z`` (lower case, spaces removed) -> the polynomial's text.
POLYNOMIAL_ALIASES = {"x^3": "z**3", "x**3": "z**3", "cube": "z**3", "cubic": "z**3"}
#: The piecewise-linear names (positively homogeneous of degree 1 or 0; SymPy forms in :func:`piecewise_expression`).
PIECEWISE = ("relu", "abs", "leaky", "threshold", "sign")
#: Slope of the leaky ReLU for negative arguments.
LEAK = 0.01
#: One line naming the accepted forms (every error message about an activation ends with it).
ACTIVATION_FORMS = ("quad (z^2; also x^2, z**2, sqr), relu, silu, tanh, abs, leaky, threshold, sign, or a polynomial in z "
                    "with rational coefficients, e.g. 'z**2+z**3', 'z**2/2 + 3*z', z^3 also as x^3 (from Python also a SymPy expression)")
#: Accepted forms of a polynomial (the theory engine needs one).
POLYNOMIAL_FORMS = ("a polynomial in z with rational coefficients, e.g. 'z**2', 'z**2+z**3', "
                    "'z**2/2 + 3*z', or a SymPy expression in Symbol('z')")


def square(z):
    """``sigma(z) = z^2``."""
    return z * z


def square_derivative(z):
    """``sigma'(z) = 2 z``."""
    return 2.0 * z


def relu(z):
    """``sigma(z) = max(z, 0)``."""
    return np.maximum(z, 0.0)


def relu_derivative(z):
    """``sigma'(z) = [z > 0]`` (0 at the kink)."""
    return (z > 0).astype(z.dtype)


def absolute(z):
    """``sigma(z) = |z|``."""
    return np.abs(z)


def absolute_derivative(z):
    """``sigma'(z) = sign(z)`` (0 at the kink)."""
    return np.sign(z).astype(np.result_type(z, float))


def leaky_relu(z):
    """``sigma(z) = max(z, LEAK z)``."""
    return np.where(z >= 0, z, LEAK * z)


def leaky_relu_derivative(z):
    """``sigma'(z) = 1 for z >= 0, LEAK otherwise``."""
    return np.where(z >= 0, 1.0, LEAK)


def threshold(z):
    """``sigma(z) = 1{z >= 0}``."""
    return (np.asarray(z) >= 0).astype(np.result_type(z, float))


def sign_step(z):
    """``sigma(z) = +1 for z >= 0, -1 otherwise`` (``sign(0) = +1``: with it, breakpoints at the data points
    give every feature vector any breakpoint gives)."""
    return np.where(np.asarray(z) >= 0, 1.0, -1.0)


def zero_derivative(z):
    """``sigma'(z) = 0`` (threshold and sign: constant on each side of the jump)."""
    return np.zeros(np.shape(z), dtype=np.result_type(z, float))


def piecewise_expression(name: str):
    """``sigma`` of a piecewise-linear name as a SymPy expression in ``Symbol('z', real=True)``: relu
    ``Max(z, 0)``, abs ``Abs(z)``, leaky ``Piecewise((z, z >= 0), (z/100, True))``, threshold
    ``Piecewise((1, z >= 0), (0, True))``, sign ``Piecewise((1, z >= 0), (-1, True))``."""
    import sympy as sp

    z = sp.Symbol("z", real=True)
    forms = {"relu": lambda: sp.Max(z, 0), "abs": lambda: sp.Abs(z),
             "leaky": lambda: sp.Piecewise((z, z >= 0), (sp.nsimplify(LEAK) * z, True)),
             "threshold": lambda: sp.Piecewise((sp.Integer(1), z >= 0), (sp.Integer(0), True)),
             "sign": lambda: sp.Piecewise((sp.Integer(1), z >= 0), (sp.Integer(-1), True))}
    if name not in forms:
        raise ModelError(f"activation {name!r} has no piecewise-linear SymPy form; those that do: "
                         f"{', '.join(PIECEWISE)}")
    return forms[name]()


def _sigmoid(z):
    """``s(z) = 1 / (1 + e^-z) = (1 + tanh(z/2)) / 2`` (no overflow)."""
    return 0.5 * (1 + np.tanh(0.5 * z))


def silu(z):
    """``sigma(z) = z s(z)``, ``s`` the logistic sigmoid."""
    return z * _sigmoid(z)


def silu_derivative(z):
    """``sigma'(z) = s(z) (1 + z (1 - s(z)))``."""
    s = _sigmoid(z)
    return s * (1 + z * (1 - s))


def tanh(z):
    """``sigma(z) = tanh z``."""
    return np.tanh(z)


def tanh_derivative(z):
    """``sigma'(z) = 1 - tanh^2 z``."""
    t = np.tanh(z)
    return 1.0 - t * t


def polynomial_value(coefficients, z, derivative: bool = False):
    """``sum_k (p_k/q_k) z^k`` (or its derivative ``sum_k k (p_k/q_k) z^(k-1)``) for ``coefficients =
    ((k, p, q), ...)``, written with ``+ * ** /`` and integers only, so it runs unchanged on float, complex
    (complex step) and ``mpmath`` object arrays; the result has the shape of ``z``."""
    out = 0
    for k, p, q in coefficients:
        if derivative:
            if k:
                out = out + z ** (k - 1) * (k * p) / q
        else:
            out = out + (z ** k if k else 1) * p / q
    return out + 0 * z


class Activation:
    """An elementwise activation (module docstring). Calling it evaluates ``sigma``.

    ``name`` (canonical, see :data:`NAMES`), ``sigma`` and ``dsigma`` (its derivative, vectorised),
    ``latex`` (``\\sigma(z) = ...``), ``coefficients`` (``((k, p, q), ...)``, ``sigma = sum_k (p/q) z^k``
    in SymPy's term order, or ``None`` when not a polynomial), ``text`` (canonical SymPy text of a
    polynomial, ``None`` otherwise) and, for a polynomial, ``expression`` (the SymPy polynomial in
    ``z``, built on first use).
    """

    __slots__ = ("name", "sigma", "dsigma", "latex", "coefficients", "text", "_expression")

    def __init__(self, name: str, sigma: Callable, dsigma: Callable, latex: str = r"\sigma(z)",
                 coefficients=None, text: str | None = None, expression=None):
        self.name, self.sigma, self.dsigma, self.latex = name, sigma, dsigma, latex
        self.coefficients = None if coefficients is None else tuple(tuple(int(c) for c in t) for t in coefficients)
        self.text = text
        self._expression = expression

    def __call__(self, z):
        return self.sigma(z)

    derivative = property(lambda self: self.dsigma, doc="``sigma'`` (the same callable as ``dsigma``).")

    @property
    def is_polynomial(self) -> bool:
        return self.coefficients is not None

    def d2sigma(self, z):
        """``sigma''(z)``: from the exact coefficients of a polynomial, else central differences of ``sigma'``
        with step :data:`SECOND_DERIVATIVE_STEP` (ReLU: 0 away from its kink)."""
        if self.is_polynomial:
            out = np.zeros_like(z)
            for k, p, q in self.coefficients:
                if k >= 2:
                    out = out + k * (k - 1) * p / q * (z ** (k - 2) if k > 2 else 1.0)
            return out
        h = SECOND_DERIVATIVE_STEP
        return (self.dsigma(z + h) - self.dsigma(z - h)) / (2 * h)

    @property
    def expression(self):
        """``sigma`` as a SymPy polynomial in ``Symbol('z')`` (exact coefficients); ModelError when ``sigma``
        is not a polynomial."""
        if self._expression is None:
            if self.coefficients is None:
                raise ModelError(f"activation {self.name!r} is not a polynomial in z (the engine expands it "
                                 f"binomially); accepted: {POLYNOMIAL_FORMS}")
            import sympy as sp

            z = sp.Symbol("z")
            self._expression = sum((sp.Rational(p, q) * z ** k for k, p, q in self.coefficients), sp.Integer(0))
        return self._expression

    @property
    def symbolic(self):
        """``sigma`` in SymPy with a real ``z``: the polynomial or the piecewise-linear form
        (:func:`piecewise_expression`); ModelError for the others (silu, callables)."""
        if self.name in PIECEWISE and NAMED.get(self.name) is self:
            return piecewise_expression(self.name)
        if self.coefficients is not None:
            import sympy as sp

            return self.expression.xreplace({sp.Symbol("z"): sp.Symbol("z", real=True)})
        raise ModelError(f"activation {self.name!r} has no exact SymPy form here; those that do: "
                         f"{', '.join(PIECEWISE)} and polynomials")

    def polynomial(self, z, derivative: bool = False):
        """:func:`polynomial_value` of the coefficients: ``sigma`` (or ``sigma'``) on any dtype."""
        if self.coefficients is None:
            raise ModelError(f"activation {self.name!r} is not a polynomial; the brute-force sums on any dtype "
                             f"need one; accepted: {POLYNOMIAL_FORMS}")
        return polynomial_value(self.coefficients, z, derivative)

    def __reduce__(self):
        """Pickled by name (named and polynomial activations: the parser rebuilds them; workers get the same
        object), else by its callables."""
        if NAMED.get(self.name) is self:
            return as_activation, (self.name,)
        if self.coefficients is not None and self.text is not None:
            return as_activation, (self.text,)
        return Activation, (self.name, self.sigma, self.dsigma, self.latex, self.coefficients, self.text)

    def __eq__(self, other):
        return isinstance(other, Activation) and (other.name, other.sigma, other.dsigma) == \
            (self.name, self.sigma, self.dsigma)

    def __hash__(self):
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<Activation {self.name}>"


QUAD = Activation("quad", square, square_derivative, r"\sigma(z) = z^2", coefficients=((2, 1, 1),), text="z**2")
RELU = Activation("relu", relu, relu_derivative, r"\sigma(z) = \max(z, 0)")
SILU = Activation("silu", silu, silu_derivative, r"\sigma(z) = \frac{z}{1 + e^{-z}}")
TANH = Activation("tanh", tanh, tanh_derivative, r"\sigma(z) = \tanh z")
ABS = Activation("abs", absolute, absolute_derivative, r"\sigma(z) = |z|")
LEAKY = Activation("leaky", leaky_relu, leaky_relu_derivative, r"\sigma(z) = \max(z, z/100)")
THRESHOLD = Activation("threshold", threshold, zero_derivative, r"\sigma(z) = 1\{z \ge 0\}")
SIGN = Activation("sign", sign_step, zero_derivative, r"\sigma(z) = \operatorname{sign}(z),\ \operatorname{sign}(0) = 1")
NAMED = {"quad": QUAD, "relu": RELU, "silu": SILU, "tanh": TANH, "abs": ABS, "leaky": LEAKY, "threshold": THRESHOLD, "sign": SIGN}


def parse_polynomial(activation):
    """The activation as a SymPy polynomial in ``Symbol('z')`` (exact coefficients), from ``None`` (``z**2``),
    a string or a SymPy expression in a symbol named ``z``; floats become exact rationals. Raises
    :class:`ModelError` naming the accepted forms (:data:`POLYNOMIAL_FORMS`)."""
    import sympy as sp

    Z = sp.Symbol("z")
    if activation is None:
        return Z ** 2
    if isinstance(activation, str):
        text = activation.strip()
        if not text:
            raise ModelError(f"empty activation; accepted: {POLYNOMIAL_FORMS}")
        try:
            expr = sp.sympify(text.replace("^", "**"), locals={"z": Z}, rational=True)
        except (sp.SympifyError, SyntaxError, TypeError, AttributeError) as exc:
            raise ModelError(f"cannot parse activation {activation!r} ({type(exc).__name__}); "
                             f"accepted: {POLYNOMIAL_FORMS}") from None
    elif isinstance(activation, sp.Basic):
        expr = activation
        zs = [s for s in expr.free_symbols if s.name == "z"]
        if zs:
            expr = expr.xreplace({zs[0]: Z})
        expr = sp.nsimplify(expr, rational=True)
    else:
        raise ModelError(f"activation must be a string or a SymPy expression, got {type(activation).__name__}; "
                         f"accepted: {POLYNOMIAL_FORMS}")
    if not isinstance(expr, sp.Expr):
        raise ModelError(f"activation {activation!r} is not an expression; accepted: {POLYNOMIAL_FORMS}")
    extra = sorted(s.name for s in expr.free_symbols if s != Z)
    if extra:
        raise ModelError(f"activation {activation!r} has symbols other than z: {', '.join(extra)}; "
                         f"accepted: {POLYNOMIAL_FORMS}")
    if not expr.is_polynomial(Z):
        raise ModelError(f"activation {activation!r} is not a polynomial in z (the engine expands it "
                         f"binomially); accepted: {POLYNOMIAL_FORMS}")
    poly = sp.Poly(expr, Z)
    if not all(c.is_rational for c in poly.coeffs()):
        raise ModelError(f"activation {activation!r} needs rational coefficients; accepted: {POLYNOMIAL_FORMS}")
    return poly.as_expr()


def polynomial_activation(expr) -> Activation:
    """The :class:`Activation` of a SymPy polynomial in ``Symbol('z')`` (:func:`parse_polynomial`'s output)."""
    import sympy as sp

    Z = sp.Symbol("z")
    coefficients = tuple((int(k), int(c.p), int(c.q)) for (k,), c in sp.Poly(expr, Z).terms())
    text = sp.sstr(expr)

    def sigma(z):
        return polynomial_value(coefficients, z)

    def dsigma(z):
        return polynomial_value(coefficients, z, derivative=True)

    return Activation(text, sigma, dsigma, rf"\sigma(z) = {sp.latex(expr)}", coefficients=coefficients,
                      text=text, expression=expr)


@lru_cache(maxsize=64)
def _from_text(text: str) -> Activation:
    key = "".join(text.split()).lower()
    if key in ALIASES:
        return NAMED[ALIASES[key]]
    if key in POLYNOMIAL_ALIASES:
        return _from_text(POLYNOMIAL_ALIASES[key])
    try:
        expr = parse_polynomial(text)
    except ModelError as exc:
        raise ModelError(f"unknown activation {text!r} ({str(exc).split('; accepted')[0]}); "
                         f"accepted: {ACTIVATION_FORMS}") from None
    return polynomial_activation(expr)


def polynomial_activation_of(spec=None) -> Activation:
    """The :class:`Activation` of ``spec``, which must be a polynomial (what the theory engine derives with):
    a name of the vocabulary that is one (``quad`` and its aliases) or anything :func:`parse_polynomial`
    accepts (``None``: the quadratic); else :class:`ModelError` naming :data:`POLYNOMIAL_FORMS`."""
    if spec is None:
        return QUAD
    if isinstance(spec, Activation):
        if spec.coefficients is None:
            raise ModelError(f"activation {spec.name!r} is not a polynomial in z (the engine expands it "
                             f"binomially); accepted: {POLYNOMIAL_FORMS}")
        return spec
    if isinstance(spec, str) and "".join(spec.split()).lower() in ALIASES:
        return polynomial_activation_of(NAMED[ALIASES["".join(spec.split()).lower()]])
    if isinstance(spec, str) and "".join(spec.split()).lower() in POLYNOMIAL_ALIASES:
        return as_activation(spec)
    return polynomial_activation(parse_polynomial(spec))


def as_activation(spec=None) -> Activation:
    """The :class:`Activation` of ``spec`` (``None``: the quadratic); accepted forms in the module docstring,
    else :class:`ModelError` naming them."""
    if spec is None:
        return QUAD
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        if not spec.strip():
            raise ModelError(f"empty activation; accepted: {ACTIVATION_FORMS}")
        return _from_text(spec)
    sp = sys.modules.get("sympy")  # a SymPy expression exists only once SymPy is imported (start-up cost)
    if sp is not None and isinstance(spec, sp.Expr):
        free = sorted(spec.free_symbols, key=str)
        if len(free) != 1:
            raise ModelError(f"an activation expression needs exactly one free symbol, got {free or 'none'}; "
                             f"accepted: {ACTIVATION_FORMS}")
        z = free[0]
        f = sp.lambdify(z, spec, "numpy")
        df = sp.lambdify(z, sp.diff(spec, z), "numpy")
        return Activation(f"sympy:{spec}", lambda x: np.broadcast_to(f(x), x.shape).astype(x.dtype),
                          lambda x: np.broadcast_to(df(x), x.shape).astype(x.dtype),
                          rf"\sigma({sp.latex(z)}) = {sp.latex(spec)}")
    if isinstance(spec, tuple) and len(spec) == 2 and all(callable(s) for s in spec):
        return Activation(getattr(spec[0], "__name__", "custom"), spec[0], spec[1])
    if callable(spec) and callable(getattr(spec, "derivative", None)):
        return Activation(getattr(spec, "__name__", "custom"), spec, spec.derivative)
    if callable(spec):
        raise ModelError("a callable activation needs its derivative: pass (sigma, dsigma) or give the "
                         f"callable a .derivative attribute; accepted: {ACTIVATION_FORMS}")
    raise ModelError(f"cannot use {spec!r} as an activation; accepted: {ACTIVATION_FORMS}")
