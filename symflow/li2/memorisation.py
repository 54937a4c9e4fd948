r"""Memorisation regimes (Li2's Thm 5): the energy of a single target and whether its maxima focus on
one sample or spread over all samples of that target.

Single-target energy (full table, target ``h0``, its centred one-hot column ``y~ = 1[ab = h0] - 1/n``):
``E_h0(w) = 1/2 (sum_{a,b} y~_ab sigma(u_a + v_b))^2``.

Prediction for ``sigma = z^2`` (derived; checked in tests against the ascent): with ``pi(a) = a^-1 h0``,
``F = sum y~ sigma = 2 sum_a u_a v_pi(a) - (2/n) (sum u)(sum v)`` (the squares cancel exactly), a quadratic
form whose extreme eigenvalues are ``+-1`` on the unit sphere, reached at ``v = +-u o pi^-1`` with
``u`` orthogonal to the constants: ``E* = 1/2`` on an ``(n - 2)``-dimensional flat family, so a node's
response ``sigma(u_a + v_pi(a))`` over the ``n`` samples of ``h0`` is not pinned to one sample: ascent
from random starts ends **spread** (participation ratio of order ``n``). ReLU and SiLU are not
quadratic forms; :func:`regimes` measures where their maxima go (participation ratio of the node's
responses on the target's samples: 1 = focused on one sample, ``n`` = evenly spread).
"""
from __future__ import annotations

import numpy as np

from ..validation import integer
from .core import Li2Problem, check_activation, sigma


class SingleTarget(Li2Problem):
    """``E_h0`` (module doc) with the ascent of :class:`Li2Problem`."""

    def __init__(self, group, target: int = 1, activation: str = "x^2"):
        super().__init__(group, None, activation)
        self.target = integer(target, "target", minimum=0)
        n = self.n
        self.y = (self.table == self.target).astype(float) - 1.0 / n      # (n, n)

    def energy_gradient(self, x):
        S = self._pre(x)
        F = (self.y * sigma(self.activation, S)).sum(axis=(-2, -1))
        dS = F[..., None, None] * self.y * sigma(self.activation, S, derivative=True)
        return 0.5 * F * F, np.concatenate([dS.sum(axis=-1), dS.sum(axis=-2)], axis=-1)

    def energy(self, x):
        return self.energy_gradient(x)[0]

    def responses(self, x):
        """``sigma(u_a + v_{a^-1 h0})`` over the ``n`` samples of the target, shape ``(..., n)``."""
        n = self.n
        inv = np.asarray(self.group.inverse)
        b = self.table[inv, self.target]                                 # a^-1 h0
        S = self._pre(x)
        return sigma(self.activation, S[..., np.arange(n), b])


def participation(r) -> np.ndarray:
    """``(sum r^2)^2 / sum r^4`` over the last axis: 1 = one sample, ``n`` = evenly spread."""
    e = np.asarray(r) ** 2
    return e.sum(-1) ** 2 / np.maximum((e ** 2).sum(-1), 1e-300)


def regimes(group, activations=("x^2", "relu", "silu"), starts: int = 64, seed: int = 0, target: int = 1,
            steps: int = 3000) -> dict:
    """Per activation: the maxima energies, the participation ratio of the responses on the target's
    samples (median and range) and the regime (focused if the median is below 2, else spread)."""
    n = group.order
    out = {"group": group.name, "order": n, "target": target, "starts": starts, "seed": seed, "activations": {}}
    x0 = np.random.default_rng(seed).normal(size=(starts, 2 * n))
    for act in activations:
        act = check_activation(act)
        P = SingleTarget(group, target, act)
        x, E, res = P.ascend(x0, steps=steps)
        pr = participation(P.responses(x))
        med = float(np.median(pr))
        out["activations"][act] = {"energy_max": float(E.max()), "energy_median": float(np.median(E)),
                                   "participation_median": med, "participation_range": [float(pr.min()), float(pr.max())],
                                   "regime": "focused" if med < 2 else "spread",
                                   "predicted": ({"energy": 0.5, "regime": "spread", "flat_dimension": n - 2}
                                                 if act == "x^2" else None)}
    return out
