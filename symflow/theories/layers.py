r"""The two-layer network seen as two bias-free linear layers ``h_b = W h_a``, with per-sample inputs,
outputs and loss gradients (what every theory of :mod:`symflow.theories` speaks about).

For :class:`~symflow.dynamics.network.TwoLayerNetwork` ``f = sum_m (a_m/M) xi_m sigma(theta1_m(g1) + theta2_m(g2))``
on pairs ``p = 1..P``:

* ``"embedding"``: ``W = [theta1 | theta2]`` (``M x 2n``; ``theta`` alone, ``M x n``, when shared),
  ``h_a = [e_g1; e_g2]`` (``e_g1 + e_g2`` when shared), ``h_b = W h_a`` = the pre-activations;
* ``"readout"``: ``W = xi^T`` (``n x M``), ``h_a = diag(a/M) sigma(h)``, ``h_b = W h_a`` = the logits.

Both ``W`` are the trained parameters themselves, so weight decay ``lambda/2 |W|^2`` (the trainer's
convention: ``lambda W`` added to the gradient) acts on exactly these matrices. ``g_b[:, p]`` is the gradient
of the training loss (with its reduction weight ``1/P`` or ``1``) with respect to ``h_b`` at sample ``p``
and ``g_a = W^T g_b``; so ``grad_W loss = g_b h_a^T`` (checked against the network's own gradients in the tests).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dynamics.network import REDUCTIONS, TwoLayerNetwork, as_pairs
from ..errors import SymflowError

LAYERS = ("embedding", "readout")


@dataclass
class Layer:
    """One bias-free layer ``h_b = W h_a`` over ``P`` samples (columns)."""

    name: str
    W: np.ndarray          # (out, in)
    h_a: np.ndarray        # (in, P)
    h_b: np.ndarray        # (out, P)
    g_b: np.ndarray        # (out, P): d loss / d h_b, reduction weight included
    weight: float          # the reduction weight w (1/P or 1)

    @property
    def g_a(self) -> np.ndarray:
        return self.W.T @ self.g_b

    @property
    def samples(self) -> int:
        return self.h_a.shape[1]

    def grad_W(self) -> np.ndarray:
        """``d loss / dW = g_b h_a^T``."""
        return self.g_b @ self.h_a.T

    # second moments (per-sample averages; the gradients are those of the per-sample loss, i.e. g / w)
    def H_a(self):
        return self.h_a @ self.h_a.T / self.samples

    def H_b(self):
        return self.h_b @ self.h_b.T / self.samples

    def G_a(self):
        g = self.g_a / self.weight
        return g @ g.T / self.samples

    def G_b(self):
        g = self.g_b / self.weight
        return g @ g.T / self.samples

    def Z_a(self):
        return self.W.T @ self.W

    def Z_b(self):
        return self.W @ self.W.T


def layers(network: TwoLayerNetwork, pairs=None, reduction: str = "mean") -> dict[str, Layer]:
    """``{"embedding": Layer, "readout": Layer}`` of ``network`` on ``pairs`` (None: the whole table)."""
    if not isinstance(network, TwoLayerNetwork):
        raise SymflowError(f"layers need a TwoLayerNetwork, got {type(network).__name__}")
    if reduction not in REDUCTIONS:
        raise SymflowError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    ps = as_pairs(network.group, pairs)
    n, M, P = network.group.order, network.width, len(ps)
    t1 = np.asarray(network.theta1, dtype=float)
    t2 = np.asarray(network.theta2, dtype=float)
    xi = np.asarray(network.xi, dtype=float)
    c = np.asarray(network.a, dtype=float) / M
    eye = np.eye(n)
    if network.shared:
        W1 = t1.copy()
        x = (eye[ps.g1] + eye[ps.g2]).T                       # (n, P)
    else:
        W1 = np.concatenate([t1, t2], axis=1)
        x = np.concatenate([eye[ps.g1], eye[ps.g2]], axis=1).T  # (2n, P)
    h = W1 @ x                                                # (M, P) pre-activations
    act = network.activation
    s = c[:, None] * act.sigma(h)                             # readout input
    z = xi.T @ s                                              # (n, P) logits
    w = 1.0 / P if reduction == "mean" else 1.0
    onehot = eye[ps.y].T
    if network.loss_name == "mse":
        r = z - onehot
    else:
        e = np.exp(z - z.max(axis=0, keepdims=True))
        r = e / e.sum(axis=0, keepdims=True) - onehot
    r = r * w                                                  # (n, P) = d loss / d logits
    dh = c[:, None] * act.dsigma(h) * (xi @ r)                 # (M, P) = d loss / d h
    return {"embedding": Layer("embedding", W1, x, h, dh, w),
            "readout": Layer("readout", xi.T.copy(), s, z, r, w)}


def regularised_gradient(layer: Layer, weight_decay: float, convention: str = "half") -> np.ndarray:
    """``d/dW (loss + lambda/2 |W|^2) = g_b h_a^T + lambda W`` (``convention="full"``: ``lambda |W|^2``, ``2 lambda W``)."""
    k = 1.0 if convention == "half" else 2.0
    return layer.grad_W() + k * weight_decay * layer.W
