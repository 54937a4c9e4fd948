"""``symflow landscape``: discover every attractor of a model from many seeded starts.

    import symflow
    L = symflow.landscape("D5", shared=True, starts=2000)      # = symflow.landscape.landscape(...)

Modules: ``search`` (starts to critical points at rounding level), ``kinds`` (basis-free invariants and
grouping), ``analysis`` (symmetries, families, exact energies, spectrum ranges), ``engine`` (the result
and its JSON contract).

The package and its one entry point share the name ``landscape``: once the package is imported,
``symflow.landscape`` is the package, so the package itself is callable and calls :func:`landscape`.
"""
import sys
import types

from .engine import Attractor, Landscape, landscape

__all__ = ["landscape", "Landscape", "Attractor"]


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        """:func:`symflow.landscape.engine.landscape`."""
        return landscape(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
