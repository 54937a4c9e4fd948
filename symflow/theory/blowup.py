"""Finite-time blow-up of the modular-addition frequency ODE (docs/theory.md section 5, MA).

For ``alpha' = 2p alpha beta cos D``, ``beta' = p alpha^2 cos D``,
``D' = -p (4 beta + alpha^2/beta) sin D`` (summed loss) the first integrals
``I1 = alpha^2 - 2 beta^2`` and ``I2 = alpha^2 beta sin D`` give
``(alpha^2 beta cos D)^2 = F(beta) := (2 beta^2 + I1)^2 beta^2 - I2^2``, hence ``beta' = +-p sqrt(F)/beta``
and the blow-up time is the quadrature

    T = (1/p) int_{beta0}^{inf} beta dbeta / sqrt(F(beta))                      (cos D0 >= 0)
    T = (1/p) [ 2 int_{b*}^{beta0} + int_{beta0}^{inf} ] beta dbeta / sqrt(F)    (cos D0 < 0)

where ``b*`` is the turning point (``F(b*) = 0``, ``cos D = 0``): ``beta`` first shrinks to ``b*``,
then ``D`` crosses ``pi/2`` and both magnitudes blow up; ``beta0 = 0`` gives
``T = pi / (2 sqrt2 p alpha0)`` (``xi`` is born aligned). ``T = inf`` when ``alpha0 = 0`` (a zero
amplitude stays zero) and when ``sin D0 = 0, cos D0 < 0, I1 <= 0`` (``alpha`` decays to 0).
Mean loss: times are multiplied by ``p^2``.

Numerics: with ``u = beta^2``, ``F = (u - u*) Q(u)`` with ``Q(u) = 4u^2 + 4(u* + I1)u + (2u* + I1)^2``
(exact synthetic division), so near ``b*`` the substitution ``beta = b* + s^2`` makes the integrand
smooth, and ``beta = b1 / v`` maps the tail to ``(0, 1]``. ``scipy.integrate.quad`` then reaches
a relative accuracy of about ``1e-12`` (stated tolerance: ``1e-9`` relative, checked against
``mpmath`` at 30 digits and against direct ODE integration in the tests).

Equal start ``alpha0 = beta0 = kappa``: ``T = J(D0) / (p kappa)`` with
``J(D0) = int s ds / sqrt((2 s^2 - 1)^2 s^2 - sin^2 D0)`` (same branch rule), ``J(0) = ln(1 + sqrt 2)/sqrt 2``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize

from ..errors import IntegrationError, SymflowError

__all__ = ["blowup_time", "blowup_times", "blowup_time_ode", "blowup_time_mpmath", "equal_start_J", "J0_exact", "turning_point"]


def _check_state(alpha0, beta0, D0, p):
    vals = (alpha0, beta0, D0)
    if not all(np.isfinite(v) for v in vals):
        raise SymflowError(f"blow-up time needs finite alpha0, beta0, D0, got {vals}")
    if alpha0 < 0 or beta0 < 0:
        raise SymflowError(f"amplitudes must be >= 0 (phases carry the sign), got alpha0={alpha0}, beta0={beta0}")
    if p <= 0:
        raise SymflowError(f"p must be positive, got {p}")


def turning_point(alpha0: float, beta0: float, D0: float) -> float:
    """``b* <= beta0``: the root of ``F`` that the trajectory meets (``beta0`` itself when ``cos D0 = 0``).

    ``P(u) = u (2u + I1)^2 - I2^2`` is increasing on ``[max(0, -I1/2), inf)``, negative at the left end
    and ``(alpha0^2 beta0 cos D0)^2 >= 0`` at ``beta0^2``: the root is unique there (``brentq``).
    """
    I1 = alpha0 ** 2 - 2 * beta0 ** 2
    I2 = alpha0 ** 2 * beta0 * math.sin(D0)
    lo = max(0.0, -I1 / 2)
    hi = beta0 ** 2
    P = lambda u: u * (2 * u + I1) ** 2 - I2 ** 2
    if P(hi) <= 0:
        return beta0
    if P(lo) >= 0:
        return math.sqrt(lo)
    u0 = optimize.brentq(P, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return math.sqrt(u0)


def _pieces(alpha0, beta0, D0):
    """``(integrand in s on [b*, .], tail integrand in v, b*)`` of the reduced quadrature (``p = 1``)."""
    I1 = alpha0 ** 2 - 2 * beta0 ** 2
    bs = turning_point(alpha0, beta0, D0)
    u0 = bs * bs
    c1 = 4 * (u0 + I1)
    c0 = (2 * u0 + I1) ** 2

    def Q(u):
        return 4 * u * u + c1 * u + c0

    def g_s(s):  # beta = b* + s^2, dbeta = 2 s ds, F = s^2 (2 b* + s^2) Q(beta^2)
        b = bs + s * s
        return 2 * b / math.sqrt((2 * bs + s * s) * Q(b * b))

    def tail(v, b1):  # beta = b1 / v, dbeta = b1 / v^2 dv
        if v == 0.0:
            return 1.0 / (2.0 * b1)  # limit: beta / sqrt(F) ~ 1/(2 beta^2)
        b = b1 / v
        return (b / math.sqrt((b - bs) * (b + bs) * Q(b * b))) * b1 / (v * v)

    return g_s, tail, bs


def _quad(f, a, b, args=()):
    """``quad`` at ``epsrel = 1e-12``; its roundoff warnings are checked, not printed: the error
    estimate must stay below ``1e-10`` relative or :class:`IntegrationError` is raised."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, err = integrate.quad(f, a, b, args=args, epsabs=0.0, epsrel=1e-12, limit=200)
    if not np.isfinite(val) or err > 1e-10 * abs(val) + 1e-300:
        raise IntegrationError(f"blow-up quadrature on [{a:g}, {b:g}] did not converge (value {val}, error {err})")
    return val


def blowup_time(alpha0: float, beta0: float, D0: float, p: float = 1.0, loss: str = "sum") -> float:
    """Blow-up time ``T`` of one (neuron, frequency) from ``(alpha0, beta0, D0)`` by quadrature.

    Both branches (``cos D0 < 0``: shrink to the turning point, then blow up) are handled; returns
    ``inf`` when the state never blows up (``alpha0 = 0``; or ``sin D0 = 0``, ``cos D0 < 0`` and
    ``alpha0^2 <= 2 beta0^2``). Relative accuracy ~1e-12 (tolerance stated: 1e-9).
    """
    alpha0, beta0, D0 = float(alpha0), float(beta0), float(D0)
    _check_state(alpha0, beta0, D0, p)
    if loss not in ("sum", "mean"):
        raise SymflowError(f"loss must be 'sum' or 'mean', got {loss!r}")
    scale = (1.0 / p) * (p * p if loss == "mean" else 1.0)
    if alpha0 == 0.0:
        return math.inf
    if beta0 == 0.0:  # xi is born aligned (D = 0): T = (1/p) int_0^inf db / (2 b^2 + alpha0^2)
        return math.pi / (2.0 * math.sqrt(2.0) * alpha0) * scale
    I1 = alpha0 ** 2 - 2 * beta0 ** 2
    sinD, cosD = math.sin(D0), math.cos(D0)
    if cosD < 0 and abs(alpha0 ** 2 * beta0 * sinD) <= 1e-15 * alpha0 ** 2 * max(beta0, 1e-300) and I1 <= 0:
        return math.inf
    g_s, tail, bs = _pieces(alpha0, beta0, D0)
    b1 = max(beta0, 2.0 * bs)
    s0 = math.sqrt(beta0 - bs)
    # rising branch beta0 -> inf: [beta0, b1] in s (beta = b* + s^2), then [b1, inf) in v = b1 / beta
    up = _quad(tail, 0.0, 1.0, args=(b1,))
    if b1 > beta0:
        up += _quad(g_s, s0, math.sqrt(b1 - bs))
    if cosD < 0:  # falling branch first: beta0 -> b*, then b* -> beta0 again
        up += 2.0 * _quad(g_s, 0.0, s0)
    return up * scale


def blowup_times(alpha0, beta0, D0, p: float = 1.0, loss: str = "sum") -> np.ndarray:
    """:func:`blowup_time` broadcast over arrays (e.g. ``(neurons, frequencies)``)."""
    a, b, d = np.broadcast_arrays(np.asarray(alpha0, float), np.asarray(beta0, float), np.asarray(D0, float))
    out = np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        out[idx] = blowup_time(a[idx], b[idx], d[idx], p, loss)
    return out


def blowup_time_mpmath(alpha0, beta0, D0, p: float = 1.0, dps: int = 30) -> float:
    """Reference value: ``mpmath.quad`` (tanh-sinh) of the raw integrand ``beta / sqrt(F(beta))`` at ``dps`` digits.

    Independent of :func:`blowup_time`'s substitutions: tanh-sinh copes with the inverse square-root
    singularity at the turning point by itself; the root is found by ``mpmath.findroot``.
    """
    import mpmath as mp

    with mp.workdps(dps):
        a0, b0, d0 = mp.mpf(alpha0), mp.mpf(beta0), mp.mpf(D0)
        I1 = a0 ** 2 - 2 * b0 ** 2
        I2 = a0 ** 2 * b0 * mp.sin(d0)
        F = lambda b: (2 * b * b + I1) ** 2 * b * b - I2 ** 2
        f = lambda b: b / mp.sqrt(abs(F(b)))  # |F|: rounding right at the turning point
        P = lambda u: u * (2 * u + I1) ** 2 - I2 ** 2
        lo = max(mp.mpf(0), -I1 / 2)
        bs = b0 if P(b0 ** 2) <= 0 else mp.sqrt(mp.findroot(P, (lo, b0 ** 2), solver="bisect"))
        total = mp.quad(f, [b0, 2 * b0, mp.inf])
        if mp.cos(d0) < 0:
            total += 2 * mp.quad(f, [bs, b0])
        return float(total / p)


def blowup_time_ode(alpha0, beta0, D0, p: float = 1.0, beta_stop: float | None = None,
                    rtol: float = 1e-12) -> float:
    """Blow-up time by direct integration of the ODE in complex form (``solve_ivp``, DOP853, event).

    With ``A = alpha e^{i phi}``, ``B = beta e^{i psi}`` the rates are ``A' = 2p conj(A) B``,
    ``B' = p A^2`` (equivalent to the polar form, and regular where ``beta`` passes through 0).
    Integrates until ``|B| = beta_stop`` (default ``1e7 * max(alpha0, beta0)``) and adds the
    leading-order tail ``1/(2 p beta_stop)`` (``|B|' ~ 2 p |B|^2`` there); the neglected remainder
    is ``O(beta_stop^-3)``. Uses no first integral, so it checks the quadrature independently.
    """
    alpha0, beta0, D0 = float(alpha0), float(beta0), float(D0)
    _check_state(alpha0, beta0, D0, p)
    if alpha0 == 0:
        return math.inf
    scale = max(alpha0, beta0)
    B_stop = beta_stop if beta_stop is not None else 1e7 * scale
    A0, B0 = alpha0 + 0j, beta0 * np.exp(-1j * D0)  # phi = 0, psi = -D0

    def rhs(t, y):
        A, B = y[0] + 1j * y[1], y[2] + 1j * y[3]
        dA, dB = 2 * p * np.conj(A) * B, p * A * A
        return [dA.real, dA.imag, dB.real, dB.imag]

    def hit(t, y):
        return math.hypot(y[2], y[3]) - B_stop

    hit.terminal = True
    t_end = 50.0 / (p * scale)
    y0 = [A0.real, A0.imag, B0.real, B0.imag]
    for _ in range(8):
        sol = integrate.solve_ivp(rhs, (0.0, t_end), y0, method="DOP853", rtol=rtol, atol=1e-30 * scale,
                                  events=hit)
        if sol.status == 1 and len(sol.t_events[0]):
            return float(sol.t_events[0][0]) + 1.0 / (2.0 * p * B_stop)
        if sol.status < 0:
            raise IntegrationError(f"ODE integration failed before blow-up: {sol.message}")
        t_end *= 10
    raise IntegrationError(f"no blow-up before t = {t_end:g} (|B| stayed below {B_stop:g})")


def equal_start_J(D0: float) -> float:
    """``J(D0) = p kappa T`` for ``alpha0 = beta0 = kappa`` (independent of ``kappa`` and ``p``)."""
    return blowup_time(1.0, 1.0, D0, 1.0)


def J0_exact():
    """``J(0) = int_1^inf ds / (2 s^2 - 1)`` by SymPy, brought to the form ``log(1 + sqrt 2)/sqrt 2``.

    At ``D0 = 0`` the integrand ``s / sqrt((2 s^2 - 1)^2 s^2)`` is ``1/(2 s^2 - 1)`` for ``s >= 1``.
    SymPy returns a difference of logarithms; ``exp(2 sqrt2 J)`` radsimplifies to ``3 + 2 sqrt 2`` whose
    square root denests to ``1 + sqrt 2``.
    """
    import sympy as sp

    s = sp.Symbol("s", positive=True)
    J = sp.integrate(1 / (2 * s ** 2 - 1), (s, 1, sp.oo))
    root = sp.sqrtdenest(sp.sqrt(sp.radsimp(sp.simplify(sp.exp(2 * sp.sqrt(2) * J)))))
    Jn = sp.log(root) / sp.sqrt(2)
    if abs(sp.N(Jn - J, 40)) > 1e-35:  # the rewriting must not change the value
        raise IntegrationError(f"J(0) rewriting failed: {J} vs {Jn}")
    return Jn
