"""The reduced Fourier-domain flow of a population of independent neurons.

For each neuron (GC, Stage I; THEORY section 3), on every nontrivial irrep block ``rho``

    d nu_hat[rho]/dt = drive_nu(blocks of rho) - radial_nu(Omega) nu_hat[rho]
    Omega = sum_{rho != 1} omega_block(blocks of rho)          (real for real signals)

and on the trivial block ``d nu_hat[1]/dt = -c_nu Omega nu_hat[1]``. For quadratic CE with
separate spheres ``drive_xi = (1/n) th2 th1``, ``drive_th1 = (1/n) th2^* xi``,
``drive_th2 = (1/n) xi th1^*``, ``radial = Omega``, ``c = 1``. The block formulas are derived
by the theory engine (:meth:`symflow.theory.Model.block_flow`) and executed as generated NumPy
code (:func:`symflow.codegen.flow_kernels`), vectorised over neurons and over all irreps of equal
dimension. Cost per evaluation: ``O(M sum_rho d_rho^3)``, versus ``O(M n^2)`` in parameter space.

``Im(Omega)`` is checked on every evaluation: it must be below ``IMAG_TOL`` times
``sum |omega_block|``; otherwise the state violates the reality constraint and
:class:`~symflow.errors.IntegrationError` is raised (the imaginary part is never dropped silently).
"""
from __future__ import annotations

import numpy as np

from ..errors import IntegrationError, ModelError, SymflowError
from .state import FourierLayout, FourierState

#: Relative size of Im(Omega) (against sum |omega_block|) accepted as rounding.
IMAG_TOL = 1e-8


def as_model(model_or_name, shared=None, spheres=None):
    """A :class:`symflow.theory.Model` from a model, a group name or a Group."""
    from ..theory import Model

    if isinstance(model_or_name, Model):
        if shared is not None and bool(shared) != model_or_name.shared:
            raise ModelError(f"shared={shared} conflicts with the model given ({model_or_name!r})")
        if spheres is not None and spheres != model_or_name.spheres:
            raise ModelError(f"spheres={spheres!r} conflicts with the model given ({model_or_name!r})")
        return model_or_name
    return Model(model_or_name, shared=bool(shared) if shared is not None else False, spheres=spheres)


class ReducedFlow:
    """Right-hand side of the reduced flow for states of one model (see module docstring).

    Parameters
    ----------
    model : Model or group name
    style : {"auto", "entries", "matrix"}
        Generated code style per block dimension (see :mod:`symflow.codegen.generator`).
    use_symmetry : bool
        Cyclic groups ``Z_n``: evaluate the blocks of frequencies ``0..n//2`` only and fill
        frequency ``n - k`` with the complex conjugate (exact for real signals, which the state
        represents; all ``n`` blocks are still stored). The reality of the state is then checked
        directly: ``|nu_hat[n-k] - conj nu_hat[k]| <= IMAG_TOL max |nu_hat|``.
    """

    def __init__(self, model, style: str = "auto", use_cache: bool = True, use_symmetry: bool = True):
        from ..codegen import flow_kernels

        self.model = as_model(model)
        self.model.require_block_flow()
        self.layout = FourierLayout.for_model(self.model)
        self.kernels = flow_kernels(self.model, style=style, use_cache=use_cache)
        if tuple(self.kernels.names) != self.layout.names:
            raise ModelError(f"generated code is for vectors {self.kernels.names}, the model has {self.layout.names}")
        missing = [d for d in self.layout.dims if d not in self.kernels.block_terms]
        if missing:
            raise ModelError(f"generated code lacks block dimensions {missing}")
        self.n = self.model.group.order
        self.trivial_rate = self.kernels.trivial_rate
        self.evaluations = 0
        G = self.model.group
        #: cyclic groups: evaluate frequencies 0..n//2 only and mirror (see evaluate_half_spectrum)
        self.half_spectrum = bool(use_symmetry and self.layout.fft and len(G.abelian_factors) == 1 and self.n > 2)

    @property
    def names(self) -> tuple:
        return self.layout.names

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, data: np.ndarray, out: np.ndarray | None = None, check: bool = True):
        """``(Omega, velocity)`` for state rows ``data`` (M, L) complex; ``Omega`` has shape (M,).

        ``out`` (M, L) complex receives the velocity if given. ``check=False`` skips the
        ``Im(Omega)`` check (integrators use it for intermediate stages; every accepted state is
        checked).
        """
        lay, names, n = self.layout, self.names, self.n
        if out is None:
            out = np.empty(data.shape, dtype=np.complex128)
        if self.half_spectrum:
            return self._evaluate_half(data, out, check)
        parts = []
        omega = size = 0.0
        for d in lay.dims:
            blocks = tuple(lay.view(data, nm, d) for nm in names)
            om, drives = self.kernels.block_terms[d](*blocks, n)
            if d == 1:
                om = om[:, 1:]
            omega = omega + om.sum(axis=1)
            if check:
                size = size + np.abs(om).sum(axis=1)
            parts.append((d, blocks, drives))
        self.evaluations += 1
        imag = np.abs(omega.imag)
        if not np.isfinite(omega).all() or (check and not (imag <= IMAG_TOL * size + 1e-300).all()):
            if not np.isfinite(omega).all():
                raise IntegrationError("the state became non-finite (nan or inf): the integration diverged; "
                                       "lower the step size or tighten the tolerances")
            worst = float(np.max(imag / np.maximum(size, 1e-300)))
            raise IntegrationError(f"Im(Omega) is {worst:.3g} relative to sum |omega_block| (> {IMAG_TOL}): the "
                                   "state violates the reality constraint nu_hat[conj rho] = conj(nu_hat[rho])")
        omega = omega.real
        shaped = omega[:, None, None, None]
        coeffs = self.kernels.radial(shaped)
        for d, blocks, drives in parts:
            for name, g, c, b in zip(names, drives, coeffs, blocks):
                v = lay.view(out, name, d)
                np.multiply(c, b, out=v)
                np.subtract(g, v, out=v)
                if d == 1:
                    v[:, 0] = (-self.trivial_rate[name] * omega)[:, None, None] * b[:, 0]
        return omega, out

    def _evaluate_half(self, data, out, check):
        """Cyclic groups: blocks ``k = 0..n//2`` through the generated code, ``n - k`` by conjugation.

        ``Omega = sum_{k=1}^{n-1} omega_k = 2 Re sum_{0<k<n/2} omega_k (+ omega_{n/2}, n even)``.
        """
        lay, names, n = self.layout, self.names, self.n
        half = n // 2 + 1
        views = [lay.view(data, nm, 1) for nm in names]
        if check:
            for nm, v in zip(names, views):
                scale = float(np.abs(v).max(initial=0.0))
                asym = float(np.abs(v[:, 1:] - np.conj(v[:, :0:-1])).max(initial=0.0))
                if not np.isfinite(scale) or not np.isfinite(asym):
                    raise IntegrationError("the state became non-finite (nan or inf): the integration diverged; "
                                           "lower the step size or tighten the tolerances")
                if asym > IMAG_TOL * scale or abs(v[:, 0].imag).max(initial=0.0) > IMAG_TOL * scale:
                    raise IntegrationError(f"{nm}: nu_hat[n-k] differs from conj(nu_hat[k]) by {asym / max(scale, 1e-300):.3g} "
                                           "(relative); the state violates the reality constraint "
                                           "nu_hat[conj rho] = conj(nu_hat[rho])")
        blocks = tuple(v[:, :half] for v in views)
        om, drives = self.kernels.block_terms[1](*blocks, n)
        self.evaluations += 1
        pairs = half - 1 if n % 2 else half - 2  # frequencies 1..pairs have a distinct partner
        omega = 2.0 * om[:, 1:pairs + 1].real.sum(axis=1)
        if n % 2 == 0:
            omega = omega + om[:, n // 2].real
        if not np.isfinite(omega).all():
            raise IntegrationError("the state became non-finite (nan or inf): the integration diverged; "
                                   "lower the step size or tighten the tolerances")
        shaped = omega[:, None, None, None]
        coeffs = self.kernels.radial(shaped)
        for name, g, c, b, full in zip(names, drives, coeffs, blocks, views):
            v = lay.view(out, name, 1)
            vh = v[:, :half]
            np.multiply(c, b, out=vh)
            np.subtract(g, vh, out=vh)
            vh[:, 0] = (-self.trivial_rate[name] * omega)[:, None, None] * b[:, 0]
            np.conj(v[:, pairs:0:-1], out=v[:, half:])
        return omega, out

    def rhs(self, data: np.ndarray) -> np.ndarray:
        """Velocity ``d data/dt`` (M, L)."""
        return self.evaluate(data)[1]

    def omega(self, data: np.ndarray) -> np.ndarray:
        """``Omega`` per neuron, shape (M,)."""
        return self.evaluate(data)[0]

    def speed(self, velocity: np.ndarray) -> np.ndarray:
        """Plancherel norm of a velocity per neuron (= |Riemannian gradient| on the spheres), (M,)."""
        return np.sqrt(np.maximum(self.layout.inner(velocity, velocity), 0.0))

    def state(self, data) -> FourierState:
        return FourierState(self.layout, data)

    def velocity_parameters(self, state: FourierState) -> dict:
        """The velocity mapped back to parameter space: ``{name: (M, n)}`` (for checks)."""
        _, v = self.evaluate(state.data)
        return FourierState(self.layout, v).to_parameters()

    def __repr__(self) -> str:
        return f"<ReducedFlow {self.model!r}: blocks {self.layout.counts}, code {self.kernels.styles}>"


# ---------------------------------------------------------------------------- simulation API
#: Default final time in units of n^2: measured equilibrium times (all neurons at |grad| <
#: 1e-6 n^-3/2 from uniform starts) were at most 13.6 n^2 (Q8), 12.1 n^2 (F21), 9.1 n^2 (S4),
#: 5.0 n^2 (Z101 unshared), 1.4 n^2 (Z1009 shared); runs stop earlier at the equilibrium event.
T_END_FACTOR = 50.0
#: Equilibrium event tolerance on the Riemannian gradient norm, in units of n^(-3/2) (the scale
#: of Omega* in THEORY section 3).
GTOL_FACTOR = 1e-6
#: Largest geometric step in units of n^(3/2): the fastest tangent decay rate at the equilibria is
#: about 5 Omega* <= 3.6 n^(-3/2) (THEORY section 3), and DOPRI5 is stable for h*rate < 3.3.
MAX_STEP_FACTOR = 0.5
DEFAULT_N_SAVE = 11


def default_t_end(n: int) -> float:
    """``T_END_FACTOR * n^2`` (symflow's time unit ``c = 1``)."""
    return T_END_FACTOR * float(n) ** 2


def _check_time(name, v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
        raise SymflowError(f"{name} must be a finite number, got {v!r}")
    if v <= 0:
        raise SymflowError(f"{name} must be positive, got {v!r}")
    return float(v)


def save_times(t_end=None, n_save: int = DEFAULT_N_SAVE, t_eval=None, n: int = 1) -> np.ndarray:
    """The save times: ``t_eval`` if given (finite, increasing, >= 0; 0 is prepended if absent),
    else ``n_save`` equally spaced times from 0 to ``t_end`` (default :func:`default_t_end`)."""
    if t_eval is not None:
        te = np.asarray(t_eval, dtype=float).reshape(-1)
        if te.size == 0 or not np.all(np.isfinite(te)):
            raise SymflowError("t_eval must be a non-empty list of finite times")
        if np.any(te < 0) or np.any(np.diff(te) <= 0):
            raise SymflowError("t_eval must be strictly increasing and >= 0")
        return te if te[0] == 0 else np.concatenate([[0.0], te])
    t_end = default_t_end(n) if t_end is None else _check_time("t_end", t_end)
    if isinstance(n_save, (bool, np.bool_)) or not isinstance(n_save, (int, np.integer)) or n_save < 2:
        raise SymflowError(f"n_save must be an integer >= 2 (it includes t = 0 and t_end), got {n_save!r}")
    return np.linspace(0.0, t_end, int(n_save))


def simulate(model_or_name, width: int = 256, seed: int = 0, t_end: float | None = None, method: str = "geometric",
             n_save: int = DEFAULT_N_SAVE, t_eval=None, shared: bool | None = None, spheres: str | None = None,
             init="uniform", init_options: dict | None = None, rtol: float | None = None, atol: float | None = None,
             dt: float | None = None, gtol: float | None = None, stop_at_equilibrium: bool = True,
             require_convergence: bool = False, progress: bool = True, chunk: int | None = None,
             style: str = "auto", callback=None, workers: int = 1):
    """Simulate ``width`` neurons under the reduced Fourier flow; returns a
    :class:`~symflow.dynamics.results.SimulationResult`.

    Parameters
    ----------
    model_or_name : Model, Group or group name (``shared`` / ``spheres`` apply to names)
    width, seed : population size and the seed of the initial condition
    t_end : final time (default ``T_END_FACTOR * n^2``; time unit ``c = 1``)
    method : ``"geometric"`` (retraction-based DOPRI5, norms exact; with ``dt``: fixed-step RK4),
        ``"DOP853"``, ``"RK45"`` or ``"LSODA"`` (SciPy)
    n_save / t_eval : equally spaced save times, or explicit ones
    init : ``"uniform"``, ``"orbit"``, ``"frequency"``, a FourierState or parameter arrays;
        ``init_options`` e.g. ``{"orbit": 2, "noise": 0.01}``
    rtol, atol, dt : integrator tolerances (defaults in :func:`~symflow.dynamics.integrators.make_stepper`)
    gtol : equilibrium tolerance on ``|Riemannian grad|`` (default ``GTOL_FACTOR * n^-3/2``)
    stop_at_equilibrium : end at the first save time where every neuron is at equilibrium
    require_convergence : raise :class:`IntegrationError` if some neuron never reaches ``gtol``
    progress : rich progress bar on stderr; ``KeyboardInterrupt`` returns the run so far
    workers : advance chunks of neurons in this many forked processes (same results)
    """
    from .initial import check_seed, check_width, initial_state
    from .integrators import integrate, make_stepper
    from .results import SimulationResult, build_metadata

    model = as_model(model_or_name, shared=shared, spheres=spheres)
    if model.loss != "ce":
        raise ModelError(f"simulate records theta1, theta2, xi (the cross-entropy model); {model!r} has loss "
                         f"{model.loss!r}. Use ReducedFlow with symflow.dynamics.integrators.integrate directly")
    width = check_width(width) if not hasattr(init, "data") and not isinstance(init, (dict, tuple, list)) else None
    seed = check_seed(seed)
    flow = ReducedFlow(model, style=style)
    n = model.group.order
    times = save_times(t_end, n_save, t_eval, n)
    state0 = initial_state(model, width, seed, init, **(init_options or {}))
    width = state0.width
    gtol = GTOL_FACTOR * n ** -1.5 if gtol is None else _check_time("gtol", gtol)
    stepper = make_stepper(method, rtol=rtol, atol=atol, dt=dt, n=n)
    if method == "geometric" and dt is None:
        stepper.max_step = MAX_STEP_FACTOR * n ** 1.5
    names = model.vector_names

    def save(t, y):
        st = FourierState(flow.layout, y)
        p = st.to_parameters()
        return p, flow.omega(y)

    out = integrate(flow, state0.data, times, stepper, gtol=gtol, save=save, stop_at_equilibrium=stop_at_equilibrium,
                    progress=progress, chunk=chunk, callback=callback, workers=workers)
    params = {nm: np.stack([s[0][nm] for s in out.saved]) for nm in names}
    if model.shared:
        params = {"theta1": params["theta"], "theta2": params["theta"], "xi": params["xi"]}
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


def run_until_aligned(model, width: int = 512, seed: int = 0, fraction: float = 0.95, rank_threshold: float = 0.1,
                      cosine_threshold: float = 0.99, t_max: float | None = None, check_every: float | None = None,
                      method: str = "geometric", progress: bool = False, **options) -> AlignedRun:
    """Integrate from a uniform start until ``fraction`` of the neurons are aligned.

    Aligned: every vector's ``sigma2/sigma1 < rank_threshold`` and all three alignment cosines
    ``> cosine_threshold`` on the dominant block (:func:`symflow.dynamics.observables.aligned`).
    Checked every ``check_every`` time units (default ``0.05 n^2``): the returned time has that
    resolution. ``t_max`` defaults to ``T_END_FACTOR n^2``; not aligned by then ->
    :class:`IntegrationError`. Returns an :class:`AlignedRun` (time, steps, RHS evaluations, wall time).
    """
    from .observables import aligned

    model = as_model(model)
    n = model.group.order
    t_max = default_t_end(n) if t_max is None else _check_time("t_max", t_max)
    check_every = 0.05 * n ** 2 if check_every is None else _check_time("check_every", check_every)
    if not 0 < fraction <= 1:
        raise SymflowError(f"fraction must be in (0, 1], got {fraction!r}")
    times = np.arange(0.0, t_max + 0.5 * check_every, check_every)
    layout = FourierLayout.for_model(model)
    reached = {}

    def callback(t, y):
        frac = float(np.mean(aligned(FourierState(layout, y), rank_threshold=rank_threshold,
                                     cosine_threshold=cosine_threshold)))
        reached["fraction"] = frac
        if frac >= fraction:
            reached["t"] = t
            return True
        return False

    result = simulate(model, width=width, seed=seed, t_eval=times, method=method, progress=progress,
                      stop_at_equilibrium=False, callback=callback, **options)
    if "t" not in reached:
        raise IntegrationError(f"only {reached.get('fraction', 0):.1%} of the neurons were aligned by t = {t_max:.4g} "
                               f"(target {fraction:.0%}); raise t_max")
    meta = result.metadata
    return AlignedRun(reached["t"], reached["fraction"], meta["steps"], meta["rhs_evaluations"], meta["wall_time_s"], result)
