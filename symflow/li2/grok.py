r"""``symflow grok --model li2``: the full Li2 network trained with MSE, and its three stages.

Network (Li2): ``Y_hat = sigma(X W) V`` on inputs ``[e_a; e_b]``, loss ``1/(2N) ||P (Y - Y_hat)||^2`` (``P``
centres over the ``N`` training samples), Adam with coupled L2 weight decay (as torch's ``Adam``), full
batch. Defaults from the public code's config (``ssl/real-dataset/cogo/config/dyn_madd.yaml``): hidden
512, lr 1e-3, Adam, weight decay 1e-4, ``sqr`` activation, 3000 epochs; torch's default uniform init
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``. symflow's defaults differ in size only: ``Z_23``, training
fraction 0.8 (above the measured ``p_c`` of Z_23, :mod:`symflow.li2.scaling`), hidden 256, 1000 steps
(about a minute on 2 cores; Z_23 at 80 % reaches 100 % test accuracy by step ~500, seed 0).

Recorded per record step: train/test loss and accuracy, ``movement = |W - W0| / |W0|``, ``cos_li2``: the
median over nodes of the cosine between the node's actual descent direction ``-dL/dw_j`` projected on
its sphere and the Riemannian gradient of Li2's energy ``E_S`` at ``w_j`` (:func:`~symflow.li2.core.li2_model` on the
training mask), and ``share``: the median top-orbit share of the nodes.

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
from .core import li2_model, sigma, training_mask
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


def memory_estimate(n: int, width: int, name: str = ""):
    """The peak memory of :func:`run_li2_grokking` (:class:`~symflow.resources.MemoryEstimate`) for a group of
    order ``n`` and ``K = width`` nodes: the one-hot targets, outputs and residuals (four ``(n^2, n)`` arrays)
    and the hidden layer with its gradient (four ``(n^2, K)`` arrays)."""
    from ..resources import MemoryEstimate

    est = MemoryEstimate(f"li2 grokking on {name or f'a group of order {n}'} with {width} nodes",
                         lower="a smaller group or --width")
    est.add("the targets and outputs", arrays=4, shape=(n * n, n), lower="a smaller group")
    est.add("the hidden layer", arrays=4, shape=(n * n, width), lower="--width or a smaller group")
    return est


def run_li2_grokking(cfg: Li2GrokConfig, progress: bool = False, force: bool | None = None) -> dict:
    """Train Li2's network (module doc); a run whose :func:`memory_estimate` exceeds the machine's memory raises
    :class:`~symflow.errors.ResourceError` before computing, unless ``force`` (``None``: the CLI's ``--force``)."""
    from ..progress import progress_bar

    cfg.validate()
    G = make_group(cfg.group)
    n = G.order
    memory_estimate(n, int(cfg.width), G.name).check(force)
    rng = np.random.default_rng(cfg.seed)
    mask = training_mask(G, cfg.frac, cfg.seed)
    T = np.asarray(G.table).reshape(-1)
    tr, te = np.flatnonzero(mask.reshape(-1)), np.flatnonzero(~mask.reshape(-1))
    a_idx, b_idx = np.divmod(np.arange(n * n), n)
    Y = np.eye(n)[T]
    K = int(cfg.width)
    W = rng.uniform(-1, 1, size=(2 * n, K)) / np.sqrt(2 * n)
    V = rng.uniform(-1, 1, size=(K, n)) / np.sqrt(K)
    W0 = W.copy()
    prob = li2_model(G, mask)
    m = {k: np.zeros_like(v) for k, v in (("W", W), ("V", V))}
    s = {k: np.zeros_like(v) for k, v in (("W", W), ("V", V))}
    b1, b2, eps = 0.9, 0.999, 1e-8
    N = len(tr)
    Ytr = Y[tr] - Y[tr].mean(0)
    rows = []

    def forward(idx):
        pre = W[a_idx[idx]] + W[n + b_idx[idx]]
        return pre, sigma("x^2", pre)

    def record(step, gW):
        out = {}
        for name, idx in (("train", tr), ("test", te)):
            _, H = forward(idx)
            Yh = H @ V
            out[f"{name}_loss"] = float(0.5 * np.mean(np.sum((Yh - Yh.mean(0) - (Y[idx] - Y[idx].mean(0))) ** 2, 1)))
            out[f"{name}_acc"] = float(np.mean(np.argmax(Yh, 1) == T[idx]))
        x = W.T                                                      # nodes (K, 2n)
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        rg = bruteforce.riemannian_gradient(prob, xn)
        d = -gW.T
        d = d - xn * np.sum(xn * d, 1, keepdims=True)
        cos = np.sum(rg * d, 1) / np.maximum(np.linalg.norm(rg, axis=1) * np.linalg.norm(d, axis=1), 1e-300)
        out.update(step=step, movement=float(np.linalg.norm(W - W0) / np.linalg.norm(W0)),
                   cos_li2=float(np.median(cos)), share=float(np.median(orbit_shares(G, xn).max(1))))
        rows.append(out)

    interrupted = False
    t0 = time.perf_counter()
    try:
        with progress_bar("li2 grok", total=cfg.steps, enabled=progress) as bar:
            for step in range(cfg.steps + 1):
                pre, H = forward(tr)
                R = (H @ V) - Y[tr]
                R = R - R.mean(0)                                    # P (Y_hat - Y)
                gV = H.T @ R / N
                dH = (R @ V.T) * sigma("x^2", pre, derivative=True) / N
                gW = np.zeros_like(W)
                np.add.at(gW, a_idx[tr], dH)
                np.add.at(gW, n + b_idx[tr], dH)
                if step % cfg.record_every == 0 or step == cfg.steps:
                    record(step, gW)
                if step == cfg.steps:
                    break
                for k, P_, g in (("W", W, gW), ("V", V, gV)):
                    g = g + cfg.weight_decay * P_
                    m[k] = b1 * m[k] + (1 - b1) * g
                    s[k] = b2 * s[k] + (1 - b2) * g * g
                    mh = m[k] / (1 - b1 ** (step + 1))
                    sh = s[k] / (1 - b2 ** (step + 1))
                    P_ -= cfg.lr * mh / (np.sqrt(sh) + eps)
                bar.advance()
    except KeyboardInterrupt:
        interrupted = True
    curves = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    stages = detect_stages(curves)
    nodes = node_maxima(G, W.T)
    return {"command": "grok", "model": "li2", "config": asdict(cfg), "interrupted": interrupted,
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
