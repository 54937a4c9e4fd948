"""The reduced flow of a model named any way: ``ReducedFlow(model_or_name)`` (:meth:`Model.coerce
<symflow.theory.model.Model.coerce>`).

:class:`ReducedFlow` is the flow evaluator (:class:`~symflow.dynamics.flow.FlowEvaluator`, where the
flow is assembled from its block kernels) for a :class:`symflow.theory.Model`, a group name or a
Group. The drivers (``simulate``, ``run_until_aligned``) are in :mod:`.drivers`, the run defaults in
:mod:`.defaults`.
"""
from __future__ import annotations

from .flow import FlowEvaluator


class ReducedFlow(FlowEvaluator):
    """:class:`~symflow.dynamics.flow.FlowEvaluator` of ``model``: a Model, a group name or a Group
    (see there for ``style``, ``use_cache``, ``use_symmetry``, ``backend``, ``kernels``)."""

    def __init__(self, model, style: str = "auto", use_cache: bool = True, use_symmetry: bool = True,
                 backend: str = "generated", kernels=None):
        from ..theory.model import Model

        super().__init__(Model.coerce(model), style=style, use_cache=use_cache, use_symmetry=use_symmetry,
                         backend=backend, kernels=kernels)
