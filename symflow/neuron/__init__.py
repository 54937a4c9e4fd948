"""The neuron layer, directly above :mod:`symflow.groups`: what one neuron of the network is.

* :mod:`.spec`: :class:`Neuron`, the one specification of a neuron's variant (loss, shared, spheres,
  constraint: vector names, input roles, sphere groups);
* :mod:`.points`: the one stacked form of a neuron's parameters, ``x = [nu_1; nu_2; ...]`` (``stack``,
  ``split``);
* :mod:`.activation`: the one activation object and vocabulary (``quad``/``x^2``, ``relu``, ``silu``,
  polynomials in ``z``);
* :mod:`.geometry`: the one geometry of the spheres (inner product, retraction, tangent projection,
  multipliers, tangent basis) on every storage form;
* :mod:`.bruteforce`: the one independent Cayley-table reference (energy, gradient, Hessian of every
  model and polynomial activation, on any dtype).

Importing the package loads only :mod:`.spec` (no NumPy-heavy or SymPy work).
"""
from .spec import CONSTRAINTS, LOSSES, SPHERES, Neuron

__all__ = ["Neuron", "LOSSES", "SPHERES", "CONSTRAINTS"]
