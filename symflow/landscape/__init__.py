"""``symflow landscape``: discover every attractor of a model from many seeded starts.

    from symflow.landscape import landscape
    L = landscape("D5", shared=True, starts=2000)

Modules: ``search`` (starts to critical points at rounding level), ``kinds`` (basis-free invariants and
grouping), ``analysis`` (symmetries, families, exact energies, spectrum ranges), ``engine`` (the result
and its JSON contract).
"""
from .engine import Attractor, Landscape, landscape

__all__ = ["landscape", "Landscape", "Attractor"]
