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

from ..landscape.search import Ascent, ascend
from ..neuron.geometry import StackedGeometry
from ..validation import integer
from .core import check_activation, li2_model


class SingleTarget:
    """``E_h0`` (module doc) on the sphere of Li2's model ``w = [u; v]`` (:func:`~symflow.li2.core.li2_model`:
    its activation and geometry), brought to maxima by the landscape's ascent with this energy."""

    def __init__(self, group, target: int = 1, activation: str = "x^2"):
        self.model = li2_model(group, None, activation)
        self.group = group
        self.n = group.order
        self.table = np.asarray(group.table)
        self.target = integer(target, "target", minimum=0)
        self.y = (self.table == self.target).astype(float) - 1.0 / self.n      # (n, n)

    def _pre(self, x):
        x = np.asarray(x, dtype=float)
        return x[..., :self.n, None] + x[..., None, self.n:]                  # (..., n, n): u_a + v_b

    def energy_gradient(self, x):
        """``(E_h0, dE_h0/dw)``: ``F = sum y~ sigma(S)``, ``E = F^2 / 2``, ``dE/du_a = F sum_b y~_ab sigma'(S_ab)``."""
        S = self._pre(x)
        act = self.model.sigma
        F = (self.y * act.sigma(S)).sum(axis=(-2, -1))
        dS = F[..., None, None] * self.y * act.dsigma(S)
        return 0.5 * F * F, np.concatenate([dS.sum(axis=-1), dS.sum(axis=-2)], axis=-1)

    def energy(self, x):
        return self.energy_gradient(x)[0]

    def gradient(self, x):
        return self.energy_gradient(x)[1]

    def ascend(self, x, steps: int = 3000) -> Ascent:
        """The landscape's projected ascent (:func:`symflow.landscape.search.ascend`) of ``E_h0``."""
        return ascend(self.model, x, steps=steps, objective=self.energy_gradient)

    def tangent_spectrum(self, x, h: float = 1e-5) -> np.ndarray:
        """Eigenvalues of the tangent Hessian ``P (nabla^2 E - <x, nabla E> I) P`` at a unit point ``x`` by
        central differences of the gradient, without the radial direction (``2n - 1`` values)."""
        x = np.asarray(x, dtype=float) / np.linalg.norm(x)
        I = np.eye(x.size)
        G = (self.gradient(x + h * I) - self.gradient(x - h * I)) / (2 * h)
        P = StackedGeometry.of(self.model).project_tangent(np.repeat(x[None], x.size, 0), I.copy())
        T = P @ ((G + G.T) / 2 - float(x @ self.gradient(x)) * I) @ P
        ev = np.linalg.eigvalsh(T)
        return np.sort(np.delete(ev, int(np.argmin(np.abs(ev)))))

    def responses(self, x):
        """``sigma(u_a + v_{a^-1 h0})`` over the ``n`` samples of the target, shape ``(..., n)``."""
        n = self.n
        inv = np.asarray(self.group.inverse)
        b = self.table[inv, self.target]                                 # a^-1 h0
        S = self._pre(x)
        return self.model.sigma(S[..., np.arange(n), b])


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
        x, E, res, _ = P.ascend(x0, steps=steps)
        pr = participation(P.responses(x))
        med = float(np.median(pr))
        out["activations"][act] = {"energy_max": float(E.max()), "energy_median": float(np.median(E)),
                                   "participation_median": med, "participation_range": [float(pr.min()), float(pr.max())],
                                   "regime": "focused" if med < 2 else "spread",
                                   "predicted": ({"energy": 0.5, "regime": "spread", "flat_dimension": n - 2}
                                                 if act == "x^2" else None)}
    return out
