"""Which theory holds on this network? FACT, NFA, the CRH/PAH alignments, GC and Li2 side by side
(issue 16; docs/theory.md section 9). Modules: ``metrics`` (the three comparisons, defined once),
``layers`` (the network as bias-free layers with per-sample inputs and gradients), ``statements``
(FACT, backward FACT, NFA, CRH, power-law fits), ``symbolic`` (SymPy derivations), ``observables``
(GC and Li2 on the same network), ``premises`` (each statement's premise and its measured gap; no verdict where
it is not met, issue 22), ``run`` (measure, train to stationarity and record), ``report`` (report.md, figures).
"""
from .layers import Layer, layers
from .metrics import METRICS, cosine, pearson, relative_residual
from .premises import STATIONARITY_TOL, Premise, stationarity_gap
from .run import TheoriesResult, measure, run_theories

__all__ = ["Layer", "layers", "METRICS", "cosine", "pearson", "relative_residual", "TheoriesResult", "measure",
           "run_theories", "Premise", "STATIONARITY_TOL", "stationarity_gap"]
