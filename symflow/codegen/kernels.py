"""The block kernels of the reduced flow, ready to run: ``flow_kernels(model, backend=...)``.

One interface for every backend (what :class:`symflow.dynamics.flow.ReducedFlow` assembles the
flow from): ``block_terms[d](*blocks, n) -> (omega_block, drives)`` on ``(..., k_d, d, d)`` arrays,
``radial(Omega)`` (one coefficient per vector), ``trivial_rate`` (dict name -> float), ``names``,
``dims``, ``styles``, ``expression_hash``, ``code_hash``.

* ``backend="generated"`` (default): the generated NumPy module. Looks the model up in the on-disk
  cache (:mod:`.cache`); on a miss derives the block flows, generates the module (:mod:`.generator`),
  writes it and imports it; a cached file is executed only if its content digest verifies
  (:func:`.cache.read_verified`), else it is regenerated. Loaded kernels are also kept per process, so repeated simulations of
  one model pay neither derivation nor import.
* ``backend="lambdify"``: ``sympy.lambdify`` of the same block formulas (:mod:`.lambdified`), the
  independent reference the generated code is checked against.

:func:`generated_function` serves any other list of expressions the same way (one generator, one
cache, one verification): ``func(*args) -> tuple of arrays``, e.g. :func:`modular_rates`, the
per-frequency rates of :class:`symflow.theory.modular.ModularAdditionODE`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelError
from . import cache
from .cache import STYLES, model_dims

_LOADED: dict = {}


@dataclass
class FlowKernels:
    """A loaded generated module with its provenance.

    ``block_terms[d](*blocks, n) -> (omega_block, drives)``, ``radial(Omega)``, ``trivial_rate``
    (dict name -> float); see the module docstring. :meth:`from_module` wraps any loaded module.
    """

    module: object
    path: Path | None
    code_hash: str
    expression_hash: str
    styles: dict
    names: tuple
    dims: tuple
    generated: bool = False
    seconds: float = 0.0
    block_terms: dict = field(default_factory=dict)

    def __post_init__(self):
        self.block_terms = dict(self.module.BLOCK_TERMS)

    @classmethod
    def from_module(cls, module, path=None, generated: bool = False, seconds: float = 0.0) -> "FlowKernels":
        """The kernels of a generated ``module`` (e.g. a loaded cache file, or a mutated copy under test)."""
        return cls(module=module, path=path, code_hash=module.CODE_HASH, expression_hash=module.EXPRESSION_HASH,
                   styles=dict(module.STYLE), names=tuple(module.NAMES), dims=tuple(module.DIMS),
                   generated=generated, seconds=seconds)

    @property
    def radial(self):
        return self.module.radial

    @property
    def trivial_rate(self) -> dict:
        return dict(self.module.TRIVIAL_RATE)

    @property
    def source(self) -> str:
        """The module's code as generated (what was executed; no second read of the cache file)."""
        text = getattr(self.module, "__symflow_source__", None)
        if text is not None:
            return text
        return cache.unsealed(Path(self.path).read_text()) if self.path else ""

    def __repr__(self) -> str:
        where = "generated" if self.generated else "cached"
        return (f"<FlowKernels {self.names} dims {self.dims} styles {self.styles} ({where}, "
                f"{self.seconds:.2f} s) hash {self.expression_hash[:12]} at {self.path}>")


#: Kernel backends of :func:`flow_kernels`.
BACKENDS = ("generated", "lambdify")


def flow_kernels(model, style: str = "auto", use_cache: bool = True, backend: str = "generated"):
    """Block kernels for ``model`` (a :class:`symflow.theory.Model`): generated code cached on disk
    (:class:`FlowKernels`), or ``backend="lambdify"`` (:class:`~.lambdified.LambdifiedKernels`)."""
    if backend not in BACKENDS:
        raise ModelError(f"kernel backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "lambdify":
        from .lambdified import lambdified_kernels   # SymPy at run time: only for this backend

        return lambdified_kernels(model)
    if style not in STYLES:
        raise ModelError(f"code style must be one of {', '.join(STYLES)}, got {style!r}")
    if hasattr(model, "require_block_flow"):
        model.require_block_flow()
    dims = model_dims(model)
    key = cache.index_key(model.key(), dims, style)
    if use_cache and key in _LOADED:
        return _LOADED[key]
    t0 = time.perf_counter()
    module = path = None
    generated = False
    if use_cache:  # a module is executed only from bytes that verify (cache.read_verified)
        module = cache.lookup(key)
        if module is not None:
            path = Path(module.__file__)
    if module is None:
        from .generator import generate_source  # SymPy: only on a cache miss

        src = generate_source(model, style=style, dims=dims)
        path = cache.module_path(src.code_hash)
        text = cache.read_verified(path, src.code_hash)
        if text is None:  # missing, truncated or changed: (re)write it
            text = cache.write_module(path, src.source)
        cache.remember(key, src.code_hash)
        module = cache.load_source(text, path)
        generated = True
    kern = FlowKernels.from_module(module, path=path, generated=generated,
                                   seconds=time.perf_counter() - t0)
    _LOADED[key] = kern
    return kern


_FUNCTIONS: dict = {}


def generated_function(exprs, args, name: str, func: str = "rates"):
    """The generated module computing ``func(*args) -> tuple`` of the SymPy ``exprs``
    (:func:`.generator.generate_function_source`), from the cache file ``<name>_<code hash>.py`` if
    it verifies (:func:`.cache.read_verified`), else generated, written and loaded; kept per process."""
    from .generator import function_code_hash, generate_function_source  # SymPy: expressions in hand

    _, code_hash = function_code_hash(exprs, args, func)
    path = cache.module_path(code_hash, stem=name)
    if path in _FUNCTIONS:
        return _FUNCTIONS[path]
    text = cache.read_verified(path, code_hash)
    if text is None:  # missing, truncated or changed: never executed, regenerated
        text = cache.write_module(path, generate_function_source(exprs, args, func).source)
    module = _FUNCTIONS[path] = cache.load_source(text, path)
    return module


def modular_rates(ode):
    """Vectorised ``rates(alpha, beta, D, p) -> (alpha', beta', D', phi', psi')`` of a
    :class:`~symflow.theory.modular.ModularAdditionODE` (its :meth:`rate_expressions`), generated
    and cached by :func:`generated_function`; arrays broadcast (``(neurons, frequencies)``)."""
    exprs, args = ode.rate_expressions()
    return generated_function(exprs, args, name=f"modular_rates_{ode.loss}", func="rates").rates
