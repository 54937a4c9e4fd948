r"""Grokking on modular addition: training on part of the table with weight decay (docs/theory.md section 5).

The network is MA's ``f(x, y) = sum_m xi_m sigma(theta_m[x] + theta_m[y])`` (shared embedding,
:meth:`symflow.dynamics.network.TwoLayerNetwork.modular_addition`, Gaussian init of std
``init_scale``), trained by :func:`symflow.dynamics.training.train` with AdamW (decoupled weight decay,
``betas = (0.9, 0.98)``, mean cross-entropy, full batch: the MA authors' optimiser; their p = 23
config is width 512, lr 1e-4, wd 2.0, frac 0.75, 50000 epochs, ReLU, and reached 96.2 % test
accuracy). symflow's defaults (quadratic activation, width 256, lr 1e-3, wd 1.0, frac 0.5, 3000
steps) reach 100 % test accuracy at p = 23 after ~1500 steps, about 5-10 s on 2 cores (seeds 0, 1, 2
measured); ``act="relu", width=512, frac=0.75, steps=4000`` reaches 100 % for seed 0 (step 2740)
and 95-97 % for seeds 1, 2.

Progress measures, recorded at every record step (for neuron ``m``, frequency ``k = 1..(p-1)/2``,
``amp_k`` the cosine amplitude of a vector, :func:`symflow.theory.modular.frequency_coordinates`):

* train/test loss and accuracy, parameter norm (from the training history);
* ``ipr``: mean over live neurons (norm above 1 % of the largest) and over ``theta1, theta2, xi`` of
  the inverse participation ratio ``sum_k amp_k^4 / (sum_k amp_k^2)^2`` of the Fourier energy
  (``1/K`` spread evenly, ``1`` a single frequency);
* ``mean_abs_sin_D``: mean of ``|sin D|``, ``D = phi1 + phi2 - psi`` at each live neuron's dominant
  frequency (phase alignment ``psi = 2 phi`` means 0);
* ``dominant_share``: median share of a neuron's Fourier energy on its dominant frequency.

Stage rule (:func:`detect_stages`; "sustained" = reached at a record and never more than ``slack``
= 0.02 below the threshold afterwards):

1. memorisation ends at ``t_mem``, the first record with train accuracy >= 0.99, sustained;
2. fast generalisation ends at ``t_gen``, the first record with test accuracy >= 0.95, sustained;
3. slow clean-up runs from ``t_gen`` to the end (``t_100``: first record with test accuracy 1.0,
   sustained; test loss and IPR keep improving).

``grokking`` is reported when ``t_mem < t_gen`` and test accuracy at ``t_mem`` is at least 0.2
below its final value (generalisation came after memorisation, not with it). An interrupted run
gets no verdict (``Stages.grokking`` is ``None``, ``Stages.verdict`` says where it stopped): a
"sustained" threshold and the final accuracy need the whole run.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..dynamics.network import TwoLayerNetwork, split_pairs
from ..dynamics.training import memory_estimate as training_memory
from ..dynamics.training import train
from ..validation import choice, integer, real
from .lottery import check_p
from ..errors import SymflowError
from ..groups import group
from ..neuron.activation import as_activation
from ..provenance import versions
from ..theory.modular import frequency_coordinates
from .mechanism import mechanism_report, neuron_frequencies

__all__ = ["GrokConfig", "Stages", "GrokkingResult", "detect_stages", "progress_measures", "run_grokking"]

#: The stage rule's numbers (module doc): train accuracy that counts as memorised, test accuracy that
#: counts as generalised, how far a sustained curve may dip below its threshold, and the test-accuracy
#: gain after memorisation that makes a run *grokking*.
MEMORISED_ACCURACY = 0.99
GENERALISED_ACCURACY = 0.95
SLACK = 0.02
GROKKING_GAIN = 0.2


@dataclass
class GrokConfig:
    """Every parameter of a grokking run (defaults: p = 23 groks to 100 % test accuracy in seconds)."""

    p: int = 23
    frac: float = 0.5
    weight_decay: float = 1.0
    act: str = "quad"
    steps: int = 3000
    lr: float = 1e-3
    width: int = 256
    init_scale: float = 0.1
    seed: int = 0
    optimizer: str = "adamw"
    betas: tuple = (0.9, 0.98)
    record_every: int | None = None
    shared: bool = True

    def validate(self) -> "GrokConfig":
        check_p(self.p, what="an odd integer >= 3")
        frac = real(self.frac, "frac", what="in (0, 1): the fraction of the p^2 pairs used for training")
        if frac >= 1:
            raise SymflowError(f"frac must be in (0, 1): the fraction of the p^2 pairs used for training, got {self.frac!r}")
        real(self.weight_decay, "weight decay", strict=False, what="a number >= 0")
        if isinstance(self.act, str):       # the one vocabulary (symflow.neuron.activation): x^2, z^2, ... -> quad
            try:
                self.act = as_activation(self.act).name
            except SymflowError:
                pass                        # named as unaccepted by the choice below
        choice(self.act, "act", ("relu", "quad"), what="'relu' or 'quad' (also x^2, z^2)")
        integer(self.steps, "steps", minimum=1)
        real(self.lr, "lr", what="a positive number")
        integer(self.width, "width", minimum=1)
        real(self.init_scale, "init scale", what="a positive number")
        choice(self.optimizer, "optimizer", ("adamw", "adam", "gd"), what="'adamw', 'adam' or 'gd'")
        return self

    @property
    def every(self) -> int:
        return int(self.record_every) if self.record_every else max(1, self.steps // 200)

    def to_json(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        d["record_every"] = self.every
        return d


# ---------------------------------------------------------------------- measures
def _ipr(amp):
    e = amp ** 2
    s = e.sum(axis=-1)
    return (e ** 2).sum(axis=-1) / np.maximum(s, 1e-300) ** 2


def progress_measures(theta1, theta2, xi) -> dict:
    """Fourier progress measures of neurons ``(M, p)`` (see module doc); returns floats."""
    theta1, theta2, xi = (np.atleast_2d(np.asarray(v, dtype=float)) for v in (theta1, theta2, xi))
    norms = np.sqrt((theta1 ** 2).sum(1) + (theta2 ** 2).sum(1) + (xi ** 2).sum(1))
    alive = norms > 0.01 * max(norms.max(), 1e-300)
    ipr = np.mean([_ipr(frequency_coordinates(v)[0]) for v in (theta1, theta2, xi)], axis=0)
    nf = neuron_frequencies(theta1, theta2, xi)
    return {"ipr": float(ipr[alive].mean()),
            "mean_abs_sin_D": float(np.mean(np.abs(np.sin(nf["D"][alive])))),
            "dominant_share": float(np.median(nf["share"][alive])),
            "alive": int(alive.sum())}


# ---------------------------------------------------------------------- stages
def _sustained(values, threshold, slack):
    v = np.asarray(values, dtype=float)
    for i in range(len(v)):
        if v[i] >= threshold and np.all(v[i:] >= threshold - slack):
            return i
    return None


@dataclass
class Stages:
    """Stage boundaries as training steps (``None``: not reached); see the module doc for the rule."""

    memorised: int | None
    generalised: int | None
    perfect: int | None
    end: int
    test_acc_at_memorised: float
    final_test_acc: float
    rule: str = (f"t_mem: train acc >= {MEMORISED_ACCURACY:g} sustained; t_gen: test acc >= {GENERALISED_ACCURACY:g} "
                 f"sustained; t_100: test acc = 1 sustained; sustained = never more than {SLACK:g} below afterwards")
    #: ``(step reached, steps planned)`` of an interrupted run: then no verdict is made (``grokking`` is ``None``)
    interrupted: tuple | None = None

    @property
    def grokking(self) -> bool | None:
        """The verdict of the rule; ``None`` for an interrupted run ("sustained" needs the whole run)."""
        if self.interrupted is not None:
            return None
        return (self.memorised is not None and self.generalised is not None and self.memorised < self.generalised
                and self.test_acc_at_memorised <= self.final_test_acc - GROKKING_GAIN)

    @property
    def verdict(self) -> str:
        """One line: grokking or not by the rule, or why no verdict was made."""
        if self.interrupted is not None:
            return (f"no verdict: interrupted at step {self.interrupted[0]} of {self.interrupted[1]} (the stage rule "
                    f"needs the whole run)")
        return "grokking observed" if self.grokking else "no grokking by the stated rule"

    def describe(self) -> list[tuple[str, str, str]]:
        """Rows ``(stage, steps, what happened)``."""
        fmt = lambda s: "-" if s is None else str(s)
        rows = [("1 memorisation", f"0 - {fmt(self.memorised)}",
                 f"train accuracy reaches {MEMORISED_ACCURACY:g}; test accuracy {self.test_acc_at_memorised:.3f} there")]
        if self.generalised is not None:
            rows.append(("2 fast generalisation", f"{fmt(self.memorised)} - {self.generalised}",
                         f"test accuracy reaches {GENERALISED_ACCURACY:g}"))
            rows.append(("3 slow clean-up", f"{self.generalised} - {self.end}",
                         f"test accuracy 1.0 from step {fmt(self.perfect)}; final {self.final_test_acc:.4f}"))
        else:
            rows.append(("2 generalisation (incomplete)", f"{fmt(self.memorised)} - {self.end}",
                         f"test accuracy {GENERALISED_ACCURACY:g} not reached; final {self.final_test_acc:.4f}"))
        if self.interrupted is not None:
            rows.append(("interrupted", f"{self.interrupted[0]} - {self.interrupted[1]}",
                         "not trained: the stages above are provisional, no verdict is made"))
        return rows

    def to_json(self) -> dict:
        return {"memorised_step": self.memorised, "generalised_step": self.generalised, "perfect_step": self.perfect,
                "end_step": self.end, "test_acc_at_memorised": self.test_acc_at_memorised,
                "final_test_acc": self.final_test_acc, "grokking": self.grokking, "verdict": self.verdict,
                "interrupted_at_step": None if self.interrupted is None else self.interrupted[0], "rule": self.rule}

    def __repr__(self) -> str:
        return (f"<Stages: memorised {self.memorised}, generalised {self.generalised}, 100% at {self.perfect}, "
                f"end {self.end}; grokking={self.grokking}>")


def detect_stages(step, train_acc, test_acc, train_threshold: float = MEMORISED_ACCURACY,
                  test_threshold: float = GENERALISED_ACCURACY, slack: float = SLACK) -> Stages:
    """Apply the documented stage rule to recorded curves (arrays of equal length)."""
    step = np.asarray(step)
    tr, te = np.asarray(train_acc, float), np.asarray(test_acc, float)
    if not (len(step) == len(tr) == len(te)) or len(step) == 0:
        raise SymflowError("step, train_acc and test_acc must be non-empty arrays of equal length")
    if np.any(np.isnan(te)):
        raise SymflowError("test accuracy has NaN entries: grokking stages need a held-out test set (frac < 1)")
    im = _sustained(tr, train_threshold, slack)
    ig = _sustained(te, test_threshold, slack)
    ip = _sustained(te, 1.0, min(slack, 1e-12))
    at = lambda i: None if i is None else int(step[i])
    return Stages(at(im), at(ig), at(ip), int(step[-1]), float(te[im]) if im is not None else float("nan"),
                  float(te[-1]))


# ---------------------------------------------------------------------- run
@dataclass
class GrokkingResult:
    """A finished (or interrupted) run: config, history, measures, stages, mechanism read-out."""

    config: GrokConfig
    history: object                      # symflow.dynamics.training.TrainingHistory
    measures: dict                       # name -> array over records
    stages: Stages
    mechanism: object                    # symflow.modular.mechanism.MechanismReport
    final_params: dict
    wall_time_s: float
    versions: dict = field(default_factory=dict)

    @property
    def interrupted(self) -> bool:
        return bool(self.history.interrupted)

    def curves(self) -> dict:
        h = self.history
        return {"step": h.step, "train_loss": h.train_loss, "train_acc": h.train_acc, "test_loss": h.test_loss,
                "test_acc": h.test_acc, "param_norm": h.param_norm, **self.measures}

    def to_json(self) -> dict:
        c = self.curves()
        return {"command": "grok", "config": self.config.to_json(), "versions": self.versions,
                "wall_time_s": self.wall_time_s, "interrupted": self.interrupted,
                "final": {k: float(v[-1]) for k, v in c.items() if k != "step"},
                "stages": self.stages.to_json(), "mechanism": self.mechanism.to_json(),
                "curves": {k: [float(x) for x in v] for k, v in c.items()}}

    def __repr__(self) -> str:
        h = self.history
        return (f"<GrokkingResult p={self.config.p}, {self.config.act}, frac={self.config.frac}, "
                f"wd={self.config.weight_decay}: {int(h.step[-1])} steps, train acc {h.train_acc[-1]:.3f}, "
                f"test acc {h.test_acc[-1]:.3f}; {self.stages!r}>")


def run_grokking(config: GrokConfig | None = None, progress: bool = False, force: bool | None = None,
                 **overrides) -> GrokkingResult:
    """Train, record the progress measures, detect the stages and read out the mechanism.

    A run whose memory estimate (:func:`symflow.dynamics.training.memory_estimate`) exceeds the machine's
    memory raises :class:`~symflow.errors.ResourceError` before computing, unless ``force`` (``None``: the
    CLI's ``--force``).

    Ctrl-C stops training and returns (and lets the caller save) everything recorded so far.
    """
    cfg = config if config is not None else GrokConfig()
    if overrides:
        unknown = set(overrides) - set(GrokConfig.__dataclass_fields__)
        if unknown:
            raise SymflowError(f"unknown grokking settings {sorted(unknown)}; accepted: {sorted(GrokConfig.__dataclass_fields__)}")
        cfg = GrokConfig(**{**asdict(cfg), **overrides})
    cfg.validate()
    p = int(cfg.p)
    n_train = int(round(float(cfg.frac) * p * p))
    training_memory(p, int(cfg.width), int(cfg.steps), n_train, p * p - n_train, snapshots=False,
                    record_every=cfg.every, name=f"Z{p}").check(force)
    G = group(f"Z{int(cfg.p)}")
    net = TwoLayerNetwork.modular_addition(G, int(cfg.width), init_scale=float(cfg.init_scale), seed=int(cfg.seed),
                                           activation=cfg.act, shared=cfg.shared)
    train_pairs, test_pairs = split_pairs(G, cfg.frac, seed=int(cfg.seed))
    rows: list[dict] = []

    def record(step, network):
        rows.append(progress_measures(network.theta1, network.theta2, network.output_weights()))
        return False

    t0 = time.perf_counter()
    hist = train(net, int(cfg.steps), float(cfg.lr), optimizer=cfg.optimizer, constraint="none",
                 weight_decay=float(cfg.weight_decay), train_pairs=train_pairs, test_pairs=test_pairs,
                 reduction="mean", seed=int(cfg.seed), record_every=cfg.every, snapshots=False, callback=record,
                 progress=progress, betas=tuple(cfg.betas), force=force)
    wall = time.perf_counter() - t0
    n = len(hist.step)
    rows = rows[:n]
    measures = {k: np.array([r[k] for r in rows], dtype=float) for k in (rows[0] if rows else {})}
    stages = detect_stages(hist.step, hist.train_acc, hist.test_acc)
    if hist.interrupted:
        stages.interrupted = (int(hist.step[-1]), int(cfg.steps))
    mech = mechanism_report(net)
    params = {k: v.copy() for k, v in net.params.items()}
    return GrokkingResult(cfg, hist, measures, stages, mech, params, wall, versions("scipy", "sympy"))
