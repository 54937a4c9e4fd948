"""Derived matrix formulas as sums of block-matrix products: the one representation, with one evaluator.

A formula of the theory engine is one of

    E = sum_k c_k W_k                 (kind ``"matrix"``: a block drive)
    E = sum_k c_k tr(W_k)             (kind ``"trace"``: a block energy)

with exact coefficients ``c_k`` (SymPy numbers, possibly powers of the group order ``n``) and
words ``W_k = f_1 f_2 ... f_m``, each factor ``f = B`` or ``f = B^*`` (conjugate transpose) for
the block ``B`` of a vector's pointwise power ``name^power`` (``power = 1``: the vector itself).

Producers build this directly: :func:`symflow.theory.energy.energy_trace_words` (the energy),
:func:`symflow.theory.trace_calculus.drive_expressions` (the drives, by trace-word calculus). Consumers evaluate it
with :meth:`MatrixExpr.evaluate` (NumPy ``(..., d, d)`` arrays or SymPy matrices), show it with
:meth:`MatrixExpr.to_matrix_symbols`, or print it as NumPy code (:mod:`symflow.codegen.generator`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import sympy as sp

from ..errors import SymflowError

KINDS = ("matrix", "trace")


class Factor(NamedTuple):
    """The block of ``name^power`` (pointwise power), conjugate-transposed when ``adjoint``."""

    name: str
    power: int = 1
    adjoint: bool = False

    def adjointed(self) -> "Factor":
        return self._replace(adjoint=not self.adjoint)

    def __str__(self) -> str:
        base = self.name if self.power == 1 else f"{self.name}^{self.power}"
        return base + ("^H" if self.adjoint else "")


def adjoint_word(word: tuple) -> tuple:
    """``(f_1 ... f_m)^* = f_m^* ... f_1^*``."""
    return tuple(f.adjointed() for f in reversed(word))


class Term(NamedTuple):
    """``coeff * W`` (matrix kind) or ``coeff * tr(W)`` (trace kind) for a word ``W`` of factors."""

    coeff: sp.Expr
    word: tuple


@dataclass(frozen=True)
class MatrixExpr:
    """``sum_k c_k W_k`` (``kind="matrix"``) or ``sum_k c_k tr(W_k)`` (``kind="trace"``).

    Iterating gives the :class:`Term` ``(coeff, word)`` pairs in order.
    """

    kind: str
    terms: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise SymflowError(f"a matrix expression is of kind {' or '.join(KINDS)}, got {self.kind!r}")

    @classmethod
    def collect(cls, kind: str, terms) -> "MatrixExpr":
        """Equal words merged (coefficients added, in order of first appearance), zero terms dropped."""
        coeffs: dict = {}
        for coeff, word in terms:
            word = tuple(Factor(*f) for f in word)
            coeffs[word] = coeffs.get(word, sp.Integer(0)) + sp.sympify(coeff)
        return cls(kind, tuple(Term(sp.factor(c), w) for w, c in coeffs.items() if c != 0))

    def __iter__(self):
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def words(self) -> list:
        return [t.word for t in self.terms]

    # ------------------------------------------------------------------ the evaluator
    def evaluate(self, blocks, n=None):
        """The value at ``blocks``: ``blocks[name]`` (``blocks[(name, power)]`` for a power ``!= 1``)
        are NumPy arrays ``(..., d, d)`` (coefficients taken as complex numbers) or SymPy matrices
        (or any matrix type with ``@``, ``+``, ``* coefficient``, ``.adjoint()``, ``.trace()``); ``n``
        (if given) is substituted in the coefficients. Matrix kind: ``(..., d, d)``; trace kind: ``(...)``."""
        total = None
        for coeff, word in self.terms:
            if n is not None:
                coeff = coeff.xreplace({s: n for s in coeff.free_symbols if s.name == "n"})
            W = word_value(word, blocks)
            value = _trace(W) if self.kind == "trace" else W
            value = value * (complex(coeff) if _is_array(W) else coeff)
            total = value if total is None else total + value
        if total is None:
            return 0 if self.kind == "trace" else _zero_like(next(iter(blocks.values())))
        return total

    def to_matrix_symbols(self, symbol_of):
        """A SymPy matrix expression (``symbol_of(name, power)`` gives the ``MatrixSymbol`` of a block),
        in SymPy's canonical form (equal adjacent factors become powers, ``MatAdd`` order)."""
        if self.kind != "matrix":
            raise SymflowError("to_matrix_symbols: a trace-kind sum is a scalar, not a matrix expression")
        if not self.terms:
            raise SymflowError("to_matrix_symbols: an empty sum has no shape; use ZeroMatrix(d, d)")
        parts = []
        for coeff, word in self.terms:
            mats = [sp.Adjoint(symbol_of(f.name, f.power)) if f.adjoint else symbol_of(f.name, f.power) for f in word]
            parts.append(coeff * (sp.MatMul(*mats) if len(mats) > 1 else mats[0]))
        return sp.MatAdd(*parts).doit()

    def in_sympy_order(self, symbol_of) -> "MatrixExpr":
        """The same sum, terms in the order SymPy's ``MatAdd`` gives them (the order the formula
        prints in, and the order generated code adds them in)."""
        def key(term):
            return sp.default_sort_key(MatrixExpr(self.kind, (term,)).to_matrix_symbols(symbol_of))

        return MatrixExpr(self.kind, tuple(sorted(self.terms, key=key)))

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        if self.kind == "trace":
            return " + ".join(f"({c}) tr(" + " ".join(map(str, w)) + ")" for c, w in self.terms)
        return " + ".join(f"({c}) * " + " ".join(map(str, w)) for c, w in self.terms)


def word_value(word: tuple, blocks):
    """The product ``f_1 f_2 ... f_m`` of a word at ``blocks`` (see :meth:`MatrixExpr.evaluate`)."""
    out = None
    for f in word:
        B = blocks[f.name] if f.power == 1 else blocks[(f.name, f.power)]
        B = _adjoint(B) if f.adjoint else B
        out = B if out is None else out @ B
    return out


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray)


def _adjoint(B):
    return np.conj(np.swapaxes(B, -1, -2)) if _is_array(B) else B.adjoint()


def _trace(W):
    return np.trace(W, axis1=-2, axis2=-1) if _is_array(W) else W.trace()


def _zero_like(B):
    return np.zeros(np.shape(B), dtype=complex) if _is_array(B) else sp.zeros(*B.shape)
