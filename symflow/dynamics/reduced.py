"""The reduced flow of a model named any way: ``ReducedFlow(model_or_name)`` and :func:`as_model`.

:class:`ReducedFlow` is the flow evaluator (:class:`~symflow.dynamics.flow.FlowEvaluator`, where the
flow is assembled from its block kernels) for a :class:`symflow.theory.Model`, a group name or a
Group. The drivers (``simulate``, ``run_until_aligned``) are in :mod:`.drivers`, the run defaults in
:mod:`.defaults`.
"""
from __future__ import annotations

from ..errors import ModelError
from .flow import FlowEvaluator


def as_model(model_or_name, shared=None, spheres=None):
    """A :class:`symflow.theory.Model` from a model, a group name or a Group."""
    from ..theory import Model   # SymPy: imported when a model is built, not with symflow.dynamics

    if isinstance(model_or_name, Model):
        if shared is not None and bool(shared) != model_or_name.shared:
            raise ModelError(f"shared={shared} conflicts with the model given ({model_or_name!r})")
        if spheres is not None and spheres != model_or_name.spheres:
            raise ModelError(f"spheres={spheres!r} conflicts with the model given ({model_or_name!r})")
        return model_or_name
    return Model(model_or_name, shared=bool(shared) if shared is not None else False, spheres=spheres)


class ReducedFlow(FlowEvaluator):
    """:class:`~symflow.dynamics.flow.FlowEvaluator` of ``model``: a Model, a group name or a Group
    (see there for ``style``, ``use_cache``, ``use_symmetry``, ``backend``, ``kernels``)."""

    def __init__(self, model, style: str = "auto", use_cache: bool = True, use_symmetry: bool = True,
                 backend: str = "generated", kernels=None):
        super().__init__(as_model(model), style=style, use_cache=use_cache, use_symmetry=use_symmetry,
                         backend=backend, kernels=kernels)
