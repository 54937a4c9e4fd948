"""The one stacked form of a neuron's parameters.

A point is ``x = [nu_1; nu_2; ...]``: the neuron's vectors (each ``(..., n)``, ``n`` the group order; ``D`` coordinates on a compact group, :func:`vector_length`)
concatenated along the last axis in ``vector_names`` order, shape ``(..., V n)``. The brute-force
reference, the landscape, the rates and the checks speak this form; ``model`` below is anything with
``vector_names`` and ``group`` (a :class:`~symflow.theory.model.Model`).
"""
from __future__ import annotations

import numpy as np

from ..groups.compact.signals import coordinate_count


def vector_length(model) -> int:
    """Real coordinates of one of the model's vectors: the group order ``n`` (values on the elements), or ``D`` for
    a band-limited compact group (coordinates in its orthonormal real basis, :mod:`symflow.groups.compact.signals`)."""
    return coordinate_count(model.group)


def stack(model, arrays: dict) -> np.ndarray:
    """``{name: (..., n)}`` to stacked points ``x = [nu_1; nu_2; ...]`` of shape ``(..., V n)`` (float)."""
    return np.concatenate([np.asarray(arrays[name], float) for name in model.vector_names], axis=-1)


def split(model, x) -> dict:
    """Stacked points to ``{name: x[..., i n:(i + 1) n]}`` (views: writing to them writes to ``x``)."""
    n = vector_length(model)
    return {name: x[..., i * n:(i + 1) * n] for i, name in enumerate(model.vector_names)}


def sphere_slices(model) -> list:
    """``[(sphere, [slice, ...])]``: the stacked coordinates of each sphere group of ``model.neuron``."""
    n = vector_length(model)
    names = model.vector_names
    return [(S, [slice(names.index(v) * n, (names.index(v) + 1) * n) for v in S])
            for S in model.neuron.sphere_groups]
