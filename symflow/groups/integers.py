"""Elementary number theory on Python integers (no SymPy): primality, factorisation, primitive roots.

Used to name and build groups (``F<m>``, ``C<p>:C<q>``) and the multiquadratic bases of ``S_n``;
trial division is ample for the orders symflow handles.
"""
from __future__ import annotations


def is_prime(p: int) -> bool:
    """True when ``p`` is a prime number."""
    p = int(p)
    return p >= 2 and all(p % k for k in range(2, int(p ** 0.5) + 1))


def factorint(m: int) -> dict[int, int]:
    """Prime factorisation ``{p: e}`` of ``m >= 1`` (primes increasing), as ``sympy.factorint``."""
    m = int(m)
    if m < 1:
        raise ValueError(f"factorint needs m >= 1, got {m}")
    out: dict[int, int] = {}
    p = 2
    while p * p <= m:
        while m % p == 0:
            out[p] = out.get(p, 0) + 1
            m //= p
        p += 1 if p == 2 else 2
    if m > 1:
        out[m] = out.get(m, 0) + 1
    return out


def prime_factors(m: int) -> list[int]:
    """The distinct primes dividing ``m >= 1``, increasing (``[]`` for ``m = 1``)."""
    return list(factorint(m))


def primitive_root(p: int) -> int:
    """The smallest primitive root modulo the prime ``p`` (as ``sympy.primitive_root``)."""
    p = int(p)
    if not is_prime(p):
        raise ValueError(f"primitive_root needs a prime, got {p}")
    if p == 2:
        return 1
    exps = [(p - 1) // q for q in prime_factors(p - 1)]
    return next(g for g in range(2, p) if all(pow(g, e, p) != 1 for e in exps))
