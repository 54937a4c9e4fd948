"""Compact groups with a band limit: ``SO(2)``, ``O(2)``, ``SO(3)``, ``O(3)``; quadrature, Fourier transform,
finite subgroups and branching rules (docs/theory.md, "Compact groups")."""
from .groups import COMPACT_NAMES, MAX_BANDLIMIT, CompactGroup, CompactIrrep, compact_group
from .fourier import fourier, inverse_fourier, plancherel, quadrature

__all__ = ["COMPACT_NAMES", "MAX_BANDLIMIT", "CompactGroup", "CompactIrrep", "compact_group", "fourier",
           "inverse_fourier", "plancherel", "quadrature"]
