r"""``symflow grok --model li2``: the full Li2 network trained with MSE, and its three stages.

Network (Li2): ``Y_hat = sigma(X W) V`` on inputs ``[e_a; e_b]``, loss ``1/(2N) ||P (Y - Y_hat)||^2`` (``P``
centres over the ``N`` training samples), Adam with coupled L2 weight decay (as torch's ``Adam``), full
batch: :meth:`TwoLayerNetwork.li2 <symflow.dynamics.network.TwoLayerNetwork.li2>` (``W = [theta1^T; theta2^T]``,
``V = xi``, loss ``"mse_centred"``, init ``"torch_uniform"``) trained by :func:`symflow.dynamics.training.train`
(``optimizer="adam"``, coupled decay); this module keeps only what is Li2's own: the config, the stage rule and
the comparison of the nodes with the energy maxima. Defaults from the public code's config (``ssl/real-dataset/cogo/config/dyn_madd.yaml``): hidden
512, lr 1e-3, Adam, weight decay 1e-4, ``sqr`` activation, 3000 epochs; torch's default uniform init
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``. symflow's defaults differ in size only: ``Z_23``, training
fraction 0.8 (above the measured ``p_c`` of Z_23, :mod:`symflow.li2.scaling`), hidden 256, 1000 steps
(about a minute on 2 cores; Z_23 at 80 % reaches 100 % test accuracy by step ~500, seed 0).

Recorded per record step: train/test loss and accuracy, ``movement = |W - W0| / |W0|``, ``cos_li2``: the
median over nodes of the cosine between the node's actual descent direction ``-dL/dw_j`` projected on
its sphere and the Riemannian gradient of Li2's energy ``E_S`` at ``w_j`` (:func:`~symflow.li2.core.li2_model` on the
training mask), ``share``: the median top-orbit share of the nodes, and ``train_acc_centred``/``test_acc_centred``:
the accuracy of :func:`centred_predictions`. ``train_acc``/``test_acc`` are the argmax of the raw output
``sigma(XW)V``; the centred loss leaves a per-class offset free (``Y_hat = Y + c`` has zero loss), which the raw
argmax sees and the centred one removes (the offset fitted on the training entries, ``mean_S Y - mean_S Y_hat``).

Stage rule (marks, in steps): *lazy* until ``share`` first exceeds its initial value by 0.1 (the top
layer fits while the features are still random); *independent* from there while ``cos_li2 >= 0.5``
(the nodes follow the energy's ascent); *interactive* from the first later record with ``cos_li2 < 0.5``.
At the end each node is assigned the orbit holding >= 0.9 of its norm (else "mixed") and its energy on
the full table is compared with the orbit's maximum ``n/(2d)`` or ``n/(4d)`` (both on the unit sphere).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import SymflowError
from ..groups import group as make_group
from ..validation import integer, real
from ..neuron import bruteforce
from .core import li2_model, training_mask
from .derive import orbit_shares
from .maxima import predicted_energy

COS_LEVEL = 0.5
SHARE_RISE = 0.1


@dataclass
class Li2GrokConfig:
    group: str = "Z23"
    frac: float = 0.8
    width: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    steps: int = 1000
    seed: int = 0
    record_every: int = 50

    def validate(self):
        real(self.frac, "frac", what="in (0, 1)")
        if not 0 < self.frac < 1:
            raise SymflowError(f"frac must be in (0, 1), got {self.frac!r}")
        integer(self.width, "width", minimum=1)
        real(self.lr, "lr")
        real(self.weight_decay, "weight decay", strict=False)
        integer(self.steps, "steps", minimum=1)
        integer(self.record_every, "record every", minimum=1)
        return self


def li2_network(group, width: int, seed: int = 0):
    """Li2's network on ``group`` (:meth:`TwoLayerNetwork.li2`: ``sigma(XW)V``, torch's uniform init, the centred
    square loss)."""
    from ..dynamics.network import TwoLayerNetwork

    return TwoLayerNetwork.li2(group, width, seed=seed)


def train_li2(net, mask, steps: int, lr: float, weight_decay: float, record_every: int, callback=None,
              progress: bool = False, force: bool | None = None):
    """Train Li2's network in place on the entries of ``mask`` (test: the rest), full batch, with Adam and
    coupled L2 weight decay (torch's ``Adam``) from the one optimiser module; returns its
    :class:`~symflow.dynamics.training.TrainingHistory`. A run whose memory estimate
    (:func:`symflow.dynamics.training.memory_estimate`) exceeds the machine's memory raises
    :class:`~symflow.errors.ResourceError` before the first step, unless ``force`` (``None``: the CLI's ``--force``)."""
    from ..dynamics.training import train

    test = np.argwhere(~mask)
    return train(net, steps, lr, optimizer="adam", constraint="none", weight_decay=weight_decay,
                 train_pairs=np.argwhere(mask), test_pairs=test if len(test) else None, reduction="mean",
                 record_every=record_every, snapshots=False, callback=callback, progress=progress, force=force)


def centred_outputs(logits, y, mask) -> np.ndarray:
    """The outputs of a network trained with the centred square loss with its per-class offset put back:
    ``Y_hat[h] - mean_S Y_hat[h] + mean_S Y[h]``, the means over the training entries ``S`` (the loss fits
    ``Y_hat - mean Y_hat`` to ``Y - mean Y`` and leaves the offset free). ``logits`` ``(n^2, n)`` row-major over
    the table, ``y`` the targets ``(n^2,)``, ``mask`` ``(n, n)``."""
    z = np.asarray(logits, dtype=float)
    m = np.asarray(mask).ravel()
    n = z.shape[1]
    return z + (np.bincount(y[m], minlength=n) / max(int(m.sum()), 1) - z[m].mean(axis=0))


def centred_predictions(logits, y, mask) -> np.ndarray:
    """Class predictions of a network trained with the centred square loss: the argmax of :func:`centred_outputs`."""
    return centred_outputs(logits, y, mask).argmax(axis=1)


def centred_accuracy(network, mask) -> tuple[float, float]:
    """``(train, test)`` accuracy of :func:`centred_predictions` on the whole table (test NaN when it is empty)."""
    y = np.asarray(network.group.table).ravel()
    m = np.asarray(mask).ravel()
    ok = centred_predictions(network.logits(None), y, mask) == y
    return float(ok[m].mean()), float(ok[~m].mean()) if (~m).any() else float("nan")


def first_layer(net) -> np.ndarray:
    """The hidden nodes ``w_j = [u_j; v_j]`` (Li2's columns of ``W``) as rows, shape ``(M, 2n)``."""
    return np.concatenate([net.theta1, net.theta2], axis=1)


def run_li2_grokking(cfg: Li2GrokConfig, progress: bool = False, force: bool | None = None) -> dict:
    """Train Li2's network (module doc); a run whose memory estimate exceeds the machine's memory raises
    :class:`~symflow.errors.ResourceError` before computing, unless ``force`` (``None``: the CLI's ``--force``;
    :func:`train_li2`)."""
    cfg.validate()
    G = make_group(cfg.group)
    mask = training_mask(G, cfg.frac, cfg.seed)
    net = li2_network(G, int(cfg.width), cfg.seed)
    train_set = np.argwhere(mask)
    W0 = first_layer(net)
    prob = li2_model(G, mask)
    extra = {}

    def record(step, network):
        """Li2's own read-outs at a record: movement, cos(descent, Li2 ascent), top-orbit share."""
        g = network.grads(train_set)
        x = first_layer(network)                                     # nodes (K, 2n)
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        rg = bruteforce.riemannian_gradient(prob, xn)
        d = -np.concatenate([g["theta1"], g["theta2"]], axis=1)
        d = d - xn * np.sum(xn * d, 1, keepdims=True)
        cos = np.sum(rg * d, 1) / np.maximum(np.linalg.norm(rg, axis=1) * np.linalg.norm(d, axis=1), 1e-300)
        tr_c, te_c = centred_accuracy(network, mask)
        extra[step] = dict(movement=float(np.linalg.norm(x - W0) / np.linalg.norm(W0)),
                           cos_li2=float(np.median(cos)), share=float(np.median(orbit_shares(G, xn).max(1))),
                           train_acc_centred=tr_c, test_acc_centred=te_c)
        return False

    t0 = time.perf_counter()
    hist = train_li2(net, mask, cfg.steps, cfg.lr, cfg.weight_decay, cfg.record_every, callback=record,
                     progress=progress, force=force)
    steps = [int(s) for s in hist.step]
    curves = {"train_loss": hist.train_loss, "train_acc": hist.train_acc, "test_loss": hist.test_loss,
              "test_acc": hist.test_acc, "step": np.array(steps, dtype=float)}
    curves.update({k: np.array([extra[s][k] for s in steps])
                   for k in ("movement", "cos_li2", "share", "train_acc_centred", "test_acc_centred")})
    stages = detect_stages(curves)
    nodes = node_maxima(G, first_layer(net))
    return {"command": "grok", "model": "li2", "config": asdict(cfg), "interrupted": hist.interrupted,
            "wall_time_s": time.perf_counter() - t0, "stages": stages, "nodes": nodes,
            "final": {k: float(v[-1]) for k, v in curves.items()},
            "curves": {k: [float(x) for x in v] for k, v in curves.items()}}


def detect_stages(c) -> dict:
    step, share, cos = c["step"], c["share"], c["cos_li2"]
    lazy_end = next((int(step[i]) for i in range(len(step)) if share[i] >= share[0] + SHARE_RISE), None)
    inter = None
    if lazy_end is not None:
        i0 = int(np.searchsorted(step, lazy_end))
        inter = next((int(step[i]) for i in range(i0, len(step)) if cos[i] < COS_LEVEL), None)
    return {"lazy": [0, lazy_end], "independent": [lazy_end, inter if inter is not None else (int(step[-1]) if lazy_end is not None else None)],
            "interactive": [inter, int(step[-1]) if inter is not None else None],
            "rule": f"lazy until the median top-orbit share rises by {SHARE_RISE}; independent while the median cosine "
                    f"between the node's descent and Li2's energy ascent >= {COS_LEVEL}; then interactive"}


def node_maxima(G, nodes) -> dict:
    x = nodes / np.linalg.norm(nodes, axis=1, keepdims=True)
    sh = orbit_shares(G, x)
    E = bruteforce.energy(li2_model(G), x)
    out = {}
    for j in range(len(x)):
        k = int(np.argmax(sh[j]))
        o = G.orbits[k]
        key = o.label if sh[j, k] >= 0.9 and not o.is_trivial else "mixed"
        d = out.setdefault(key, {"count": 0, "energy_ratio": []})
        d["count"] += 1
        if key != "mixed":
            d["energy_ratio"].append(float(E[j] / predicted_energy(G, o)[0]))
    for d in out.values():
        r = d.pop("energy_ratio")
        d["energy_over_maximum_median"] = float(np.median(r)) if r else None
    return out
