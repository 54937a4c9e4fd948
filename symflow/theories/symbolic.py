r"""The symbolic side of :mod:`symflow.theories` (SymPy; imported only when asked for).

* :func:`fact_coefficient`: FACT derived for a layer ``u = W h`` and a loss ``s sum_p l(W h_p)`` with
  ``s = 1/P`` (mean) or 1 (sum) and decay ``lambda/2 |W|^2`` or ``lambda |W|^2``: SymPy differentiates a generic
  ``l`` of a generic ``2 x 3`` layer, checks ``grad_W l = (grad_u l) h^T`` and ``grad_h l = W^T grad_u l``,
  solves the stationarity condition for ``W`` and returns the coefficient ``kappa`` of
  ``W^T W = kappa sum_p (grad_h l_p) h_p^T`` (the per-sample loss ``l_p`` without the reduction weight).
* :func:`bias_free_identities`: ``H_b = W H_a W^T`` and ``G_a = W^T G_b W`` for ``h_b = W h_a``,
  ``g_a = W^T g_b``, proved with SymPy matrices of symbols.
* :func:`exponent_table`: if ``H_a = Z_a^p`` and ``G_a = Z_a^q`` (one eigenbasis, the PAH form), the identities
  above with ``W = U S V^T`` give ``H_b = Z_b^(p+1)`` and ``G_b = Z_b^(q-1)``; each of the six CRH alignments is
  then one linear equation in ``(p, q)`` and every pair of them is solved (generated, not typed in) for the
  exponents of all six relations.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .statements import CRH_ALIGNMENTS

CONVENTIONS = {"half": "lambda/2 |W|^2", "full": "lambda |W|^2"}


@lru_cache(maxsize=None)
def _chain_rule_checked() -> bool:
    m, k = 2, 3
    W = sp.Matrix(m, k, lambda i, j: sp.Symbol(f"W{i}{j}"))
    h = sp.Matrix(k, 1, lambda i, j: sp.Symbol(f"h{i}"))
    u = sp.symbols(f"u0:{m}")
    l = sp.Function("l")
    L = l(*(W * h))
    gu = sp.Matrix([sp.diff(l(*u), ui) for ui in u]).subs(dict(zip(u, W * h)), simultaneous=True)
    gW = sp.Matrix(m, k, lambda i, j: sp.diff(L, W[i, j]))
    gh = sp.Matrix([sp.diff(L, hi) for hi in h])
    return bool(sp.simplify(gW - gu * h.T) == sp.zeros(m, k) and sp.simplify(gh - W.T * gu) == sp.zeros(k, 1))


@lru_cache(maxsize=None)
def fact_coefficient(reduction: str = "mean", convention: str = "half") -> sp.Expr:
    """``kappa`` in ``W^T W = kappa sum_p (grad_h l_p) h_p^T`` (``P``, ``lambda`` as SymPy symbols)."""
    if reduction not in ("mean", "sum") or convention not in CONVENTIONS:
        raise ValueError("reduction 'mean'|'sum', convention 'half'|'full'")
    if not _chain_rule_checked():               # pragma: no cover - SymPy would have to be wrong
        raise AssertionError("chain rule for a linear layer failed")
    P, lam = sp.symbols("P lambda", positive=True)
    s = 1 / P if reduction == "mean" else sp.Integer(1)
    Wsym, Gsum = sp.symbols("W S")               # S = sum_p (grad_u l_p) h_p^T, scalar stand-in for the matrix
    decay = lam / 2 * Wsym ** 2 if convention == "half" else lam * Wsym ** 2
    # d/dW [s sum_p l_p + decay] = s S + decay'(W) = 0   (grad_W l_p = (grad_u l_p) h_p^T: chain rule above)
    sol = sp.solve(sp.Eq(s * Gsum + sp.diff(decay, Wsym), 0), Wsym)[0]
    # W^T W = W^T sol = (sol / S) sum_p (W^T grad_u l_p) h_p^T = (sol / S) sum_p (grad_h l_p) h_p^T
    return sp.simplify(sol / Gsum)


def fact_table() -> list[dict]:
    """FACT's coefficient for each reduction and decay convention (text)."""
    return [{"reduction": r, "decay": CONVENTIONS[c], "coefficient": str(fact_coefficient(r, c)),
             "statement": f"W^T W = ({fact_coefficient(r, c)}) sum_p grad_h l_p h_p^T"}
            for r in ("mean", "sum") for c in CONVENTIONS]


@lru_cache(maxsize=None)
def bias_free_identities(out_dim: int = 2, in_dim: int = 3, samples: int = 2) -> bool:
    """``H_b = W H_a W^T`` and ``G_a = W^T G_b W`` for symbolic ``W``, ``h_a`` and ``g_b`` (True when proved)."""
    W = sp.Matrix(out_dim, in_dim, lambda i, j: sp.Symbol(f"w{i}{j}"))
    ha = sp.Matrix(in_dim, samples, lambda i, j: sp.Symbol(f"a{i}_{j}"))
    gb = sp.Matrix(out_dim, samples, lambda i, j: sp.Symbol(f"b{i}_{j}"))
    hb, ga = W * ha, W.T * gb
    Ha, Hb, Gb, Ga = ha * ha.T, hb * hb.T, gb * gb.T, ga * ga.T
    return bool(sp.expand(Hb - W * Ha * W.T) == sp.zeros(out_dim, out_dim)
                and sp.expand(Ga - W.T * Gb * W) == sp.zeros(in_dim, in_dim))


def _exponents():
    p, q = sp.symbols("p q")
    # exponent of each matrix as a power of its side's Z (Z itself: 1)
    power = {"H_a": p, "G_a": q, "Z_a": sp.Integer(1), "H_b": p + 1, "G_b": q - 1, "Z_b": sp.Integer(1)}
    return p, q, power


def exponent_table() -> list[dict]:
    """For each pair of CRH alignments taken as exact, the exponents ``(p, q)`` and the implied power of every
    one of the six relations (``left ~ right^r`` with ``r = power(left) / power(right)``); pairs that are
    inconsistent or leave ``(p, q)`` undetermined are listed as such."""
    p, q, power = _exponents()
    eqs = {name: sp.Eq(power[left], power[right]) for name, _, left, right in CRH_ALIGNMENTS}
    names = [a[0] for a in CRH_ALIGNMENTS]
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            a, b = names[i], names[j]
            sol = sp.solve([eqs[a], eqs[b]], [p, q], dict=True)
            row = {"pair": [a, b]}
            if not sol:
                row.update(status="inconsistent", p=None, q=None, relations={})
            elif len(sol[0]) < 2:
                row.update(status="underdetermined", p=str(sol[0].get(p, p)), q=str(sol[0].get(q, q)), relations={})
            else:
                s = sol[0]
                rel = {}
                for name, _, left, right in CRH_ALIGNMENTS:
                    num, den = power[left].subs(s), power[right].subs(s)
                    rel[name] = "any" if den == 0 and num == 0 else ("undefined" if den == 0 else str(sp.nsimplify(num / den)))
                row.update(status="determined", p=str(s[p]), q=str(s[q]), relations=rel)
            rows.append(row)
    return rows
