"""symflow: what a two-layer network trained on a finite group's composition table learns, and how fast.

Quick start::

    import symflow
    G = symflow.group("F21")      # exact irreps, character table, Fourier transform
"""
__version__ = "0.1.0"

from .errors import SymflowError, UnknownGroupError, GroupAxiomError, ModelError, IntegrationError
from .groups import group, Group, Irrep

__all__ = ["group", "Group", "Irrep", "SymflowError", "UnknownGroupError", "GroupAxiomError",
           "ModelError", "IntegrationError", "__version__"]
