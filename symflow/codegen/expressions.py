"""The symbolic input of code generation: one model's per-block flow, collected and hashed.

For every block dimension ``d`` of the model's group the theory engine derives, on one generic
nontrivial irrep block of one neuron (symbols ``theta1_i_j`` ...),

    omega_block = contribution of this block to Omega          (e.g. d tr(xi^* th2 th1))
    drive[nu]   = Fourier-coordinate Euclidean gradient          (e.g. (1/n) th2 th1 for xi)
    radial[nu]  = coefficient in the symbol Omega                (e.g. Omega)
    d nu/dt     = drive[nu] - radial[nu] * nu                    (nontrivial blocks)
    d nu[1]/dt  = -trivial[nu] * Omega * nu[1]                   (trivial block)

:class:`FlowExpressions` gathers these for all dimensions ``d`` the group needs, checks that they
are what code generation can print (polynomials in the block entries and their conjugates, with
coefficients in ``n`` only), and hashes them: the SHA-256 of their ``srepr`` (plus the vector
names, the neuron settings and this module's format version) is the key of the on-disk cache, so
two groups with the same settings and block dimensions share generated code (generic in ``n``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sympy as sp

from ..errors import ModelError
from .cache import FORMAT_VERSION, model_dims


@dataclass(frozen=True)
class BlockExpressions:
    """The flow on one generic irrep block of dimension ``d`` (see module docstring)."""

    d: int
    names: tuple
    blocks: dict          # name -> sympy.Matrix (d x d) of complex block symbols
    omega_block: sp.Expr  # scalar
    drive: dict           # name -> sympy.Matrix (d x d)
    radial: dict          # name -> scalar expression in omega_symbol
    n: sp.Symbol
    omega_symbol: sp.Symbol

    def symbol_slices(self) -> dict:
        """``{symbol: (name, i, j)}``: where each block symbol lives in the arrays."""
        out = {}
        for name in self.names:
            B = self.blocks[name]
            for i in range(self.d):
                for j in range(self.d):
                    out[B[i, j]] = (name, i, j)
        return out

    def srepr(self) -> str:
        parts = [f"d={self.d}", f"names={self.names}", sp.srepr(self.omega_block)]
        for name in self.names:
            parts.append(f"{name}:" + sp.srepr(sp.ImmutableMatrix(self.blocks[name])))
            parts.append(sp.srepr(sp.ImmutableMatrix(self.drive[name])))
            parts.append(sp.srepr(self.radial[name]))
        return "\n".join(parts)


@dataclass
class FlowExpressions:
    """A model's block flows for the dimensions ``dims`` plus the trivial-block rates."""

    names: tuple
    dims: tuple
    blocks: dict                 # d -> BlockExpressions
    trivial: dict                # name -> SymPy number c: d nu[1]/dt = -c Omega nu[1]
    model_key: str = ""
    settings: str = ""           # the model's settings_key(): what the flows depend on besides d

    @property
    def hash(self) -> str:
        """SHA-256 (hex) of the expressions: the cache key of the generated module."""
        h = hashlib.sha256()
        h.update(FORMAT_VERSION.encode())
        h.update(repr(self.names).encode())
        h.update(self.settings.encode())
        for d in self.dims:
            h.update(self.blocks[d].srepr().encode())
        for name in self.names:
            h.update(f"{name}:{sp.srepr(sp.sympify(self.trivial[name]))}".encode())
        return h.hexdigest()

    def __repr__(self) -> str:
        return f"<FlowExpressions {self.model_key or self.names}: dims {self.dims}, hash {self.hash[:12]}>"


def function_expression_hash(exprs, args) -> str:
    """SHA-256 (hex) of a list of expressions and their arguments (``srepr``, with the format
    version): the expression hash of a module of :func:`.generator.generate_function_source`."""
    h = hashlib.sha256()
    h.update(FORMAT_VERSION.encode())
    h.update(repr([str(a) for a in args]).encode())
    for e in exprs:
        h.update(sp.srepr(sp.sympify(e)).encode())
        h.update(b"|")
    return h.hexdigest()


def block_expressions(model, d: int) -> BlockExpressions:
    """Ask the theory engine for the block flow of dimension ``d`` and check it is printable."""
    bf = model.block_flow(d)
    names = tuple(model.vector_names)
    n, omega_symbol = bf.n, bf.omega_symbol
    blocks = {name: sp.Matrix(bf.blocks[name]) for name in names}
    drive = {name: sp.Matrix(bf.drive[name]) for name in names}
    radial = {name: sp.sympify(bf.radial[name]) for name in names}
    omega_block = sp.sympify(bf.omega_block)
    block_syms = {s for name in names for s in blocks[name]}
    allowed = block_syms | {n}
    for name in names:
        if drive[name].shape != (d, d) or blocks[name].shape != (d, d):
            raise ModelError(f"block flow of dimension {d}: {name} has shape {drive[name].shape}, expected ({d}, {d})")
        _check_free(drive[name], allowed, f"drive[{name}]")
        _check_free(radial[name], {omega_symbol, n}, f"radial[{name}]")
    _check_free(omega_block, allowed, "omega_block")
    return BlockExpressions(d=d, names=names, blocks=blocks, omega_block=omega_block, drive=drive,
                            radial=radial, n=n, omega_symbol=omega_symbol)


def _check_free(expr, allowed, what):
    extra = {s for s in expr.free_symbols if s not in allowed}
    if extra:
        raise ModelError(f"{what} depends on {sorted(map(str, extra))}; generated code accepts only the block "
                         f"entries, n and Omega")


def flow_expressions(model, dims: tuple | None = None) -> FlowExpressions:
    """Collect the block flows of ``model`` for ``dims`` (default: every block dimension of its group)."""
    if dims is None:
        dims = model_dims(model)
    dims = tuple(sorted(int(d) for d in dims))
    blocks = {d: block_expressions(model, d) for d in dims}
    names = tuple(model.vector_names)
    trivial = {name: sp.sympify(model.trivial_flow[name]) for name in names}
    for name, c in trivial.items():
        if not c.is_number:
            raise ModelError(f"trivial-block rate of {name} is {c}; a number is required")
    return FlowExpressions(names=names, dims=dims, blocks=blocks, trivial=trivial, model_key=model.key(),
                           settings=model.settings_key())
