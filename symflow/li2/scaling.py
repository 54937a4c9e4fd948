r"""The sample-size law, measured two ways: where the trained Li2 network generalises (``p_c_network``, the
headline) and where the full-data energy maxima survive on the subsampled energy (``p_c_energy``, a proxy).

**Network** (:func:`measure_network`). Li2's network as ``symflow grok --model li2`` trains it
(:meth:`~symflow.dynamics.network.TwoLayerNetwork.li2`: ``Y_hat = sigma(XW)V``, ``sigma = x^2``, the square
loss centred over the training samples, torch's uniform init) with the public code's configuration
(``NetworkBudget``: hidden 512, Adam lr 0.01 with coupled weight decay 1e-4, full batch, float32 as on the GPU),
trained on a random fraction ``p`` of the table until the test accuracy stops changing (``|acc(t) -
acc(t - patience)| <= tol`` for train and test accuracy, checked every ``check_every`` steps) or the budget of
``max_steps`` (the public code's 3000 epochs) runs out. Sequence ``k`` of runs uses seed ``seed + 1000 k + i``
(init and subset) at grid fraction ``i``; its transition is bracketed on the grid where the test accuracy first
reaches 1/2 and refined by ``bisect`` bisection steps, each a fresh run (seed ``seed + 1000 k + 500 + b``).
``p_c_network``: the mean over sequences with a normal 95 % interval widened by the final half-bracket. Each run
also records its CPU seconds, the raw and the centred accuracy (:func:`symflow.li2.grok.centred_predictions`: the
per-class offset the centred loss leaves free, fitted on the training entries; ``p_c_network_centred`` is where
the centred test accuracy crosses 1/2) and, per irrep orbit, how much of the orbit's part of the table the
network outputs on its test entries (:func:`irrep_recovery`); :func:`irrep_transitions` locates where each orbit
is learned (recovery >= ``IRREP_LEVEL`` = 0.5, a proxy) and :func:`fit_irrep_dimension` asks whether those
transitions grow like ``d^2`` (Thm 4), ``d`` (the code) or neither. ``workers > 1`` trains the independent runs
in forked processes (same numbers).

**Energy** (:func:`measure_energy`). Per group, fraction ``p`` and random subset ``k``
(:func:`symflow.li2.core.training_mask`, seed ``seed + 1000 k + i``): starts are (a) full-data maxima, one per
sampled nontrivial orbit (:func:`symflow.li2.fit.orbit_maxima`; at most ``MAX_ORBITS`` orbits, sampled), and
(b) ``random`` Gaussian starts; each is brought to a maximum of ``E_S`` by sphere ascent. A maximum is
*generalising* at threshold ``t`` when its support is one irrep orbit (:func:`generalising`: the norm outside its
dominant orbit is at most ``1 - t`` of a random vector's), else *memorising*. ``p_c_energy``: where the
generalising share of the maxima-started nodes reaches 1/2 at ``t = GENERALISING_SHARE`` (0.9), bracketed on
the grid and refined by bisection as above; ``by_threshold`` gives the grid crossing for ``t`` from 0.5 to 0.95.
For groups of order ``<= TEST_MAX_ORDER`` the network built from ``NODE_CAP`` ascended maxima per orbit (``V``
by least squares) gives the energy criterion's own test accuracy.

Side by side (:func:`fit_law`, :func:`fit_thm4`): ``p_c = c (log M / M)^alpha`` over groups; Thm 4's form
``C d^2 log M / M`` with ``d = d_max`` (the largest irrep dimension; ``C`` fitted over groups); the public
code's ``2.7482 ln M / M``, times ``d_max / 2`` for non-abelian groups (``critical_ratio_multiplier`` and
``scaling_law_correction`` in ``ssl/real-dataset/cogo``).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import SymflowError
from ..progress import progress_bar
from ..validation import integer, nontrivial_group, real
from ..landscape.search import ascend
from .core import li2_model, training_mask
from .derive import orbit_shares
from .fit import NODE_CAP, least_squares_fit, orbit_maxima
from .grok import centred_outputs, centred_predictions

GENERALISING_SHARE = 0.9
#: Thresholds of the energy criterion's support share over which ``p_c_energy`` is also reported.
ENERGY_THRESHOLDS = (0.5, 0.75, 0.9, 0.95)
MAX_ORBITS = 8
TEST_MAX_ORDER = 30
#: The public code's empirical constant: train fraction ``2.7482 log M / M``.
CODE_CONSTANT = 2.7482


def default_fractions(M: int, points: int = 9) -> list:
    """``points`` fractions spaced geometrically from ``0.5 log M / M`` to 1 (the transition must lie inside
    the grid: measured ``p_c`` is 0.5-0.7 for M <= 61, above the code's ``2.7482 log M / M``)."""
    base = min(0.5, 0.5 * math.log(M) / M)
    return sorted({float(round(f, 5)) for f in np.geomspace(base, 1.0, points)})


def generalising(group, x, threshold: float = GENERALISING_SHARE) -> np.ndarray:
    """Per node: at most ``1 - threshold`` of the leak a random vector has outside its dominant
    orbit, ``1 - share <= (1 - threshold) (1 - w)`` with ``w = k d^2 / n`` the orbit's Plancherel
    weight (for Z_p: share >= ~0.9; an orbit holding most of the group algebra, as F55's 5-dimensional
    pair with w = 50/55, needs far more)."""
    sh = orbit_shares(group, x)
    w = np.array([sum(group.irreps[i].dim ** 2 for i in o) / group.order for o in group.orbits])
    j = sh.argmax(axis=1)
    return (1 - sh.max(axis=1)) <= (1 - threshold) * (1 - w[j])


def _generalising_share(group, p, starts, random, steps, seed) -> float:
    prob = li2_model(group, training_mask(group, p, seed))
    x = ascend(prob, starts, steps=steps).points
    return float(generalising(group, x).mean())


def measure_energy(group, fractions=None, subsets: int = 4, seed: int = 0, random: int = 8, steps: int = 300,
                   progress: bool = False, bisect: int = 3) -> dict:
    """The energy criterion's transition for one group (module doc): per fraction the generalising shares and
    test accuracy (mean over subsets), ``p_c_energy`` per subset sequence with its mean and 95 % interval at
    ``GENERALISING_SHARE``, and the grid crossing at each of ``ENERGY_THRESHOLDS`` (``by_threshold``)."""
    t0 = time.perf_counter()
    subsets = integer(subsets, "subsets", minimum=1)
    nontrivial_group(group, "the sample-size law")
    n = group.order
    fr = default_fractions(n) if fractions is None else sorted(float(f) for f in fractions)
    rng = np.random.default_rng(seed)
    orbits = [o for o in group.orbits if not o.is_trivial]
    pick = orbits if len(orbits) <= MAX_ORBITS else [orbits[i] for i in sorted(rng.choice(len(orbits), MAX_ORBITS, replace=False))]
    starts = np.concatenate([orbit_maxima(group, o, 1, seed + o.id) for o in pick])
    dims = np.array([o.dim for o in pick])
    test_nodes = None
    if n <= TEST_MAX_ORDER:
        test_nodes = np.concatenate([orbit_maxima(group, o, NODE_CAP(o), seed + 7 + o.id) for o in orbits])
    gen = np.zeros((subsets, len(fr)))
    gen_rand = np.zeros((subsets, len(fr)))
    gen_dim = {int(d): np.zeros((subsets, len(fr))) for d in set(dims.tolist())}
    gen_t = {t: np.zeros((subsets, len(fr))) for t in ENERGY_THRESHOLDS}
    acc = np.full((subsets, len(fr)), np.nan)
    with progress_bar(f"{group.name} subsets", total=subsets * len(fr), enabled=progress, counts=True) as bar:
        for k in range(subsets):
            for i, p in enumerate(fr):
                mask = training_mask(group, p, seed + 1000 * k + i)
                prob = li2_model(group, mask)
                x0 = np.concatenate([starts, np.random.default_rng(seed + 1000 * k + i).normal(size=(random, 2 * n))])
                x = ascend(prob, x0, steps=steps).points
                ok = generalising(group, x)
                m = len(starts)
                gen[k, i] = ok[:m].mean()
                gen_rand[k, i] = ok[m:].mean() if random else np.nan
                for d in gen_dim:
                    gen_dim[d][k, i] = ok[:m][dims == d].mean()
                for t in gen_t:
                    gen_t[t][k, i] = generalising(group, x[:m], t).mean()
                if test_nodes is not None:
                    xt = ascend(prob, test_nodes, steps=steps).points
                    acc[k, i] = least_squares_fit(prob, xt)["test_accuracy"] if p < 1 else 1.0
                bar.advance()
    pc = np.array([crossing(fr, gen[k]) for k in range(subsets)])
    width = np.zeros(subsets)
    # refine each sequence's crossing by bisection between its bracketing grid points (fresh subsets)
    for k in range(subsets):
        i = next((j for j in range(len(fr)) if gen[k, j] >= 0.5), None)
        if i is None or i == 0:
            continue
        lo, hi = fr[i - 1], fr[i]
        for b in range(bisect):
            mid = 0.5 * (lo + hi)
            if _generalising_share(group, mid, starts, random, steps, seed + 1000 * k + 500 + b) >= 0.5:
                hi = mid
            else:
                lo = mid
        pc[k] = 0.5 * (lo + hi)
        width[k] = 0.5 * (hi - lo)
    out = {"group": group.name, "order": n, "fractions": fr, "subsets": subsets, "seed": seed,
           "generalising": gen.mean(0).tolist(), "generalising_random": gen_rand.mean(0).tolist(),
           "generalising_by_dim": {str(d): v.mean(0).tolist() for d, v in gen_dim.items()},
           "test_accuracy": None if test_nodes is None else np.nanmean(acc, 0).tolist(),
           "p_c_energy": dict(summary(pc, resolution=float(width.max())), threshold=GENERALISING_SHARE,
                              level=0.5, by_threshold={str(t): summary([crossing(fr, v[k]) for k in range(subsets)])
                                                       for t, v in gen_t.items()}),
           "p_c_by_dim": {str(d): summary(np.array([crossing(fr, v[k]) for k in range(subsets)])) for d, v in gen_dim.items()},
           "log_M_over_M": math.log(n) / n, "code_prediction": code_prediction(group),
           "wall_time": None}
    out["wall_time"] = time.perf_counter() - t0
    return out


def crossing(fractions, share, level: float = 0.5) -> float:
    """First fraction where ``share`` reaches ``level`` (linear interpolation on the grid); NaN if never,
    the first grid point if already there."""
    f, s = np.asarray(fractions, float), np.asarray(share, float)
    for i in range(len(f)):
        if s[i] >= level:
            if i == 0:
                return float(f[0])
            a, b = s[i - 1], s[i]
            return float(f[i - 1] + (level - a) / (b - a) * (f[i] - f[i - 1]))
    return float("nan")


def summary(values, resolution: float = 0.0) -> dict:
    """Mean and 95 % interval (normal, over the values) widened by the bisection ``resolution`` (half the
    final bracket: identical brackets otherwise give a zero-width interval)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"mean": None, "ci95": [None, None], "values": [], "missing": int(np.size(values))}
    m = float(v.mean())
    h = (1.96 * float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else 0.0) + resolution
    return {"mean": m, "ci95": [m - h, m + h], "values": v.tolist(), "missing": int(np.size(values) - len(v)),
            "resolution": resolution}


def fit_law(rows, key: str = "p_c_network") -> dict:
    """Fits over groups of ``r[key]["mean"]``: ``p_c = c (log M / M)^alpha`` (free alpha), ``c`` at
    ``alpha = 1``; beside the code's constant. Needs two groups with a finite ``p_c``."""
    pts = [(r["log_M_over_M"], r[key]["mean"]) for r in rows if r.get(key) and r[key]["mean"] is not None]
    if len(pts) < 2:
        return {"alpha": None, "c": None, "c_alpha1": None, "code_constant": CODE_CONSTANT, "groups": len(pts)}
    x = np.log([p[0] for p in pts])
    y = np.log([p[1] for p in pts])
    alpha, logc = np.polyfit(x, y, 1)
    c1 = float(np.exp(np.mean(y - x)))
    return {"alpha": float(alpha), "c": float(np.exp(logc)), "c_alpha1": c1, "code_constant": CODE_CONSTANT,
            "groups": len(pts)}


def d_max(group) -> int:
    """The largest irrep dimension of ``group``."""
    return max(int(r.dim) for r in group.irreps)


def code_prediction(group) -> float:
    """The public code's training fraction ``2.7482 ln M / M``, times ``d_max / 2`` for a non-abelian group
    (its ``scaling_law_correction``), capped at 1."""
    n, d = group.order, d_max(group)
    return min(1.0, CODE_CONSTANT * math.log(n) / n * (d / 2 if d > 1 else 1.0))


def fit_thm4(rows, key: str = "p_c_network") -> dict:
    """Thm 4's form ``p_c = C d^2 log M / M`` with ``d = d_max``: ``C`` the geometric mean over groups of
    ``p_c / (d_max^2 log M / M)``, with the spread (min, max) of the per-group ratios."""
    ratios = [r[key]["mean"] / (r["d_max"] ** 2 * r["log_M_over_M"]) for r in rows
              if r.get(key) and r[key]["mean"] is not None]
    if not ratios:
        return {"C": None, "d": "d_max", "groups": 0}
    return {"C": float(np.exp(np.mean(np.log(ratios)))), "d": "d_max", "groups": len(ratios),
            "ratio_min": float(min(ratios)), "ratio_max": float(max(ratios))}


def fit_dimension(rows) -> dict:
    """``p_c(d) / (log M / M) = c d^beta`` over every group's per-dimension ``p_c``."""
    pts = [(int(d), s["mean"] / r["log_M_over_M"]) for r in rows for d, s in r["p_c_by_dim"].items()
           if s["mean"] is not None]
    ds = sorted({d for d, _ in pts})
    if len(ds) < 2:
        return {"beta": None, "points": pts}
    beta, logc = np.polyfit(np.log([d for d, _ in pts]), np.log([c for _, c in pts]), 1)
    return {"beta": float(beta), "c": float(np.exp(logc)), "points": pts}


# ---------------------------------------------------------------------------------------------
# the network's transition
# ---------------------------------------------------------------------------------------------
#: Multiples of ``log M / M`` (times ``d_max / 2`` for a non-abelian group) of the default network grid.
NETWORK_GRID = (1.5, 2.25, 3.375, 5.0)
#: Largest default grid fraction (leaves a test set of 5 % of the table).
MAX_GRID_FRACTION = 0.95


@dataclass
class NetworkBudget:
    """Li2's network and its training budget for :func:`measure_network` (defaults: the public code's
    configuration, ``ssl/real-dataset/cogo``, with the learning rate of its sweep log).

    Training stops at the first check (every ``check_every`` steps, from step ``patience`` on) where the train
    and the test accuracy each moved by at most ``tol`` over the last ``patience`` steps, else after
    ``max_steps`` steps (the public code's 3000 epochs, full batch)."""

    width: int = 512
    lr: float = 0.01
    weight_decay: float = 1e-4
    max_steps: int = 3000
    check_every: int = 100
    patience: int = 500
    tol: float = 0.01
    dtype: str = "float32"

    def validate(self) -> "NetworkBudget":
        integer(self.width, "width", minimum=1)
        real(self.lr, "lr")
        real(self.weight_decay, "weight decay", strict=False)
        integer(self.max_steps, "max steps", minimum=1)
        integer(self.check_every, "check every", minimum=1)
        integer(self.patience, "patience", minimum=1)
        real(self.tol, "tol", strict=False)
        if self.dtype not in ("float32", "float64"):
            raise SymflowError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.patience % self.check_every:
            raise SymflowError(f"patience ({self.patience}) must be a multiple of check every ({self.check_every})")
        return self

    def to_json(self) -> dict:
        return dict(asdict(self), model="TwoLayerNetwork.li2: Y_hat = sigma(XW)V, sigma = x^2, square loss centred "
                                          "over the training samples, torch's uniform init (grok --model li2)",
                    optimizer="adam, coupled L2 weight decay (torch's Adam), full batch",
                    stop=f"train and test accuracy each moved <= {self.tol} over the last {self.patience} steps "
                         f"(checked every {self.check_every}), else {self.max_steps} steps")


def default_network_fractions(group) -> list:
    """The default grid: ``NETWORK_GRID`` times ``log M / M`` (times ``d_max / 2`` for a non-abelian group),
    capped at ``MAX_GRID_FRACTION``."""
    n, d = group.order, d_max(group)
    base = math.log(n) / n * (d / 2 if d > 1 else 1.0)
    return sorted({float(round(min(MAX_GRID_FRACTION, c * base), 5)) for c in NETWORK_GRID})


def train_until_flat(group, fraction: float, seed: int, budget: NetworkBudget) -> dict:
    """One run: Li2's network (init seed ``seed``) trained on ``training_mask(group, fraction, seed)`` under
    ``budget`` with the one optimiser module; the test set is the rest of the table (test accuracy 1 when it is
    empty). Returns ``fraction, seed, train_acc, test_acc, steps, stopped`` (``"flat"``, ``"budget"`` or
    ``"diverged"``, the last with test accuracy 0). Ctrl-C raises :class:`KeyboardInterrupt`."""
    from ..dynamics.network import TwoLayerNetwork
    from ..dynamics.training import train
    from ..errors import IntegrationError

    cpu0 = time.process_time()
    mask = training_mask(group, fraction, seed)
    train_pairs, test_pairs = np.argwhere(mask), np.argwhere(~mask)
    net = TwoLayerNetwork.li2(group, budget.width, seed=seed, dtype=budget.dtype)
    lag = budget.patience // budget.check_every
    seen = []                                              # (step, train acc, test acc) per check
    flat = []

    def check(step, network):
        tr = network.accuracy(train_pairs)
        te = network.accuracy(test_pairs) if len(test_pairs) else 1.0
        seen.append((int(step), tr, te))
        if step >= budget.patience and len(seen) > lag:
            _, tr0, te0 = seen[-1 - lag]
            if abs(tr - tr0) <= budget.tol and abs(te - te0) <= budget.tol:
                flat.append(step)
                return True
        return False

    try:
        hist = train(net, budget.max_steps, budget.lr, optimizer="adam", constraint="none",
                     weight_decay=budget.weight_decay, train_pairs=train_pairs, reduction="mean",
                     record_every=budget.check_every, snapshots=False, callback=check)
    except IntegrationError as err:
        return {"fraction": float(fraction), "seed": int(seed), "train_acc": 0.0, "test_acc": 0.0,
                "steps": int(getattr(err, "step", 0)), "stopped": "diverged", "cpu_s": time.process_time() - cpu0}
    if hist.interrupted:
        raise KeyboardInterrupt
    step, tr, te = seen[-1]
    nodes = np.concatenate([net.theta1, net.theta2], axis=1)
    return {"fraction": float(fraction), "seed": int(seed), "train_acc": float(tr), "test_acc": float(te),
            "steps": step, "stopped": "flat" if flat else "budget",
            "learned_orbits": learned_orbits(group, nodes),
            **table_readouts(group, net.logits(None), mask),
            "orbit_power": orbit_power(group, nodes),
            "cpu_s": time.process_time() - cpu0}


def irrep_kernels(group) -> np.ndarray:
    """Per irrep orbit ``k`` (``group.orbits`` order) the real class function ``K_k(g) = Re sum_{rho in k} (d_rho / n)
    chi_rho(g)``, shape ``(orbits, n)``: ``sum_k K_k(g) = [g = e]`` (column orthogonality), so the table's target
    ``[ab = h]`` splits into orthogonal irrep parts ``Y_k(a, b, h) = K_k(h^-1 a b)``."""
    n = group.order
    return np.array([sum(group.irreps[i].dim * group.irreps[i].character for i in o).real / n for o in group.orbits])


def irrep_recovery(group, logits, mask) -> dict:
    """How much of each nontrivial irrep orbit's part of the table the network outputs on the entries it was not
    trained on: ``c_k = sum_{p in test} <Z_p, Y_k(p)> / sum_{p in test} |Y_k(p)|^2``, ``Z`` the outputs with the
    per-class offset fitted on the training entries (:func:`symflow.li2.grok.centred_outputs`): the regression
    coefficient of the test outputs on the part ``Y_k`` of the target (:func:`irrep_kernels`; 1: the irrep's part
    is reproduced, 0: absent; the parts are orthogonal on the whole table and nearly so on a large test set; the
    exact target gives 1 on any test set). A memorising network has ``c_k ~ 0`` whatever it fits on the training
    entries. Keys: orbit labels; empty when there is no test entry."""
    m = ~np.asarray(mask).ravel()
    if not m.any():
        return {}
    n = group.order
    table = np.asarray(group.table)
    z = centred_outputs(logits, table.ravel(), mask)[m]
    y = table.ravel()[m]
    A = np.zeros((n, n))
    np.add.at(A, y, z)                                       # A[y] = sum of the outputs of the test entries with ab = y
    counts = np.bincount(y, minlength=n)
    index = table[np.asarray(group.inverse)].T               # index[y, h] = h^-1 y
    out = {}
    for o, K in zip(group.orbits, irrep_kernels(group)):
        if o.is_trivial:
            continue
        C = K[index]                                         # C[y, h] = K(h^-1 y)
        out[o.label] = float(np.sum(A * C) / (counts @ np.sum(C * C, axis=1)))
    return out


def table_readouts(group, logits, mask) -> dict:
    """From the whole table's outputs: raw and centred (:func:`centred_predictions`) train and test accuracy, and the
    per-orbit recovery :func:`irrep_recovery` (key ``irrep_recovery``)."""
    y = np.asarray(group.table).ravel()
    m = np.asarray(mask).ravel()
    raw = np.asarray(logits).argmax(axis=1) == y
    cen = centred_predictions(logits, y, mask) == y
    acc = lambda ok, sel: float(ok[sel].mean()) if sel.any() else 1.0   # noqa: E731
    return {"train_acc_centred": acc(cen, m), "test_acc_centred": acc(cen, ~m),
            "test_acc_table": acc(raw, ~m), "irrep_recovery": irrep_recovery(group, logits, mask)}


def orbit_power(group, nodes) -> dict:
    """Share of the first layer's power ``sum_j |w_j|^2`` on each nontrivial irrep orbit, over its Plancherel
    weight (the share a random vector has): 1 for random weights; > 1 where the learned nodes concentrate."""
    x = np.asarray(nodes, dtype=float)
    p = np.sum(x * x, axis=1)
    share = (orbit_shares(group, x) * p[:, None]).sum(0) / max(p.sum(), 1e-300)
    w = np.array([sum(group.irreps[i].dim ** 2 for i in o) / group.order for o in group.orbits])
    return {o.label: float(share[j] / w[j]) for j, o in enumerate(group.orbits) if not o.is_trivial}


def learned_orbits(group, nodes, threshold: float = GENERALISING_SHARE) -> dict:
    """Which irrep orbits the hidden nodes ``w = [u; v]`` (rows) have learned: per nontrivial orbit label the
    number of nodes supported on it by :func:`generalising`'s criterion at ``threshold`` (the leak outside the
    orbit at most ``1 - threshold`` of a random vector's, so an orbit holding most of the group algebra counts
    only when it is truly alone), and ``"mixed"`` for the rest."""
    x = np.asarray(nodes, dtype=float)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
    top = orbit_shares(group, x).argmax(axis=1)
    ok = generalising(group, x, threshold)
    out: dict = {}
    for j, k in enumerate(top):
        o = group.orbits[int(k)]
        key = o.label if ok[j] and not o.is_trivial else "mixed"
        out[key] = out.get(key, 0) + 1
    return out


_POOL: dict = {}


def _pool_init():
    """Workers ignore Ctrl-C (the parent stops the pool) and hold BLAS at one thread each (one run per core)."""
    import signal

    from ..blas import blas_limits

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    blas_limits(1)


def _grid_run(task):
    p, seed, k = task
    return dict(train_until_flat(_POOL["group"], p, seed, _POOL["budget"]), sequence=k)


def _bisect_sequence(task):
    """One sequence's bisection between ``lo`` and ``hi`` (fresh runs, seeds ``base + b``): ``(lo, hi, runs)``."""
    lo, hi, base, bisect, level, k = task
    runs = []
    for b in range(bisect):
        mid = 0.5 * (lo + hi)
        r = train_until_flat(_POOL["group"], mid, base + b, _POOL["budget"])
        runs.append(dict(r, bisection=True, sequence=k))
        if r["test_acc"] >= level:
            hi = mid
        else:
            lo = mid
        if _POOL.get("advance"):
            _POOL["advance"]()
    return lo, hi, runs


def _mapped(fn, tasks, pool, bar, advance=1):
    """``fn`` over ``tasks`` in order, in ``pool`` when given; the bar advances by ``advance`` per finished task."""
    if pool is None:
        out = []
        for t in tasks:
            out.append(fn(t))
            bar.advance(advance)
        return out
    out = []
    for r in pool.imap(fn, tasks):
        out.append(r)
        bar.advance(advance)
    return out


def measure_network(group, fractions=None, seeds: int = 3, bisect: int = 3, budget: NetworkBudget | None = None,
                    seed: int = 0, level: float = 0.5, progress: bool = False, workers: int = 1) -> dict:
    """The network's transition for one group (module doc): test accuracy per grid fraction over ``seeds``
    run sequences, and ``p_c_network``, where the test accuracy crosses ``level``, bisected per sequence; per irrep
    orbit its own transition (:func:`irrep_transitions`). ``workers > 1`` trains independent runs (the grid; the
    sequences' bisections) in that many forked processes, one BLAS thread each: the same runs and results, the
    wall time divided by up to ``workers``. Ctrl-C raises :class:`KeyboardInterrupt`."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    seeds = integer(seeds, "seeds", minimum=1)
    bisect = integer(bisect, "bisect", minimum=0)
    workers = integer(workers, "workers", minimum=1)
    budget = (budget or NetworkBudget()).validate()
    fr = default_network_fractions(group) if fractions is None else sorted(float(f) for f in fractions)
    acc = np.full((seeds, len(fr)), np.nan)
    pool = None
    _POOL.update(group=group, budget=budget)
    if workers > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(min(workers, seeds * len(fr)), initializer=_pool_init)
    try:
        with progress_bar(f"{group.name} network runs", total=seeds * (len(fr) + bisect), enabled=progress,
                          counts=True) as bar:
            tasks = [(p, seed + 1000 * k + i, k) for k in range(seeds) for i, p in enumerate(fr)]
            runs = _mapped(_grid_run, tasks, pool, bar)
            for j, r in enumerate(runs):
                acc[j // len(fr), j % len(fr)] = r["test_acc"]
            pc, width, brackets, todo = np.full(seeds, np.nan), np.zeros(seeds), [None] * seeds, []
            for k in range(seeds):
                i = next((j for j in range(len(fr)) if acc[k, j] >= level), None)
                if i is None:
                    bar.advance(bisect)
                    continue
                lo, hi = (fr[i - 1], fr[i]) if i > 0 else (0.5 * fr[0], fr[0])
                todo.append((k, (lo, hi, seed + 1000 * k + 500, bisect, level, k)))
            _POOL["advance"] = bar.advance if pool is None else None
            done = _mapped(_bisect_sequence, [t for _, t in todo], pool, bar, advance=0 if pool is None else bisect)
            for (k, _), (lo, hi, extra) in zip(todo, done):
                runs.extend(extra)
                pc[k], width[k] = 0.5 * (lo + hi), 0.5 * (hi - lo)
                brackets[k] = [lo, hi]
    finally:
        _POOL.clear()
        if pool is not None:
            pool.terminate()
            pool.join()
    n = group.order
    steps = [r["steps"] for r in runs]
    stopped = [r["stopped"] for r in runs]
    wall = time.perf_counter() - t0
    rows = []
    for i, p in enumerate(fr):
        s = summary(acc[:, i])
        grid = [r for r in runs if not r.get("bisection") and r["fraction"] == p]
        learned = [len([k for k in r["learned_orbits"] if k != "mixed"]) for r in grid if "learned_orbits" in r]
        cen = [r["test_acc_centred"] for r in grid if "test_acc_centred" in r]
        rows.append({"fraction": p, "mean": s["mean"], "ci95": s["ci95"], "runs": int(seeds), "values": s["values"],
                     "orbits_learned_mean": float(np.mean(learned)) if learned else None,
                     "centred_mean": float(np.mean(cen)) if cen else None})
    cpu_runs = float(sum(r.get("cpu_s", 0.0) for r in runs))
    return {"group": group.name, "order": n, "d_max": d_max(group), "log_M_over_M": math.log(n) / n,
            "p_c_network": dict(summary(pc, resolution=float(width.max()) if seeds else 0.0), level=level,
                                brackets=brackets),
            "p_c_network_centred": centred_transition(runs, level),
            "test_accuracy": rows,
            "irrep_transitions": irrep_transitions(group, runs, seeds, level),
            "training": dict(budget.to_json(), seeds=seeds, bisect=bisect, seed=seed, runs=len(runs),
                             stopped_flat=stopped.count("flat"), at_budget=stopped.count("budget"),
                             diverged=stopped.count("diverged"), steps_median=float(np.median(steps)),
                             steps_max=int(max(steps)), wall_time_s=wall, workers=workers,
                             cpu_time_s=cpu_runs if pool is not None else time.process_time() - cpu0,
                             cpu_time_runs_s=cpu_runs),
            "runs": runs}


def _crossings(runs, value, level: float) -> list:
    """Per run sequence: the first fraction where ``value(run)`` reaches ``level`` over the sequence's runs sorted
    by fraction (grid and bisection runs together; :func:`crossing`)."""
    by_seq: dict = {}
    for r in runs:
        by_seq.setdefault(r.get("sequence", 0), []).append(r)
    out = []
    for seq in sorted(by_seq):
        rs = sorted(by_seq[seq], key=lambda r: r["fraction"])
        out.append(crossing([r["fraction"] for r in rs], [value(r) for r in rs], level))
    return out


def centred_transition(runs, level: float = 0.5) -> dict:
    """Where the *centred* test accuracy (``test_acc_centred``, :func:`symflow.li2.grok.centred_predictions`: the
    per-class offset the centred loss leaves free, fitted on the training entries) crosses ``level``: per sequence
    the first crossing over its runs sorted by fraction (interpolated; the bisection follows the raw accuracy, so
    this is no bisection of its own), mean and 95 % interval."""
    runs = [r for r in runs if "test_acc_centred" in r]
    return dict(summary(_crossings(runs, lambda r: r["test_acc_centred"], level)), level=level,
                rule="first crossing of the centred test accuracy over each sequence's runs sorted by fraction")


#: Level of an orbit's recovery :func:`irrep_recovery` at which the trained network counts as having learned it
#: (a proxy: the regression coefficient of its test outputs on the irrep's part of the table).
IRREP_LEVEL = 0.5


def irrep_transitions(group, runs, seeds: int | None = None, level: float = IRREP_LEVEL) -> dict:
    """Per nontrivial irrep orbit, where the trained network learns it: its recovery :func:`irrep_recovery` (mean
    over the runs at each fraction) and, per run sequence, the first fraction where the recovery reaches ``level``
    (linear interpolation between the sequence's runs sorted by fraction, grid and bisection runs together;
    :func:`crossing`), summarised with a 95 % interval (:func:`summary`). Also the first layer's power on the orbit
    over its Plancherel weight (:func:`orbit_power`, mean at each fraction). ``level`` is the proxy's threshold."""
    runs = [r for r in runs if r.get("irrep_recovery")]
    if not runs:
        return {"level": level, "orbits": []}
    fr = sorted({r["fraction"] for r in runs})
    out = []
    for o in group.orbits:
        if o.is_trivial:
            continue
        per_seq = _crossings(runs, lambda r: r["irrep_recovery"][o.label], level)
        mean_at = lambda key: [float(np.mean([r[key][o.label] for r in runs if r["fraction"] == p]))   # noqa: E731
                               for p in fr]
        out.append({"orbit": o.label, "dim": int(o.dim), "type": o.type, "irreps": len(o),
                    "transition": summary(per_seq), "fractions": fr, "recovery": mean_at("irrep_recovery"),
                    "power": mean_at("orbit_power") if all("orbit_power" in r for r in runs) else None})
    return {"level": level, "measure": "irrep_recovery: regression coefficient of the centred test outputs on the "
                                       "irrep's part of the table", "orbits": out}


def fit_irrep_dimension(rows) -> dict:
    """Does the per-irrep transition need ``d^2`` (Thm 4), ``d`` (the public code's ``d_max / 2``) or neither?
    Over every (group, orbit) with a measured transition ``p_k``: the free fit ``p_k / (log M / M) = C d^beta``
    (least squares in logs, with beta's standard error), the fixed exponents 0, 1, 2 with their best ``C`` and
    the residuals (rms of ``log p_k - log(C d^beta log M / M)``), and ``within_group``: the common exponent with
    one constant per group (only groups with irreps of several dimensions inform it), the question asked inside
    one group, where ``M`` and everything else are shared. ``rows``: results of :func:`measure_network` (their
    ``irrep_transitions``)."""
    pts = []
    for r in rows:
        for o in (r.get("irrep_transitions") or {}).get("orbits", []):
            m = o["transition"]["mean"]
            if m is not None:
                pts.append({"group": r["group"], "orbit": o["orbit"], "dim": o["dim"], "p": m,
                            "ratio": m / r["log_M_over_M"]})
    out = {"points": pts}
    if not pts:
        return dict(out, beta=None)
    x = np.log([q["dim"] for q in pts])
    y = np.log([q["ratio"] for q in pts])
    fixed = {}
    for beta in (0, 1, 2):
        logc = float(np.mean(y - beta * x))
        res = y - logc - beta * x
        fixed[str(beta)] = {"C": float(np.exp(logc)), "rms_log_residual": float(np.sqrt(np.mean(res ** 2))),
                            "residuals": [float(v) for v in res]}
    out["fixed"] = fixed
    if len(set(x.tolist())) < 2:
        return dict(out, beta=None)
    A = np.stack([np.ones_like(x), x], axis=1)
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    res = y - A @ coef
    dof = max(len(y) - 2, 1)
    cov = np.linalg.inv(A.T @ A) * float(res @ res) / dof
    # within groups: one constant per group (it absorbs log M / M and whatever else is the group's), common beta
    g = np.array([q["group"] for q in pts])
    xc, yc = x.copy(), y.copy()
    for name in set(g.tolist()):
        sel = g == name
        xc[sel] -= x[sel].mean()
        yc[sel] -= y[sel].mean()
    within = {"beta": None}
    if float(xc @ xc) > 0:
        bw = float(xc @ yc / (xc @ xc))
        rw = yc - bw * xc
        dofw = max(len(y) - len(set(g.tolist())) - 1, 1)
        within = {"beta": bw, "beta_se": float(np.sqrt(float(rw @ rw) / dofw / float(xc @ xc))),
                  "groups": sorted({str(q) for q, v in zip(g, xc) if v != 0}),
                  "rms_log_residual": float(np.sqrt(np.mean(rw ** 2))),
                  "rms_log_residual_fixed": {str(bf): float(np.sqrt(np.mean((yc - bf * xc) ** 2))) for bf in (0, 1, 2)}}
    return dict(out, beta=float(coef[1]), beta_se=float(np.sqrt(cov[1, 1])), C=float(np.exp(coef[0])),
                rms_log_residual=float(np.sqrt(np.mean(res ** 2))), residuals=[float(v) for v in res],
                within_group=within)
