"""A prediction next to its measurement: one row of ``summary.json``.

``{"name", "predicted", "measured", "tolerance", "agrees", "detail"}`` - ``agrees`` is ``None``
for quantities the theory does not predict (reported as measurements, e.g. basin fractions).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


def _jsonable(v):
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.ndarray):
        return [_jsonable(x) for x in v.tolist()]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not np.isfinite(v):
        return None if np.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


@dataclass
class Prediction:
    """One claim: ``predicted`` vs ``measured`` within ``tolerance`` (``agrees`` None = measured only).

    ``section`` names the section of the report the row belongs to."""

    name: str
    predicted: Any
    measured: Any
    tolerance: Any
    agrees: bool | None
    detail: str = ""
    section: str = "population"
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The ``summary.json`` row (``extra`` holds arrays for figures and is not written)."""
        d = asdict(self)
        d.pop("extra")
        d.pop("section")
        return {k: _jsonable(v) for k, v in d.items()}

    @property
    def verdict(self) -> str:
        return {True: "agrees", False: "DISAGREES", None: "measured"}[self.agrees]
