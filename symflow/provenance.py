"""The one provenance helper: versions of symflow, Python and the libraries a saved result depends on.

    versions("sympy", "scipy")  ->  {"symflow": "0.x", "numpy": "...", "python": "3.x.y",
                                     "sympy": "...", "scipy": "..."}

symflow, NumPy and Python are always recorded; each further library is named by its import name
(imported here, so a result records exactly the libraries it used and no more). Every command that
writes a JSON/NPZ result (training histories, lottery, grokking, verify) records ``versions(...)``.
"""
from __future__ import annotations

import importlib
import platform

import numpy as np

from . import __version__


def versions(*libraries: str) -> dict:
    """``{"symflow", "numpy", "python", *libraries}`` -> version strings."""
    out = {"symflow": __version__, "numpy": np.__version__, "python": platform.python_version()}
    for name in libraries:
        out[name] = importlib.import_module(name).__version__
    return out
