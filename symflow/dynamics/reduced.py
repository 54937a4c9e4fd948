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
For groups with complex-conjugate pairs of irreps the integrators use :class:`CompactFlow`, the
same flow on one member of each pair (half the blocks of an abelian group).

``Im(Omega)`` is checked on every evaluation: it must be below ``IMAG_TOL`` times
``sum |omega_block|``; otherwise the state violates the reality constraint and
:class:`~symflow.errors.IntegrationError` is raised (the imaginary part is never dropped silently).
"""
from __future__ import annotations

import math

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


def _diverged() -> IntegrationError:
    return IntegrationError("the state became non-finite (nan or inf): the integration diverged; "
                            "lower the step size or tighten the tolerances")


def _check_imaginary(imag, size) -> None:
    """``|Im Omega| <= IMAG_TOL sum |omega_block|`` per neuron, else :class:`IntegrationError`."""
    if not (np.abs(imag) <= IMAG_TOL * size + 1e-300).all():
        worst = float(np.max(np.abs(imag) / np.maximum(size, 1e-300)))
        raise IntegrationError(f"Im(Omega) is {worst:.3g} relative to sum |omega_block| (> {IMAG_TOL}): the "
                               "state violates the reality constraint nu_hat[conj rho] = conj(nu_hat[rho])")


class EvaluatedFlow:
    """What the integrators use of a flow whose ``evaluate(data) -> (omega, velocity)`` runs on arrays
    stored in ``self.layout``: the velocity, ``Omega``, and the Plancherel speed of a velocity."""

    def rhs(self, data: np.ndarray) -> np.ndarray:
        """Velocity ``d data/dt`` (M, L)."""
        return self.evaluate(data)[1]

    def omega(self, data: np.ndarray) -> np.ndarray:
        """``Omega`` per neuron, shape (M,)."""
        return self.evaluate(data)[0]

    def speed(self, velocity: np.ndarray) -> np.ndarray:
        """Plancherel norm of a velocity per neuron (= |Riemannian gradient| on the spheres), (M,)."""
        return np.sqrt(np.maximum(self.layout.inner(velocity, velocity), 0.0))


class ReducedFlow(EvaluatedFlow):
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
    #: ``evaluate`` accepts ``layout=`` (a :class:`~symflow.dynamics.state.BlockedLayout` of the rows)
    blocked_evaluation = True

    def evaluate(self, data: np.ndarray, out: np.ndarray | None = None, check: bool = True, layout=None):
        """``(Omega, velocity)`` for state rows ``data`` (M, L) complex; ``Omega`` has shape (M,).

        ``out`` (M, L) complex receives the velocity if given. ``check=False`` skips the
        ``Im(Omega)`` check (integrators use it for intermediate stages; every accepted state is
        checked). ``layout``: how ``data`` is stored (default :attr:`layout`; the integrators pass a
        :class:`~symflow.dynamics.state.BlockedLayout`).
        """
        lay, names, n = layout or self.layout, self.names, self.n
        if out is None:
            out = np.empty(data.shape, dtype=np.complex128)
        if self.half_spectrum:
            return self._evaluate_half(data, out, check, lay)
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
        if not np.isfinite(omega).all():
            raise _diverged()
        if check:
            _check_imaginary(omega.imag, size)
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

    def _evaluate_half(self, data, out, check, lay=None):
        """Cyclic groups: blocks ``k = 0..n//2`` through the generated code, ``n - k`` by conjugation.

        ``Omega = sum_{k=1}^{n-1} omega_k = 2 Re sum_{0<k<n/2} omega_k (+ omega_{n/2}, n even)``.
        """
        lay, names, n = lay or self.layout, self.names, self.n
        half = n // 2 + 1
        views = [lay.view(data, nm, 1) for nm in names]
        if check:
            for nm, v in zip(names, views):
                scale = float(np.abs(v).max(initial=0.0))
                asym = float(np.abs(v[:, 1:] - np.conj(v[:, :0:-1])).max(initial=0.0))
                if not np.isfinite(scale) or not np.isfinite(asym):
                    raise _diverged()
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
            raise _diverged()
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

    def state(self, data) -> FourierState:
        return FourierState(self.layout, data)

    def compact_flow(self) -> "CompactFlow | None":
        """The flow on compact rows (one member of each conjugate pair, see :class:`CompactFlow`), or
        ``None`` when the group has no complex-conjugate pairs (nothing to save) or the compact
        evaluation failed its self-check against :meth:`evaluate` (then the full rows are used)."""
        if "_compact" not in self.__dict__:
            self._compact = None
            if self.layout.compact.has_pairs:
                flow = CompactFlow(self)
                self._compact = flow if flow.self_check() else None
        return self._compact

    def velocity_parameters(self, state: FourierState) -> dict:
        """The velocity mapped back to parameter space: ``{name: (M, n)}`` (for checks)."""
        _, v = self.evaluate(state.data)
        return FourierState(self.layout, v).to_parameters()

    def __repr__(self) -> str:
        return f"<ReducedFlow {self.model!r}: blocks {self.layout.counts}, code {self.kernels.styles}>"


def _float_rows(a: np.ndarray, m: int) -> np.ndarray:
    """``(m, ...)`` complex array as ``(m, 2 * entries)`` float64 (a view when its rows are contiguous)."""
    a = np.asarray(a, dtype=np.complex128)
    if a.shape[0] != m:
        a = np.broadcast_to(a, (m,) + a.shape[1:])
    flat = a.reshape(m, -1)
    if flat.strides[-1] != 16:
        flat = np.ascontiguousarray(flat)
    return flat.view(np.float64)


class CompactFlow(EvaluatedFlow):
    """The reduced flow on compact rows (:class:`~symflow.dynamics.state.CompactLayout`).

    Real signals determine the block of ``conj rho`` from that of ``rho``, and the flow commutes with
    this symmetry, so only one member of each complex-conjugate pair is integrated: the generated
    block code runs on the stored blocks only (about half of them for abelian groups and for groups
    such as F21 whose nontrivial irreps come in pairs) and

        Omega = sum over stored nontrivial irreps of w_rho Re(omega_block[rho])

    with ``w = 2`` for pair representatives (``omega_block[conj rho] = conj(omega_block[rho])``) and
    ``w = 1`` for self-conjugate irreps, whose imaginary parts must be rounding (``IMAG_TOL``
    relative to ``sum w |omega_block|``; otherwise :class:`IntegrationError`). Velocities of the
    stored blocks are those of :meth:`ReducedFlow.evaluate`; :meth:`expand` gives full rows.
    Built by :meth:`ReducedFlow.compact_flow`, which checks it against the full evaluation first.
    """

    def __init__(self, flow: ReducedFlow):
        self.full = flow
        self.model, self.kernels, self.n = flow.model, flow.kernels, flow.n
        self.trivial_rate = flow.trivial_rate
        self.layout = flow.layout.compact
        self.evaluations = 0
        lay = self.layout
        #: float64-view weights: Re(omega_block) -> w (trivial irrep 0), Im -> 0; and Im of self-conjugate
        self._w_re, self._w_im, self._w_abs = {}, {}, {}
        for d in lay.dims:
            w = lay.slot_weight[d].copy()
            if d == 1:
                w[0] = 0.0
            self._w_re[d] = np.stack([w, np.zeros_like(w)], axis=-1).reshape(-1)
            sd = np.where(lay.paired[d], 0.0, w)
            self._w_im[d] = np.stack([np.zeros_like(w), sd], axis=-1).reshape(-1) if sd.any() else None
            self._w_abs[d] = w
        #: nontrivial self-conjugate irreps are stored: their Im(omega_block) must be checked
        self._any_self_conjugate = any(v is not None for v in self._w_im.values())

    @property
    def names(self) -> tuple:
        return self.layout.names

    def compress(self, data: np.ndarray) -> np.ndarray:
        return self.layout.compress(data)

    def expand(self, data: np.ndarray) -> np.ndarray:
        return self.layout.expand(data)

    blocked_evaluation = True

    def evaluate(self, data: np.ndarray, out: np.ndarray | None = None, check: bool = True, layout=None):
        """``(Omega, velocity)`` for compact rows ``data`` (M, L_compact); see the class docstring.
        ``layout`` as in :meth:`ReducedFlow.evaluate`."""
        lay, names, n = layout or self.layout, self.layout.names, self.n
        if out is None:
            out = np.empty(data.shape, dtype=np.complex128)
        parts = []
        omega = imag = size = None
        for d in lay.dims:
            blocks = tuple(lay.view(data, nm, d) for nm in names)
            om, drives = self.kernels.block_terms[d](*blocks, n)
            om = np.ascontiguousarray(om, dtype=np.complex128)
            of = om.view(np.float64)
            contrib = of @ self._w_re[d]
            omega = contrib if omega is None else omega + contrib
            if check and self._any_self_conjugate:
                if self._w_im[d] is not None:
                    im = of @ self._w_im[d]
                    imag = im if imag is None else imag + im
                s = np.abs(om) @ self._w_abs[d]
                size = s if size is None else size + s
            parts.append((d, blocks, drives))
        self.evaluations += 1
        if not np.isfinite(omega).all():
            raise _diverged()
        if check and imag is not None:
            _check_imaginary(imag, size)
        # d nu/dt = drive - radial(Omega) nu on the float64 views (real coefficients: no complex casts)
        coeffs = self.kernels.radial(omega[:, None])
        m = data.shape[0]
        for d, blocks, drives in parts:
            for name, g, c, b in zip(names, drives, coeffs, blocks):
                v = lay.view(out, name, d)
                vf = v.reshape(m, -1).view(np.float64)
                np.multiply(b.reshape(m, -1).view(np.float64), c, out=vf)
                np.subtract(_float_rows(g, m), vf, out=vf)
                if d == 1:
                    np.multiply((-self.trivial_rate[name] * omega)[:, None, None], b[:, 0], out=v[:, 0])
        return omega, out

    def self_check(self, width: int = 3, seed: int = 20240531, rtol: float = 1e-10) -> bool:
        """Compact and full evaluation agree on random real states (Omega and velocities, relative ``rtol``)."""
        from . import initial

        y = initial.uniform(self.model, width, seed).data
        try:
            om_full, v_full = self.full.evaluate(y)
            om_c, v_c = self.evaluate(self.compress(y))
        except (IntegrationError, ModelError, ValueError):
            return False
        scale = max(float(np.abs(v_full).max()), 1e-300)
        return bool(np.allclose(om_c, om_full, rtol=rtol, atol=rtol * float(np.abs(om_full).max()))
                    and np.abs(self.expand(v_c) - v_full).max() <= rtol * scale)

    def __repr__(self) -> str:
        return f"<CompactFlow {self.model!r}: stored blocks {self.layout.counts} of {self.full.layout.counts}>"


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
             style: str = "auto", callback=None, workers: int | None = None):
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
    gtol : equilibrium tolerance on ``|Riemannian grad|`` (default ``GTOL_FACTOR * n^-3/2``). A neuron
        is at equilibrium from the first accepted step with ``|grad| < gtol`` (its
        ``equilibrium_time`` interpolates the crossing); it is integrated no further, so later saves
        hold that state, within about ``gtol / lambda`` of the flow's limit (``lambda``: its slowest
        tangent decay rate, ``Omega* ~ 0.7 n^-3/2`` for abelian groups: ~1.4e-6 with the default)
    stop_at_equilibrium : end at the first save time where every neuron is at equilibrium
    require_convergence : raise :class:`IntegrationError` if some neuron never reaches ``gtol``
    progress : rich progress bar on stderr; ``KeyboardInterrupt`` returns the run so far
    workers : advance chunks of neurons in this many forked processes (results identical to one);
        ``None`` (default): all available cores for populations of at least ``AUTO_WORKERS_MIN``
        stored coefficients on Linux (see :func:`auto_workers`), else 1
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
    params = _stack_parameters(model, [s[0] for s in out.saved])
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


def _stack_parameters(model, per_save) -> dict:
    """The public ``theta1, theta2, xi`` arrays ``(K, M, n)`` from one ``{name: (M, n)}`` dict per save
    (shared embeddings: ``theta1`` and ``theta2`` are both the shared ``theta``)."""
    arrays = {nm: np.stack([p[nm] for p in per_save]) for nm in model.vector_names}
    if model.shared:
        arrays = {"theta1": arrays["theta"], "theta2": arrays["theta"], "xi": arrays["xi"]}
    return arrays


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


def _hermitian_eigvals(G: np.ndarray) -> np.ndarray:
    """Eigenvalues (descending, ``(..., d)``) of Hermitian ``(..., d, d)`` matrices; closed forms for
    ``d <= 3`` (trigonometric solution of the characteristic cubic), ``numpy.linalg.eigvalsh`` above."""
    d = G.shape[-1]
    if d == 1:
        return G[..., 0, :].real
    if d == 2:
        a, b, c = G[..., 0, 0].real, G[..., 1, 1].real, G[..., 0, 1]
        mean, half = 0.5 * (a + b), np.sqrt(0.25 * (a - b) ** 2 + np.abs(c) ** 2)
        return np.stack([mean + half, mean - half], axis=-1)
    if d == 3:
        a, b, c = G[..., 0, 0].real, G[..., 1, 1].real, G[..., 2, 2].real
        x, y, z = G[..., 0, 1], G[..., 1, 2], G[..., 0, 2]
        q = (a + b + c) / 3.0
        off = np.abs(x) ** 2 + np.abs(y) ** 2 + np.abs(z) ** 2
        p = np.sqrt(((a - q) ** 2 + (b - q) ** 2 + (c - q) ** 2 + 2.0 * off) / 6.0)
        A, B, C = a - q, b - q, c - q
        det = A * B * C + 2.0 * np.real(x * y * np.conj(z)) - A * np.abs(y) ** 2 - B * np.abs(z) ** 2 - C * np.abs(x) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(p > 0, det / (2.0 * np.where(p > 0, p, 1.0) ** 3), 0.0)
        phi = np.arccos(np.clip(r, -1.0, 1.0)) / 3.0
        l1 = q + 2.0 * p * np.cos(phi)
        l3 = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
        return np.stack([l1, 3.0 * q - l1 - l3, l3], axis=-1)
    return np.linalg.eigvalsh(G)[..., ::-1]


def _rank_ratio(blocks: np.ndarray) -> np.ndarray:
    """``sigma_2 / sigma_1`` of ``(m, d, d)`` blocks from the eigenvalues of ``B^* B`` (``d >= 2``)."""
    G = np.conj(np.swapaxes(blocks, -1, -2)) @ blocks
    lam = _hermitian_eigvals(G)
    return np.sqrt(np.maximum(lam[..., 1], 0.0) / np.maximum(lam[..., 0], 1e-300))


def aligned_mask(state: FourierState, rank_threshold: float = 0.1, cosine_threshold: float = 0.99) -> np.ndarray:
    """:func:`symflow.dynamics.observables.aligned` (same criterion, same dominant orbit and blocks) with
    the singular-value ratios from closed-form eigenvalues of ``B^* B`` instead of an SVD: about
    15x faster for 3 x 3 blocks, which makes the alignment check of :func:`run_until_aligned` cheap.
    The ratio agrees with the SVD's to ~1e-9 near the threshold (it loses accuracy only for nearly
    degenerate small singular values, ~1e-4 at rank one, far from any threshold; tested)."""
    from . import observables as obs

    share = obs.orbit_share(state)
    dom = obs.dominant_orbit(state, share)
    ratio = np.zeros(state.width)
    for by_d in obs.dominant_blocks(state, dom).values():
        for d, (idx, b) in by_d.items():
            if d > 1:
                ratio[idx] = np.maximum(ratio[idx], _rank_ratio(b))
    cos = obs.alignment(state, dom).min(axis=1)
    return (ratio < rank_threshold) & (cos > cosine_threshold)


_RUN_OPTIONS = ("shared", "spheres", "init", "init_options", "rtol", "atol", "dt", "gtol", "chunk", "style", "workers")


def run_until_aligned(model, width: int = 512, seed: int = 0, fraction: float = 0.95, rank_threshold: float = 0.1,
                      cosine_threshold: float = 0.99, t_max: float | None = None, check_every: float | None = None,
                      refine: int = 4, method: str = "geometric", progress: bool = False, **options) -> AlignedRun:
    """Integrate from a uniform start until ``fraction`` of the neurons are aligned.

    Aligned: every vector's ``sigma2/sigma1 < rank_threshold`` and all three alignment cosines
    ``> cosine_threshold`` on the dominant block (:func:`aligned_mask`, the criterion of
    :func:`symflow.dynamics.observables.aligned`). Checked every ``check_every`` time units
    (default ``0.2 n^2``); the first interval ``(t_a, t_b]`` at whose end the fraction is reached is
    then bisected ``refine`` times (re-integrating from the state at the left end), so the returned
    time ``t`` has the criterion met at ``t`` and not at ``t - check_every / 2^refine`` (default
    resolution ``0.0125 n^2``). Few checks keep the integrator's steps long (every check time is a
    step boundary) and the checks cheap. ``t_max`` defaults to ``T_END_FACTOR n^2``; not aligned by then ->
    :class:`IntegrationError`. ``options``: ``shared, spheres, init, init_options, rtol, atol, dt,
    gtol, chunk, style, workers`` as in :func:`simulate`.

    Returns an :class:`AlignedRun`: time, fraction, chunk steps and RHS evaluations (all
    integrations together), ``wall_time`` of the whole call (set-up, integration, checks) and
    ``result``, a :class:`~symflow.dynamics.results.SimulationResult` with the states at ``t = 0`` and
    at the returned time.
    """
    import time as _time

    from .initial import check_seed, check_width, initial_state
    from .integrators import IntegrationOutput, StepCounts, integrate, make_stepper
    from .results import SimulationResult, build_metadata

    wall0 = _time.perf_counter()
    unknown = sorted(set(options) - set(_RUN_OPTIONS))
    if unknown:
        raise TypeError(f"run_until_aligned() got unexpected keyword argument(s) {', '.join(unknown)}; "
                        f"accepted: {', '.join(_RUN_OPTIONS)}")
    model = as_model(model, shared=options.get("shared"), spheres=options.get("spheres"))
    n = model.group.order
    t_max = default_t_end(n) if t_max is None else _check_time("t_max", t_max)
    check_every = 0.2 * n ** 2 if check_every is None else _check_time("check_every", check_every)
    if not 0 < fraction <= 1:
        raise SymflowError(f"fraction must be in (0, 1], got {fraction!r}")
    if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)) or refine < 0:
        raise SymflowError(f"refine must be a non-negative integer, got {refine!r}")
    init = options.get("init", "uniform")
    width = check_width(width) if not hasattr(init, "data") and not isinstance(init, (dict, tuple, list)) else None
    seed = check_seed(seed)
    flow = ReducedFlow(model, style=options.get("style", "auto"))
    state0 = initial_state(model, width, seed, init, **(options.get("init_options") or {}))
    width = state0.width
    gtol = options.get("gtol")
    gtol = GTOL_FACTOR * n ** -1.5 if gtol is None else _check_time("gtol", gtol)
    stepper = make_stepper(method, rtol=options.get("rtol"), atol=options.get("atol"), dt=options.get("dt"), n=n)
    if method == "geometric" and options.get("dt") is None:
        stepper.max_step = MAX_STEP_FACTOR * n ** 1.5
    chunk, workers = options.get("chunk"), options.get("workers", 1)
    layout = flow.layout
    times = np.arange(0.0, t_max + 0.5 * check_every, check_every)
    counts = StepCounts()
    below = {"t": 0.0, "y": state0.data, "fraction": 0.0}
    hit = {}

    def measure(y):
        return float(np.mean(aligned_mask(FourierState(layout, y), rank_threshold, cosine_threshold)))

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
    arrays = _stack_parameters(model, [FourierState(layout, y).to_parameters() for y in states])
    omega = np.stack([_chunked(flow.omega, y) for y in states])
    eq = out.equilibrium_time if out is not None else np.full(width, np.nan)
    wall = _time.perf_counter() - wall0
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
