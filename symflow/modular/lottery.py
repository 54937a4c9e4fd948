"""Lottery ticket for modular addition: predicted winning frequency per neuron vs simulation.

Prediction (docs/theory.md section 5). Write neuron ``m`` per frequency ``k = 1..(p-1)/2`` as
``theta_m(j) = a_0 + sum_k alpha_k cos(w_k j + phi_k)``, ``xi_m(j) = b_0 + sum_k beta_k cos(w_k j + psi_k)``.
In the small-init regime the frequencies evolve independently by the derived ODE and each blows up
at ``T_mk`` (:func:`symflow.theory.blowup.blowup_time` of ``(alpha_k, beta_k, D_k = 2 phi_k - psi_k)``);
the predicted winner is ``argmin_k T_mk`` (a frequency at zero amplitude never blows up).

Measurement: the actual network ``f(x, y) = sum_m xi_m (theta_m[x] + theta_m[y])^2``
(:meth:`symflow.dynamics.network.TwoLayerNetwork.modular_addition`, shared, unconstrained) follows
the gradient flow of the *full* summed cross-entropy on the whole table, integrated with
``scipy.integrate.solve_ivp`` (RK45, ``rtol`` default ``1e-6``) until the logit spread
``max_{x,y} (max_j f - min_j f)`` reaches ``stop_logit`` (before the softmax saturates) or
``t_max``. The simulated winner of a neuron is its dominant frequency ``argmax_k (alpha_k^2 + beta_k^2)``
at the stop; ``agreement`` is the fraction of neurons whose predicted and simulated winners are
equal; an interrupted simulation is not compared (``agreement`` is ``None`` and ``comparison`` says
where it stopped). ``baseline_initial_dominant`` (the same fraction for the frequency that dominates at
``t = 0``) is the null model the prediction must beat. ``model="linear"`` integrates the small-logit gain instead (the decoupled dynamics
themselves, from :mod:`symflow.neuron.bruteforce`), a consistency check of the quadrature.

Starts: ``"random"`` - i.i.d. ``N(0, kappa^2)`` entries (the network's Gaussian init);
``"single"`` - each neuron one random frequency, ``theta = kappa cos(w j + phi)``,
``xi = kappa cos(w j + psi)`` with uniform phases (so ``T = J(D0)/(p kappa)``; every other frequency
starts at zero and must stay there).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.table import Table

from ..dynamics.network import TwoLayerNetwork
from ..validation import choice, integer, real
from ..errors import IntegrationError, SymflowError
from ..groups import group
from ..progress import progress_bar
from ..provenance import versions
from ..theory.blowup import blowup_times
from ..neuron.bruteforce import euclidean_gradients
from ..theory.modular import frequency_coordinates, misalignment

__all__ = ["LotteryPrediction", "FlowRun", "LotteryResult", "predict_winners", "random_start",
           "single_frequency_start", "simulate_gradient_flow", "run_lottery", "dominant_frequency"]

STARTS = ("random", "single")
MODELS = ("ce", "linear")


def check_p(p, what: str = "an odd integer >= 3 (the modulus of Z_p)") -> int:
    """The modulus ``p`` of ``Z_p``: an odd integer ``>= 3``."""
    p = integer(p, "p", minimum=3, what=what)
    if p % 2 == 0:
        raise SymflowError(f"p must be {what}, got {p!r}")
    return p


# ---------------------------------------------------------------------- prediction
@dataclass
class LotteryPrediction:
    """Per-(neuron, frequency) coordinates and blow-up times; ``winner`` is 1-based (0: none).

    ``times[m, k-1]`` is ``T`` of frequency ``k`` in neuron ``m`` (``inf`` when it never blows up).
    """

    p: int
    alpha: np.ndarray
    beta: np.ndarray
    D: np.ndarray
    times: np.ndarray
    loss: str = "sum"

    @classmethod
    def from_params(cls, theta, xi, p: int | None = None, loss: str = "sum") -> "LotteryPrediction":
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        xi = np.atleast_2d(np.asarray(xi, dtype=float))
        if theta.shape != xi.shape:
            raise SymflowError(f"theta and xi must have the same shape (neurons, p), got {theta.shape} and {xi.shape}")
        if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(xi))):
            raise SymflowError("theta and xi must be finite")
        p = check_p(theta.shape[-1] if p is None else p)
        a, ph, _ = frequency_coordinates(theta, p)
        b, ps, _ = frequency_coordinates(xi, p)
        D = misalignment(ph, ps)
        # amplitudes below rounding of the signal are exact zeros (zero amplitude stays zero)
        tiny = 1e-13 * max(np.abs(theta).max(), np.abs(xi).max(), 1e-300)
        a = np.where(a < tiny, 0.0, a)
        b = np.where(b < tiny, 0.0, b)
        return cls(p, a, b, D, blowup_times(a, b, D, p, loss), loss)

    @property
    def width(self) -> int:
        return self.times.shape[0]

    @property
    def winner(self) -> np.ndarray:
        """Predicted winning frequency ``k`` (1-based) per neuron; 0 when nothing blows up."""
        w = np.argmin(self.times, axis=1) + 1
        return np.where(np.isfinite(self.times.min(axis=1)), w, 0)

    @property
    def winner_time(self) -> np.ndarray:
        return self.times.min(axis=1)

    @property
    def runner_up(self) -> np.ndarray:
        """Frequency with the second-earliest blow-up (0 if none)."""
        if self.times.shape[1] < 2:
            return np.zeros(self.width, dtype=int)
        order = np.argsort(self.times, axis=1)
        second = order[:, 1] + 1
        return np.where(np.isfinite(np.take_along_axis(self.times, order[:, 1:2], 1)[:, 0]), second, 0)

    @property
    def margin(self) -> np.ndarray:
        """``T_second / T_first >= 1`` per neuron (how decisively the lottery is won)."""
        if self.times.shape[1] < 2:
            return np.full(self.width, np.inf)
        s = np.sort(self.times, axis=1)
        with np.errstate(invalid="ignore"):
            return s[:, 1] / s[:, 0]

    def __repr__(self) -> str:
        T = self.winner_time[np.isfinite(self.winner_time)]
        rng = f"T in [{T.min():.4g}, {T.max():.4g}]" if len(T) else "no blow-up"
        return f"<LotteryPrediction p={self.p}: {self.width} neurons, {self.times.shape[1]} frequencies, {rng}>"

    def _repr_latex_(self) -> str:
        return (rf"$T_{{mk}} = \frac{{1}}{{p}}\int \frac{{\beta\,d\beta}}{{\sqrt{{(2\beta^2 + I_1)^2\beta^2 - I_2^2}}}},"
                rf"\ \ k^*_m = \arg\min_k T_{{mk}}\quad (p = {self.p},\ M = {self.width})$")


def predict_winners(theta, xi, p: int | None = None, loss: str = "sum") -> LotteryPrediction:
    """The lottery prediction for neurons ``theta, xi`` of shape ``(M, p)``."""
    return LotteryPrediction.from_params(theta, xi, p, loss)


def dominant_frequency(theta, xi, p: int | None = None):
    """``(k, share)``: the 1-based frequency maximising ``alpha_k^2 + beta_k^2`` and its energy share."""
    a, _, _ = frequency_coordinates(np.atleast_2d(theta), p)
    b, _, _ = frequency_coordinates(np.atleast_2d(xi), p)
    e = a ** 2 + b ** 2
    k = np.argmax(e, axis=1)
    share = e[np.arange(len(k)), k] / np.maximum(e.sum(axis=1), 1e-300)
    return k + 1, share


# ---------------------------------------------------------------------- starts
def random_start(p: int, width: int, kappa: float, seed: int):
    """``(theta, xi)``: the network's Gaussian init, i.i.d. ``N(0, kappa^2)`` entries."""
    net = TwoLayerNetwork.modular_addition(group(f"Z{check_p(p)}"), width, init_scale=kappa, seed=seed)
    return net.params["theta"].copy(), net.params["xi"].copy()


def single_frequency_start(p: int, width: int, kappa: float, seed: int):
    """``(theta, xi, k)``: neuron ``m`` is ``kappa cos(w_k j + phi)``, ``kappa cos(w_k j + psi)``, ``k`` uniform."""
    p = check_p(p)
    rng = np.random.default_rng(seed)
    K = (p - 1) // 2
    k = rng.integers(1, K + 1, size=width)
    phi, psi = rng.uniform(-np.pi, np.pi, size=(2, width))
    j = np.arange(p)
    w = 2 * np.pi * k[:, None] / p
    return kappa * np.cos(w * j + phi[:, None]), kappa * np.cos(w * j + psi[:, None]), k


# ---------------------------------------------------------------------- simulation
@dataclass
class FlowRun:
    """Result of :func:`simulate_gradient_flow` (final parameters and recorded amplitudes)."""

    t: float
    theta: np.ndarray
    xi: np.ndarray
    record_t: np.ndarray
    record_alpha: np.ndarray      # (records, M, K)
    record_beta: np.ndarray
    logit_spread: float
    stop_reason: str
    model: str
    interrupted: bool = False
    wall_time_s: float = 0.0

    def __repr__(self) -> str:
        return (f"<FlowRun ({self.model}): t = {self.t:.4g}, logit spread {self.logit_spread:.3g}, "
                f"stopped by {self.stop_reason}{', interrupted' if self.interrupted else ''}>")


def _flow_rhs(p: int, width: int, model: str):
    """``(rhs(t, y), spread(y))`` of ``d params/dt = -grad CE`` (or ``+grad`` of the linear gain)."""
    G = group(f"Z{p}")
    net = TwoLayerNetwork.modular_addition(G, width, init_scale=1.0, seed=0)
    size = width * p

    def unpack(y):
        return y[:size].reshape(width, p), y[size:].reshape(width, p)

    if model == "ce":
        def rhs(t, y):
            net.params["theta"], net.params["xi"] = unpack(y)
            ev = net.evaluate(None, "sum", grads=True)
            if not np.isfinite(ev.loss):
                raise IntegrationError(f"the cross-entropy became non-finite at t = {t:g}")
            return -np.concatenate([ev.grads["theta"].ravel(), ev.grads["xi"].ravel()])
    else:
        def rhs(t, y):
            th, xi = unpack(y)
            g1, g2, gx = euclidean_gradients(G, th, th, xi)  # L = 2 p^2 Omega(theta, theta, xi)
            return 2.0 * p * p * np.concatenate([(g1 + g2).ravel(), gx.ravel()])

    def spread(y):
        net.params["theta"], net.params["xi"] = unpack(y)
        with np.errstate(over="ignore", invalid="ignore"):
            z = net.logits(None) if np.all(np.isfinite(y)) else np.full((1, p), np.inf)
        return float(np.max(z.max(axis=1) - z.min(axis=1)))

    return rhs, spread, unpack


def lottery_memory(p: int, width: int):
    """The peak memory of the lottery's gradient flow (:class:`~symflow.resources.MemoryEstimate`): the network
    evaluated on all ``p^2`` pairs (:func:`~symflow.dynamics.network.add_evaluation_memory`) and the ODE
    solver's state (about twenty copies of the ``2 p M`` parameters, records included)."""
    from ..dynamics.network import add_evaluation_memory
    from ..resources import MemoryEstimate

    est = MemoryEstimate(f"lottery on Z{p} with {width} neurons", lower="--p or --width")
    add_evaluation_memory(est, p * p, p, width)
    est.add("the ODE solver's state", arrays=20 + 60, shape=(2 * p * width,))
    return est


def simulate_gradient_flow(theta, xi, model: str = "ce", stop_logit: float = 2.0, t_max: float | None = None,
                           rtol: float = 1e-6, records: int = 60, progress: bool = False,
                           force: bool | None = None) -> FlowRun:
    """Integrate the network's gradient flow from ``(theta, xi)`` (shape ``(M, p)``), see module doc.

    ``t_max`` defaults to 3x the earliest predicted blow-up. Integration proceeds in ``records``
    windows (with ``progress=True`` a rich progress bar advances per window); Ctrl-C returns what was computed so far with
    ``interrupted=True``. Raises :class:`IntegrationError` when ``solve_ivp`` fails, and
    :class:`~symflow.errors.ResourceError` before computing when :func:`lottery_memory` exceeds the machine's
    memory (unless ``force``; ``None``: the CLI's ``--force``).
    """
    from scipy.integrate import solve_ivp  # ~0.5 s; not needed by the prediction or grokking

    if model not in MODELS:
        raise SymflowError(f"model must be one of {MODELS} ('ce': full cross-entropy, 'linear': small-logit gain), got {model!r}")
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    xi = np.atleast_2d(np.asarray(xi, dtype=float))
    M, p = theta.shape
    check_p(p)
    if not np.isfinite(stop_logit) or stop_logit <= 0:
        raise SymflowError(f"stop_logit must be a positive number (the logit spread at which to stop), got {stop_logit!r}")
    if t_max is None:
        T = predict_winners(theta, xi).winner_time
        T = T[np.isfinite(T)]
        if not len(T):
            raise SymflowError("no neuron of this start ever blows up (all amplitudes zero?); pass t_max explicitly")
        t_max = 3.0 * float(T.min())
    lottery_memory(p, M).check(force)
    rhs, spread, unpack = _flow_rhs(p, M, model)
    y = np.concatenate([theta.ravel(), xi.ravel()])
    s0 = spread(y)
    if s0 >= stop_logit:
        raise SymflowError(f"the initial logit spread {s0:.3g} already exceeds stop_logit = {stop_logit:g}: this is not "
                           f"the small-init regime; use a smaller initial scale (--init) or a larger --stop-logit")

    def hit(t, yy):
        return spread(yy) - stop_logit

    hit.terminal = True
    rec_t, rec_a, rec_b = [], [], []

    def record(t, yy):
        th, x = unpack(yy)
        rec_t.append(t)
        rec_a.append(frequency_coordinates(th, p)[0])
        rec_b.append(frequency_coordinates(x, p)[0])

    record(0.0, y)
    t, reason, interrupted = 0.0, "t_max", False
    t0 = time.perf_counter()
    edges = np.linspace(0.0, t_max, records + 1)
    try:
        with progress_bar("gradient flow", total=records, enabled=progress, fields={"t": 0.0, "s": 0.0},
                          formats={"t": "t = {:.4g}", "s": "spread {:.3g}"}) as bar:
            for i in range(records):
                sol = solve_ivp(rhs, (edges[i], edges[i + 1]), y, method="RK45", rtol=rtol,
                                atol=1e-9 * max(np.abs(y).max(), 1e-12), events=hit)
                if sol.status < 0:
                    raise IntegrationError(f"solve_ivp failed at t = {sol.t[-1]:g}: {sol.message}")
                y, t = sol.y[:, -1], float(sol.t[-1])
                record(t, y)
                if progress:
                    bar.update(completed=i + 1, t=t, s=spread(y))
                if sol.status == 1:
                    reason = f"logit spread {stop_logit:g}"
                    break
    except KeyboardInterrupt:
        interrupted, reason = True, "interrupted"
    th, x = unpack(y)
    return FlowRun(t, th.copy(), x.copy(), np.array(rec_t), np.array(rec_a), np.array(rec_b), spread(y), reason,
                   model, interrupted, time.perf_counter() - t0)


# ---------------------------------------------------------------------- experiment
@dataclass
class LotteryResult:
    """Prediction vs simulation for one start; ``agreement`` in ``[0, 1]``."""

    parameters: dict
    prediction: LotteryPrediction
    run: FlowRun
    simulated_winner: np.ndarray
    simulated_share: np.ndarray
    initial_dominant: np.ndarray
    versions: dict = field(default_factory=lambda: versions("scipy", "sympy"))

    @property
    def compared(self) -> bool:
        """Whether prediction and simulation were compared: only a simulation that reached its stop
        (the logit spread or ``t_max``) is; an interrupted one is not (its winners are provisional)."""
        return not self.run.interrupted

    @property
    def comparison(self) -> str:
        """``"made"``, or why not: ``"not made: interrupted at t = ..."``."""
        if self.compared:
            return "made"
        stop = f"logit spread {self.parameters.get('stop_logit', 2.0):g} or t_max"
        return f"not made: interrupted at t = {self.run.t:.4g}, before the simulation reached its stop ({stop})"

    @property
    def agreement(self) -> float | None:
        """Fraction of neurons whose predicted and simulated winners agree; ``None`` when the
        simulation was interrupted (no comparison is made at the time reached)."""
        return self.agreement_where(np.ones(self.prediction.width, bool)) if self.compared else None

    def agreement_where(self, mask) -> float | None:
        if not self.compared:
            return None
        mask = np.asarray(mask, bool)
        return float(np.mean((self.prediction.winner == self.simulated_winner)[mask])) if mask.any() else float("nan")

    @property
    def decided(self) -> np.ndarray:
        """Neurons whose dominant frequency holds more than half of their Fourier energy at the stop."""
        return self.simulated_share > 0.5

    def summary(self) -> dict:
        pr = self.prediction
        return {
            "comparison": self.comparison,
            "agreement": self.agreement,
            "agreement_decided": self.agreement_where(self.decided),
            "decided_fraction": float(self.decided.mean()),
            "baseline_initial_dominant": float(np.mean(pr.winner == self.initial_dominant)),
            "min_share": float(self.simulated_share.min()),
            "stop_time": self.run.t,
            "stop_reason": self.run.stop_reason,
            "logit_spread": self.run.logit_spread,
            "earliest_blowup": float(np.min(pr.winner_time)),
            "median_winner_blowup": float(np.median(pr.winner_time)),
            "interrupted": self.run.interrupted,
            "wall_time_s": self.run.wall_time_s,
        }

    def to_json(self) -> dict:
        pr = self.prediction
        fin = lambda a: [None if not np.isfinite(v) else float(v) for v in np.ravel(a)]
        return {
            "command": "lottery",
            "parameters": self.parameters,
            "versions": self.versions,
            "summary": self.summary(),
            "neurons": {
                "predicted_winner": pr.winner.tolist(),
                "predicted_time": fin(pr.winner_time),
                "runner_up": pr.runner_up.tolist(),
                "margin": fin(pr.margin),
                "simulated_winner": self.simulated_winner.tolist(),
                "simulated_share": [float(v) for v in self.simulated_share],
            },
            "blowup_times": [fin(row) for row in pr.times],
        }

    def save(self, out_dir, force: bool = False) -> dict:
        """Write ``lottery.json`` and ``lottery.npz`` (arrays + JSON metadata) to the folder ``out_dir``;
        returns ``{"json": path, "npz": path}``.

        The folder is an :class:`~symflow.outputs.OutputFolder` of kind ``lottery`` (``out_dir`` may be
        one already, as the CLI passes it): a non-empty folder that is not an earlier lottery output is
        refused unless ``force=True``, and the folder is replaced whole in one rename. Every ``OSError``
        is one :class:`~symflow.errors.SymflowError`.
        """
        from ..outputs import OutputFolder

        folder = out_dir if isinstance(out_dir, OutputFolder) else \
            OutputFolder(out_dir, "lottery", self.parameters, force=force)
        folder.interrupted = self.run.interrupted
        with folder as stage:
            staged = self._write_files(stage)
        return {k: str(folder.path / Path(v).name) for k, v in staged.items()}

    def _write_files(self, out: Path) -> dict:
        data = self.to_json()
        (out / "lottery.json").write_text(json.dumps(data, indent=1))
        pr, run = self.prediction, self.run
        np.savez_compressed(out / "lottery.npz", alpha=pr.alpha, beta=pr.beta, D=pr.D, times=pr.times,
                            predicted_winner=pr.winner, simulated_winner=self.simulated_winner,
                            record_t=run.record_t, record_alpha=run.record_alpha, record_beta=run.record_beta,
                            theta_final=run.theta, xi_final=run.xi,
                            metadata=json.dumps({"parameters": self.parameters, "versions": self.versions,
                                                 "summary": self.summary()}))
        return {"json": str(out / "lottery.json"), "npz": str(out / "lottery.npz")}

    def table(self, max_rows: int = 20):
        """A rich table: per neuron the predicted winner, its blow-up time, runner-up, simulated winner."""
        pr = self.prediction
        caption = (f"agreement {self.agreement:.1%} over {pr.width} neurons (decided neurons: "
                   f"{self.agreement_where(self.decided):.1%} of {int(self.decided.sum())})" if self.compared else
                   f"comparison {self.comparison}; 'k sim' is the dominant frequency at that time, not a final winner")
        tab = Table(title=f"Lottery ticket, Z_{pr.p}: predicted (earliest blow-up) vs simulated winner", caption=caption)
        for col in ("neuron", "k* pred", "T(k*)", "2nd", "T(2nd)", "k sim", "share", "ok"):
            tab.add_column(col, justify="right")
        order = np.argsort(pr.winner_time)
        for m in order[:max_rows]:
            k, r = int(pr.winner[m]), int(pr.runner_up[m])
            t1 = pr.times[m, k - 1] if k else np.inf
            t2 = pr.times[m, r - 1] if r else np.inf
            ok = k == self.simulated_winner[m]
            tab.add_row(str(m), str(k), f"{t1:.4g}", str(r), f"{t2:.4g}", str(int(self.simulated_winner[m])),
                        f"{self.simulated_share[m]:.2f}",
                        "-" if not self.compared else "[green]yes[/]" if ok else "[red]no[/]")
        if pr.width > max_rows:
            tab.add_row("...", "", "", "", "", "", "", "")
        return tab

    def _repr_latex_(self) -> str:
        return self.prediction._repr_latex_()

    def __repr__(self) -> str:
        s = self.summary()
        outcome = (f"agreement {s['agreement']:.3f} (decided {s['decided_fraction']:.2f})" if self.compared
                   else "comparison not made (interrupted)")
        return (f"<LotteryResult p={self.prediction.p}, M={self.prediction.width}, start={self.parameters.get('start')}: "
                f"{outcome}, stopped at t = {s['stop_time']:.4g} by {s['stop_reason']}>")


def run_lottery(p: int, width: int, kappa: float, seed: int = 0, start: str = "random", model: str = "ce",
                stop_logit: float = 2.0, t_max: float | None = None, rtol: float = 1e-6,
                progress: bool = False, force: bool | None = None) -> LotteryResult:
    """Predict every neuron's winning frequency and measure it in a gradient-flow simulation.

    A run whose :func:`lottery_memory` exceeds the machine's memory raises :class:`~symflow.errors.ResourceError`
    before computing, unless ``force`` (``None``: the CLI's ``--force``)."""
    p = check_p(p)
    integer(width, "width", minimum=1, what="a positive integer (number of neurons)")
    kappa = real(kappa, "init (kappa)", what="a positive finite number (the initial scale)")
    choice(start, "start", STARTS, what=f"one of {STARTS}")
    lottery_memory(p, int(width)).check(force)
    if start == "random":
        theta, xi = random_start(p, width, kappa, seed)
    else:
        theta, xi, _ = single_frequency_start(p, width, kappa, seed)
    pred = predict_winners(theta, xi, p)
    run = simulate_gradient_flow(theta, xi, model=model, stop_logit=stop_logit, t_max=t_max, rtol=rtol,
                                 progress=progress, force=force)
    k, share = dominant_frequency(run.theta, run.xi, p)
    k0, _ = dominant_frequency(theta, xi, p)
    params = {"p": p, "width": int(width), "init": kappa, "seed": int(seed), "start": start, "model": model,
              "stop_logit": float(stop_logit), "t_max": t_max, "rtol": rtol, "loss": "sum (full table)",
              "activation": "quad", "shared": True}
    return LotteryResult(params, pred, run, k, share, k0)
