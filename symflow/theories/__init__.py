"""Which theory holds on this network? FACT, NFA, the CRH/PAH alignments, GC and Li2 side by side
(issue 16; docs/theory.md section 9). Modules: ``metrics`` (the three comparisons, defined once),
``layers`` (the network as bias-free layers with per-sample inputs and gradients), ``statements``
(FACT, backward FACT, NFA, CRH, power-law fits), ``symbolic`` (SymPy derivations), ``observables``
(GC and Li2 on the same network), ``run`` (measure, train and record), ``report`` (report.md, figures).
"""
from .layers import Layer, layers
from .metrics import METRICS, cosine, pearson, relative_residual
from .run import TheoriesResult, measure, run_theories

__all__ = ["Layer", "layers", "METRICS", "cosine", "pearson", "relative_residual", "TheoriesResult", "measure",
           "run_theories"]
