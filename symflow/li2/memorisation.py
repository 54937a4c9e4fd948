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

Li2's Thm 5 is stated in another setting (:class:`SampledTarget`): only the pairs ``(g, g^-1 h)`` of one
target ``h`` are sampled, with probabilities ``p_g``; with one target there is nothing to centre, so
``E_p(w) = 1/2 (sum_g p_g sigma(s_g))^2``, ``s_g = u_g + v_{g^-1 h}`` (each ``u_g`` and each ``v_b`` enters
one ``s_g``). For fixed ``s`` the sphere costs least at ``u_g = v_{g^-1 h} = s_g / 2``, so ``sum s_g^2 = 2``,
and the Lagrange condition is ``p_g sigma'(s_g) = mu s_g``, i.e. ``phi(s_g) = mu / p_g`` with
``phi(x) = sigma'(x) / x`` [derived; the paper's ``2 lambda`` is ``mu``]. :func:`phi_criterion` reads ``phi``
on ``x > 0`` from the one activation object: non-decreasing (``x^2``: constant 2; ``x^3``: ``3x``) predicts
**focused** memorisation, ``w = (e_g*, e_{g*^-1 h}) / sqrt 2``, ``s_g* = sqrt 2`` (for ``x^2`` at
``g* = argmax p``: ``E = 1/2 (2 p_g*)^2``); strictly decreasing (ReLU ``1/x``, SiLU, tanh ``sech^2 x / x``)
predicts **spreading**, ``s_g = phi^-1(mu / p_g)`` with ``mu`` fixed by ``sum s_g^2 = 2``
(:func:`spreading_responses`; ReLU: ``s = sqrt 2 p / |p|``).
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError
from ..landscape.search import Ascent, ascend
from ..neuron.activation import as_activation
from ..neuron.geometry import StackedGeometry
from ..validation import integer
from .core import ACTIVATIONS, check_activation, li2_model


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


#: Where :func:`phi_criterion` reads ``phi = sigma'(x)/x``: a geometric grid of ``x > 0``.
PHI_GRID = np.geomspace(1e-3, 10.0, 2001)


def phi(activation, x) -> np.ndarray:
    """``phi(x) = sigma'(x) / x`` of the activation (the one activation object's derivative)."""
    x = np.asarray(x, dtype=float)
    return as_activation(activation).dsigma(x) / x


def phi_criterion(activation, grid=PHI_GRID) -> dict:
    """Thm 5's criterion for ``activation`` on ``x > 0`` (``grid``): ``phi`` "constant" (relative variation below
    1e-12), "increasing" (non-decreasing), "decreasing" (strictly) or "neither"; the prediction is "focused" for
    constant or increasing ``phi``, "spreading" for decreasing ``phi``, ``None`` otherwise."""
    v = phi(activation, grid)
    d = np.diff(v)
    scale = max(float(np.max(np.abs(v))), 1e-300)
    if np.all(np.abs(d) <= 1e-12 * scale):
        shape = "constant"
    elif np.all(d >= -1e-12 * scale):
        shape = "increasing"
    elif np.all(d < 0):
        shape = "decreasing"
    else:
        shape = "neither"
    return {"activation": check_activation(activation), "phi": shape, "phi_at": {"0.1": float(phi(activation, 0.1)),
            "1": float(phi(activation, 1.0)), "3": float(phi(activation, 3.0))},
            "predicted": {"constant": "focused", "increasing": "focused", "decreasing": "spreading"}.get(shape)}


def _phi_inverse(activation, y) -> np.ndarray:
    """``x > 0`` with ``phi(x) = y`` for a strictly decreasing ``phi`` (bisection in ``log x`` on ``[1e-9, 1e3]``)."""
    y = np.asarray(y, dtype=float)
    lo, hi = np.full(y.shape, np.log(1e-9)), np.full(y.shape, np.log(1e3))
    for _ in range(200):
        mid = (lo + hi) / 2
        big = phi(activation, np.exp(mid)) > y            # phi decreasing: phi(x) > y -> x is too small
        lo, hi = np.where(big, mid, lo), np.where(big, hi, mid)
    return np.exp((lo + hi) / 2)


def spreading_responses(activation, p) -> np.ndarray:
    """Thm 5's spreading maximum: ``s_g = phi^-1(mu / p_g)`` with ``mu`` such that ``sum s_g^2 = 2`` (bisection in
    ``log mu``; ``sum s^2`` falls as ``mu`` grows)."""
    p = np.asarray(p, dtype=float)
    lo, hi = np.log(1e-12), np.log(1e12)
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.sum(_phi_inverse(activation, np.exp(mid) / p) ** 2) > 2:
            lo = mid
        else:
            hi = mid
    return _phi_inverse(activation, np.exp((lo + hi) / 2) / p)


class SampledTarget:
    """Thm 5's energy ``E_p(w) = 1/2 (sum_g p_g sigma(u_g + v_{g^-1 h}))^2`` (module doc) on the sphere of Li2's
    model (:func:`~symflow.li2.core.li2_model`: its activation and geometry), ascended by the landscape's ascent."""

    def __init__(self, group, p, target: int = 1, activation: str = "x^2"):
        self.model = li2_model(group, None, activation)
        self.group, self.n = group, group.order
        self.target = integer(target, "target", minimum=0)
        self.p = np.asarray(p, dtype=float)
        if self.p.shape != (self.n,) or np.any(self.p <= 0):
            raise SymflowError(f"p must be {self.n} positive sampling probabilities, one per g, got shape {self.p.shape}")
        table, inv = np.asarray(group.table), np.asarray(group.inverse)
        self.partner = table[inv, self.target]                           # g^-1 h, the partner of g

    def pre(self, x) -> np.ndarray:
        """``s_g = u_g + v_{g^-1 h}``, shape ``(..., n)``."""
        x = np.asarray(x, dtype=float)
        return x[..., :self.n] + x[..., self.n:][..., self.partner]

    def energy_gradient(self, x):
        """``(E_p, dE_p/dw)``: ``F = sum p sigma(s)``, ``dE/du_g = F p_g sigma'(s_g) = dE/dv_{g^-1 h}``."""
        s = self.pre(x)
        act = self.model.sigma
        F = (self.p * act.sigma(s)).sum(-1)
        ds = F[..., None] * self.p * act.dsigma(s)
        gv = np.zeros_like(ds)
        gv[..., self.partner] = ds
        return 0.5 * F * F, np.concatenate([ds, gv], axis=-1)

    def ascend(self, x, steps: int = 3000) -> Ascent:
        return ascend(self.model, x, steps=steps, objective=self.energy_gradient)


def thm5_regime(group, activation, starts: int = 32, seed: int = 0, target: int = 1, steps: int = 3000) -> dict:
    """Thm 5 measured in its own setting (:class:`SampledTarget`, probabilities ``p_g`` proportional to
    ``1 + k/n`` in a seeded order): per start the participation ratio of ``s_g^2`` (1 = one sample); "focused"
    when the median is below 2, else "spread"; for focused maxima the share on ``g* = argmax p``, for spread ones
    the largest relative error of ``|s|`` against :func:`spreading_responses` (the farther sign branch excluded:
    odd activations have ``-s`` too)."""
    n = group.order
    rng = np.random.default_rng(seed)
    p = 1 + rng.permutation(n) / n
    p = p / p.sum()
    P = SampledTarget(group, p, target, activation)
    x, E, res, _ = P.ascend(rng.normal(size=(starts, 2 * n)), steps=steps)
    s = P.pre(x)
    pr = participation(s)
    med = float(np.median(pr))
    out = {"regime": "focused" if med < 2 else "spread", "participation_median": med,
           "participation_range": [float(pr.min()), float(pr.max())], "energy_max": float(E.max()),
           "residual_max": float(np.max(res))}
    if med < 2:
        top = np.argmax(np.abs(s), axis=1)
        out["share_on_argmax_p"] = float(np.mean(top == int(np.argmax(p))))
        out["s_top_median"] = float(np.median(np.max(np.abs(s), axis=1)))      # predicted sqrt 2
    elif phi_criterion(activation)["phi"] == "decreasing":
        pred = spreading_responses(activation, p)
        err = np.max(np.abs(np.abs(s) - pred), axis=1) / np.max(pred)
        out["spreading_error_median"] = float(np.median(err))
        out["spreading_share"] = float(np.mean(err < 1e-3))       # starts at the predicted spreading maximum
    return out


def participation(r) -> np.ndarray:
    """``(sum r^2)^2 / sum r^4`` over the last axis: 1 = one sample, ``n`` = evenly spread."""
    e = np.asarray(r) ** 2
    return e.sum(-1) ** 2 / np.maximum((e ** 2).sum(-1), 1e-300)


def regimes(group, activations=ACTIVATIONS, starts: int = 64, seed: int = 0, target: int = 1,
            steps: int = 3000) -> dict:
    """Per activation: on the full table (``E_h0``, centred) the maxima energies, the participation ratio of the
    responses on the target's samples (median and range) and the regime (focused if the median is below 2, else
    spread); Thm 5's criterion (:func:`phi_criterion`), its setting measured (:func:`thm5_regime`, ``thm5``) and the
    ``verdict``: "agrees" when the regime measured in Thm 5's setting is the one ``phi`` predicts."""
    n = group.order
    out = {"group": group.name, "order": n, "target": target, "starts": starts, "seed": seed, "activations": {}}
    x0 = np.random.default_rng(seed).normal(size=(starts, 2 * n))
    for act in activations:
        act = check_activation(act)
        P = SingleTarget(group, target, act)
        x, E, res, _ = P.ascend(x0, steps=steps)
        pr = participation(P.responses(x))
        med = float(np.median(pr))
        crit = phi_criterion(act)
        thm5 = thm5_regime(group, act, starts=starts, seed=seed, target=target, steps=steps)
        agrees = {"focused": "focused", "spreading": "spread"}.get(crit["predicted"]) == thm5["regime"]
        out["activations"][act] = {"energy_max": float(E.max()), "energy_median": float(np.median(E)),
                                   "participation_median": med, "participation_range": [float(pr.min()), float(pr.max())],
                                   "regime": "focused" if med < 2 else "spread",
                                   "predicted": ({"energy": 0.5, "regime": "spread", "flat_dimension": n - 2}
                                                 if act == "x^2" else None),
                                   "criterion": crit, "thm5": thm5, "verdict": "agrees" if agrees else "disagrees"}
    return out
