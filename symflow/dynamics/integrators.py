"""Integrators for the reduced flow, and the chunked driver that runs them on a population.

A state is a complex array ``y`` of shape ``(m, L)`` (``m`` neurons, see
:class:`~symflow.dynamics.state.FourierState`) and the flow ``F(y)`` is a
:class:`~symflow.dynamics.reduced.ReducedFlow`. Two kinds of steppers, one job each:

:class:`GeometricRK`
    Retraction-based explicit Runge-Kutta on the product of spheres: one ambient RK step of the
    vector field ``F`` (which is tangent on the spheres and keeps them invariant), followed by the
    orthogonal projection onto real signals (``nu_hat[conj rho] = conj nu_hat[rho]``, see
    :meth:`~symflow.dynamics.state.FourierLayout.realify`; without it rounding errors off the
    reality constraint grow exponentially) and the retraction ``R(x) = x / |x|`` on every sphere,
    with ``|x|^2 = n sum_rho d_rho ||x_hat[rho]||_F^2`` (Plancherel). This is the projection method of Hairer-Lubich-Wanner (GNI IV.4): it keeps the
    order of the underlying method and the norms stay 1 to rounding (``|1 - |x|| < 1e-13``).
    Tableaux: Dormand-Prince 5(4) with step-size control (default), or classical RK4 with a fixed
    ``dt``. Error control per neuron in the Plancherel norm:
    ``err_m <= atol + rtol |y_m|`` for every neuron of a chunk, else the step is retried.
:class:`ScipyStepper`
    SciPy's adaptive steppers (``DOP853``, ``RK45``, ``LSODA``: the ``OdeSolver`` classes behind
    ``scipy.integrate.solve_ivp``) on the real view of the state. Norms are preserved only to the
    solver's tolerance (the spheres are invariant, not enforced). The reality constraint is
    re-projected after every step (``DOP853``, ``RK45``) or at every save time (``LSODA``, whose
    internal history cannot be edited). ``LSODA`` is meant for small chunks (its stiff mode builds a
    dense Jacobian of the chunk).

Events, checked after every accepted step:

* equilibrium: a neuron whose speed ``|F(y_m)|`` (its Riemannian gradient norm on the spheres) is
  below ``gtol`` has reached equilibrium; the crossing time is recorded per neuron (geometric
  interpolation of the speed between the two steps). A chunk whose neurons all reached it is
  frozen for the rest of the run.
* blow-up: a non-finite state, or a sphere norm beyond ``blowup_norm`` (default 1e6; the
  unconstrained flow blows up in finite time), raises :class:`~symflow.errors.IntegrationError`
  naming the time and the neuron.

:func:`integrate` drives a stepper over the save times ``t_eval``: for each save interval it
advances every chunk of neurons in turn (chunks sized so one block array stays in cache, about
256 KB), so a ``KeyboardInterrupt`` loses at most the current interval and returns everything
saved before it. It shows a transient rich progress bar on stderr.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import IntegrationError, SymflowError

#: Bytes of one (name, d) block array of a chunk that the chunking aims for (cache-sized).
CHUNK_BYTES = 1 << 18
#: Default sphere-norm threshold of the blow-up event.
BLOWUP_NORM = 1e6
#: Smallest step relative to the time span before a stepper gives up.
MIN_STEP_FRACTION = 1e-12


# ---------------------------------------------------------------------------- tableaux
@dataclass(frozen=True)
class Tableau:
    """Explicit Runge-Kutta tableau ``(c, A, b)`` with optional embedded weights ``b_hat``.

    ``order`` is the order of ``b``; ``fsal``: the last stage is evaluated at the new point.
    """

    name: str
    c: tuple
    A: tuple
    b: tuple
    b_hat: tuple | None
    order: int
    fsal: bool


RK4 = Tableau("rk4", (0, 0.5, 0.5, 1), ((), (0.5,), (0, 0.5), (0, 0, 1)), (1 / 6, 1 / 3, 1 / 3, 1 / 6), None, 4, False)

BS3 = Tableau(
    "bs3",
    (0, 1 / 2, 3 / 4, 1),
    ((), (1 / 2,), (0, 3 / 4), (2 / 9, 1 / 3, 4 / 9)),
    (2 / 9, 1 / 3, 4 / 9, 0),
    (7 / 24, 1 / 4, 1 / 3, 1 / 8),
    3, True)

DOPRI5 = Tableau(
    "dopri5",
    (0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1),
    ((),
     (1 / 5,),
     (3 / 40, 9 / 40),
     (44 / 45, -56 / 15, 32 / 9),
     (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
     (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
     (35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)),
    (35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0),
    (5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40),
    5, True)


# ---------------------------------------------------------------------------- results of a chunk advance
@dataclass
class ChunkStatus:
    """Per-chunk integrator state carried between save intervals."""

    h: float | None = None          # last accepted step size
    frozen: bool = False            # all neurons at equilibrium
    speed: np.ndarray | None = None  # |F(y)| per neuron at the current time
    f: np.ndarray | None = None     # F(y) at the current time (FSAL reuse)


@dataclass
class StepCounts:
    steps: int = 0
    rejected: int = 0
    evaluations: int = 0

    def add(self, other: "StepCounts") -> None:
        self.steps += other.steps
        self.rejected += other.rejected
        self.evaluations += other.evaluations


class _Events:
    """Equilibrium bookkeeping and blow-up checks for one chunk."""

    def __init__(self, flow, gtol, blowup_norm, eq_time, offset):
        self.flow, self.gtol, self.blowup_norm = flow, gtol, blowup_norm
        self.eq_time, self.offset = eq_time, offset

    def check(self, y, t_prev, t_new, speed_prev, speed_new):
        if not np.all(np.isfinite(y)):
            bad = int(np.argwhere(~np.isfinite(y).all(axis=1))[0, 0]) + self.offset
            raise IntegrationError(f"blow-up: neuron {bad} became non-finite at t = {t_new:.6g}")
        if self.blowup_norm is not None and self.flow.layout.spheres:
            norms = self.flow.layout.sphere_norms(y)
            if np.any(norms > self.blowup_norm):
                bad = int(np.argwhere((norms > self.blowup_norm).any(axis=1))[0, 0]) + self.offset
                raise IntegrationError(f"blow-up: neuron {bad} has a sphere norm above {self.blowup_norm:g} at "
                                       f"t = {t_new:.6g} (the unconstrained flow blows up in finite time)")
        if self.gtol is None or speed_new is None:
            return False
        sl = slice(self.offset, self.offset + y.shape[0])
        eq = self.eq_time[sl]
        hit = np.isnan(eq) & (speed_new < self.gtol)
        if np.any(hit):
            eq[hit] = _crossing_time(t_prev, t_new, speed_prev[hit] if speed_prev is not None else None,
                                     speed_new[hit], self.gtol)
        return bool(np.all(speed_new < self.gtol))


def _crossing_time(t0, t1, s0, s1, gtol):
    """Time where the speed crosses ``gtol``, interpolating ``log speed`` linearly in ``t``."""
    if s0 is None:
        return np.full(s1.shape, t1)
    with np.errstate(divide="ignore", invalid="ignore"):
        l0, l1, lg = np.log(np.maximum(s0, 1e-300)), np.log(np.maximum(s1, 1e-300)), math.log(gtol)
        frac = np.where(l0 > l1, (l0 - lg) / (l0 - l1), 1.0)
    frac = np.clip(np.nan_to_num(frac, nan=1.0), 0.0, 1.0)
    return t0 + frac * (t1 - t0)


# ---------------------------------------------------------------------------- steppers
class GeometricRK:
    """Retraction-based Runge-Kutta on the product of spheres (see module docstring).

    Parameters
    ----------
    rtol, atol : float
        Local error tolerance per neuron in the Plancherel norm (adaptive mode).
    dt : float, optional
        Fixed step (classical RK4, no error control). Without ``dt`` the step is adaptive (DOPRI5).
    first_step : float, optional
        Initial step of the adaptive mode; default from the flow's scale (``0.01 |y| / |F(y)|``).
    max_step : float
        Upper bound on the adaptive step.
    """

    name = "geometric"

    def __init__(self, rtol: float = 1e-7, atol: float = 1e-10, dt: float | None = None,
                 first_step: float | None = None, max_step: float = math.inf, tableau: str = "dopri5"):
        _check_tolerances(rtol, atol)
        if dt is not None and not (np.isfinite(dt) and dt > 0):
            raise SymflowError(f"dt must be a positive finite number, got {dt!r}")
        self.rtol, self.atol, self.dt = float(rtol), float(atol), (None if dt is None else float(dt))
        self.first_step, self.max_step = first_step, float(max_step)
        tableaux = {"dopri5": DOPRI5, "bs3": BS3}
        if tableau not in tableaux:
            raise SymflowError(f"tableau must be one of {', '.join(tableaux)}, got {tableau!r}")
        self.tableau = RK4 if dt is not None else tableaux[tableau]

    @property
    def tolerances(self) -> dict:
        return {"rtol": self.rtol, "atol": self.atol, "dt": self.dt, "tableau": self.tableau.name}

    def step(self, flow, y, h, f0):
        """One ambient RK step from ``y`` (with ``f0 = F(y)``), then the projections.

        Returns ``(y_new, f_new, error)``: ``f_new = F(y_new)`` at the projected point (it also
        serves as the FSAL stage of DOPRI5's error estimate; the projection moves the point by
        ``O(h^6)``, far below the estimated error) and the Plancherel norm of the local error
        estimate per neuron (``None`` for RK4). Cost: ``len(c)`` evaluations of ``F`` (FSAL: 6).
        Stage combinations are single BLAS calls on the stacked stages.
        """
        tab = self.tableau
        n_explicit = len(tab.c) - (1 if tab.fsal else 0)
        K = self._workspace(n_explicit, y.shape)
        K[0] = f0
        yi = K[-1]
        for i in range(1, n_explicit):
            a = np.asarray(tab.A[i], dtype=np.float64) * h
            np.add(np.tensordot(a, K[:i], axes=1), y, out=yi)
            flow.evaluate(yi, out=K[i], check=False)
        b = np.asarray(tab.b[:n_explicit], dtype=np.float64) * h
        y_new = np.tensordot(b, K[:n_explicit], axes=1)
        y_new += y
        flow.layout.realify(y_new)
        flow.layout.retract(y_new)
        f_new = flow.rhs(y_new)
        err = None
        if tab.b_hat is not None:
            db = (np.asarray(tab.b) - np.asarray(tab.b_hat)) * h
            e = np.tensordot(db[:n_explicit], K[:n_explicit], axes=1)
            if tab.fsal:
                e += db[-1] * f_new
            err = np.sqrt(np.maximum(flow.layout.inner(e, e), 0.0))
        return y_new, f_new, err

    def _workspace(self, n_stages, shape):
        """Stage buffer ``(n_stages + 1, m, L)`` reused across steps (the last slot holds stage points)."""
        key = (n_stages, shape)
        ws = getattr(self, "_ws", None)
        if ws is None or ws[0] != key:
            self._ws = ws = (key, np.empty((n_stages + 1,) + tuple(shape), dtype=np.complex128))
        return ws[1]

    def advance(self, flow, y, t0, t1, status: ChunkStatus, events: _Events, counts: StepCounts):
        """Advance the chunk ``y`` from ``t0`` to ``t1`` in place; returns ``y``."""
        if status.f is None:
            status.f = flow.rhs(y)
            status.speed = flow.speed(status.f)
            counts.evaluations += 1
            if events.check(y, t0, t0, None, status.speed):
                status.frozen = True
                return y
        t = t0
        span = t1 - t0
        if self.dt is not None:
            n_steps = max(1, int(math.ceil(span / self.dt - 1e-9)))
            h = span / n_steps
            for _ in range(n_steps):
                y, f_new, _ = self.step(flow, y, h, status.f)
                t += h
                counts.steps += 1
                counts.evaluations += len(self.tableau.c)
                speed_prev = status.speed
                status.f = f_new
                status.speed = flow.speed(f_new)
                if events.check(y, t - h, t, speed_prev, status.speed):
                    status.frozen = True
                    return y
            return y
        h = status.h if status.h else self._initial_step(flow, y, status.f, span)
        min_step = MIN_STEP_FRACTION * max(abs(t1), span, 1.0)
        order = self.tableau.order
        while t < t1 - 1e-12 * max(abs(t1), 1.0):
            h = min(h, self.max_step)
            last = t + h >= t1 - 1e-12 * max(abs(t1), 1.0)
            h_try = (t1 - t) if last else h
            y_new, f_new, err = self.step(flow, y, h_try, status.f)
            counts.evaluations += len(self.tableau.c) - 1
            scale = self.atol + self.rtol * np.sqrt(np.maximum(flow.layout.inner(y, y), 0.0))
            ratio = float(np.max(err / scale)) if err is not None else 0.0
            if not np.isfinite(ratio):
                ratio = math.inf
            if ratio <= 1.0:
                t += h_try
                y = y_new
                counts.steps += 1
                speed_prev = status.speed
                status.f = f_new
                status.speed = flow.speed(f_new)
                factor = 5.0 if ratio == 0 else min(5.0, 0.9 * ratio ** (-1.0 / order))
                if not last:
                    h = h_try * max(1.0, factor)
                if events.check(y, t - h_try, t, speed_prev, status.speed):
                    status.frozen = True
                    status.h = h
                    return y
            else:
                counts.rejected += 1
                h = h_try * max(0.2, 0.9 * ratio ** (-1.0 / order))
                if h < min_step:
                    raise IntegrationError(f"step size underflow at t = {t:.6g} (h = {h:.3g}); the flow may "
                                           f"blow up here or the tolerances (rtol={self.rtol}, atol={self.atol}) are too tight")
        status.h = h
        return y

    def _initial_step(self, flow, y, f, span):
        if self.first_step:
            return float(self.first_step)
        ny = np.sqrt(np.maximum(flow.layout.inner(y, y), 0.0))
        nf = np.sqrt(np.maximum(flow.layout.inner(f, f), 0.0))
        with np.errstate(divide="ignore"):
            h = float(np.min(np.where(nf > 0, 0.01 * (ny + 1e-300) / nf, np.inf)))
        if not np.isfinite(h) or h <= 0:
            h = span
        return min(h, span)

    def __repr__(self) -> str:
        if self.dt is not None:
            return f"GeometricRK(rk4, dt={self.dt:g})"
        return f"GeometricRK(dopri5, rtol={self.rtol:g}, atol={self.atol:g})"


class ScipyStepper:
    """SciPy ``OdeSolver`` (``DOP853``, ``RK45``, ``LSODA``) on the real view of a chunk.

    Parameters
    ----------
    method : {"DOP853", "RK45", "LSODA"}
    rtol, atol : float
        Passed to SciPy (componentwise on the real and imaginary parts of the Fourier entries,
        whose size is about ``n^-1``; the default ``atol`` is scaled by ``1/n`` accordingly).
    """

    METHODS = ("DOP853", "RK45", "LSODA")
    name = "scipy"

    def __init__(self, method: str = "DOP853", rtol: float = 1e-8, atol: float = 1e-11, max_step: float = math.inf):
        if method not in self.METHODS:
            raise SymflowError(f"method must be one of geometric, {', '.join(self.METHODS)}; got {method!r}")
        _check_tolerances(rtol, atol)
        self.method, self.rtol, self.atol, self.max_step = method, float(rtol), float(atol), float(max_step)

    @property
    def tolerances(self) -> dict:
        return {"rtol": self.rtol, "atol": self.atol, "method": self.method}

    def advance(self, flow, y, t0, t1, status: ChunkStatus, events: _Events, counts: StepCounts):
        import scipy.integrate as si

        shape = y.shape
        calls = {"n": 0, "t": None, "y": None, "f": None}

        def fun(t, yr):
            z = yr.view(np.complex128).reshape(shape)
            f = flow.rhs(z)
            calls["n"] += 1
            calls["t"], calls["y"], calls["f"] = t, yr, f
            return f.reshape(-1).view(np.float64)

        if status.f is None:
            status.f = flow.rhs(y)
            status.speed = flow.speed(status.f)
            counts.evaluations += 1
            if events.check(y, t0, t0, None, status.speed):
                status.frozen = True
                return y
        if t1 <= t0:
            return y
        cls = getattr(si, self.method)
        kw = {"rtol": self.rtol, "atol": self.atol, "max_step": self.max_step}
        if status.h:
            kw["first_step"] = min(status.h, t1 - t0)
        flow.layout.realify(y)
        y_real = np.ascontiguousarray(y).reshape(-1).view(np.float64).copy()
        solver = cls(fun, t0, y_real, t1, vectorized=False, **kw)
        t_prev = t0
        while solver.status == "running":
            msg = solver.step()
            if solver.status == "failed":
                raise IntegrationError(f"{self.method} failed at t = {solver.t:.6g}: {msg}")
            counts.steps += 1
            z = solver.y.view(np.complex128).reshape(shape)
            if self.method != "LSODA":
                flow.layout.realify(z)  # in place on the solver's state (rounding-size change)
            if calls["t"] == solver.t and calls["y"] is not None and np.array_equal(calls["y"], solver.y):
                f = calls["f"].copy()
            else:
                f = flow.rhs(z)
                counts.evaluations += 1
            speed_prev = status.speed
            status.f, status.speed = f, flow.speed(f)
            h = solver.step_size
            if h:
                status.h = float(h)
            if events.check(z, t_prev, solver.t, speed_prev, status.speed):
                status.frozen = True
                y[...] = z
                counts.evaluations += calls["n"]
                return y
            t_prev = solver.t
        counts.evaluations += calls["n"]
        y[...] = solver.y.view(np.complex128).reshape(shape)
        return y

    def __repr__(self) -> str:
        return f"ScipyStepper({self.method}, rtol={self.rtol:g}, atol={self.atol:g})"


def _check_tolerances(rtol, atol):
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not isinstance(v, (int, float, np.floating)) or not np.isfinite(v) or v <= 0:
            raise SymflowError(f"{name} must be a positive finite number, got {v!r}")


def make_stepper(method: str = "geometric", rtol: float | None = None, atol: float | None = None,
                 dt: float | None = None, n: int | None = None):
    """A stepper by name: ``"geometric"`` (default), ``"DOP853"``, ``"RK45"``, ``"LSODA"``.

    Default tolerances: geometric ``rtol=1e-6, atol=1e-9`` (local error per neuron in the
    Plancherel norm, i.e. the parameter-space Euclidean norm; measured: final states agree with an
    ``rtol=1e-8`` run to ``< 1e-7`` and equilibrium times to ``< 1e-5`` relative on Z1009, F21,
    S4, Q8); SciPy ``rtol=1e-8``, ``atol=1e-9/n`` (componentwise on Fourier entries of size about
    ``1/n``).
    """
    if method == "geometric":
        return GeometricRK(rtol=1e-6 if rtol is None else rtol, atol=1e-9 if atol is None else atol, dt=dt)
    if dt is not None:
        raise SymflowError("dt (fixed step) is only available with method='geometric'")
    if method in ScipyStepper.METHODS:
        return ScipyStepper(method, rtol=1e-8 if rtol is None else rtol,
                            atol=(1e-9 / (n or 1)) if atol is None else atol)
    raise SymflowError(f"unknown method {method!r}; accepted: geometric, DOP853, RK45, LSODA")


# ---------------------------------------------------------------------------- driver
@dataclass
class IntegrationOutput:
    """What :func:`integrate` returns (see :class:`~symflow.dynamics.results.SimulationResult`)."""

    t: np.ndarray                      # (K,) save times reached
    saved: list                        # per save time: whatever ``save`` returned
    final: np.ndarray                  # (M, L) state at t[-1]
    equilibrium_time: np.ndarray       # (M,) first time |grad| < gtol (nan: never)
    counts: StepCounts
    interrupted: bool = False
    stopped_early: bool = False
    wall_time: float = 0.0
    extra: dict = field(default_factory=dict)


def chunk_rows(layout, chunk_bytes: int = CHUNK_BYTES) -> int:
    """Neurons per chunk so that the largest ``(name, d)`` block array is about ``chunk_bytes``."""
    largest = max(layout.counts[d] * d * d for d in layout.dims)
    return max(1, int(chunk_bytes // (16 * largest)))


_WORKER: dict = {}


def _worker_init():
    """Workers ignore Ctrl-C (the parent handles it) and use one BLAS thread each (the stage
    combinations call BLAS; several threads per worker oversubscribe the cores)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from threadpoolctl import threadpool_limits

        _WORKER["blas_limit"] = threadpool_limits(1)
    except ImportError:  # optional: without it BLAS may oversubscribe, results are unchanged
        pass


def _advance_chunk(task):
    """Worker task: advance one chunk over one save interval (state inherited by ``fork``)."""
    c, y, status, t0, t1, eq = task
    flow, stepper = _WORKER["flow"], _WORKER["stepper"]
    counts = StepCounts()
    events = _Events(flow, _WORKER["gtol"], _WORKER["blowup_norm"], eq, 0)
    y = stepper.advance(flow, y, t0, t1, status, events, counts)
    return c, y, status, counts, eq


def integrate(flow, y0: np.ndarray, t_eval, stepper, gtol: float | None = None, save=None,
              stop_at_equilibrium: bool = True, blowup_norm: float | None = BLOWUP_NORM,
              progress: bool = True, chunk: int | None = None, callback=None, workers: int = 1) -> IntegrationOutput:
    """Integrate ``d y/dt = flow.rhs(y)`` from ``y0`` (M, L) over the increasing times ``t_eval``.

    ``save(t, y)`` is called at every save time with the full state (default: a copy of ``y``).
    With ``stop_at_equilibrium`` the run ends at the first save time by which every neuron has
    reached ``|grad| < gtol``. ``callback(t, y)`` runs after each save (return ``True`` to stop).
    ``KeyboardInterrupt`` ends the run at the last completed save time (``interrupted=True``).
    ``workers > 1`` advances the chunks in that many forked processes (Linux/macOS ``fork``);
    results are identical to ``workers=1``.
    """
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise SymflowError(f"workers must be a positive integer, got {workers!r}")
    t_eval = np.asarray(t_eval, dtype=float)
    if t_eval.ndim != 1 or len(t_eval) < 1 or not np.all(np.isfinite(t_eval)):
        raise SymflowError("t_eval must be a non-empty 1-d array of finite times")
    if np.any(np.diff(t_eval) <= 0):
        raise SymflowError("t_eval must be strictly increasing")
    if save is None:
        save = lambda t, y: y.copy()  # noqa: E731
    y = np.array(y0, dtype=np.complex128, copy=True)
    M = y.shape[0]
    rows = chunk or chunk_rows(flow.layout)
    starts = list(range(0, M, rows))
    statuses = [ChunkStatus() for _ in starts]
    eq_time = np.full(M, np.nan)
    counts = StepCounts()
    t_done = [float(t_eval[0])]
    saved = [save(float(t_eval[0]), y)]
    interrupted = stopped = False
    wall0 = time.perf_counter()
    bar = _Bar(progress, float(t_eval[0]), float(t_eval[-1]), len(starts))
    pool = None
    if workers > 1 and len(starts) > 1:
        import multiprocessing

        _WORKER.update(flow=flow, stepper=stepper, gtol=gtol, blowup_norm=blowup_norm)
        pool = multiprocessing.get_context("fork").Pool(int(workers), initializer=_worker_init)
    try:
        with bar:
            for k in range(1, len(t_eval)):
                t0, t1 = float(t_eval[k - 1]), float(t_eval[k])
                new = y.copy()
                if pool is None:
                    for c, a in enumerate(starts):
                        st = statuses[c]
                        if st.frozen:
                            bar.chunk_done(t0, t1, c)
                            continue
                        sl = slice(a, min(a + rows, M))
                        ev = _Events(flow, gtol, blowup_norm, eq_time, a)
                        new[sl] = stepper.advance(flow, np.ascontiguousarray(new[sl]), t0, t1, st, ev, counts)
                        bar.chunk_done(t0, t1, c, counts, eq_time)
                else:
                    tasks = [(c, np.ascontiguousarray(new[a:a + rows]), statuses[c], t0, t1, eq_time[a:a + rows].copy())
                             for c, a in enumerate(starts) if not statuses[c].frozen]
                    for done, (c, yc, st, cnt, eq) in enumerate(pool.imap_unordered(_advance_chunk, tasks)):
                        a = starts[c]
                        new[a:a + rows] = yc
                        statuses[c] = st
                        eq_time[a:a + rows] = eq
                        counts.add(cnt)
                        bar.chunk_done(t0, t1, min(done, len(starts) - 1), counts, eq_time)
                y = new
                t_done.append(t1)
                saved.append(save(t1, y))
                if callback is not None and callback(t1, y):
                    stopped = True
                    break
                if stop_at_equilibrium and gtol is not None and all(s.frozen for s in statuses):
                    stopped = True
                    break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
            _WORKER.clear()
    return IntegrationOutput(t=np.array(t_done), saved=saved, final=y, equilibrium_time=eq_time, counts=counts,
                             interrupted=interrupted, stopped_early=stopped, wall_time=time.perf_counter() - wall0)


class _Bar:
    """Transient rich progress bar on stderr, in units of time; silent when disabled."""

    def __init__(self, enabled, t_start, t_end, n_chunks):
        self.enabled = enabled
        self.t_start, self.t_end, self.n_chunks = t_start, t_end, n_chunks
        self.progress = None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("[bold]reduced flow[/]"), BarColumn(), TextColumn("t = {task.fields[t]}"),
                                     TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                                     console=Console(stderr=True), transient=True)
            self.progress.__enter__()
            self.task = self.progress.add_task("flow", total=max(self.t_end - self.t_start, 1e-300),
                                               t=f"{self.t_start:.4g}", info="")
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False

    def chunk_done(self, t0, t1, c, counts=None, eq_time=None):
        if self.progress is None:
            return
        done = (t0 - self.t_start) + (t1 - t0) * (c + 1) / self.n_chunks
        info = ""
        if counts is not None:
            info = f"{counts.steps} steps"
            if eq_time is not None and eq_time.size:
                info += f", {np.mean(~np.isnan(eq_time)):.0%} at equilibrium"
        self.progress.update(self.task, completed=done, t=f"{t0 + (t1 - t0) * (c + 1) / self.n_chunks:.4g}", info=info)
