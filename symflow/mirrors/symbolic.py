r"""The symbolic side of the Library of Mirrors: activations, features, units and the lemmas, in SymPy.

Everything numeric in :mod:`symflow.mirrors` is printed from the expressions here (one place):

* the activations ``relu``, ``abs``, ``leaky``, ``threshold``, ``sign`` as SymPy expressions in ``t``
  (``Max``/``Abs``/``Piecewise``, from the one activation object of :mod:`symflow.neuron.activation`),
  their derivatives by ``sympy.diff`` and their degree of positive
  homogeneity ``sigma(c t) = c^d sigma(t)`` (``c > 0``), *proved* by cases (``t = v``, ``t = -v``,
  ``t = 0`` with ``v > 0``);
* the features of the dictionary: two layers ``F(x) = sigma(s (x - a))``; deep narrow ReLU
  ``F_1(x) = x``, ``F_{l+1}(x) = relu(s_l (F_l(x) - F_l(a_l)))`` (``F_L`` has ``L - 1`` breakpoint
  symbols ``a_l`` and sign symbols ``s_l``);
* the reconstructed unit of a Lasso coefficient ``z`` on a feature, with ``gamma = |z|^(1/L)``:
  weights ``s_l gamma``, biases ``-s_l c_l gamma^l`` (``c_l = F_l(a_l)``), output weight
  ``sign(z) gamma``; :func:`unit_identity` proves ``unit(x) = sign(z) gamma^L F_L(x) = z F_L(x)`` from
  the homogeneity of ``sigma`` alone (an abstract ``sigma`` whose positive factors are pulled out,
  ``sigma(c u) -> c^d sigma(u)``), and that its penalty ``(beta/L) * L * gamma^L`` is ``beta |z|``;
* the AM-GM rebalancing lemma ``(1/L) sum_l |w_l|^L >= prod_l |w_l|`` (:func:`amgm_lemma`) by a
  sum-of-squares certificate that SymPy expands to an identity, for ``L = 2, 3, 4``.

Threshold and sign are homogeneous of degree 0, so their inner weight is free: a unit is
``alpha * amp * sigma(w x + b)`` with an amplitude ``amp`` and penalty ``(beta/2)(alpha^2 + amp^2)``
(inner weight and bias unregularised). ``sign(0) = +1`` and ``threshold(0) = 1``: with that convention
the breakpoints at the data points give every feature vector that any breakpoint can give.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..errors import SymflowError
from ..neuron.activation import PIECEWISE, as_activation

T = sp.Symbol("t", real=True)
X = sp.Symbol("x", real=True)
GAMMA = sp.Symbol("gamma", positive=True)

def activation_expression(name: str) -> sp.Expr:
    """``sigma(t)`` of ``name`` as a SymPy expression in :data:`T`, from the one activation object
    (:attr:`symflow.neuron.activation.Activation.symbolic`): relu ``max(t, 0)``; abs ``|t|``; leaky
    ``max(t, t/100)``; threshold ``1{t >= 0}``; sign ``+1 for t >= 0, -1 otherwise``."""
    if name not in PIECEWISE:   # the Library of Mirrors' activations: the piecewise-linear ones
        raise SymflowError(f"--activation must be one of {', '.join(PIECEWISE)}, got {name!r}")
    expr = as_activation(name).symbolic
    return expr.xreplace({s: T for s in expr.free_symbols})


@lru_cache(maxsize=None)
def homogeneity_degree(name: str) -> int:
    """The degree ``d`` with ``sigma(c t) = c^d sigma(t)`` for all ``c > 0``, proved by the three cases
    ``t = v``, ``t = -v`` (``v > 0``) and ``t = 0``; raises if neither ``d = 1`` nor ``d = 0`` holds."""
    sigma = activation_expression(name)
    c, v = sp.Symbol("c", positive=True), sp.Symbol("v", positive=True)
    for d in (1, 0):
        if all(sp.simplify(sigma.subs(T, c * t) - c ** d * sigma.subs(T, t)) == 0 for t in (v, -v, sp.Integer(0))):
            return d
    raise SymflowError(f"activation {name} is not positively homogeneous of degree 0 or 1")


def activation_derivative(name: str) -> sp.Expr:
    """``d sigma / dt`` by ``sympy.diff`` (``Heaviside`` for relu; 0 at the threshold/sign jump)."""
    return sp.diff(activation_expression(name), T)


def numpy_function(expr: sp.Expr, args, name: str):
    """The NumPy function of ``expr`` in the symbols ``args`` (broadcasting over array arguments), printed
    by symflow's one code generator and cached (:func:`symflow.codegen.generated_function`)."""
    from ..codegen import generated_function

    module = generated_function([expr], list(args), name=f"mirrors_{name}", func="value")

    def value(*arrays):
        return module.value(*arrays)[0]

    return value


# ---------------------------------------------------------------------------------------------
# features and units
# ---------------------------------------------------------------------------------------------
def breakpoint_symbols(depth: int) -> tuple:
    return sp.symbols(f"a1:{depth}", real=True)


def sign_symbols(depth: int) -> tuple:
    return sp.symbols(f"s1:{depth}", real=True)


def feature_expression(depth: int, activation: str = "relu", sigma=None, at=X) -> sp.Expr:
    """``F_L(at)`` with breakpoint symbols ``a_l`` and sign symbols ``s_l`` (module docstring).

    ``sigma``: a callable ``u -> sigma(u)`` (default: the activation's expression; an undefined
    function for the proofs). Depth 2 is ``sigma(s1 (x - a1))``; depth 3, 4 are deep narrow ReLU."""
    if sigma is None:
        expr = activation_expression(activation)

        def sigma(u):
            return expr.subs(T, u)
    a, s = breakpoint_symbols(depth), sign_symbols(depth)

    def F(level, v):
        if level == 1:
            return v
        return sigma(s[level - 2] * (F(level - 1, v) - F(level - 1, a[level - 2])))

    return F(depth, at)


def unit_expression(depth: int, sigma, gamma=GAMMA, sign_z=1) -> sp.Expr:
    """The reconstructed unit ``sign(z) gamma * h_{L-1}(x)`` with ``h_0 = x``,
    ``h_l = sigma(s_l gamma h_{l-1} - s_l c_l gamma^l)``, ``c_l = F_l(a_l)`` (``sigma`` as given)."""
    a, s = breakpoint_symbols(depth), sign_symbols(depth)
    h = X
    for level in range(1, depth):
        c = feature_expression(level, sigma=sigma, at=a[level - 1]) if level > 1 else a[0]
        h = sigma(s[level - 1] * gamma * h - s[level - 1] * c * gamma ** level)
    return sign_z * gamma * h


def _pull_positive(expr, sigma_fn, degree):
    """Rewrite ``sigma(c u) -> c^degree sigma(u)`` for every factor ``c`` SymPy knows is positive
    (the homogeneity lemma used as a rule), innermost first."""
    if not expr.args:
        return expr
    args = [_pull_positive(a, sigma_fn, degree) for a in expr.args]
    expr = expr.func(*args)
    if expr.func == sigma_fn:
        inner = sp.factor_terms(sp.expand(expr.args[0]))
        if inner.is_Mul:
            pos = [f for f in inner.args if f.is_positive]
            if pos:
                rest = sp.Mul(*[f for f in inner.args if not f.is_positive])
                c = sp.Mul(*pos)
                return c ** degree * sigma_fn(rest)
    return expr


@lru_cache(maxsize=None)
def unit_case(depth: int, degree: int, signs: tuple, sign_z: int) -> bool:
    """One case of :func:`unit_identity`: with an abstract activation homogeneous of ``degree`` and the
    sign pattern ``signs`` (``s_l = +-1``) and ``sign(z) = sign_z``, SymPy proves that the reconstructed
    unit equals ``sign_z gamma^L F_L(x)`` for all breakpoints ``a_l`` and all ``gamma > 0``."""
    sig = sp.Function("sigma")
    if degree == 0:
        if depth != 2:
            raise SymflowError("degree-0 activations (threshold, sign) are two-layer only")
        a, s = breakpoint_symbols(2)[0], sign_symbols(2)[0]
        unit = sign_z * GAMMA * GAMMA * sig(s * X - s * a)           # alpha * amp * sigma(w x + b)
        target = sign_z * GAMMA ** 2 * sig(s * (X - a))
        return sp.expand((unit - target).subs(s, signs[0])) == 0
    sub = dict(zip(sign_symbols(depth), signs))
    unit = _pull_positive(unit_expression(depth, sig, sign_z=sign_z).subs(sub), sig, degree)
    target = sign_z * GAMMA ** depth * _pull_positive(feature_expression(depth, sigma=sig).subs(sub), sig, degree)
    return sp.simplify(unit - target) == 0


@lru_cache(maxsize=None)
def unit_identity(depth: int, degree: int = 1) -> dict:
    """Prove, with an abstract activation homogeneous of ``degree``, that the reconstructed unit of
    ``z = sign_z gamma^L`` computes ``z F_L(x)`` for both signs of ``z`` and every sign pattern
    ``s_l = +-1`` (:func:`unit_case`), and that its penalty ``(beta/L) sum |w|^L`` equals ``beta |z|``.

    Degree 0 (threshold, sign; depth 2 only): unit ``sign(z) gamma * gamma * sigma(s (x - a))`` with
    amplitude ``gamma`` and penalty ``(beta/2)(gamma^2 + gamma^2) = beta |z|``."""
    import itertools

    beta = sp.Symbol("beta", positive=True)
    checked = 0
    for signs in itertools.product((1, -1), repeat=depth - 1):
        for sz in (1, -1):
            if not unit_case(depth, degree, signs, sz):
                raise SymflowError(f"unit identity failed at depth {depth}, signs {signs}, sign(z) = {sz}")
            checked += 1
    penalty = beta / 2 * (GAMMA ** 2 + GAMMA ** 2) if degree == 0 else beta / depth * depth * GAMMA ** depth
    if sp.simplify(penalty - beta * GAMMA ** depth) != 0:
        raise SymflowError("penalty identity failed")
    return {"depth": depth, "degree": degree, "cases": checked, "unit": "sign(z) gamma^L F_L(x) = z F_L(x)",
            "penalty": f"(beta/{depth}) * {depth} * gamma^{depth} = beta |z|", "proved": True}


@lru_cache(maxsize=None)
def amgm_lemma(depth: int) -> dict:
    """``(1/L) sum_l w_l^L - prod_l w_l >= 0`` for ``w_l >= 0``, ``L = depth``: SymPy checks
    ``L (lhs - rhs) = certificate`` where the certificate is manifestly non-negative:

    * L = 2: ``(w1 - w2)^2``;
    * L = 3: ``(w1 + w2 + w3) ((w1 - w2)^2 + (w2 - w3)^2 + (w3 - w1)^2) / 2``;
    * L = 4: ``(w1^2 - w2^2)^2 + (w3^2 - w4^2)^2 + 2 (w1 w2 - w3 w4)^2``.

    Equality at ``w_1 = ... = w_L`` (the certificate vanishes): rebalancing a unit's weights to the
    common modulus ``(prod |w_l|)^(1/L)`` keeps its function (homogeneity) and lowers its penalty
    to ``beta prod |w_l|``."""
    w = sp.symbols(f"w1:{depth + 1}", nonnegative=True)
    gap = sum(wi ** depth for wi in w) - depth * sp.Mul(*w)
    if depth == 2:
        cert = (w[0] - w[1]) ** 2
    elif depth == 3:
        cert = (w[0] + w[1] + w[2]) * ((w[0] - w[1]) ** 2 + (w[1] - w[2]) ** 2 + (w[2] - w[0]) ** 2) / 2
    elif depth == 4:
        cert = (w[0] ** 2 - w[1] ** 2) ** 2 + (w[2] ** 2 - w[3] ** 2) ** 2 + 2 * (w[0] * w[1] - w[2] * w[3]) ** 2
    else:
        raise SymflowError(f"depth must be 2, 3 or 4, got {depth}")
    proved = sp.expand(gap - cert) == 0
    p = sp.Symbol("p", positive=True)
    equal = sp.simplify(sum((p ** sp.Rational(1, depth)) ** depth for _ in w) / depth - p) == 0
    if not (proved and equal):
        raise SymflowError(f"AM-GM certificate failed at L = {depth}")
    return {"depth": depth, "identity": f"sum w^{depth} - {depth} prod w = {cert}", "proved": True,
            "equality": "w_l = (prod |w|)^(1/L)"}


@lru_cache(maxsize=None)
def feature_function(depth: int, activation: str = "relu"):
    """NumPy ``F(x, a1, .., s1, ..)`` of :func:`feature_expression`, broadcasting over its arguments."""
    return numpy_function(feature_expression(depth, activation), (X,) + breakpoint_symbols(depth)
                          + sign_symbols(depth), f"feature_{depth}_{activation}")


def printed_activation(name: str):
    """``(sigma, dsigma)`` printed from :func:`activation_expression` and its SymPy derivative by the code
    generator (the independent check of the one activation object's ``sigma``/``dsigma``)."""
    import numpy as np

    f = numpy_function(activation_expression(name), (T,), f"sigma_{name}")
    d = activation_derivative(name).replace(sp.Heaviside, lambda *a: sp.Piecewise((1, a[0] > 0), (0, True)))
    df = numpy_function(d, (T,), f"dsigma_{name}")
    return (lambda u: np.broadcast_to(np.asarray(f(u), dtype=float), np.shape(u)),
            lambda u: np.broadcast_to(np.asarray(df(u), dtype=float), np.shape(u)))
