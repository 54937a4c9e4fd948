"""Frobenius groups ``C_p : C_q`` (``p`` prime, ``q | p - 1``, ``q > 1``) with exact irreps.

Let ``h = g^((p-1)/q) mod p`` for the smallest primitive root ``g`` mod ``p``, so ``H = <h>`` is the
subgroup of order ``q`` of ``(Z/p)^*`` (for ``F21 = C7 : C3``: ``g = 3``, ``h = 2``,
``H = {1, 2, 4}``). Elements are pairs ``(a, b)`` with ``a = h^t in H`` and ``b in Z_p``;
product ``(a, b)(a', b') = (a a' mod p, b + a b' mod p)``.

Element order: index ``t p + b`` for ``a = h^t`` (``t = 0..q-1``, ``b = 0..p-1``): the
translations ``(1, b)`` first, then ``(h, b)``, ``(h^2, b)``, ... Labels ``"(a,b)"``; the identity
is ``"(1,0)"``.

Irreps (``q + (p-1)/q`` of them):

* ``chi_j`` (``j = 0..q-1``), 1-dim, lifted from ``C_q``: ``chi_j(h^t, b) = w_q^(j t)``.
* ``rho_k``, ``q``-dim, induced from the character ``psi_k(b) = w_p^(k b)`` of ``C_p``, one per
  orbit ``k H`` of ``H`` on the nonzero ``k`` (``k`` the smallest member). In the basis of the
  cosets ``(h^s, 0) C_p``: ``rho_k(h^t, b) e_s = w_p^(k h^-(s+t) b) e_(s+t mod q)`` (a monomial
  matrix; ``w_m = exp(2 pi i / m)``). ``rho_k`` is of real type iff ``-1 in H`` (``q`` even),
  and is then given in a real orthogonal form (cos/sin entries, see :func:`_real_form`);
  otherwise ``rho_k`` and ``rho_-k`` are a complex conjugate pair.
"""
from __future__ import annotations

import numpy as np

from .group import Group
from .integers import is_prime, prime_factors, primitive_root
from .irrep import Irrep, exact_roots_of_unity


def frobenius_orders(m: int) -> list[tuple[int, int]]:
    """All ``(p, q)`` with ``p q = m``, ``p`` prime, ``q > 1`` and ``q | p - 1`` (sorted by ``p``).

    ``F20 -> [(5, 4)]``, ``F21 -> [(7, 3)]``, ``F55 -> [(11, 5)]``, ``F57 -> [(19, 3)]``; an empty
    list means no such Frobenius group, several entries an ambiguous name (left to the caller).
    """
    m = int(m)
    out = []
    for p in prime_factors(m) if m > 1 else []:
        q = m // p
        if q > 1 and (p - 1) % q == 0:
            out.append((p, q))
    return out


def subgroup_generator(p: int, q: int) -> int:
    """``h = g^((p-1)/q) mod p`` for the smallest primitive root ``g``: generator of the order-``q``
    subgroup of ``(Z/p)^*``."""
    return pow(int(primitive_root(p)), (p - 1) // q, p)


def frobenius_group(p: int, q: int) -> Group:
    """``C_p : C_q`` of order ``p q``; see the module docstring for order and product."""
    p, q = int(p), int(q)
    if not is_prime(p):
        raise ValueError(f"C_p : C_q needs p prime, got p = {p}")
    if q < 2 or (p - 1) % q:
        raise ValueError(f"C_p : C_q needs q > 1 dividing p - 1 = {p - 1}, got q = {q}")
    h = subgroup_generator(p, q)
    powers = [pow(h, t, p) for t in range(q)]
    log = {a: t for t, a in enumerate(powers)}
    n = p * q
    idx = np.arange(n)
    t, b = idx // p, idx % p
    a = np.array(powers)[t]
    # (a, b)(a', b') = (a a', b + a b')
    t_prod = (t[:, None] + t[None, :]) % q
    b_prod = (b[:, None] + a[:, None] * b[None, :]) % p
    table = t_prod * p + b_prod
    labels = [f"({int(x)},{int(y)})" for x, y in zip(a, b)]
    return Group(order=n, labels=labels, identity=0, name=f"F{n}", table=table,
                 irreps_factory=_frobenius_irreps, family="frobenius",
                 info={"p": p, "q": q, "h": h, "H": powers, "log": log,
                       "structure": f"C{p}:C{q}"})


def induced_orbit_representatives(p: int, q: int) -> list[int]:
    """Smallest member of each orbit ``k H`` on ``1..p-1``."""
    h = subgroup_generator(p, q)
    H = [pow(h, t, p) for t in range(q)]
    seen, reps = set(), []
    for k in range(1, p):
        if k not in seen:
            reps.append(k)
            seen.update(k * x % p for x in H)
    return reps


def _frobenius_irreps(group: Group) -> list[Irrep]:
    p, q, h = group.info["p"], group.info["q"], group.info["h"]
    n = group.order
    idx = np.arange(n)
    t, b = idx // p, idx % p
    irreps = []
    for j in range(q):
        ph = (j * t) % q
        vals = np.exp(2j * np.pi * ph / q)
        irreps.append(Irrep(group, f"chi_{j}", numeric=vals[:, None, None],
                            exact=exact_roots_of_unity(ph, q),
                            meta={"kind": "lifted from C_q", "j": j}))
    h_inv = pow(h, -1, p)
    for k in induced_orbit_representatives(p, q):
        # rho(h^t, b)[u, s] = w_p^(k h^-u b) if u = s + t (mod q)
        u = np.arange(q)
        coef = np.array([k * pow(h_inv, int(x), p) % p for x in u])  # k h^-u
        mats = np.zeros((n, q, q), dtype=complex)
        expo = np.zeros((n, q), dtype=np.int64)  # exponent of w_p in row u
        for g in range(n):
            expo[g] = (coef * b[g]) % p
            cols = (u - t[g]) % q
            mats[g, u, cols] = np.exp(2j * np.pi * expo[g] / p)

        def exact(expo=expo):
            import sympy as sp

            from .recognise import root_of_unity

            out = []
            for g in range(n):
                m = sp.zeros(q, q)
                for uu in range(q):
                    m[uu, (uu - int(t[g])) % q] = root_of_unity(int(expo[g, uu]), p)
                out.append(sp.ImmutableMatrix(m))
            return out

        if q % 2 == 0:  # real type: real orthogonal form
            mats, exact = _real_form(group, expo)
        orbit = sorted(k * pow(h, s, p) % p for s in range(q))
        irreps.append(Irrep(group, f"rho_{k}", numeric=mats, exact=exact,
                            meta={"kind": "induced from C_p", "k": k, "orbit": orbit}))
    return irreps


def _real_form(group: Group, expo: np.ndarray):
    """Real orthogonal form of an induced irrep when ``q`` is even (``-1 = h^(q/2) in H``).

    The antiunitary ``v -> shift_(q/2) conj(v)`` commutes with ``rho_k`` and squares to 1; its fixed
    vectors ``f_v = (e_v + e_(v+q/2))/sqrt 2`` and ``g_v = i (e_v - e_(v+q/2))/sqrt 2``
    (``v < q/2``), in the order ``f_0, .., f_(q/2-1), g_0, .., g_(q/2-1)``, make every matrix real:
    with ``c = w_p^m = cos + i sin`` the entry of row ``u = s + t`` of the monomial matrix,
    ``rho f_s = cos f_u + sin g_u``, ``rho g_s = -sin f_u + cos g_u`` for ``u < q/2``, and
    ``rho f_s = cos f_v - sin g_v``, ``rho g_s = -sin f_v - cos g_v`` for ``u = v + q/2``.
    """
    p, q = group.info["p"], group.info["q"]
    n = group.order
    half = q // 2
    t = np.arange(n) // p

    def build(cos, sin, zeros):
        out = []
        for g in range(n):
            m = zeros()
            for s_ in range(half):
                u = (s_ + int(t[g])) % q
                c, si = cos(int(expo[g, u])), sin(int(expo[g, u]))
                if u < half:
                    v = u
                    m[v, s_], m[half + v, s_], m[v, half + s_], m[half + v, half + s_] = c, si, -si, c
                else:
                    v = u - half
                    m[v, s_], m[half + v, s_], m[v, half + s_], m[half + v, half + s_] = c, -si, -si, -c
            out.append(m)
        return out

    mats = np.array(build(lambda m: np.cos(2 * np.pi * m / p), lambda m: np.sin(2 * np.pi * m / p),
                          lambda: np.zeros((q, q))), dtype=complex)

    def exact():
        import sympy as sp

        return [sp.ImmutableMatrix(m) for m in build(lambda m: sp.cos(2 * sp.pi * sp.Rational(m, p)),
                                                      lambda m: sp.sin(2 * sp.pi * sp.Rational(m, p)),
                                                      lambda: sp.zeros(q, q))]

    return mats, exact
