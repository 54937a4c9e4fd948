"""The drivers of the reduced flow: ``simulate`` (a population to equilibrium, saved trajectories) and
``run_until_aligned`` (time to alignment), built from a model, an initial state, a stepper and
:func:`~symflow.dynamics.integrators.integrate`.

    res = simulate("F21", width=512, seed=0)     # SimulationResult
    run = run_until_aligned("F21", 512)           # AlignedRun: time, steps, wall time

Defaults (final time, equilibrium tolerance, largest step) are in :mod:`.defaults`.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import IntegrationError, ModelError, SymflowError
from . import observables
from ..groups.compact.signals import coordinate_count, mass
from .defaults import (FLOW_MAX_STEP_FACTOR, MAX_STEP_FACTOR, SIMULATION_N_SAVE, T_END_FACTOR, check_time,
                       default_gtol, save_times, simulation_t_end, time_scale)
from .initial import check_seed, check_width, initial_state, is_ready
from .integrators import IntegrationOutput, integrate
from .steppers import StepCounts, make_stepper
from .reduced import ReducedFlow
from .results import SimulationResult, build_metadata
from .state import FourierState, neuron_of


#: ``simulate``'s population size when neither ``width`` nor a ready ``init`` gives one.
DEFAULT_WIDTH = 256


def start_population(model, width, seed, init="uniform", init_options=None, style: str = "auto",
                     default_width: int = DEFAULT_WIDTH):
    """``(flow, state0, width, seed)``: the flow and the validated, seeded initial population of a run.

    ``width=None`` means ``default_width`` for a named start and the population's own size for a
    ready ``init`` (a state or parameter arrays); a ``width`` that disagrees with a ready ``init``
    is a :class:`~symflow.errors.SymflowError` (never silently the init's size)."""
    ready = is_ready(init)
    if width is not None or not ready:
        width = check_width(default_width if width is None else width)
    seed = check_seed(seed)
    flow = ReducedFlow(model, style=style)
    state0 = initial_state(model, width, seed, init, **(init_options or {}))
    if width is not None and state0.width != width:
        raise SymflowError(f"width {width} disagrees with init, which holds {state0.width} neurons; "
                           f"pass width={state0.width} or leave width out (it is then the init's)")
    return flow, state0, state0.width, seed


def run_stepper(method: str = "geometric", rtol=None, atol=None, dt=None, n: int = 1,
                max_step_factor: float = MAX_STEP_FACTOR):
    """The stepper of a run; the geometric adaptive stepper's largest step is ``max_step_factor n^3/2``
    (``simulate`` passes ``FLOW_MAX_STEP_FACTOR``, see :mod:`.defaults`)."""
    stepper = make_stepper(method, rtol=rtol, atol=atol, dt=dt, n=n)
    if method == "geometric" and dt is None:
        stepper.max_step = max_step_factor * n ** 1.5
    return stepper


def simulate(model_or_name, width: int | None = None, seed: int = 0, t_end: float | None = None, method: str = "geometric",
             n_save: int = SIMULATION_N_SAVE, t_eval=None, shared: bool | None = None, spheres: str | None = None,
             init="uniform", init_options: dict | None = None, rtol: float | None = None, atol: float | None = None,
             dt: float | None = None, gtol: float | None = None, stop_at_equilibrium: bool = True,
             require_convergence: bool = False, progress: bool = False, chunk: int | None = None,
             style: str = "auto", callback=None, workers: int | None = None, force: bool | None = None):
    """Simulate ``width`` neurons under the reduced Fourier flow; returns a
    :class:`~symflow.dynamics.results.SimulationResult`.

    Parameters
    ----------
    model_or_name : Model, Group or group name (``shared`` / ``spheres`` apply to names)
    width, seed : population size (default :data:`DEFAULT_WIDTH` = 256, or the size of a ready ``init``;
        a ``width`` that disagrees with ``init`` is an error) and the seed of the initial condition
    t_end : final time (default ``T_END_FACTOR * n^2``; time unit ``c = 1``)
    method : ``"geometric"`` (retraction-based DOPRI5, norms exact; with ``dt``: fixed-step RK4),
        ``"DOP853"``, ``"RK45"`` or ``"LSODA"`` (SciPy)
    n_save / t_eval : equally spaced save times, or explicit ones
    init : ``"uniform"``, ``"orbit"``, ``"frequency"``, a FourierState or parameter arrays;
        ``init_options`` e.g. ``{"orbit": 2, "noise": 0.01}``
    rtol, atol, dt : integrator tolerances (defaults in :func:`~symflow.dynamics.steppers.make_stepper`)
    gtol : equilibrium tolerance on ``|Riemannian grad|`` (default ``GTOL_FACTOR * n^-3/2``, :mod:`.defaults`).
        A neuron is at equilibrium from the first accepted step with ``|grad| < gtol`` (its
        ``equilibrium_time`` interpolates the crossing); it is integrated no further, so later saves
        hold that state, within about ``gtol / lambda`` of the flow's limit (``lambda``: its slowest
        tangent decay rate, ``Omega* ~ 0.7 n^-3/2`` for abelian groups: ~1.4e-6 with the default)
    stop_at_equilibrium : end at the first save time where every neuron is at equilibrium
    require_convergence : raise :class:`IntegrationError` if some neuron never reaches ``gtol``
    progress : a rich progress bar on stderr (default: none; the CLI asks for one); ``KeyboardInterrupt``
        returns the run so far
    workers : advance chunks of neurons in this many forked processes (results identical to one);
        ``None`` (default): all available cores for populations of at least ``AUTO_WORKERS_MIN``
        stored coefficients on Linux (see :func:`auto_workers`), else 1
    force : run even when :func:`memory_estimate` exceeds the machine's memory (otherwise a
        :class:`~symflow.errors.ResourceError` before integrating; ``None``: the CLI's ``--force``)
    """
    from ..theory.model import Model   # SymPy: imported when a model is built, not with symflow.dynamics

    model = Model.coerce(model_or_name, shared=shared, spheres=spheres)
    if model.loss != "ce":
        raise ModelError(f"simulate records theta1, theta2, xi (the cross-entropy model); {model!r} has loss "
                         f"{model.loss!r}. Use ReducedFlow with symflow.dynamics.integrators.integrate directly")
    n = mass(model.group)           # 1 on a compact group (Haar probability)
    if t_end is None and t_eval is None and n != model.group.order:
        t_end = T_END_FACTOR * time_scale(model.group)
    times = save_times(t_end, n_save, t_eval, n)
    if isinstance(init, str) and (width is None or isinstance(width, (int, np.integer)) and not isinstance(width, bool)):
        # before the population is drawn (a ready init has its size already; a bad width is refused below)
        memory_estimate(model, DEFAULT_WIDTH if width is None else int(width), len(times)).check(force)
    flow, state0, width, seed = start_population(model, width, seed, init, init_options, style)
    memory_estimate(model, width, len(times)).check(force)
    gtol = default_gtol(n, gtol)
    stepper = run_stepper(method, rtol, atol, dt, n, FLOW_MAX_STEP_FACTOR)
    work = flow.compact_flow()   # integrate runs on its compact rows when there is one

    def save(t, y):
        # y: the integrator's working rows (compact if work is not None); converted chunk by chunk
        if work is not None:
            p = work.layout.to_parameters(y)
            return p, _chunked(work.omega, y)
        return FourierState(flow.layout, y).to_parameters(), _chunked(flow.omega, y)

    if workers is None:
        workers = auto_workers(width, (work or flow).layout.size)
    out = integrate(flow, state0.data, times, stepper, gtol=gtol, save=save, stop_at_equilibrium=stop_at_equilibrium,
                    progress=progress, chunk=chunk, callback=callback, workers=workers, save_working=True)
    params = _public_arrays(model, [s[0] for s in out.saved])
    omega = np.stack([s[1] for s in out.saved])
    options = {"method": method, "t_end": float(times[-1]), "t_eval": times, "n_save": len(times),
               "gtol": gtol, "init": init if isinstance(init, str) else type(init).__name__,
               "init_options": init_options or {}, "stop_at_equilibrium": stop_at_equilibrium,
               "max_step": getattr(stepper, "max_step", None), "chunk": chunk, "workers": workers}
    meta = build_metadata(model, width, seed, stepper, options, flow, out)
    result = SimulationResult(model, out.t, params, omega, out.equilibrium_time, meta,
                              final_state=FourierState(flow.layout, out.final), interrupted=out.interrupted,
                              stopped_early=out.stopped_early, flow=flow)
    if require_convergence and not out.interrupted and np.any(np.isnan(out.equilibrium_time)):
        k = int(np.sum(np.isnan(out.equilibrium_time)))
        raise _not_converged(k, width, gtol, times[-1], result)
    return result


def memory_estimate(model, width: int, saves: int):
    """The peak memory of :func:`simulate` (:class:`~symflow.resources.MemoryEstimate`): the saved trajectory
    (``saves`` copies of the ``V`` parameter arrays ``(M, n)`` and of the order parameters) and the
    integrator's working rows (about thirty ``(M, V n)`` arrays: stages, error estimate, copies)."""
    from ..resources import MemoryEstimate

    n, V = coordinate_count(model.group), len(model.vector_names)
    est = MemoryEstimate(f"simulate {model.group.name} with {width} neurons and {saves} saves",
                         lower="--width or --n-save")
    est.add("the saved trajectory", arrays=saves * (V + 1), shape=(width, n), lower="--n-save or --width")
    est.add("the integrator's working rows", arrays=30, shape=(width, V * n), lower="--width")
    return est


#: ``simulate(workers=None)`` uses several processes from this many stored coefficients (width x row size)
AUTO_WORKERS_MIN = 200_000


def auto_workers(width: int, row_size: int) -> int:
    """Worker processes for ``simulate(workers=None)``: the CPUs this process may use (at most 8) when the
    population holds at least :data:`AUTO_WORKERS_MIN` coefficients (e.g. Z1009 shared, M = 200:
    about 2 s of work, well above the ~0.1 s start-up of a forked pool) on Linux, outside a daemonic
    process (pool workers cannot fork); otherwise 1."""
    import multiprocessing
    import os
    import sys

    if width * row_size < AUTO_WORKERS_MIN or not sys.platform.startswith("linux"):
        return 1
    if multiprocessing.current_process().daemon:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _public_arrays(model, per_save) -> dict:
    """The public ``theta1, theta2, xi`` arrays ``(K, M, n)`` from one ``{name: (M, n)}`` dict per save."""
    return neuron_of(model).public_arrays({nm: np.stack([p[nm] for p in per_save]) for nm in model.vector_names})


def _chunked(fn, y: np.ndarray, rows: int = 256) -> np.ndarray:
    """``fn`` applied to ``rows`` rows of ``y`` at a time (cache-sized temporaries), concatenated."""
    return np.concatenate([fn(y[a:a + rows]) for a in range(0, y.shape[0], rows)])


def _not_converged(k, width, gtol, t_end, result):
    err = IntegrationError(f"{k} of {width} neurons did not reach |grad| < {gtol:.3g} by t = {t_end:.4g}; "
                           f"increase t_end (the result so far is attached as .result)")
    err.result = result
    return err


class AlignedRun:
    """Outcome of :func:`run_until_aligned`: time to alignment and the cost of getting there."""

    def __init__(self, time, fraction, steps, evaluations, wall_time, result):
        self.time, self.fraction, self.steps = float(time), float(fraction), int(steps)
        self.evaluations, self.wall_time, self.result = int(evaluations), float(wall_time), result

    def as_dict(self) -> dict:
        return {"time": self.time, "aligned_fraction": self.fraction, "steps": self.steps,
                "rhs_evaluations": self.evaluations, "wall_time_s": self.wall_time}

    def __repr__(self) -> str:
        return (f"<AlignedRun: {self.fraction:.1%} aligned at t = {self.time:.4g} after {self.steps} steps, "
                f"{self.wall_time:.2f} s>")


_RUN_OPTIONS = ("shared", "spheres", "init", "init_options", "rtol", "atol", "dt", "gtol", "chunk", "style", "workers")


def run_until_aligned(model, width: int | None = None, seed: int = 0, fraction: float = 0.95,
                      rank_threshold: float = observables.RANK_THRESHOLD,
                      cosine_threshold: float = observables.COSINE_THRESHOLD, t_max: float | None = None, check_every: float | None = None,
                      refine: int = 4, method: str = "geometric", progress: bool = False, **options) -> AlignedRun:
    """Integrate from a uniform start until ``fraction`` of the neurons are aligned (``width``: default
    512, or the size of a ready ``init``; a ``width`` that disagrees with ``init`` is an error).

    Aligned: every vector's ``sigma2/sigma1 < rank_threshold`` and all three alignment cosines
    ``> cosine_threshold`` on the dominant block (:func:`symflow.dynamics.observables.aligned` with
    the closed-form eigenvalue ratio, ``method="eig"``). Checked every ``check_every`` time units
    (default ``0.2 n^2``); the first interval ``(t_a, t_b]`` at whose end the fraction is reached is
    then bisected ``refine`` times (re-integrating from the state at the left end), so the returned
    time ``t`` has the criterion met at ``t`` and not at ``t - check_every / 2^refine`` (default
    resolution ``0.0125 n^2``). Few checks keep the integrator's steps long (every check time is a
    step boundary) and the checks cheap. ``t_max`` defaults to :func:`~.defaults.simulation_t_end`; not aligned by then ->
    :class:`IntegrationError`. ``options``: ``shared, spheres, init, init_options, rtol, atol, dt,
    gtol, chunk, style, workers`` as in :func:`simulate`.

    Returns an :class:`AlignedRun`: time, fraction, chunk steps and RHS evaluations (all
    integrations together), ``wall_time`` of the whole call (set-up, integration, checks) and
    ``result``, a :class:`~symflow.dynamics.results.SimulationResult` with the states at ``t = 0`` and
    at the returned time.
    """
    wall0 = time.perf_counter()
    unknown = sorted(set(options) - set(_RUN_OPTIONS))
    if unknown:
        raise TypeError(f"run_until_aligned() got unexpected keyword argument(s) {', '.join(unknown)}; "
                        f"accepted: {', '.join(_RUN_OPTIONS)}")
    from ..theory.model import Model

    model = Model.coerce(model, shared=options.get("shared"), spheres=options.get("spheres"))
    n = mass(model.group)
    t_max = T_END_FACTOR * time_scale(model.group) if t_max is None else check_time("t_max", t_max)
    check_every = 0.2 * time_scale(model.group) if check_every is None else check_time("check_every", check_every)
    if not 0 < fraction <= 1:
        raise SymflowError(f"fraction must be in (0, 1], got {fraction!r}")
    if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)) or refine < 0:
        raise SymflowError(f"refine must be a non-negative integer, got {refine!r}")
    init = options.get("init", "uniform")
    flow, state0, width, seed = start_population(model, width, seed, init, options.get("init_options"),
                                                 options.get("style", "auto"), default_width=512)
    gtol = default_gtol(n, options.get("gtol"))
    # MAX_STEP_FACTOR, not FLOW_MAX_STEP_FACTOR: this run stops at alignment, before the stiff approach to
    # equilibrium, and its checks every 0.2 n^2 end a step; measured on F21 (512 neurons): 58 steps at 0.5 n^1.5,
    # 65 at 0.8 n^1.5 (joint spheres), 59 and 61 (separate)
    stepper = run_stepper(method, options.get("rtol"), options.get("atol"), options.get("dt"), n)
    chunk, workers = options.get("chunk"), options.get("workers", 1)
    layout = flow.layout
    times = np.arange(0.0, t_max + 0.5 * check_every, check_every)
    counts = StepCounts()
    below = {"t": 0.0, "y": state0.data, "fraction": 0.0}
    hit = {}

    def measure(y):
        return float(np.mean(observables.aligned(FourierState(layout, y), rank_threshold=rank_threshold,
                                                 cosine_threshold=cosine_threshold, method="eig")))

    def callback(t, y):
        frac = measure(y)
        if frac >= fraction:
            hit.update(t=t, y=y.copy(), fraction=frac)
            return True
        below.update(t=t, y=y.copy(), fraction=frac)
        return False

    def run(y0, t_eval, cb):
        return integrate(flow, y0, t_eval, stepper, gtol=gtol, save=lambda t, y: None, stop_at_equilibrium=False,
                         progress=progress, chunk=chunk, callback=cb, workers=workers, save_working=True)

    frac0 = measure(state0.data)
    if frac0 >= fraction:
        hit.update(t=0.0, y=state0.data.copy(), fraction=frac0)
        out = None
    else:
        out = run(state0.data, times, callback)
        counts.add(out.counts)
        if out.interrupted:
            raise KeyboardInterrupt
        if not hit:
            raise IntegrationError(f"only {below['fraction']:.1%} of the neurons were aligned by t = {out.t[-1]:.4g} "
                                   f"(target {fraction:.0%}); raise t_max")
        first = getattr(stepper, "first_step", None)
        for _ in range(int(refine)):
            mid = 0.5 * (below["t"] + hit["t"])
            if hasattr(stepper, "first_step") and getattr(stepper, "dt", None) is None:
                # a restart: try the whole sub-interval at once (the error control shrinks it if needed)
                stepper.first_step = min(mid - below["t"], getattr(stepper, "max_step", math.inf))
            try:
                part = run(below["y"], [below["t"], mid], None)
            finally:
                if hasattr(stepper, "first_step"):
                    stepper.first_step = first
            counts.add(part.counts)
            frac = measure(part.final)
            if frac >= fraction:
                hit.update(t=mid, y=part.final, fraction=frac)
            else:
                below.update(t=mid, y=part.final, fraction=frac)
    states = [state0.data, hit["y"]]
    arrays = _public_arrays(model, [FourierState(layout, y).to_parameters() for y in states])
    omega = np.stack([_chunked(flow.omega, y) for y in states])
    eq = out.equilibrium_time if out is not None else np.full(width, np.nan)
    wall = time.perf_counter() - wall0
    summary = IntegrationOutput(t=np.array([0.0, hit["t"]]), saved=[], final=hit["y"], equilibrium_time=eq,
                                counts=counts, wall_time=wall, stopped_early=True)
    meta = build_metadata(model, width, seed, stepper, {
        "method": method, "t_eval": [0.0, hit["t"]], "gtol": gtol, "init": init if isinstance(init, str) else
        type(init).__name__, "init_options": options.get("init_options") or {}, "check_every": check_every,
        "refine": int(refine), "aligned_fraction": hit["fraction"], "target_fraction": fraction,
        "max_step": getattr(stepper, "max_step", None), "chunk": chunk, "workers": workers}, flow, summary)
    result = SimulationResult(model, [0.0, hit["t"]], arrays, omega, eq, meta,
                              final_state=FourierState(layout, hit["y"]), stopped_early=True, flow=flow)
    return AlignedRun(hit["t"], hit["fraction"], counts.steps, counts.evaluations, wall, result)
