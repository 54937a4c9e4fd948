r"""Training loop for :class:`~symflow.dynamics.network.TwoLayerNetwork`: optimisers, sphere
constraints, train/test split, history.

One step of projected (Riemannian) gradient descent on a product of unit spheres:

    g  <- dCE/dnu + lambda nu                        (weight decay lambda, coupled)
    g  <- g - nu <nu, g> / |nu|^2                    (tangent projection, per neuron and sphere)
    nu <- nu - lr * g                                (GD/SGD; Adam uses its moment estimates of g)
    nu <- nu / |nu|                                  (retraction: renormalise)

The spheres are those of the neuron (:class:`symflow.neuron.Neuron`, the one place that knows
them): ``constraint="sphere"`` with ``spheres="separate"`` puts each of ``theta1, theta2, xi`` of
every neuron on its own unit sphere (GC's choice), ``spheres="joint"`` normalises ``[theta1; theta2]``
together (the GC authors' code) and ``xi`` alone; ``constraint="none"`` trains unconstrained (MA
setting). Shared embeddings have one sphere for ``theta`` (so ``"joint"`` is ``"separate"`` there).
The older spelling ``constraint="separate"|"joint"`` (sphere constraint with those spheres) is still
accepted and recorded in the history's metadata as before. A tied scale ``a`` moves by the summed gradient
``sum_m dCE/da_m``. Projected GD with step ``lr`` is the Euler discretisation (with
renormalisation) of the projected gradient flow ``dnu/dt = -(I - nu nu^T) grad_nu CE``, so in the
small-logit regime ``steps * lr * c`` is the reduced time (``c`` from
:meth:`TwoLayerNetwork.reduced_time_unit`).

Adam: ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``, ``nu <- nu - lr mhat/(sqrt(vhat)+eps)``
with bias corrections; ``"adamw"`` decays ``nu <- nu - lr lambda nu`` instead of adding
``lambda nu`` to ``g``.

:func:`train` mutates the network in place and returns a :class:`TrainingHistory` (arrays over
recorded steps, parameter snapshots, metadata with versions and every argument; ``.save`` to
NPZ). Ctrl-C returns the history so far (``interrupted=True``); a non-finite loss raises
:class:`~symflow.errors.IntegrationError` naming the step, with the history attached as
``.history``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from ..validation import choice, integer, real
from ..errors import IntegrationError, SymflowError
from ..neuron import CONSTRAINTS, SPHERES, Neuron
from ..progress import progress_bar
from ..provenance import versions
from ..neuron.geometry import ParameterGeometry
from .network import REDUCTIONS, PairSet, TwoLayerNetwork, as_pairs

OPTIMIZERS = ("gd", "sgd", "adam", "adamw")


# ---------------------------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------------------------
def training_neuron(network: TwoLayerNetwork, constraint: str = "sphere", spheres: str | None = None) -> Neuron:
    """The :class:`~symflow.neuron.Neuron` that ``train(network, constraint=..., spheres=...)`` trains.

    ``constraint`` is ``"sphere"`` or ``"none"``; the older ``"separate"``/``"joint"`` mean
    ``constraint="sphere", spheres=<that>``. A shared embedding has one ``theta``, so ``"joint"``
    is ``"separate"`` there.
    """
    if constraint in SPHERES:
        if spheres is not None and spheres != constraint:
            raise SymflowError(f"constraint={constraint!r} (spheres {constraint!r}) contradicts spheres={spheres!r}; "
                               f"pass constraint='sphere', spheres={spheres!r}")
        constraint, spheres = "sphere", constraint
    if constraint not in CONSTRAINTS:
        raise SymflowError(f"constraint must be one of {CONSTRAINTS + SPHERES} ('separate'/'joint': sphere "
                           f"constraint with those spheres), got {constraint!r}")
    if network.shared and spheres == "joint":
        spheres = "separate"
    return Neuron("ce", network.shared, spheres, constraint)


def sphere_blocks(network: TwoLayerNetwork, constraint: str, trainable, spheres: str | None = None
                  ) -> list[tuple[str, ...]]:
    """Groups of parameter names whose concatenated per-neuron row lies on one unit sphere (the
    neuron's :attr:`~symflow.neuron.Neuron.sphere_groups` that hold a trainable name; none when
    unconstrained). ``constraint``/``spheres`` as in :func:`training_neuron`."""
    neuron = training_neuron(network, constraint, spheres)
    if not neuron.constrained:
        return []
    return [b for b in neuron.sphere_groups if any(name in trainable for name in b)]


def project_tangent(params: dict, grads: dict, blocks) -> None:
    """In place: ``g <- g - nu <nu, g> / |nu|^2`` per neuron on every sphere block
    (:meth:`~symflow.neuron.geometry.SphereGeometry.project_tangent` of the parameter rows)."""
    ParameterGeometry(blocks).project_tangent(params, grads)


def retract(params: dict, blocks) -> None:
    """In place: renormalise every sphere block to unit norm per neuron
    (:meth:`~symflow.neuron.geometry.SphereGeometry.retract` of the parameter rows)."""
    ParameterGeometry(blocks).retract(params)


# ---------------------------------------------------------------------------------------------
# optimisers
# ---------------------------------------------------------------------------------------------
class GradientDescent:
    """``nu <- nu - lr g`` (full batch ``"gd"`` or minibatch ``"sgd"``)."""

    def __init__(self, lr: float):
        self.lr = lr

    def step(self, params: dict, grads: dict) -> None:
        for k, g in grads.items():
            params[k] -= self.lr * g


class Adam:
    """Adam (Kingma & Ba) with bias correction; ``decoupled_decay > 0`` gives AdamW."""

    def __init__(self, lr: float, betas=(0.9, 0.999), eps: float = 1e-8, decoupled_decay: float = 0.0):
        self.lr, self.b1, self.b2, self.eps = lr, float(betas[0]), float(betas[1]), float(eps)
        self.decay = decoupled_decay
        self.m: dict = {}
        self.v: dict = {}
        self.t = 0

    def step(self, params: dict, grads: dict) -> None:
        self.t += 1
        c1 = 1.0 - self.b1 ** self.t
        c2 = 1.0 - self.b2 ** self.t
        for k, g in grads.items():
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * g * g
            if self.decay:
                params[k] -= self.lr * self.decay * params[k]
            params[k] -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


# ---------------------------------------------------------------------------------------------
# history
# ---------------------------------------------------------------------------------------------
@dataclass
class TrainingHistory:
    """What :func:`train` recorded, one entry per recorded step.

    Arrays of shape ``(K,)``: ``step``, ``train_loss``, ``train_acc``, ``test_loss``,
    ``test_acc`` (NaN when there is no test set), ``param_norm`` (Frobenius norm of all
    embeddings and output weights together), ``scale`` (mean of ``a``). ``snapshots`` maps each
    parameter name to an array ``(K, M, n)`` (``(K, M)`` for ``a``), empty if snapshots were off.
    ``metadata`` holds versions, the network description and every training argument.
    """

    step: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray
    param_norm: np.ndarray
    scale: np.ndarray
    snapshots: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    interrupted: bool = False

    @property
    def reduced_time(self) -> np.ndarray | None:
        """``step * lr * c`` (symflow's time unit), or None when ``c`` is undefined for this run."""
        c = self.metadata.get("reduced_time_unit")
        if c is None:
            return None
        return self.step * self.metadata["training"]["lr"] * c

    def __len__(self) -> int:
        return len(self.step)

    def save(self, path) -> str:
        """Write an NPZ (arrays + ``metadata`` as a JSON string); returns the path."""
        arrays = {name: getattr(self, name) for name in
                  ("step", "train_loss", "train_acc", "test_loss", "test_acc", "param_norm", "scale")}
        for name, arr in self.snapshots.items():
            arrays[f"snapshot_{name}"] = arr
        meta = dict(self.metadata, interrupted=self.interrupted)
        np.savez_compressed(path, metadata=np.array(json.dumps(meta)), **arrays)
        return str(path)

    @classmethod
    def load(cls, path) -> "TrainingHistory":
        """Read a history written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["metadata"]))
            snaps = {k[len("snapshot_"):]: f[k] for k in f.files if k.startswith("snapshot_")}
            fields = {name: f[name] for name in
                      ("step", "train_loss", "train_acc", "test_loss", "test_acc", "param_norm", "scale")}
        interrupted = bool(meta.pop("interrupted", False))
        return cls(snapshots=snaps, metadata=meta, interrupted=interrupted, **fields)

    def __repr__(self) -> str:
        if len(self) == 0:
            return "<TrainingHistory: empty>"
        tr = self.metadata.get("training", {})
        head = (f"<TrainingHistory: {int(self.step[-1])} steps ({tr.get('optimizer')}, lr={tr.get('lr')}, "
                f"{tr.get('constraint')}), train loss {self.train_loss[0]:.4g} -> {self.train_loss[-1]:.4g}, "
                f"acc {self.train_acc[0]:.3f} -> {self.train_acc[-1]:.3f}")
        if np.isfinite(self.test_loss[-1]):
            head += f", test acc {self.test_acc[-1]:.3f}"
        return head + (", interrupted>" if self.interrupted else ">")


class _Recorder:
    def __init__(self, network: TwoLayerNetwork, snapshots: bool):
        self.rows: list[tuple] = []
        self.snaps: dict[str, list] = {k: [] for k in network.params} if snapshots else {}

    def add(self, step, train_ev, test_ev, network: TwoLayerNetwork):
        norm = np.sqrt(sum(float(np.sum(network.params[k] ** 2)) for k in network.direction_names))
        test_loss = test_ev.loss if test_ev is not None else np.nan
        test_acc = test_ev.correct / test_ev.size if test_ev is not None else np.nan
        self.rows.append((step, train_ev.loss, train_ev.correct / train_ev.size, test_loss, test_acc, norm,
                          float(network.a.mean())))
        for k in self.snaps:
            self.snaps[k].append(network.params[k].copy())

    def history(self, metadata, interrupted) -> TrainingHistory:
        cols = list(zip(*self.rows)) if self.rows else [[]] * 7
        arr = [np.asarray(c, dtype=float) for c in cols]
        return TrainingHistory(step=arr[0].astype(np.int64), train_loss=arr[1], train_acc=arr[2], test_loss=arr[3],
                               test_acc=arr[4], param_norm=arr[5], scale=arr[6],
                               snapshots={k: np.asarray(v) for k, v in self.snaps.items() if v},
                               metadata=metadata, interrupted=interrupted)


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
def _check_args(network, steps, lr, optimizer, weight_decay, reduction, record_every):
    if not isinstance(network, TwoLayerNetwork):
        raise SymflowError(f"train needs a TwoLayerNetwork, got {type(network).__name__}")
    integer(steps, "steps", minimum=0)
    lr = real(lr, "lr")
    choice(optimizer, "optimizer", OPTIMIZERS, what=f"one of {OPTIMIZERS}")
    real(weight_decay, "weight_decay", strict=False, what=">= 0")
    choice(reduction, "reduction", REDUCTIONS, what="'mean' or 'sum'")
    if record_every is not None:
        integer(record_every, "record_every", minimum=1)
    return lr


def memory_estimate(order: int, width: int, steps: int, train_pairs: int, test_pairs: int = 0,
                    snapshots: bool = True, record_every: int | None = None, parameters: int = 3, name: str = ""):
    """The peak memory of :func:`train` (:class:`~symflow.resources.MemoryEstimate`) for a network of ``width``
    neurons with ``parameters`` vectors of length ``order`` each: one evaluation with gradients on the larger of
    the train and test sets (records evaluate both whole, :func:`~symflow.dynamics.network.add_evaluation_memory`)
    and, with ``snapshots``, a copy of every parameter at each of the ``steps / record_every + 2`` records."""
    from ..resources import MemoryEstimate
    from .network import add_evaluation_memory

    n, M = int(order), int(width)
    est = MemoryEstimate(f"training {M} neurons on {name or f'a group of order {n}'} ({int(train_pairs)} pairs)",
                         lower="a smaller group or a smaller training fraction")
    add_evaluation_memory(est, max(int(train_pairs), int(test_pairs)), n, M)
    if snapshots:
        records = int(steps) // (int(record_every) if record_every else max(1, int(steps) // 100)) + 2
        est.add("the parameter snapshots", arrays=records * parameters, shape=(M, n),
                lower="fewer records (record_every) or no snapshots")
    return est


def train(network: TwoLayerNetwork, steps: int, lr: float, optimizer: str = "gd", constraint: str = "sphere",
          weight_decay: float = 0.0, train_pairs=None, test_pairs=None, batch_size: int | None = None,
          reduction: str = "mean", trainable=None, seed: int = 0, record_every: int | None = None,
          snapshots: bool = True, callback=None, progress: bool = False, betas=(0.9, 0.999),
          eps: float = 1e-8, blas_threads: int | None = 1, spheres: str | None = None,
          force: bool | None = None) -> TrainingHistory:
    """Train ``network`` in place and return its :class:`TrainingHistory`.

    Parameters
    ----------
    steps, lr : int, float
        Number of optimiser steps (``>= 0``) and learning rate (``> 0``).
    optimizer : {"gd", "sgd", "adam", "adamw"}
        ``"gd"`` full batch; ``"sgd"`` needs ``batch_size`` (minibatches of pairs, reshuffled
        every epoch with ``numpy.random.default_rng(seed)``); Adam(W) takes either.
    constraint : {"sphere", "none"}
        Sphere constraint on the trainable embeddings/output weights (the neuron's language, see
        the module doc). Constrained parameters are first renormalised onto their spheres. The
        older values ``"separate"``/``"joint"`` still work: ``constraint="sphere"`` with those spheres.
    spheres : {"separate", "joint"}, optional
        Which vectors share a sphere (default ``"separate"``); see :class:`symflow.neuron.Neuron`.
    weight_decay : float
        ``lambda >= 0`` on the embeddings and output weights, not on ``a`` (L2 added to the
        gradient; decoupled for ``"adamw"``). On a sphere the decay is radial and projected away.
    train_pairs, test_pairs : None, (P, 2) array or PairSet
        Training entries (None: the whole table) and optional held-out entries.
    reduction : {"mean", "sum"}
        CE averaged or summed over the (mini)batch.
    trainable : iterable of str, optional
        Parameter names to train; default all of ``theta1, theta2, xi`` (``theta, xi`` when
        shared), not the scale ``a`` (Stage I). Add ``"a"`` to train the scale.
    seed : int
        Seed for minibatch sampling.
    record_every : int, optional
        Record every this many steps (default ``max(1, steps // 100)``); step 0 and the last step
        are always recorded. Each record evaluates the full train (and test) set.
    snapshots : bool
        Store a copy of every parameter at each record.
    callback : callable(step, network) -> bool, optional
        Called at each record; returning True stops training (e.g. a convergence test).
    progress : bool
        Show a rich progress bar on stderr (default: none; the CLI asks for one).
    betas, eps : Adam's moment decay rates and denominator guard.
    blas_threads : int or None
        BLAS threads while training (default 1: the thin ``(., n)`` products of this network run
        fastest on one thread and multi-threaded BLAS collapses on a busy machine). Needs the
        ``threadpoolctl`` package; without it, or with ``None``, the setting is left alone.
    force : bool, optional
        Train even when :func:`memory_estimate` exceeds the machine's memory (otherwise a
        :class:`~symflow.errors.ResourceError` before the first step; ``None``: the CLI's ``--force``).
    """
    lr = _check_args(network, steps, lr, optimizer, weight_decay, reduction, record_every)
    steps = int(steps)
    names = tuple(network.direction_names) if trainable is None else tuple(trainable)
    if isinstance(trainable, str):
        names = (trainable,)
    unknown = [k for k in names if k not in network.params]
    if unknown or not names:
        raise SymflowError(f"trainable must name parameters among {tuple(network.params)}, got {names!r}")
    neuron = training_neuron(network, constraint, spheres)
    blocks = sphere_blocks(network, neuron.constraint, names, neuron.spheres)
    geometry = ParameterGeometry(blocks)   # the spheres of the trained parameter rows
    # the metadata keeps its one-word label: the spheres asked for ("separate"/"joint") or "none"
    asked = constraint if constraint in SPHERES else (spheres or "separate")
    label = asked if neuron.constrained else "none"
    train_set = as_pairs(network.group, train_pairs)
    test_set = None if test_pairs is None else as_pairs(network.group, test_pairs)
    if test_set is not None and len(test_set) == 0:
        test_set = None
    P = len(train_set)
    if optimizer == "gd" and batch_size is not None:
        raise SymflowError("optimizer 'gd' is full-batch; use optimizer='sgd' (or 'adam') with batch_size")
    if optimizer == "sgd" and batch_size is None:
        raise SymflowError("optimizer 'sgd' needs batch_size (pairs per minibatch); use 'gd' for full batch")
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= P:
            raise SymflowError(f"batch_size must be an integer in 1..{P} (the number of training pairs), got {batch_size!r}")
        batch_size = int(batch_size)
    full_batch = batch_size is None or batch_size == P
    memory_estimate(network.group.order, network.width, steps, P, 0 if test_set is None else len(test_set), snapshots,
                    record_every, len(network.params), network.group.name).check(force)
    every = int(record_every) if record_every is not None else max(1, steps // 100)

    if optimizer in ("gd", "sgd"):
        opt = GradientDescent(lr)
    else:
        opt = Adam(lr, betas=betas, eps=eps, decoupled_decay=weight_decay if optimizer == "adamw" else 0.0)
    coupled_decay = weight_decay if optimizer != "adamw" else 0.0
    tie_scale = "a" in names and not network.per_neuron_scale

    try:
        c = network.reduced_time_unit(reduction)
    except SymflowError:
        c = None
    metadata = {
        "versions": versions("sympy"),
        "network": network.describe(),
        "training": {"steps": steps, "lr": lr, "optimizer": optimizer, "constraint": label,
                     "weight_decay": float(weight_decay), "batch_size": batch_size, "reduction": reduction,
                     "trainable": list(names), "seed": int(seed), "record_every": every,
                     "n_train": P, "n_test": 0 if test_set is None else len(test_set),
                     "betas": list(betas) if optimizer.startswith("adam") else None,
                     "eps": eps if optimizer.startswith("adam") else None},
        "reduced_time_unit": c if (network.activation.name == "quad" and not network.per_neuron_scale
                                   and "a" not in names and _is_whole_table(train_set)) else None,
    }

    params = network.params
    geometry.retract(params)
    rng = np.random.default_rng(seed)
    order = np.arange(P)
    cursor = P  # forces a shuffle at the first minibatch
    recorder = _Recorder(network, snapshots)
    interrupted = False
    t0 = time.perf_counter()
    done = 0

    def _metadata():
        wall = time.perf_counter() - t0
        return dict(metadata, steps_done=done, wall_time_s=wall,
                    ms_per_step=1e3 * wall / done if done else None, finished=time.strftime("%Y-%m-%dT%H:%M:%S"))

    def _record(step, train_ev=None):
        if train_ev is None:
            train_ev = network.evaluate(train_set, reduction, grads=False)
        if not np.isfinite(train_ev.loss):
            _diverged(step, train_ev.loss)
        test_ev = network.evaluate(test_set, reduction, grads=False) if test_set is not None else None
        recorder.add(step, train_ev, test_ev, network)
        if callback is not None:
            return bool(callback(step, network))
        return False

    def _diverged(step, loss):
        err = IntegrationError(f"training diverged at step {step}: the {reduction} loss is {loss}; lower lr "
                               f"(now {lr:g})" + (" or weight the decay less" if weight_decay else ""))
        err.history = recorder.history(_metadata(), False)
        err.step = step
        raise err

    tick = max(1, steps // 400)
    limits = _blas_limits(blas_threads)
    metadata["training"]["blas_threads"] = blas_threads if limits is not None else None
    try:
        with progress_bar("training", total=steps, enabled=progress and steps > 0, fields={"loss": float("nan")},
                          formats={"loss": "loss {:.5g}"}, counts=True, remaining=True) as bar:
            k = 0
            while True:
                record_now = k % every == 0 or k == steps
                if k == steps:
                    _record(k)
                    break
                if full_batch:
                    batch = train_set
                else:
                    if cursor + batch_size > P:
                        order = rng.permutation(P)
                        cursor = 0
                    batch = train_set.subset(order[cursor:cursor + batch_size])
                    cursor += batch_size
                ev = network.evaluate(batch, reduction, grads=True)
                if not np.isfinite(ev.loss):
                    _diverged(k, ev.loss)
                if record_now and _record(k, ev if full_batch else None):
                    break
                grads = {name: ev.grads[name] for name in names}
                if tie_scale:
                    grads["a"] = np.full_like(grads["a"], grads["a"].sum())
                if coupled_decay:
                    for name in names:
                        if name != "a":
                            grads[name] = grads[name] + coupled_decay * params[name]
                geometry.project_tangent(params, grads)
                opt.step(params, grads)
                geometry.retract(params)
                k += 1
                done = k
                if k % tick == 0 or k == steps:
                    bar.update(completed=k, loss=ev.loss)
    except KeyboardInterrupt:
        interrupted = True
        geometry.retract(params)   # an interrupted update may have left the spheres
        if all(np.all(np.isfinite(v)) for v in params.values()) and (not recorder.rows or recorder.rows[-1][0] != done):
            try:
                _record(done)
            except KeyboardInterrupt:  # pragma: no cover - a second Ctrl-C while recording
                pass
    finally:
        if limits is not None:
            limits.restore_original_limits()
    return recorder.history(_metadata(), interrupted)



# ---------------------------------------------------------------------------------------------
# training to a stationary point
# ---------------------------------------------------------------------------------------------
def stationarity_gap(network: TwoLayerNetwork, weight_decay: float, pairs=None, reduction: str = "mean",
                     groups=None, coupled: bool = True) -> dict[str, float]:
    r"""Per group ``nu`` of trained tensors (taken together): ``|grad_nu loss + c lambda nu|_F / |lambda nu|_F``
    (full batch on ``pairs``).

    ``c = 1`` (``coupled``): the gradient of the regularised loss ``loss + lambda/2 |nu|^2`` relative to its
    decay term, 0 exactly at a critical point of the regularised loss. ``c = 0`` (decoupled, AdamW): the decay is
    not part of any loss, so the gap is that of the loss alone, ``|grad_nu loss|_F / |lambda nu|_F``.
    ``groups``: names or tuples of names (default each direction alone: ``theta1, theta2, xi`` or
    ``theta, xi``); the key of a tuple is its names joined by ``+``. ``lambda > 0``.
    """
    if not weight_decay > 0:
        raise SymflowError(f"the stationarity gap is relative to the decay lambda W and needs lambda > 0, "
                           f"got {weight_decay}")
    groups = tuple(network.direction_names) if groups is None else tuple(groups)
    grads = network.grads(pairs, reduction)
    c = 1.0 if coupled else 0.0
    out = {}
    for group in groups:
        names = (group,) if isinstance(group, str) else tuple(group)
        num = np.sqrt(sum(float(np.sum((grads[k] + c * weight_decay * network.params[k]) ** 2)) for k in names))
        den = weight_decay * np.sqrt(sum(float(np.sum(network.params[k] ** 2)) for k in names))
        out["+".join(names)] = float(num / den) if den > 1e-300 else float("inf")
    return out


@dataclass
class StationaryPhase:
    """What :func:`train_to_stationarity` did: ``steps`` taken, the final ``lr`` (halved after each divergence or
    rise of the gap), the ``gaps`` reached (:func:`stationarity_gap` per tensor), whether ``max(gaps) <= tol``
    (``reached``), and the histories of its chunks."""

    optimizer: str
    coupled: bool
    tol: float
    steps: int = 0
    lr: float = 0.0
    gaps: dict = field(default_factory=dict)
    reached: bool = False
    interrupted: bool = False
    histories: list = field(default_factory=list)

    @property
    def gap(self) -> float:
        return max(self.gaps.values()) if self.gaps else float("inf")

    def to_json(self) -> dict:
        return {"optimizer": self.optimizer, "decay": "coupled" if self.coupled else "decoupled", "tol": self.tol,
                "steps": self.steps, "lr": self.lr, "gaps": {k: float(v) for k, v in self.gaps.items()},
                "gap": float(self.gap), "reached": bool(self.reached), "interrupted": bool(self.interrupted)}


def train_to_stationarity(network: TwoLayerNetwork, weight_decay: float, tol: float = 1e-2, lr: float = 1.0,
                          max_steps: int = 50000, optimizer: str = "gd", pairs=None, reduction: str = "mean",
                          chunk: int = 5000, check_every: int = 100, max_halvings: int = 12, groups=None,
                          progress: bool = False) -> StationaryPhase:
    r"""Full-batch training of ``network`` (in place, unconstrained, with :func:`train`) until
    ``max_nu stationarity_gap(nu) <= tol`` or ``max_steps`` steps.

    ``optimizer="gd"``: gradient descent on ``loss + lambda/2 |nu|^2`` (coupled decay); the gap is the relative
    regularised gradient ``|grad loss + lambda nu| / |lambda nu|``. ``optimizer="adamw"``: AdamW (decoupled decay),
    the gap of the loss alone (``c = 0`` in :func:`stationarity_gap`), since AdamW's decay is no loss term.
    ``groups`` as in :func:`stationarity_gap`. Training runs in chunks of ``chunk`` steps, checking the gap every
    ``check_every`` steps. GD with a stable step decreases ``R = loss + lambda/2 |nu|^2`` monotonically, so a chunk
    that diverges or ends with a larger ``R`` than it began with is undone and repeated with ``lr / 2`` (at most
    ``max_halvings`` times); the gap itself may rise for a while (a saddle passage) and is not checked. AdamW runs
    as one chunk (its moments would restart with each; it minimises no ``R``). Ctrl-C keeps the chunks done (``interrupted=True``).
    """
    choice(optimizer, "optimizer", ("gd", "adamw"), what="'gd' (coupled decay) or 'adamw' (decoupled)")
    real(tol, "tol")
    integer(max_steps, "max_steps", minimum=0)
    coupled = optimizer == "gd"
    if not coupled:     # Adam's moments restart with every chunk: one chunk
        chunk = max(int(max_steps), 1)
    phase = StationaryPhase(optimizer, coupled, float(tol), lr=float(lr))
    gaps = stationarity_gap(network, weight_decay, pairs, reduction, groups, coupled)
    halvings = 0
    while max(gaps.values()) > tol and phase.steps < max_steps:
        n = min(chunk, max_steps - phase.steps)
        saved = {k: v.copy() for k, v in network.params.items()}
        start = _regularised_loss(network, weight_decay, pairs, reduction) if coupled else None

        def done(step, net):
            return step > 0 and max(stationarity_gap(net, weight_decay, pairs, reduction, groups,
                                                     coupled).values()) <= tol

        try:
            hist = train(network, n, phase.lr, optimizer=optimizer, constraint="none", weight_decay=weight_decay,
                         train_pairs=pairs, reduction=reduction, record_every=check_every, snapshots=False,
                         callback=done, progress=progress)
        except IntegrationError:
            hist = None
        if hist is not None:
            finite = all(np.all(np.isfinite(v)) for v in network.params.values())
            new = stationarity_gap(network, weight_decay, pairs, reduction, groups, coupled) if finite else None
            if hist.interrupted:
                phase.histories.append(hist)
                phase.steps += int(hist.step[-1]) if len(hist) else 0
                phase.interrupted = True
                if new is not None:
                    gaps = new
                break
            if new is not None and (not coupled or
                                    _regularised_loss(network, weight_decay, pairs, reduction) <= start):
                phase.histories.append(hist)
                phase.steps += int(hist.step[-1])
                gaps = new
                continue
        # diverged, or R rose (an unstable step): undo the chunk and halve the step
        for k, v in saved.items():
            network.params[k][...] = v
        halvings += 1
        if halvings > max_halvings:
            break
        phase.lr /= 2
    phase.gaps = gaps
    phase.reached = max(gaps.values()) <= tol
    return phase


def _regularised_loss(network: TwoLayerNetwork, weight_decay: float, pairs, reduction: str) -> float:
    """``R = loss + lambda/2 sum_nu |nu|^2`` over the directions (the objective of GD with coupled decay)."""
    loss = network.evaluate(pairs, reduction, grads=False).loss
    return loss + 0.5 * weight_decay * sum(float(np.sum(network.params[k] ** 2)) for k in network.direction_names)


def minimise(params: dict, value_and_grad, steps: int, lr: float, optimizer: str = "adam", final_lr: float | None = None,
             betas=(0.9, 0.999), eps: float = 1e-8):
    """Minimise ``value_and_grad(params) -> (value, grads)`` over a dict of parameter arrays, in place, with
    this module's optimisers (``"gd"``: :class:`GradientDescent`; ``"adam"``: :class:`Adam`), for any model
    outside :class:`TwoLayerNetwork` (e.g. :mod:`symflow.mirrors`). The step size decays geometrically,
    ``lr_k = lr (final_lr / lr)^(k / steps)`` (constant when ``final_lr`` is ``None``). Returns the value
    before the last step (an array when the model is a batch of independent problems)."""
    steps = integer(steps, "steps", minimum=0)
    lr = real(lr, "lr")
    choice(optimizer, "optimizer", ("gd", "adam"), what="'gd' or 'adam'")
    opt = GradientDescent(lr) if optimizer == "gd" else Adam(lr, betas=betas, eps=eps)
    decay = 1.0 if final_lr is None else (real(final_lr, "final_lr") / lr) ** (1.0 / max(1, steps))
    value = None
    for _ in range(steps):
        value, grads = value_and_grad(params)
        opt.step(params, grads)
        opt.lr *= decay
    return value


def _blas_limits(threads):
    """The limiter of :func:`symflow.blas.blas_limits` holding BLAS at ``threads`` (None if not asked)."""
    if threads is None:
        return None
    from ..blas import blas_limits

    return blas_limits(threads)


def _is_whole_table(ps: PairSet) -> bool:
    n = ps.group.order
    return ps.full or (len(ps) == n * n and len(np.unique(ps.g1 * n + ps.g2)) == n * n)


__all__ = ["train", "minimise", "TrainingHistory", "train_to_stationarity", "stationarity_gap", "StationaryPhase", "OPTIMIZERS", "CONSTRAINTS", "SPHERES", "project_tangent", "retract",
           "sphere_blocks", "training_neuron", "GradientDescent", "Adam", "PairSet"]
