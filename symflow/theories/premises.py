r"""The premise of each theory's statement, and whether the measured network meets it (issue 22).

A statement is judged (holds / fails) only where its premise holds; elsewhere its row says
"premise not met" with the measured gap and gets no verdict.

* **Stationarity** (FACT, backward FACT, CRH): a critical point of the regularised loss with *coupled* decay,
  ``R = loss + lambda/2 |W|^2``, in the layer's ``W``. Measured by the **stationarity gap**

      gap = |grad_W loss + lambda W|_F / |lambda W|_F            (per layer; embedding W = [theta1 | theta2])

  (0 at a critical point; 1 when ``grad_W loss = 0``, e.g. at AdamW's fixed points, whose decay is decoupled).
  Met when ``gap <= STATIONARITY_TOL``. Why that suffices for FACT: its residual matrix is ``W^T grad_W R /
  lambda`` exactly, so the relative residual ``|W^T grad R|_F / (lambda |W^T W|_F) <= |grad R|_F / (lambda
  |W|_2) = gap |W|_F / |W|_2 <= gap sqrt(rank W)``; with ``STATIONARITY_TOL = 0.01`` and rank at most 16 that is
  at most 0.04, below FACT's tolerance 0.05 (backward FACT: ``grad R W^T / lambda``, the same bound).
* **NFA** states its own form (an ansatz about trained networks, no stationarity condition): always met.
* **GC** (its Stage I): the small-logit regime in which the CE dynamics is the energy flow of docs/theory.md
  section 3; measured by the largest centred logit ``max_p max_k |z_pk - mean_k z_pk|``, met when
  ``<= GC_STAGE_I_LOGIT`` (the softmax linearisation's relative error is of that order).
* **Li2** (its independent-feature stage, Thm 1): the MSE loss, and a back-propagated residual that still carries
  the centred target, ``P (Y - Y_hat) ~ P Y`` (``P`` centres over samples); measured by
  ``1 - cos(P (Y - Y_hat), P Y)`` (Frobenius cosine), met when ``<= LI2_STAGE_TOL``. With the CE loss the premise
  is not met (gap None).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dynamics.network import TwoLayerNetwork, as_pairs
from ..dynamics.training import stationarity_gap as _tensor_gap
from .metrics import cosine

#: stationarity gap |grad_W loss + lambda W|_F / |lambda W|_F at or below which a layer counts as stationary.
STATIONARITY_TOL = 0.01
#: largest centred logit at or below which the network counts as in GC's Stage I.
GC_STAGE_I_LOGIT = 0.1
#: 1 - cos(P(Y - Y_hat), P Y) at or below which the network counts as in Li2's independent stage.
LI2_STAGE_TOL = 0.05

STATIONARITY_TEXT = ("stationary point of loss + lambda/2 |W|^2 (coupled decay) in this layer's W: "
                     "|grad_W loss + lambda W|_F / |lambda W|_F <= {tol:g}")


@dataclass
class Premise:
    """A statement's premise: ``text``, the measured ``gap`` (None when there is nothing to measure), the
    ``tolerance`` it is compared with, and whether it is ``met``."""

    text: str
    met: bool
    gap: float | None = None
    tolerance: float | None = None
    kind: str = "none"          # "stationarity", "stage", "none"


def layer_groups(network: TwoLayerNetwork) -> dict[str, tuple[str, ...]]:
    """The parameters of each layer of :mod:`symflow.theories.layers`: embedding ``W = [theta1 | theta2]``
    (``theta`` when shared), read-out ``W = xi^T``."""
    return {"embedding": ("theta",) if network.shared else ("theta1", "theta2"), "readout": ("xi",)}


def stationarity_gap(network: TwoLayerNetwork, weight_decay: float, pairs=None,
                     reduction: str = "mean") -> dict[str, float]:
    """``{layer: |grad_W loss + lambda W|_F / |lambda W|_F}`` (``inf`` when ``lambda W = 0``): the one definition,
    :func:`symflow.dynamics.training.stationarity_gap`, over each layer's parameters."""
    groups = layer_groups(network)
    gaps = _tensor_gap(network, weight_decay, pairs, reduction, groups=tuple(groups.values()))
    return {name: gaps["+".join(names)] for name, names in groups.items()}


def stationarity(gap: float, tol: float = STATIONARITY_TOL) -> Premise:
    """FACT's and CRH's premise on a layer with stationarity gap ``gap``: met when ``gap <= tol``."""
    return Premise(STATIONARITY_TEXT.format(tol=tol), bool(np.isfinite(gap) and gap <= tol), float(gap), tol,
                   "stationarity")


def no_premise(text: str = "none: an ansatz about trained networks (no stationarity condition)") -> Premise:
    return Premise(text, True)


def gc_stage_one(network: TwoLayerNetwork, pairs=None, tol: float = GC_STAGE_I_LOGIT) -> Premise:
    """GC's Stage I: ``max_p max_k |z_pk - mean_k z_pk| <= tol`` (small logits)."""
    z = network.logits(pairs)
    gap = float(np.max(np.abs(z - z.mean(axis=1, keepdims=True)))) if z.size else 0.0
    return Premise(f"GC Stage I: small logits, max |z - mean z| <= {tol:g}", bool(gap <= tol), gap, tol, "stage")


def li2_stage(network: TwoLayerNetwork, pairs=None, tol: float = LI2_STAGE_TOL) -> Premise:
    """Li2's independent stage: MSE loss and ``1 - cos(P (Y - Y_hat), P Y) <= tol``."""
    text = f"Li2 independent stage: MSE loss and 1 - cos(P(Y - Y_hat), P Y) <= {tol:g}"
    if network.loss_name != "mse":
        return Premise(text + f" (this network's loss is {network.loss_name.upper()})", False, None, tol, "stage")
    ps = as_pairs(network.group, pairs)
    Y = np.eye(network.group.order)[ps.y]
    R = Y - network.logits(ps)
    PY, PR = Y - Y.mean(axis=0), R - R.mean(axis=0)
    gap = 1.0 - cosine(PR, PY)
    return Premise(text, bool(gap <= tol), gap, tol, "stage")
