r"""Every theory's statement next to its measurement, on one network, over training.

:func:`measure` evaluates all statements on a network (its layers on the training pairs) and returns
:class:`Row` s; :func:`run_theories` builds and trains a network (:func:`symflow.dynamics.training.train`,
unconstrained, weight decay coupled or decoupled), measuring at the chosen steps, optionally repeats the
training over a list of weight decays, and returns a :class:`TheoriesResult` whose ``to_json()`` is the
contract of ``symflow theories`` (:mod:`symflow.commands.theories`).

Verdicts: a row *holds* when ``value <= tolerance`` for a residual or error metric and ``value >= tolerance``
for a correlation or fraction (``holds_if`` says which), and only where its premise
(:mod:`symflow.theories.premises`) is met: FACT, backward FACT and CRH need a stationary point of the coupled
regularised loss (stationarity gap ``|grad_W loss + lambda W|_F / |lambda W|_F <= STATIONARITY_TOL``), GC its
Stage I, Li2 its independent stage, NFA nothing. A row whose premise is not met has ``holds = None`` and the
verdict ``"premise not met"``, with the measured gap.

Training to stationarity: after the ``steps`` of the chosen optimiser, :func:`run_theories` runs a final
full-batch phase (:func:`symflow.dynamics.training.train_to_stationarity`, at most ``stationary_steps`` steps)
until the gap is ``<= STATIONARITY_TOL``: gradient descent on the coupled regularised loss for gd, sgd and adam
(their stationary points are those of that loss), AdamW itself for adamw (its decay is decoupled, so what it
can reach is a stationary point of the loss alone, ``|grad_W loss| / |lambda W| <= tol``, where the coupled gap
is 1 and FACT's premise fails by construction).
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
from .layers import LAYERS, layers
from .premises import (STATIONARITY_TOL, Premise, gc_stage_one, layer_groups, li2_stage, no_premise,
                       stationarity, stationarity_gap)
from .statements import backward_fact, crh, fact, nfa, power_laws

#: Default tolerances (see the module doc for the direction of each).
TOLERANCES = {"FACT": 0.05, "backward FACT": 0.05, "NFA": 0.9, "CRH": 0.9, "GC aligned": 0.9,
              "GC Omega*": 0.05, "Li2 maxima": 0.9, "gradient": STATIONARITY_TOL}

#: default maximum steps and step size of the final full-batch phase to stationarity (GD; AdamW keeps its lr).
STATIONARY_STEPS = 50000
STATIONARY_LR = 2.0

PREMISE_NOT_MET = "premise not met"

ADAMW_NOTE = ("adamw decays decoupled (W <- W - lr lambda W): its fixed points satisfy mhat/(sqrt(vhat) + eps) = "
              "-lambda W, not grad loss + lambda W = 0, so it approaches a stationary point of the loss alone "
              "(|grad_W loss| / |lambda W| = {loss_gap:.2g}) where the coupled gap is {gap:.3g}: FACT's and CRH's "
              "premise cannot be met")


@dataclass
class Row:
    name: str
    statement: str
    layer: str
    metric: str
    value: float
    tolerance: float
    holds_if: str          # "<=" or ">="
    premise: Premise = field(default_factory=no_premise)
    stationarity_gap: float | None = None    # the layer's gap (layer rows), whatever the premise

    @property
    def holds(self) -> bool | None:
        """The verdict: True/False where the premise is met, None where it is not."""
        if not self.premise.met:
            return None
        if not np.isfinite(self.value):
            return False
        return self.value <= self.tolerance if self.holds_if == "<=" else self.value >= self.tolerance

    @property
    def verdict(self) -> str:
        """``"holds"``, ``"fails"`` or ``"premise not met"``."""
        h = self.holds
        return PREMISE_NOT_MET if h is None else ("holds" if h else "fails")

    @property
    def key(self) -> tuple:
        return (self.name, self.layer)


def measure(network: TwoLayerNetwork, weight_decay: float, pairs=None, reduction: str = "mean",
            observables: bool = True, tolerances: dict | None = None) -> list[Row]:
    """All statements on ``network`` trained with decay ``lambda = weight_decay`` (``lambda/2 |W|^2``) on ``pairs``,
    each with its premise (:mod:`symflow.theories.premises`; ``tolerances["gradient"]`` is the stationarity
    tolerance). ``weight_decay = 0``: FACT is not stated and the stationarity rows' premise is not met."""
    tol = dict(TOLERANCES, **(tolerances or {}))
    rows: list[Row] = []
    L = layers(network, pairs, reduction)
    gaps = stationarity_gap(network, weight_decay, pairs, reduction) if weight_decay > 0 else {}
    for name in LAYERS:
        layer = L[name]
        if weight_decay > 0:
            gap = gaps[name]
            still = stationarity(gap, tol["gradient"])
        else:
            gap = None
            still = Premise("stationary point of loss + lambda/2 |W|^2 with lambda > 0 (here lambda = 0)", False,
                            None, tol["gradient"], "stationarity")
        if weight_decay > 0:
            for st in (fact(layer, weight_decay), backward_fact(layer, weight_decay)):
                rows.append(Row(st.name, st.text, name, st.metric, st.value, tol[st.name], "<=", still, gap))
        st = nfa(network, layer)
        rows.append(Row("NFA", st.text, name, st.metric, st.value, tol["NFA"], ">=", no_premise(), gap))
        for st in crh(layer):
            rows.append(Row(st.name, st.text, name, st.metric, st.value, tol["CRH"], ">=", still, gap))
        value = gap if gap is not None else float(np.linalg.norm(layer.grad_W()))
        rows.append(Row("gradient", "|grad_W (loss + lambda/2 |W|^2)|_F / |lambda W|_F (0 at a critical point)", name,
                        "relative_gradient", value, tol["gradient"], "<=",
                        no_premise("none: this row measures the stationarity premise of FACT and CRH"), gap))
    if observables:
        from .observables import gc_observables, li2_observables

        gc = gc_observables(network)
        stage = gc_stage_one(network, pairs)
        rows.append(Row("GC aligned", "one irrep orbit per neuron, rank one, rotationally aligned", "neurons",
                        "fraction", gc["aligned_fraction"], tol["GC aligned"], ">=", stage))
        rows.append(Row("GC Omega*", "neuron energy on the unit spheres = Omega* of its orbit", "neurons",
                        "median |Omega/Omega* - 1|", gc["omega_error"], tol["GC Omega*"], "<=", stage))
        li = li2_observables(network)
        rows.append(Row("Li2 maxima", "hidden units at local maxima of the Li2 energy on the sphere", "neurons",
                        "fraction", li["maximum_fraction"], tol["Li2 maxima"], ">=", li2_stage(network, pairs)))
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
    stationary: object = None                 # the StationaryPhase of the main run (None: no final phase)

    @property
    def training(self) -> dict:
        """Final train loss, accuracy and parameter norm, and a note when the network collapsed towards ``W = 0``
        (a critical point where every statement is trivially or vacuously met; lower the decay)."""
        h = self.history
        if h is None or len(h) == 0:
            return {}
        last = h
        if self.stationary is not None and self.stationary.histories:   # the network measured: after the final phase
            last = self.stationary.histories[-1]
        out = {"steps_done": int(h.step[-1]), "loss": float(last.train_loss[-1]), "accuracy": float(last.train_acc[-1]),
               "param_norm": float(last.param_norm[-1]), "notes": []}
        if out["accuracy"] < 0.5 and out["param_norm"] < 0.1 * float(h.param_norm[0]):
            out["notes"].append("the network collapsed towards W = 0 (accuracy "
                                f"{out['accuracy']:.2f}): the weight decay dominates; lower --weight-decay")
        ph = self.stationary
        if ph is not None:
            out["stationary_phase"] = ph.to_json()
            gaps = {r.layer: r.stationarity_gap for r in self.rows if r.name == "gradient"}
            out["stationarity_gap"] = {k: _num(v) for k, v in gaps.items()}
            if not ph.coupled:
                out["notes"].append(ADAMW_NOTE.format(loss_gap=ph.gap, gap=max(v for v in gaps.values())))
            elif not ph.reached:
                out["notes"].append(f"the final full-batch phase stopped at stationarity gap {ph.gap:.3g} > "
                                    f"{ph.tol:g} after {ph.steps} steps" +
                                    (" (interrupted)" if ph.interrupted else "; raise --stationary-steps"))
        return out

    def to_json(self) -> dict:
        theories = []
        for r in self.rows:
            theories.append({"name": r.name, "statement": r.statement, "layer": r.layer, "metric": r.metric,
                             "value": _num(r.value), "tolerance": _num(r.tolerance), "holds_if": r.holds_if,
                             "holds": r.holds if r.holds is None else bool(r.holds), "verdict": r.verdict,
                             "premise": r.premise.text, "premise_met": bool(r.premise.met),
                             "premise_gap": None if r.premise.gap is None else _num(r.premise.gap),
                             "premise_tolerance": r.premise.tolerance,
                             "stationarity_gap": None if r.stationarity_gap is None else _num(r.stationarity_gap),
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
                 record_at=None, stationary_steps: int = STATIONARY_STEPS,
                 stationary_lr: float = STATIONARY_LR) -> TheoriesResult:
    """Train a network on ``group``'s whole table and measure every theory at ``points`` evenly spaced steps
    (or at the steps ``record_at``, plus 0 and the last); then train it to stationarity (a final full-batch
    phase of at most ``stationary_steps`` steps, module doc; 0: none) and measure again at the step reached;
    then, for each decay in ``sweep``, train a fresh network (same seed, same final phase) and record the final
    values."""
    from ..dynamics.training import train, train_to_stationarity
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
                "sweep": list(sweep),
                "stationarity": {"tolerance": (tolerances or {}).get("gradient", STATIONARITY_TOL),
                                 "max_steps": int(stationary_steps),
                                 "optimizer": "adamw" if optimizer == "adamw" else "gd",
                                 "lr": lr if optimizer == "adamw" else stationary_lr,
                                 "gap": "|grad_W loss + lambda W|_F / |lambda W|_F per layer"}}
    stat_tol = settings["stationarity"]["tolerance"]
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
        phase = None
        if stationary_steps > 0 and not hist.interrupted:
            st = settings["stationarity"]
            phase = train_to_stationarity(net, decay, stat_tol, st["lr"], stationary_steps, st["optimizer"],
                                          reduction=reduction, groups=tuple(layer_groups(net).values()),
                                          progress=progress)
        return net, over, hist, phase

    net, over, hist, phase = one(weight_decay, True)
    rows = measure(net, weight_decay, None, reduction, observables=True, tolerances=tolerances)
    if phase is not None and phase.steps:          # the point reached by the final phase, on the same axis
        for r in rows:
            over.setdefault(r.key, []).append([steps + phase.steps, r.value])
    L = layers(net, None, reduction)
    laws = [p for name in LAYERS for p in power_laws(L[name], seed=seed)]
    sweep_rows = []
    interrupted = hist.interrupted or (phase is not None and phase.interrupted)

    def sweep_row(decay, srows, complete):
        return {"weight_decay": float(decay), "values": {f"{r.name}|{r.layer}": _num(r.value) for r in srows},
                "premise_met": {f"{r.name}|{r.layer}": bool(r.premise.met) for r in srows
                                if r.premise.kind == "stationarity"},
                "stationarity_gap": {r.layer: _num(r.value) for r in srows if r.name == "gradient"},
                "complete": complete}

    # each decay trained once: the main run is already the point at its own decay (same seed, same values)
    for decay in dict.fromkeys(float(d) for d in sweep if float(d) != float(weight_decay)):
        if interrupted:
            break
        snet, _, shist, sphase = one(float(decay), False)
        interrupted = shist.interrupted or (sphase is not None and sphase.interrupted)
        sweep_rows.append(sweep_row(decay, measure(snet, float(decay), None, reduction, observables=False,
                                                   tolerances=tolerances), not interrupted))
    if sweep_rows:    # the main run is one point of the sweep
        sweep_rows.append(sweep_row(weight_decay, rows, not hist.interrupted))
        sweep_rows.sort(key=lambda r: r["weight_decay"])
    return TheoriesResult(G.name, settings, rows, over, laws, exponent_table(), fact_table(), sweep_rows, hist,
                          interrupted, time.perf_counter() - t0, phase)
