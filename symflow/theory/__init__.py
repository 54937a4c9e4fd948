"""Symbolic theory engine: model, energy functional, Riemannian flow, closed forms, rates.

    from symflow.theory import Model, abelian_closed_form
    m = Model("F21")                 # GC's neuron: quadratic activation, small-logit CE, separate spheres
    m.energy().verify()              # exact proof: parameter-space energy == Fourier energy
    m.block_flow(3).rhs              # d/dt of each 3x3 irrep block (SymPy)

Only :class:`Model` is imported with the package (it is built without SymPy); the derivation
classes are imported on first access, so cached runs never load SymPy through this package.
"""
from .model import Model

__all__ = ["Model", "EnergyFunctional", "EnergyVerification", "BlockFlow", "abelian_closed_form",
           "AbelianClosedForm"]

_LAZY = {"EnergyFunctional": "energy", "EnergyVerification": "energy", "BlockFlow": "flow",
         "abelian_closed_form": "closed_forms", "AbelianClosedForm": "closed_forms"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'symflow.theory' has no attribute {name!r}")
