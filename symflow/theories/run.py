r"""Every theory's statement next to its measurement, on one network, over training.

:func:`measure` evaluates all statements on a network (its layers on the training pairs) and returns
:class:`Row` s; :func:`run_theories` builds and trains a network (:func:`symflow.dynamics.training.train`,
unconstrained, weight decay coupled or decoupled), measuring at the chosen steps, optionally repeats the
training over a list of weight decays, and returns a :class:`TheoriesResult` whose ``to_json()`` is the
contract of ``symflow theories`` (:mod:`symflow.commands.theories`).

Verdicts: a row *holds* when ``value <= tolerance`` for a residual or error metric and ``value >= tolerance``
for a correlation or fraction (``holds_if`` says which).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..dynamics.network import TwoLayerNetwork, as_pairs
from ..errors import SymflowError
from ..provenance import versions
from ..validation import nontrivial_group
from .layers import LAYERS, layers, regularised_gradient
from .statements import backward_fact, crh, fact, nfa, power_laws

#: Default tolerances (see the module doc for the direction of each).
TOLERANCES = {"FACT": 0.05, "backward FACT": 0.05, "NFA": 0.9, "CRH": 0.9, "GC aligned": 0.9,
              "GC Omega*": 0.05, "Li2 maxima": 0.9}


@dataclass
class Row:
    name: str
    statement: str
    layer: str
    metric: str
    value: float
    tolerance: float
    holds_if: str          # "<=" or ">="

    @property
    def holds(self) -> bool:
        if not np.isfinite(self.value):
            return False
        return self.value <= self.tolerance if self.holds_if == "<=" else self.value >= self.tolerance

    @property
    def key(self) -> tuple:
        return (self.name, self.layer)


def measure(network: TwoLayerNetwork, weight_decay: float, pairs=None, reduction: str = "mean",
            observables: bool = True, tolerances: dict | None = None) -> list[Row]:
    """All statements on ``network`` trained with decay ``lambda = weight_decay`` (``lambda/2 |W|^2``) on ``pairs``."""
    tol = dict(TOLERANCES, **(tolerances or {}))
    rows: list[Row] = []
    L = layers(network, pairs, reduction)
    for name in LAYERS:
        layer = L[name]
        if weight_decay > 0:
            for st in (fact(layer, weight_decay), backward_fact(layer, weight_decay)):
                rows.append(Row(st.name, st.text, name, st.metric, st.value, tol[st.name], "<="))
        st = nfa(network, layer)
        rows.append(Row("NFA", st.text, name, st.metric, st.value, tol["NFA"], ">="))
        for st in crh(layer):
            rows.append(Row(st.name, st.text, name, st.metric, st.value, tol["CRH"], ">="))
        grad = regularised_gradient(layer, weight_decay)
        rows.append(Row("gradient", "|grad_W (loss + lambda/2 |W|^2)|_F / |lambda W|_F (0 at a critical point)", name,
                        "relative_gradient", float(np.linalg.norm(grad) / max(weight_decay * np.linalg.norm(layer.W), 1e-300))
                        if weight_decay > 0 else float(np.linalg.norm(grad)), tol["FACT"], "<="))
    if observables:
        from .observables import gc_observables, li2_observables

        gc = gc_observables(network)
        rows.append(Row("GC aligned", "one irrep orbit per neuron, rank one, rotationally aligned", "neurons",
                        "fraction", gc["aligned_fraction"], tol["GC aligned"], ">="))
        rows.append(Row("GC Omega*", "neuron energy on the unit spheres = Omega* of its orbit", "neurons",
                        "median |Omega/Omega* - 1|", gc["omega_error"], tol["GC Omega*"], "<="))
        li = li2_observables(network)
        rows.append(Row("Li2 maxima", "hidden units at local maxima of the Li2 energy on the sphere", "neurons",
                        "fraction", li["maximum_fraction"], tol["Li2 maxima"], ">="))
    return rows


@dataclass
class TheoriesResult:
    group: str
    settings: dict
    rows: list
    over_training: dict                       # (name, layer) -> [[step, value], ...]
    power_laws: list
    exponent_table: list
    fact_table: list
    sweep: list = field(default_factory=list)  # [{"weight_decay", "values": {name|layer: value}}]
    history: object = None
    interrupted: bool = False
    wall_time: float = 0.0

    @property
    def training(self) -> dict:
        """Final train loss, accuracy and parameter norm, and a note when the network collapsed towards ``W = 0``
        (a critical point where every statement is trivially or vacuously met; lower the decay)."""
        h = self.history
        if h is None or len(h) == 0:
            return {}
        out = {"steps_done": int(h.step[-1]), "loss": float(h.train_loss[-1]), "accuracy": float(h.train_acc[-1]),
               "param_norm": float(h.param_norm[-1]), "notes": []}
        if out["accuracy"] < 0.5 and out["param_norm"] < 0.1 * float(h.param_norm[0]):
            out["notes"].append("the network collapsed towards W = 0 (accuracy "
                                f"{out['accuracy']:.2f}): the weight decay dominates; lower --weight-decay")
        return out

    def to_json(self) -> dict:
        theories = []
        for r in self.rows:
            theories.append({"name": r.name, "statement": r.statement, "layer": r.layer, "metric": r.metric,
                             "value": _num(r.value), "tolerance": _num(r.tolerance), "holds_if": r.holds_if,
                             "holds": bool(r.holds),
                             "over_training": [[int(s), _num(v)] for s, v in self.over_training.get(r.key, [])]})
        return {"group": self.group, "settings": self.settings, "training": self.training, "theories": theories,
                "power_laws": [p.to_json() for p in self.power_laws], "exponent_table": self.exponent_table,
                "fact_coefficients": self.fact_table,
                "weight_decay_sweep": self.sweep, "interrupted": self.interrupted,
                "wall_time": round(self.wall_time, 3), "versions": versions("sympy")}


def _num(v):
    v = float(v)
    return v if np.isfinite(v) else None


def build_network(group, width: int, loss: str = "ce", shared: bool = False, activation="quad",
                  init_scale: float = 1.0, seed: int = 0) -> TwoLayerNetwork:
    """The network :func:`run_theories` trains: Gaussian init, scale ``a = M`` (so ``f = sum_m xi_m sigma(.)``)."""
    return TwoLayerNetwork(group, width, shared=shared, activation=activation, scale=float(width), seed=seed,
                           init="gaussian", init_scale=init_scale, loss=loss)


def _record_steps(steps: int, points: int) -> int:
    return max(1, steps // max(points, 1))


def run_theories(group, weight_decay: float = 3e-3, optimizer: str = "gd", loss: str = "ce", steps: int = 3000,
                 lr: float | None = None, width: int = 16, shared: bool = False, activation="quad",
                 init_scale: float = 0.3, seed: int = 0, reduction: str = "mean", batch_size: int | None = None,
                 points: int = 30, sweep=(), progress: bool = False, tolerances: dict | None = None,
                 record_at=None) -> TheoriesResult:
    """Train a network on ``group``'s whole table and measure every theory at ``points`` evenly spaced steps
    (or at the steps ``record_at``, plus 0 and the last); then, for each decay in ``sweep``, train a fresh
    network (same seed) and record the final values."""
    from ..dynamics.training import train
    from ..groups import as_group
    from .symbolic import exponent_table, fact_table

    G = nontrivial_group(as_group(group), "training")
    if not weight_decay > 0:
        raise SymflowError(f"--weight-decay must be > 0 (FACT is a statement about weight decay), got {weight_decay}")
    if lr is None:
        lr = 0.05 if optimizer in ("gd", "sgd") else 0.01
    settings = {"weight_decay": weight_decay, "optimizer": optimizer, "loss": loss, "steps": steps, "lr": lr,
                "width": width, "shared": shared, "activation": str(activation), "init_scale": init_scale,
                "seed": seed, "reduction": reduction, "batch_size": batch_size, "points": points,
                "decay_convention": "lambda/2 |W|^2 (lambda W added to the gradient; decoupled for adamw)",
                "sweep": list(sweep)}
    chosen = None
    every = _record_steps(steps, points)
    if record_at is not None:
        chosen = sorted({0, steps} | {int(k) for k in record_at})
        if chosen[0] < 0 or chosen[-1] > steps:
            raise SymflowError(f"record_at steps must lie in 0..{steps}, got {list(record_at)}")
        every = math.gcd(*chosen) if len(chosen) > 1 else max(steps, 1)
        every = max(every, 1)
        settings["record_at"] = chosen
    t0 = time.perf_counter()

    def one(decay, record):
        net = build_network(G, width, loss, shared, activation, init_scale, seed)
        over: dict = {}

        def cb(step, network):
            if record and (chosen is None or step in chosen or step == steps):
                for r in measure(network, decay, None, reduction, observables=True, tolerances=tolerances):
                    over.setdefault(r.key, []).append([step, r.value])
            return False

        opt = "gd" if optimizer == "sgd" and batch_size is None else optimizer
        hist = train(net, steps, lr, optimizer=opt, constraint="none", weight_decay=decay, reduction=reduction,
                     batch_size=batch_size, seed=seed, record_every=every, snapshots=False,
                     callback=cb, progress=progress)
        return net, over, hist

    net, over, hist = one(weight_decay, True)
    rows = measure(net, weight_decay, None, reduction, observables=True, tolerances=tolerances)
    L = layers(net, None, reduction)
    laws = [p for name in LAYERS for p in power_laws(L[name], seed=seed)]
    sweep_rows = []
    interrupted = hist.interrupted
    # each decay trained once: the main run is already the point at its own decay (same seed, same values)
    for decay in dict.fromkeys(float(d) for d in sweep if float(d) != float(weight_decay)):
        if interrupted:
            break
        snet, _, shist = one(decay, False)
        interrupted = shist.interrupted
        vals = {f"{r.name}|{r.layer}": _num(r.value) for r in measure(snet, float(decay), None, reduction,
                                                                      observables=False)}
        sweep_rows.append({"weight_decay": float(decay), "values": vals, "complete": not shist.interrupted})
    if sweep_rows:    # the main run is one point of the sweep
        sweep_rows.append({"weight_decay": float(weight_decay), "values": {f"{r.name}|{r.layer}": _num(r.value)
                                                                            for r in rows}, "complete": not hist.interrupted})
        sweep_rows.sort(key=lambda r: r["weight_decay"])
    return TheoriesResult(G.name, settings, rows, over, laws, exponent_table(), fact_table(), sweep_rows, hist,
                          interrupted, time.perf_counter() - t0)
