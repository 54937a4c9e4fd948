"""Modular addition theory (THEORY section 5): derived ODE, first integrals, blow-up quadrature.

Every derived formula is checked against the brute-force Cayley-table reference
(:mod:`symflow.neuron.bruteforce`) or an independent integration.
"""
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

import symflow
from symflow.errors import ModelError, SymflowError
from symflow.neuron import bruteforce
from symflow.theory.blowup import (J0_exact, blowup_time, blowup_time_mpmath, blowup_time_ode, blowup_times,
                                   equal_start_J, turning_point)
from symflow.theory.modular import (D, ModularAdditionODE, alpha, beta, frequency_coordinates, misalignment,
                                    sum_over_Zp)


@pytest.fixture(scope="module")
def ode():
    return ModularAdditionODE()


# ---------------------------------------------------------------------- derivation
def test_symbolic_p_derivation_equals_theory(ode):
    assert all(v == 0 for v in ode.compare_with_theory().values()), ode.compare_with_theory()
    assert ode.is_closed  # the single-frequency ansatz is invariant: zero off-ansatz residual
    assert ode.assumptions == ["p does not divide 1*k", "p does not divide 2*k"]
    p = ode.p
    assert sp.simplify(ode.rates[alpha] - 2 * p * alpha * beta * sp.cos(D)) == 0
    assert sp.simplify(ode.rates[D] + p * (4 * beta + alpha ** 2 / beta) * sp.sin(D)) == 0


@pytest.mark.parametrize("p,k,loss", [(3, 1, "sum"), (7, 3, "mean")])
def test_concrete_p_derivation_equals_theory(p, k, loss):
    o = ModularAdditionODE(p=p, k=k, loss=loss)
    assert all(v == 0 for v in o.compare_with_theory().values())
    assert o.assumptions == []  # concrete p: divisibility decided exactly
    if loss == "mean":
        assert sp.simplify(o.rates[beta] - alpha ** 2 * sp.cos(D) / p) == 0  # p alpha^2 cos D / p^2


def test_non_quadratic_activation_reports_residual():
    z = sp.Symbol("z")
    o = ModularAdditionODE(activation=z ** 3)
    assert not o.is_closed and o.residual["theta"] != 0


def test_orthogonality_sum_exact_and_resonant():
    j = sp.Symbol("j", integer=True)
    w = sp.Symbol("omega", positive=True)
    e = sp.exp(sp.I * 3 * w * j)
    assert sum_over_Zp(e, j, 7, 1) == 0
    assert sum_over_Zp(e, j, 3, 1) == 3  # 3k = 0 mod 3: resonance
    assert sum_over_Zp(sp.Integer(2), j, 5, 1) == 10


@pytest.mark.parametrize("bad", [dict(p=4), dict(p=7, k=4), dict(p=7, loss="max"), dict(activation=sp.sin(sp.Symbol("z")))])
def test_bad_model_definitions(bad):
    with pytest.raises(ModelError):
        ModularAdditionODE(**bad)


@settings(max_examples=20, deadline=None)
@given(p=st.sampled_from([5, 7, 11]), kk=st.integers(1, 5), a=st.floats(0.1, 2), b=st.floats(0.1, 2),
       ph=st.floats(-3, 3), ps=st.floats(-3, 3))
def test_derived_rates_equal_bruteforce_gradient(ode, p, kk, a, b, ph, ps):
    """Parameter-space gradient of L = sum xi~(x+y)(theta(x)+theta(y))^2 = 2 p^2 Omega, projected."""
    k = 1 + (kk - 1) % ((p - 1) // 2)
    G = symflow.group(f"Z{p}")
    j = np.arange(p)
    wk = 2 * np.pi * k / p
    th, xi = a * np.cos(wk * j + ph), b * np.cos(wk * j + ps)
    g1, g2, gx = bruteforce.euclidean_gradients(G, th, th, xi)
    dth, dxi = 2 * p * p * (g1 + g2), 2 * p * p * gx
    ca = np.exp(-1j * ph) * 2 / p * np.sum(dth * np.exp(-1j * wk * j))   # alpha' + i alpha phi'
    cb = np.exp(-1j * ps) * 2 / p * np.sum(dxi * np.exp(-1j * wk * j))   # beta' + i beta psi'
    da, db, dD, dph, dps = ode.numeric_rates(a, b, misalignment(ph, ps), p)
    scale = p * max(a, b) ** 2
    assert abs(ca.real - da) < 1e-10 * scale and abs(ca.imag / a - dph) < 1e-10 * scale / a
    assert abs(cb.real - db) < 1e-10 * scale and abs(cb.imag / b - dps) < 1e-10 * scale / b
    # off-ansatz: the gradient has no other frequency
    rest = dth - (ca * np.exp(1j * ph) * np.exp(1j * wk * j)).real
    assert np.abs(rest).max() < 1e-10 * scale


def test_generated_module_is_plain_and_cached(ode):
    f = ode.numeric_rates
    src = open(f.__code__.co_filename).read()
    assert f"SymPy {sp.__version__}" in src and "expression hash" in src and "def rates(alpha, beta, D, p)" in src
    out = f(np.ones((3, 2)), np.ones((3, 2)), np.zeros((3, 2)), 7)
    assert all(o.shape == (3, 2) for o in out)


def test_repr_and_latex(ode):
    assert "alpha' = 2*alpha*beta*p*cos(D)" in repr(ode)
    assert r"\dot{\alpha}" in ode._repr_latex_()


# ---------------------------------------------------------------------- first integrals
def test_first_integrals_symbolic(ode):
    for name, F in ode.candidate_integrals().items():
        assert ode.is_first_integral(F), name
    assert not ode.is_first_integral(alpha ** 2 + beta ** 2)
    assert sp.simplify(ode.derive_I1() - (alpha ** 2 - 2 * beta ** 2)) == 0


@settings(max_examples=15, deadline=None)
@given(a=st.floats(0.2, 1.5), b=st.floats(0.2, 1.5), d=st.floats(-3.1, 3.1))
def test_first_integrals_numeric_along_solve_ivp(ode, a, b, d):
    p = 5
    T = blowup_time(a, b, d, p)
    f = ode.numeric_rates

    def rhs(t, y):
        da, db, dd, _, _ = f(y[0], y[1], y[2], p)
        return [da, db, dd]

    sol = solve_ivp(rhs, (0, 0.7 * T), [a, b, d], method="DOP853", rtol=1e-11, atol=1e-13)
    A, B, Dd = sol.y
    I1 = A ** 2 - 2 * B ** 2
    I2 = A ** 2 * B * np.sin(Dd)
    s = max(a, b) ** 2
    assert np.abs(I1 - I1[0]).max() < 1e-8 * s
    assert np.abs(I2 - I2[0]).max() < 1e-8 * s * max(a, b)


# ---------------------------------------------------------------------- blow-up
def test_J0_exact():
    J = J0_exact()
    assert J == sp.log(1 + sp.sqrt(2)) / sp.sqrt(2)
    assert abs(equal_start_J(0.0) - float(J)) < 1e-12


@settings(max_examples=12, deadline=None)
@given(a=st.floats(0.05, 2), b=st.floats(0.05, 2), d=st.floats(-3.14, 3.14), p=st.sampled_from([1, 5, 23]))
def test_blowup_quadrature_vs_ode_and_mpmath(a, b, d, p):
    T = blowup_time(a, b, d, p)
    assert abs(T - blowup_time_mpmath(a, b, d, p)) < 1e-9 * T
    assert abs(T - blowup_time_ode(a, b, d, p)) < 1e-6 * T


@pytest.mark.parametrize("d0", [0.0, 0.4, 1.5, math.pi / 2, 2.0, 2.9, math.pi - 1e-4, math.pi])
def test_both_branches(d0):
    a, b, p = 1.3, 0.8, 7
    T = blowup_time(a, b, d0, p)
    assert abs(T - blowup_time_ode(a, b, d0, p)) < 1e-6 * T
    if math.cos(d0) < 0:  # falling branch: beta turns around at b* < beta0
        assert turning_point(a, b, d0) < b
        assert T > blowup_time(a, b, math.pi - d0, p)  # the mirrored rising start is faster


@settings(max_examples=10, deadline=None)
@given(kappa=st.floats(1e-3, 1.0), d=st.floats(-3.1, 3.1), p=st.sampled_from([3, 11, 97]))
def test_equal_start_scaling(kappa, d, p):
    assert abs(blowup_time(kappa, kappa, d, p) - equal_start_J(d) / (p * kappa)) < 1e-9 * equal_start_J(d) / (p * kappa)


def test_no_blowup_and_special_cases():
    assert blowup_time(0.0, 1.0, 0.3, 5) == math.inf            # zero amplitude stays zero
    assert blowup_time(1.0, 1.0, math.pi, 5) == math.inf        # D = pi with alpha^2 <= 2 beta^2
    T0 = blowup_time(1.0, 0.0, 1.0, 5)                          # xi born aligned
    assert abs(T0 - math.pi / (2 * math.sqrt(2) * 5)) < 1e-14
    assert abs(T0 - blowup_time_ode(1.0, 0.0, 1.0, 5)) < 1e-6 * T0
    assert abs(blowup_time(0.3, 0.5, 1.0, 5, loss="mean") - 25 * blowup_time(0.3, 0.5, 1.0, 5)) < 1e-12
    T = blowup_times(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]), np.zeros((1, 2)), 3)
    assert T.shape == (1, 2) and np.isinf(T[0, 1])


@pytest.mark.parametrize("args", [(-1, 1, 0), (1, float("nan"), 0), (1, 1, float("inf"))])
def test_blowup_bad_input(args):
    with pytest.raises(SymflowError):
        blowup_time(*args, 5)


def test_frequency_coordinates_roundtrip():
    p, j = 11, np.arange(11)
    x = 0.3 + 1.2 * np.cos(2 * np.pi * 2 * j / p + 0.7) + 0.4 * np.cos(2 * np.pi * 5 * j / p - 2.0)
    amp, ph, c0 = frequency_coordinates(x)
    assert abs(c0 - 0.3) < 1e-12 and abs(amp[1] - 1.2) < 1e-12 and abs(ph[1] - 0.7) < 1e-12
    assert abs(amp[4] - 0.4) < 1e-12 and abs(ph[4] + 2.0) < 1e-12 and amp[0] < 1e-12
    with pytest.raises(SymflowError):
        frequency_coordinates(np.ones(6))
