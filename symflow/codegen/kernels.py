"""Generated flow code, loaded and ready: ``flow_kernels(model)``.

Looks the model up in the on-disk cache (:mod:`.cache`); on a miss derives the block flows,
generates the module (:mod:`.generator`), writes it and imports it. Loaded kernels are also kept
per process, so repeated simulations of one model pay neither derivation nor import.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelError
from . import cache
from .expressions import model_dims
from .generator import STYLES, generate_source

_LOADED: dict = {}


@dataclass
class FlowKernels:
    """A loaded generated module with its provenance.

    ``block_terms[d](*blocks, n) -> (omega_block, drives)``, ``radial(Omega)``, ``trivial_rate``
    (dict name -> float), ``module.reduced_flow(blocks, n)`` for the whole flow.
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

    @property
    def radial(self):
        return self.module.radial

    @property
    def trivial_rate(self) -> dict:
        return dict(self.module.TRIVIAL_RATE)

    @property
    def source(self) -> str:
        return Path(self.path).read_text() if self.path else ""

    def __repr__(self) -> str:
        where = "generated" if self.generated else "cached"
        return (f"<FlowKernels {self.names} dims {self.dims} styles {self.styles} ({where}, "
                f"{self.seconds:.2f} s) hash {self.expression_hash[:12]} at {self.path}>")


def flow_kernels(model, style: str = "auto", use_cache: bool = True) -> FlowKernels:
    """Generated kernels for ``model`` (a :class:`symflow.theory.Model`), cached on disk."""
    if style not in STYLES:
        raise ModelError(f"code style must be one of {', '.join(STYLES)}, got {style!r}")
    if hasattr(model, "require_block_flow"):
        model.require_block_flow()
    dims = model_dims(model)
    key = cache.index_key(model.key(), dims, style)
    if use_cache and key in _LOADED:
        return _LOADED[key]
    t0 = time.perf_counter()
    path = cache.lookup(key) if use_cache else None
    generated = False
    if path is None:
        src = generate_source(model, style=style, dims=dims)
        path = cache.module_path(src.code_hash)
        if not cache.is_intact(path, src.code_hash):
            cache.write_atomic(path, src.source)
        cache.remember(key, src.code_hash)
        generated = True
    module = cache.load_module(path)
    kern = FlowKernels(module=module, path=path, code_hash=module.CODE_HASH, expression_hash=module.EXPRESSION_HASH,
                       styles=dict(module.STYLE), names=tuple(module.NAMES), dims=tuple(module.DIMS),
                       generated=generated, seconds=time.perf_counter() - t0)
    _LOADED[key] = kern
    return kern
