"""The one provenance helper: versions of symflow, Python and the libraries a saved result depends on.

    versions("sympy", "scipy")  ->  {"symflow": "0.x", "numpy": "...", "python": "3.x.y",
                                     "sympy": "...", "scipy": "..."}

symflow, NumPy and Python are always recorded; each further library is named by its distribution
name, and its version is read from the installed package's metadata (``importlib.metadata``) without
importing it, so recording provenance never loads SymPy or SciPy on a path that does not use them. Every command that
writes a JSON/NPZ result (training histories, lottery, grokking, verify) records ``versions(...)``.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import platform

import numpy as np

from ._version import __version__


def versions(*libraries: str) -> dict:
    """``{"symflow", "numpy", "python", *libraries}`` -> version strings."""
    out = {"symflow": __version__, "numpy": np.__version__, "python": platform.python_version()}
    for name in libraries:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # not installed as a distribution: ask the module
            out[name] = importlib.import_module(name).__version__
    return out
