"""The orbit predictor next to one atlas task's landscape: predicted basins per orbit beside the measured ones.

Per task (group, setting) and non-trivial orbit ``O`` (and a ``dead`` row where a neuron ends, or is predicted
to end, at ``Omega = 0``):

* **predicted**: Monte Carlo on the predictor (:func:`symflow.dynamics.lottery.predicted_basins`, docs/theory.md
  section 14): the share of ``samples`` other uniform starts (seed ``seed + 1``) predicted on ``O``, pooled over
  ``O``'s class of exchangeable orbits (equal basins exactly), with its 95 % Wilson interval (the Monte Carlo
  error of the class's count, divided by the class's size; a point where symmetry alone fixes the fractions; the
  predictor's own bias is not in it);
* **predicted_same**: the share of the task's own starts (``uniform(model, starts, seed)``, the landscape's)
  predicted on ``O`` (with ``measured`` it shows the predictor's bias free of sampling noise);
* **measured**: the share of the task's starts whose kind has ``O`` as its dominant orbit (kinds of every rank and
  stability summed; a kind at ``Omega n^(3/2) <`` :data:`~symflow.dynamics.lottery.DEAD_OMEGA` is ``dead``), with
  its 95 % Wilson interval; **plancherel** ``|O| d^2 / (n - 1)``.

Per task, where the landscape kept each start's kind (:attr:`symflow.landscape.Landscape.start_kind`: a search in
one chunk), the **per-neuron agreement**: the predicted orbit of each converged start against its kind's dominant
orbit (the same rule), with the failures by ``"predicted->measured"`` label and the agreement among the starts
that ended on kinds of rank > 1, on saddles, and dead.
"""
from __future__ import annotations

import json
import time

import numpy as np

#: Uniform starts of the predictor's Monte Carlo basins per task (seed = the task's seed + 1), as ``symflow study``.
PREDICTOR_SAMPLES = 4096
#: ``runs.reduction`` per :attr:`~symflow.dynamics.lottery.OrbitLottery.coupling` (the words of
#: :func:`~symflow.dynamics.lottery.compare_with_simulation`)
REDUCTIONS = {"exact": "exact", "early": "coupled early phase, then frozen multiplier", "frozen": "frozen multiplier",
              "coupled": "coupled"}


def _orbit_labels(G, orbit) -> list:
    return [G.irreps[i].label for i in orbit]


def kind_outcome(model, a) -> int:
    """The orbit id a kind counts for: its dominant orbit, ``-1`` (dead) for a kind on the trivial orbit only or at
    ``Omega n^(3/2) <`` :data:`~symflow.dynamics.lottery.DEAD_OMEGA` (the predictor's rule for a simulated neuron)."""
    from ..dynamics.lottery import DEAD_OMEGA

    n = model.group.order
    if not a.orbits or a.energy < DEAD_OMEGA * n ** -1.5:
        return -1
    return int(a.orbits[0].id)


def prediction(model, L, starts: int, seed: int, samples: int = PREDICTOR_SAMPLES) -> dict:
    """``{"rows": [predicted_basins rows without the task key], "run": {runs columns}}`` for the landscape ``L`` of
    ``model`` (``starts`` uniform starts, ``seed``); see the module docstring."""
    from ..dynamics.initial import uniform
    from ..dynamics.lottery import exact_decoupling, predict_orbits, predicted_basins
    from ..statistics import wilson_interval

    c0 = time.process_time()
    G = model.group
    n = G.order
    pb = predicted_basins(model, samples, seed + 1)
    S = int(pb["samples"])
    k_pred = np.rint(np.asarray(pb["fractions"]) * S).astype(int)
    pooled = np.asarray(pb.get("pooled", pb["fractions"]), dtype=float)
    size_of = {}     # orbit id -> its class of exchangeable orbits (ids)
    for c in pb.get("classes", []):
        for o in c:
            size_of[int(o)] = [int(x) for x in c]
    k_dead_pred = int(round(pb["dead"] * S))
    lot = predict_orbits(model, uniform(model, starts, seed)) if L.start_kind is not None else None
    outcome = [kind_outcome(model, a) for a in L.attractors]
    measured: dict = {}
    kinds: dict = {}
    for a, o in zip(L.attractors, outcome):
        measured[o] = measured.get(o, 0) + int(a.count)
        kinds[o] = kinds.get(o, 0) + 1
    M = int(L.starts)
    same = None if lot is None else np.bincount(lot.winner + 1, minlength=len(G.orbits) + 1)   # index 0: dead
    rows = []

    def row(oid, labels, dim, size, typ, kp, plancherel):
        km = measured.get(oid, 0)
        if oid < 0:
            p = kp / S
            plo, phi = wilson_interval(kp, S)
        elif pb.get("by_symmetry"):
            p = plo = phi = float(pooled[oid])
        else:
            cls = size_of.get(oid, [oid])
            kc = int(sum(k_pred[c] for c in cls))
            p = float(pooled[oid])
            plo, phi = (v / len(cls) for v in wilson_interval(kc, S))
        mlo, mhi = wilson_interval(km, M)
        return {"orbit_id": oid, "orbit": labels, "orbit_dim": dim, "orbit_size": size, "type": typ,
                "predicted": p, "predicted_lo": min(plo, p), "predicted_hi": max(phi, p), "samples": S,
                "predicted_same": None if same is None else float(same[oid + 1] / M),
                "measured": km / M, "measured_lo": mlo, "measured_hi": mhi, "count": km, "kinds": kinds.get(oid, 0),
                "plancherel": plancherel}

    for o in G.orbits:
        if o.type == "trivial":
            continue
        rows.append(row(int(o.id), _orbit_labels(G, o), int(o.dim), int(o.size), o.type, int(k_pred[o.id]),
                        o.size * o.dim ** 2 / (n - 1)))
    if measured.get(-1) or k_dead_pred or (same is not None and same[0]):
        rows.append(row(-1, [], None, None, "dead", k_dead_pred, 0.0))
    coupling = getattr(pb["lottery"], "coupling", "exact" if exact_decoupling(model) else "frozen")
    run = {"pred_samples": S, "pred_seed": seed + 1, "reduction": REDUCTIONS.get(coupling, coupling),
           "agreement_hits": None, "agreement_neurons": None, "prediction": None}
    if lot is not None:
        kind = np.asarray(L.start_kind)
        conv = kind >= 0
        out = np.array(outcome + [-2], dtype=np.int64)[np.where(conv, kind, len(outcome))]
        pred = lot.winner
        ok = (pred == out) & conv
        label = {int(o.id): o.display_label for o in G.orbits}
        label[-1] = "dead"
        confusion: dict = {}
        for p, s in zip(pred[conv & ~ok], out[conv & ~ok]):
            key = f"{label[int(p)]}->{label[int(s)]}"
            confusion[key] = confusion.get(key, 0) + 1
        rank = np.array([a.rank for a in L.attractors] + [0])[np.where(conv, kind, len(outcome))]
        stable = np.array([a.stable for a in L.attractors] + [True])[np.where(conv, kind, len(outcome))]

        def split(mask):
            return {"agree": int(np.sum(ok & mask)), "neurons": int(np.sum(conv & mask))}

        run.update(agreement_hits=int(ok.sum()), agreement_neurons=int(conv.sum()))
        run["prediction"] = {"confusion": dict(sorted(confusion.items(), key=lambda kv: -kv[1])),
                             "rank_above_one": split(rank > 1), "saddle": split(~stable), "dead": split(out == -1),
                             "predicted_dead": int(np.sum(pred < 0)), "unconverged": int(np.sum(~conv))}
    run["pred_cpu_time"] = time.process_time() - c0
    return {"rows": rows, "run": run}


def prediction_json(run: dict) -> str | None:
    """The ``runs.prediction`` text (JSON) of :func:`prediction`'s ``run``."""
    return None if run.get("prediction") is None else json.dumps(run["prediction"])
