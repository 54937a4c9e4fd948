"""Trace-word calculus: the block drives in matrix form, from the energy's trace words.

With the energy of one block ``omega = sum_w c_w tr(W_w)`` (:func:`~symflow.theory.energy.energy_trace_words`)
and Wirtinger derivatives (``B`` and ``conj(B)`` independent), ``d tr(B^* W)/d conj(B) = W`` and
``conj(d tr(B W)/d B) = W^*`` give the Fourier-coordinate Euclidean gradient

    G_B = (1/(n d)) d(omega + conj(omega))/d conj(B)
        = (1/(n d)) sum_w c_w [sum over letters B^* of W_w: the rest of the cyclically rotated word
                               + sum over letters B of W_w: the adjoint of the rest]

(the coefficients are real), as a matrix-kind :class:`~symflow.theory.matrix_expr.MatrixExpr`.
:func:`symflow.theory.flow.derive_block_flow` checks it entry by entry against the entrywise derivation.
"""
from __future__ import annotations

import sympy as sp

from .energy import energy_trace_words
from .matrix_expr import MatrixExpr, adjoint_word
from .symbols import N, hat_matrix


def drive_expressions(model, d: int) -> dict:
    """``{name: G_name}`` for blocks of dimension ``d`` (see the module docstring), terms in the
    order SymPy prints the formula with :func:`hat_matrix` blocks."""
    terms = {k: [] for k in model.vector_names}
    for coef, word in energy_trace_words(model, d, N):
        for pos, (name, power, adj) in enumerate(word):
            rest = word[pos + 1:] + word[:pos]
            terms[name].append((coef / (N * d), rest if adj else adjoint_word(rest)))
    return {k: MatrixExpr.collect("matrix", t).in_sympy_order(_hat_of(d)) for k, t in terms.items()}


def compact_drive(model, d: int) -> dict:
    """``{name: G_name}`` as SymPy matrix expressions in the :func:`hat_matrix` blocks (``ZeroMatrix``
    for a zero drive)."""
    return {k: e.to_matrix_symbols(_hat_of(d)) if e.terms else sp.ZeroMatrix(d, d)
            for k, e in drive_expressions(model, d).items()}


def _hat_of(d: int):
    return lambda name, power: hat_matrix(name, d)
