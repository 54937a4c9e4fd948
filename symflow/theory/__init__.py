"""Symbolic theory engine: model, energy functional, Riemannian flow, closed forms, rates.

    from symflow.theory import Model, abelian_closed_form
    m = Model("F21")                 # GC's neuron: quadratic activation, small-logit CE, separate spheres
    m.energy().verify()              # exact proof: parameter-space energy == Fourier energy
    m.block_flow(3).rhs              # d/dt of each 3x3 irrep block (SymPy)
"""
from .model import Model
from .energy import EnergyFunctional, EnergyVerification
from .flow import BlockFlow

__all__ = ["Model", "EnergyFunctional", "EnergyVerification", "BlockFlow", "abelian_closed_form"]


def __getattr__(name):
    if name in ("abelian_closed_form", "AbelianClosedForm"):
        from . import closed_forms

        return getattr(closed_forms, name)
    raise AttributeError(f"module 'symflow.theory' has no attribute {name!r}")
