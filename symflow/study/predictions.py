"""A prediction next to its measurement: one row of ``summary.json``.

``{"name", "predicted", "measured", "tolerance", "agrees", "detail", "section", "verdict"}``.
The verdict follows from ``agrees`` and ``measured`` (:data:`VERDICTS`):

* ``"agrees"`` / ``"disagrees"``: the theory states ``predicted`` and the measurement is (not)
  within ``tolerance``;
* ``"measured"``: a quantity the theory does not state (e.g. basin fractions, Stage II outside
  its stated scope): the row carries the measurement only, ``predicted`` and ``tolerance`` are
  ``None`` (a reference value, if any, is in ``detail``);
* ``"not checked"``: the comparison could not be made (skipped for a large group, too few usable
  fits, or not covered by the theorem for this model); ``measured`` is ``None``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: The verdicts of a row, in the order of ``summary.json``'s ``totals``.
VERDICTS = ("agrees", "disagrees", "measured", "not checked")


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
    """One claim: ``predicted`` vs ``measured`` within ``tolerance`` (``agrees`` None: a measurement,
    or not checked when ``measured`` is None too; see the module docstring).

    ``section`` names the section of the report the row belongs to. A measurement (``agrees`` None
    with a measured value) states no prediction: ``predicted`` and ``tolerance`` are set to ``None``."""

    name: str
    predicted: Any
    measured: Any
    tolerance: Any
    agrees: bool | None
    detail: str = ""
    section: str = "population"
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.agrees is not None:
            self.agrees = bool(self.agrees)
        elif self.measured is not None:
            self.predicted = None
            self.tolerance = None

    def to_json(self) -> dict:
        """The ``summary.json`` row (``extra`` holds arrays for figures and is not written)."""
        d = asdict(self)
        d.pop("extra")
        d["verdict"] = self.verdict_key
        return {k: _jsonable(v) for k, v in d.items()}

    @property
    def verdict_key(self) -> str:
        """One of :data:`VERDICTS`."""
        if self.agrees is None:
            return "measured" if self.measured is not None else "not checked"
        return "agrees" if self.agrees else "disagrees"

    @property
    def verdict(self) -> str:
        """The verdict as shown (``DISAGREES`` in capitals)."""
        return "DISAGREES" if self.agrees is False else self.verdict_key


def totals(predictions) -> dict:
    """Rows per verdict, ``{"agrees": k, "disagrees": k, "measured": k, "not checked": k, "rows": N}``."""
    out = {v: 0 for v in VERDICTS}
    for p in predictions:
        out[p.verdict_key] += 1
    out["rows"] = sum(out[v] for v in VERDICTS)
    return out
