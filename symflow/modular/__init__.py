"""Modular addition on ``Z_p`` (docs/theory.md section 5, MA): lottery ticket, grokking, learned mechanism.

* :mod:`.lottery` - predicted winning frequency per neuron (earliest blow-up of the decoupled ODE)
  against the winner in a gradient-flow simulation of the network;
* :mod:`.grokking` - training on part of the table with weight decay, progress measures and the
  three-stage detector;
* :mod:`.mechanism` - the flawed-indicator read-out of a trained network and the test-time
  activation swap;
* :mod:`.report` - ``report.md`` / ``metrics.json`` / ``metrics.npz`` (and figures when matplotlib is
  installed).

The theory (derived per-frequency ODE, first integrals, blow-up quadrature) lives in
:mod:`symflow.theory.modular` and :mod:`symflow.theory.blowup`.
"""
from .lottery import LotteryPrediction, LotteryResult, predict_winners, run_lottery

__all__ = ["LotteryPrediction", "LotteryResult", "predict_winners", "run_lottery"]
