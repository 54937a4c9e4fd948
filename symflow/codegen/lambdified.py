"""The lambdify backend of the block kernels: ``sympy.lambdify`` of the model's block flows.

The same interface as the generated module (:mod:`.kernels`): for each block dimension ``d`` of
the model, with :class:`~symflow.theory.flow.BlockFlow` ``bf = model.block_flow(d)``,

    block_terms[d](*blocks, n) -> (omega_block, drives)
        omega_block = bf.omega_block          (..., k_d) complex
        drives[name] = bf.drive[name]         (..., k_d, d, d) complex, one per vector
    radial(Omega) = (bf.radial[name] for name in names)     (multiples of Omega)
    trivial_rate = model.trivial_flow

evaluated entry by entry on the ``(..., k_d, d, d)`` block arrays (symbol ``name_i_j`` ->
``blocks[name][..., i, j]``). No code generation, no cache: the independent reference that the
generated code is compared with (``codegen.matches-sympy`` in ``symflow verify``) and the numeric
path of :func:`symflow.dynamics.flow.fourier_velocity`.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..theory.symbols import N, OMEGA
from .expressions import model_dims

#: The ``styles`` entry of every block dimension.
STYLE = "lambdify"


class LambdifiedKernels:
    """Block kernels of one model by ``sympy.lambdify`` (see the module docstring)."""

    code_hash = ""
    path = None
    generated = False
    source = ""

    def __init__(self, model, dims):
        self.names = tuple(model.vector_names)
        self.dims = tuple(dims)
        self.styles = {d: STYLE for d in self.dims}
        flows = {d: model.block_flow(d) for d in self.dims}
        self.block_terms = {d: _block_terms(bf) for d, bf in flows.items()}
        radial = flows[self.dims[0]].radial
        self._radial = sp.lambdify([OMEGA], [radial[k] for k in self.names], modules="numpy")
        self.trivial_rate = {k: float(model.trivial_flow[k]) for k in self.names}
        self.expression_hash = "lambdify:" + model.key()

    def radial(self, Omega):
        """Radial coefficient per vector, each with the shape of ``Omega``."""
        shape = np.shape(Omega)
        return tuple(np.broadcast_to(np.asarray(c, dtype=float), shape) if np.ndim(c) == 0 else c
                     for c in self._radial(Omega))

    def __repr__(self) -> str:
        return f"<LambdifiedKernels {self.names} dims {self.dims}>"


def _block_terms(bf):
    """``block_terms(*blocks, n) -> (omega_block, drives)`` for one :class:`BlockFlow` (cached on it)."""
    cached = getattr(bf, "_lambdified_terms", None)
    if cached is not None:
        return cached
    d, names = bf.d, bf.names
    f_omega = sp.lambdify([N] + bf.symbols, bf.omega_block, modules="numpy", cse=True)
    f_drive = sp.lambdify([N] + bf.symbols, [e for k in names for e in bf.drive[k]], modules="numpy", cse=True)

    def block_terms(*blocks):
        *blocks, n = blocks
        arrays = [b[..., i, j] for b in blocks for i in range(d) for j in range(d)]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        omega = np.broadcast_to(np.asarray(f_omega(n, *arrays), dtype=complex), shape).copy()
        values = f_drive(n, *arrays)
        drives, pos = [], 0
        for _ in names:
            blk = np.empty(shape + (d, d), dtype=complex)
            for i in range(d):
                for j in range(d):
                    blk[..., i, j] = values[pos]
                    pos += 1
            drives.append(blk)
        return omega, tuple(drives)

    bf._lambdified_terms = block_terms
    return block_terms


def lambdified_kernels(model) -> LambdifiedKernels:
    """The lambdify kernels of ``model`` for its group's block dimensions."""
    model.require_block_flow()
    return LambdifiedKernels(model, model_dims(model))
