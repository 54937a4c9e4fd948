"""Steppers of the reduced flow: advance one chunk of neurons over one save interval.

A state is a complex array ``y`` of shape ``(m, L)`` (``m`` neurons, see
:class:`~symflow.dynamics.state.FourierState`) and the flow ``F(y)`` is a
:class:`~symflow.dynamics.flow.FlowEvaluator`. As in ``scipy.integrate._ivp``, a method
(:class:`GeometricRK`, :class:`ScipyStepper`: tableau, tolerances, step control; picklable, what
:func:`make_stepper` returns and the metadata records) binds one problem at a time into a stepper
instance, ``method.bind(flow, y, t0, t_bound, chunk, events, counts)`` -> :class:`ChunkStepper`
(:class:`AdaptiveRKStepper`, :class:`FixedRKStepper`, :class:`ScipyChunkStepper`): the flow, the
chunk's working layout and tolerances are fixed at construction, :meth:`ChunkStepper.step` makes one
step (``_step_impl``) until ``status == "finished"``, :meth:`ChunkStepper.run` steps to the end.
``step`` / ``_step_impl`` are the stepper's protocol only; the method's single Runge-Kutta step on
given arrays is :meth:`GeometricRK.rk_step` (into a workspace: ``_rk_step_into``).
The events (:mod:`.events`) are called after every accepted step, the work is added to
:class:`StepCounts`; chunks, save times, workers and progress are the driver's
(:mod:`.integrators`).

Two kinds of steppers, one job each:

:class:`GeometricRK`
    Retraction-based explicit Runge-Kutta on the product of spheres: one ambient RK step of the
    vector field ``F`` (which is tangent on the spheres and keeps them invariant), followed by the
    orthogonal projection onto real signals (``nu_hat[conj rho] = conj nu_hat[rho]``, see
    :meth:`~symflow.dynamics.state.FourierLayout.realify`; without it rounding errors off the
    reality constraint grow exponentially) and the retraction ``R(x) = x / |x|`` on every sphere,
    with ``|x|^2 = n sum_rho d_rho ||x_hat[rho]||_F^2`` (Plancherel). This is the projection method
    of Hairer-Lubich-Wanner (GNI IV.4): it keeps the order of the underlying method and the norms stay 1 to rounding (``|1 - |x|| < 1e-13``).
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

Adaptive :class:`GeometricRK` steps every neuron with its own step size and time: one step attempt
evaluates the right-hand side for all neurons of a chunk still short of the interval's end at once,
and each neuron accepts or rejects its own step by its own error estimate (so its trajectory does
not depend on the other neurons of its chunk, and a chunk is not held back by its slowest member).
The working arrays of a chunk are stored part by part
(:class:`~symflow.dynamics.state.BlockedLayout`) so the generated code runs on contiguous arrays,
the stage combinations are single BLAS calls on a reused workspace, and for groups with
complex-conjugate pairs of irreps only one member of each pair is integrated
(:class:`~symflow.dynamics.flow.CompactFlow`: half the work for abelian groups).

Step-size control of the adaptive :class:`GeometricRK` (Hairer-Norsett-Wanner I, II.4): the new step
is ``h * clip(SAFETY * err^(-1/order), MIN_FACTOR, MAX_FACTOR)`` (``MAX_FACTOR`` when ``err = 0``;
an accepted step never shrinks, a rejected one never grows).
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..errors import IntegrationError, SymflowError
from ..validation import real
from .events import Events
from .flow import EvaluatedFlow

#: Smallest step relative to the time span before a stepper gives up.
MIN_STEP_FRACTION = 1e-12
#: Step-size control: safety factor on the optimal step, and bounds of the step ratio.
SAFETY = 0.9
MIN_FACTOR = 0.2
MAX_FACTOR = 5.0


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


def explicit_rk_step(f, y: tuple, h: float, tableau: Tableau = RK4) -> tuple:
    """One explicit Runge-Kutta step of the autonomous system ``y' = f(y)`` on a tuple of arrays (no sphere, no
    error control): ``k_i = f(y + h sum_j A_ij k_j)``, ``y_new = y + h sum_i b_i k_i``. For small side systems
    (e.g. the orbit lottery's block races); the population flow uses :class:`GeometricRK`."""
    ks = []
    for row in tableau.A:
        stage = tuple(part + h * sum(a * k[p] for a, k in zip(row, ks) if a) if ks else part
                      for p, part in enumerate(y))
        ks.append(f(stage))
    return tuple(part + h * sum(b * k[p] for b, k in zip(tableau.b, ks)) for p, part in enumerate(y))

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


# ---------------------------------------------------------------------------- a chunk's integrator state
@dataclass
class ChunkStatus:
    """Per-chunk integrator state carried between save intervals.

    ``f`` (``(m, L)``) and ``speed`` (``(m,)``) are ``F(y)`` and ``|F(y)|`` per row of the chunk at the
    current time and ``h`` the next step per row (:class:`GeometricRK`; a number for
    :class:`ScipyStepper`); entries of rows no longer integrated are stale. ``active`` holds the
    rows still integrated (``None``: all); rows leave it when they reach equilibrium (their state is
    frozen there).
    """

    h: float | np.ndarray | None = None    # step size(s)
    frozen: bool = False                    # all neurons at equilibrium
    speed: np.ndarray | None = None         # |F(y)| per row
    f: np.ndarray | None = None             # F(y) per row (FSAL reuse)
    active: np.ndarray | None = None        # chunk rows still integrated (None: all)


@dataclass
class StepCounts:
    """Work done. ``steps``/``rejected``: step attempts of a chunk in which at least one / no neuron
    advanced (each attempt evaluates the right-hand side ``len(c) - 1`` times for the chunk's working
    rows); ``neuron_steps``/``neuron_rejected``: accepted and rejected steps of single neurons;
    ``evaluations``: right-hand-side evaluations of a chunk's working rows."""

    steps: int = 0
    rejected: int = 0
    evaluations: int = 0
    neuron_steps: int = 0
    neuron_rejected: int = 0

    def add(self, other: "StepCounts") -> None:
        self.steps += other.steps
        self.rejected += other.rejected
        self.evaluations += other.evaluations
        self.neuron_steps += other.neuron_steps
        self.neuron_rejected += other.neuron_rejected


class _Working:
    """A chunk's working arrays: rows of the flow's layout, or, when the flow evaluates blocked arrays
    (``flow.blocked_evaluation``), the layout's blocked form ``layout.blocked(m)`` (contiguous operands
    for the generated code and the velocity update). Row selection and write-back are the layout's
    (``from_rows``, ``put_rows``, ``take``, ``assign``); ``bound(m)`` is the flow evaluated on them."""

    def __init__(self, flow):
        self.flow = flow
        self.blocked = bool(getattr(flow, "blocked_evaluation", False))
        self._bound = {}

    def layout(self, m):
        return self.flow.layout.blocked(m) if self.blocked else self.flow.layout

    def bound(self, m):
        if not self.blocked:
            return self.flow
        b = self._bound.get(m)
        if b is None:
            b = self._bound[m] = _BoundFlow(self.flow, self.layout(m))
        return b

    def gather(self, rows, index):
        return self.layout(len(index)).from_rows(rows[index])

    def scatter(self, rows, index, data, mask):
        self.layout(data.shape[0]).put_rows(rows, index, data, mask)

    def take(self, data, mask):
        return self.layout(data.shape[0]).take(data, mask)

    def assign(self, dst, src, mask):
        self.layout(dst.shape[0]).assign(dst, src, mask)


class _BoundFlow(EvaluatedFlow):
    """A flow evaluated on arrays stored in ``layout`` (the interface :class:`GeometricRK` uses)."""

    def __init__(self, flow, layout):
        self.flow, self.layout = flow, layout

    def evaluate(self, data, out=None, check=True):
        return self.flow.evaluate(data, out, check, layout=self.layout)


def _scale_rows(layout, src: np.ndarray, factor: np.ndarray, out: np.ndarray) -> None:
    """``out = factor[m] * src`` per neuron (``factor`` of shape ``(m, 1)``), for row-major arrays or
    arrays stored part by part (the blocked form); real arithmetic on the float64 views."""
    m = src.shape[0]
    if getattr(layout, "form", None) == "blocked":
        for a, b, _ in layout.parts:
            np.multiply(layout.part(src, a, b).view(np.float64), factor, out=layout.part(out, a, b).view(np.float64))
        return
    np.multiply(src.reshape(m, -1).view(np.float64), factor, out=out.reshape(m, -1).view(np.float64))


def _enforces_norms(flow) -> bool:
    """The geometric stepper retracts every vector onto a sphere (constrained models)."""
    lay = flow.layout
    spheres = getattr(lay, "spheres", ())
    return bool(spheres) and {nm for sp in spheres for nm in sp} >= set(getattr(lay, "names", ()))


# ---------------------------------------------------------------------------- steppers
class GeometricRK:
    """Retraction-based Runge-Kutta on the product of spheres (see module docstring): the method
    (tableau, tolerances, step control). :meth:`bind` makes the stepper of one problem
    (:class:`AdaptiveRKStepper`, or :class:`FixedRKStepper` with ``dt``); :meth:`rk_step` is a single
    RK step of the method on given arrays (no problem bound; used by the invariant catalogue).

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

    Implementation: the stages live in one reused workspace ``(stages + 4, m, L)`` (rows: ``y``,
    the stages ``K_i``, ``F(y_new)``, the stage point / ``y_new``, the error); every stage point,
    ``y_new`` and the error estimate is a single real BLAS ``gemv`` of the coefficient vector with
    the stacked rows (on the float64 view, so the real coefficients are not promoted to complex).
    No array of the state's size is allocated per step apart from the generated code's temporaries.
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

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_ws", None)  # the workspace is rebuilt where it is used
        return state

    # ------------------------------------------------------------------ one step
    @property
    def _n_explicit(self) -> int:
        tab = self.tableau
        return len(tab.c) - (1 if tab.fsal else 0)

    def rk_step(self, flow, y, h, f0):
        """One ambient RK step from ``y`` (with ``f0 = F(y)``), then the projections.

        Returns new arrays ``(y_new, f_new, error)``: ``f_new = F(y_new)`` at the projected point (it
        also serves as the FSAL stage of DOPRI5's error estimate; the projection moves the point by
        ``O(h^6)``, far below the estimated error) and the Plancherel norm of the local error
        estimate per neuron (``None`` for RK4). Cost: ``len(c)`` evaluations of ``F`` (FSAL: 6).
        """
        W = self._workspace(y.shape)
        err = self._rk_step_into(flow, y, h, f0, W)
        ne = self._n_explicit
        return W[ne + 2].copy(), W[ne + 1].copy(), err

    def _rk_step_into(self, flow, y, h, f0, W):
        """The step into the workspace ``W``: ``y_new`` in ``W[ne + 2]``, ``F(y_new)`` in ``W[ne + 1]``.

        ``h`` is a number or one step per row; per-row steps scale the stages (``K_i <- h K_i``) so the
        combinations stay single ``gemv`` s with the tableau's coefficients. Returns the error norms.
        """
        tab = self.tableau
        ne = self._n_explicit
        h = np.asarray(h, dtype=np.float64)
        if h.ndim and np.all(h == h[0]):
            h = h[0]
        scalar = h.ndim == 0
        hs = 1.0 if not scalar else float(h)
        hcol = None if scalar else h[:, None]
        Wf = W.view(np.float64).reshape(W.shape[0], -1)   # (rows, 2 m L): real view, rows stacked
        if not np.may_share_memory(Wf, W):                # the gemv outputs must land in W
            raise SymflowError("internal error: the stage workspace is not a strided view")
        W[0] = y
        lay = flow.layout
        if scalar:
            W[1] = f0
        else:
            _scale_rows(lay, f0, hcol, W[1])
        point = W[ne + 2]
        point_f = Wf[ne + 2]
        coef = np.empty(ne + 2)
        coef[0] = 1.0
        for i in range(1, ne):
            coef[1:i + 1] = tab.A[i][:i]
            coef[1:i + 1] *= hs
            np.dot(coef[:i + 1], Wf[:i + 1], out=point_f)
            flow.evaluate(point, out=W[1 + i], check=False)
            if not scalar:
                _scale_rows(lay, W[1 + i], hcol, W[1 + i])
        coef[1:ne + 1] = tab.b[:ne]
        coef[1:ne + 1] *= hs
        np.dot(coef[:ne + 1], Wf[:ne + 1], out=point_f)
        flow.layout.realify(point)
        flow.layout.retract(point)
        flow.evaluate(point, out=W[ne + 1])
        if tab.b_hat is None:
            return None
        db = np.asarray(tab.b) - np.asarray(tab.b_hat)
        if scalar:
            rows = ne + 1 if tab.fsal else ne
            np.dot(db[:rows] * hs, Wf[1:rows + 1], out=Wf[ne + 3])
        else:
            np.dot(db[:ne], Wf[1:ne + 1], out=Wf[ne + 3])
            if tab.fsal:
                tmp = np.empty_like(W[ne + 3])
                _scale_rows(lay, W[ne + 1], db[ne] * hcol, tmp)
                W[ne + 3] += tmp
        e = W[ne + 3]
        return np.sqrt(np.maximum(flow.layout.inner(e, e), 0.0))

    def _workspace(self, shape):
        """Stage workspace ``(ne + 4, m, L)``, reused across steps; a prefix view when fewer rows
        are active (the rows of each stage stay contiguous)."""
        m, L = shape
        rows = self._n_explicit + 4
        ws = getattr(self, "_ws", None)
        if ws is None or ws.shape[0] != rows or ws.shape[2] != L or ws.shape[1] < m:
            self._ws = ws = np.empty((rows, m, L), dtype=np.complex128)
        return ws if ws.shape[1] == m else ws[:, :m]

    # ------------------------------------------------------------------ one problem
    def bind(self, flow, y, t0, t_bound, chunk: ChunkStatus, events: Events, counts: StepCounts) -> "ChunkStepper":
        """The stepper of one problem: the chunk ``y`` of ``flow`` from ``t0`` to ``t_bound``
        (:class:`AdaptiveRKStepper`, or :class:`FixedRKStepper` with ``dt``)."""
        cls = FixedRKStepper if self.dt is not None else AdaptiveRKStepper
        return cls(self, flow, y, t0, t_bound, chunk, events, counts)

    def _initial_steps(self, flow, y, f, span, h0=None):
        """Per-row first steps: ``first_step`` if given, a previous common step, else ``0.01 |y| / |F(y)|``."""
        m = y.shape[0]
        if self.first_step:
            return np.full(m, float(self.first_step))
        if h0:
            return np.full(m, float(h0))
        ny = np.sqrt(np.maximum(flow.layout.inner(y, y), 0.0))
        nf = np.sqrt(np.maximum(flow.layout.inner(f, f), 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(nf > 0, 0.01 * (ny + 1e-300) / nf, span)
        h = np.where(np.isfinite(h) & (h > 0), h, span)
        return np.minimum(h, span)

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

    def bind(self, flow, y, t0, t_bound, chunk: ChunkStatus, events: Events, counts: StepCounts) -> "ChunkStepper":
        """The stepper of one problem (:class:`ScipyChunkStepper`)."""
        return ScipyChunkStepper(self, flow, y, t0, t_bound, chunk, events, counts)

    def __repr__(self) -> str:
        return f"ScipyStepper({self.method}, rtol={self.rtol:g}, atol={self.atol:g})"


# ---------------------------------------------------------------------------- one problem per stepper
class ChunkStepper(ABC):
    """One problem, in the style of ``scipy.integrate.OdeSolver``: the chunk ``y`` (``(m, L)``, advanced
    in place) of the flow ``F`` from ``t0`` to ``t_bound``, with the method's tolerances, the chunk's
    carried :class:`ChunkStatus`, its :class:`~.events.Events` and the :class:`StepCounts` to add to,
    all bound at construction (:meth:`GeometricRK.bind`, :meth:`ScipyStepper.bind`).

    :meth:`step` makes one step (one step attempt of the working neurons; :meth:`_step_impl` in the
    subclasses) while ``status == "running"``; ``status`` becomes ``"finished"`` when every neuron
    reached ``t_bound`` or equilibrium. :meth:`run` steps to the end and returns ``y``.
    """

    def __init__(self, method, flow, y, t0, t_bound, chunk: ChunkStatus, events: Events, counts: StepCounts):
        self.method, self.flow, self.y = method, flow, y
        self.t0, self.t_bound = float(t0), float(t_bound)
        self.chunk, self.events, self.counts = chunk, events, counts
        self.status = "running"

    def step(self) -> None:
        """One step; finishes the problem (:meth:`_finish`) when it is done."""
        if self.status != "running":
            raise SymflowError("attempt to step on a finished stepper")
        if self._step_impl():
            self.status = "finished"
            self._finish()

    @abstractmethod
    def _step_impl(self) -> bool:
        """One step; returns True when the problem is done."""

    def _finish(self) -> None:
        """Write the working state back into ``y`` and ``chunk``."""

    def run(self) -> np.ndarray:
        """Step until finished; returns ``y`` (advanced in place)."""
        while self.status == "running":
            self.step()
        return self.y


class _GeometricStepper(ChunkStepper):
    """What the geometric steppers share: the first evaluation and equilibrium check of a chunk, the
    working arrays (row-major or blocked) and the set of neurons still integrated."""

    def __init__(self, method, flow, y, t0, t_bound, chunk, events, counts):
        super().__init__(method, flow, y, t0, t_bound, chunk, events, counts)
        self.enforced = _enforces_norms(flow)
        if chunk.frozen:
            self.status = "finished"
            return
        act = np.arange(y.shape[0]) if chunk.active is None else np.asarray(chunk.active)
        if chunk.f is None:
            chunk.f = flow.rhs(y)
            chunk.speed = flow.speed(chunk.f)
            counts.evaluations += 1
            at_eq = events.check(y, t0, t0, None, chunk.speed, None, self.enforced)
            if at_eq is not None:
                act = act[~at_eq[act]]
        chunk.active = self.act = act
        if not len(act):
            chunk.frozen = True
            self.status = "finished"
            return
        self.rep = _Working(flow)

    def _finish(self) -> None:
        self.chunk.active = self.act
        self.chunk.frozen = not len(self.act)


class AdaptiveRKStepper(_GeometricStepper):
    """Adaptive :class:`GeometricRK` on one chunk: every neuron has its own step size and time; one
    step attempt evaluates all neurons still short of ``t_bound`` at once and each accepts or rejects
    its own step by its own error estimate (so a neuron's trajectory does not depend on the others in
    its chunk). Neurons whose speed falls below the equilibrium tolerance leave the integration: their
    rows of ``y`` keep the state of the step at which they crossed."""

    def __init__(self, method, flow, y, t0, t_bound, chunk, events, counts):
        super().__init__(method, flow, y, t0, t_bound, chunk, events, counts)
        if self.status != "running":
            return
        t1, span = self.t_bound, self.t_bound - self.t0
        if chunk.h is None or np.ndim(chunk.h) == 0:
            chunk.h = method._initial_steps(flow, y, chunk.f, span, chunk.h)
        self.work = work = self.act
        self.ya, self.fa = self.rep.gather(y, work), self.rep.gather(chunk.f, work)
        self.sp = chunk.speed[work]
        self.h = chunk.h[work].copy()
        self.t = np.full(len(work), self.t0)
        self.min_step = MIN_STEP_FRACTION * max(abs(t1), span, 1.0)
        self.eps = 1e-12 * max(abs(t1), 1.0)

    def _step_impl(self) -> bool:
        method, rep, events, counts, chunk = self.method, self.rep, self.events, self.counts, self.chunk
        work, ya, fa, sp, h, t = self.work, self.ya, self.fa, self.sp, self.h, self.t
        t1, eps, ne = self.t_bound, self.eps, method._n_explicit
        bflow = rep.bound(len(work))
        hc = np.minimum(h, method.max_step)
        last = t + hc >= t1 - eps
        h_try = np.where(last, t1 - t, hc)
        W = method._workspace(ya.shape)
        err = method._rk_step_into(bflow, ya, h_try, fa, W)
        counts.evaluations += len(method.tableau.c) - 1
        scale = method.atol + method.rtol * np.sqrt(np.maximum(bflow.layout.inner(ya, ya), 0.0))
        with np.errstate(invalid="ignore", over="ignore"):
            ratio = err / scale
        ratio[~np.isfinite(ratio)] = np.inf
        acc = ratio <= 1.0
        n_acc = int(acc.sum())
        counts.neuron_steps += n_acc
        counts.neuron_rejected += len(acc) - n_acc
        if n_acc:
            counts.steps += 1
        else:
            counts.rejected += 1
        with np.errstate(divide="ignore"):
            factor = np.where(ratio == 0, MAX_FACTOR, np.minimum(MAX_FACTOR, SAFETY * ratio ** (-1.0 / method.tableau.order)))
        h_rej = h_try * np.maximum(MIN_FACTOR, factor)
        if n_acc < len(acc) and np.any(h_rej[~acc] < self.min_step):
            bad = int(np.nonzero(~acc & (h_rej < self.min_step))[0][0])
            raise IntegrationError(f"step size underflow at t = {t[bad]:.6g} (h = {h_rej[bad]:.3g}) for neuron "
                                   f"{events.offset + int(work[bad])}; the flow may blow up here or the tolerances "
                                   f"(rtol={method.rtol}, atol={method.atol}) are too tight")
        self.h = h = np.where(acc, np.where(last, h, h_try * np.maximum(1.0, factor)), h_rej)
        if not n_acc:
            return False
        t_prev, sp_prev = t, sp
        self.t = t = np.where(acc, np.where(last, t1, t + h_try), t)
        if n_acc == len(acc):
            ya[...] = W[ne + 2]
            fa[...] = W[ne + 1]
            sp = bflow.speed(fa)
            at_eq = events.check(ya, t_prev, t, sp_prev, sp, work, self.enforced, bflow.layout)
        else:
            rep.assign(ya, W[ne + 2], acc)
            rep.assign(fa, W[ne + 1], acc)
            sp = np.where(acc, bflow.speed(fa), sp)
            sub_y = None if self.enforced else rep.take(ya, acc)
            sub = events.check(sub_y, t_prev[acc], t[acc], sp_prev[acc], sp[acc], work[acc], self.enforced,
                               None if self.enforced else rep.layout(n_acc))
            at_eq = None
            if sub is not None:
                at_eq = np.zeros(len(acc), dtype=bool)
                at_eq[acc] = sub
        self.sp = sp
        frozen = at_eq if at_eq is not None else np.zeros(len(work), dtype=bool)
        done = frozen | (t >= t1 - eps)
        if not done.any():
            return False
        # rows leaving the working set: their state goes back to y (and, unless frozen, their step data)
        rep.scatter(self.y, work, ya, done)
        live = done & ~frozen
        if live.any():
            rep.scatter(chunk.f, work, fa, live)
            chunk.speed[work[live]] = sp[live]
            chunk.h[work[live]] = h[live]
        if frozen.any():
            self.act = self.act[~np.isin(self.act, work[frozen])]
        keep = ~done
        self.work, self.h, self.t, self.sp = work[keep], h[keep], t[keep], sp[keep]
        if not len(self.work):
            return True
        self.ya, self.fa = rep.take(ya, keep), rep.take(fa, keep)
        return False


class FixedRKStepper(_GeometricStepper):
    """Fixed-step RK4 :class:`GeometricRK` on one chunk: the common step ``span / ceil(span / dt)`` for
    the neurons not at equilibrium (they leave as in :class:`AdaptiveRKStepper`)."""

    def __init__(self, method, flow, y, t0, t_bound, chunk, events, counts):
        super().__init__(method, flow, y, t0, t_bound, chunk, events, counts)
        if self.status != "running":
            return
        act = self.act
        self.ya, self.fa = self.rep.gather(y, act), self.rep.gather(chunk.f, act)
        self.sp = chunk.speed[act]
        span = self.t_bound - self.t0
        self.n_steps = max(1, int(math.ceil(span / method.dt - 1e-9)))
        self.h = span / self.n_steps
        self.t = self.t0
        self.k = 0

    def _step_impl(self) -> bool:
        method, rep, act, ya, fa, h = self.method, self.rep, self.act, self.ya, self.fa, self.h
        ne = method._n_explicit
        bflow = rep.bound(len(act))
        W = method._workspace(ya.shape)
        method._rk_step_into(bflow, ya, h, fa, W)
        self.t += h
        self.k += 1
        self.counts.steps += 1
        self.counts.neuron_steps += len(act)
        self.counts.evaluations += len(method.tableau.c)
        ya[...] = W[ne + 2]
        fa[...] = W[ne + 1]
        sp_prev, self.sp = self.sp, bflow.speed(fa)
        at_eq = self.events.check(ya, self.t - h, self.t, sp_prev, self.sp, act, self.enforced, bflow.layout)
        if at_eq is not None and at_eq.any():
            rep.scatter(self.y, act, ya, at_eq)
            keep = ~at_eq
            self.act, self.sp = act[keep], self.sp[keep]
            if not len(self.act):
                return True
            self.ya, self.fa = rep.take(ya, keep), rep.take(fa, keep)
        return self.k >= self.n_steps

    def _finish(self) -> None:
        act = self.act
        if len(act):
            everything = np.ones(len(act), dtype=bool)
            self.rep.scatter(self.y, act, self.ya, everything)
            self.rep.scatter(self.chunk.f, act, self.fa, everything)
            self.chunk.speed[act] = self.sp
        super()._finish()


class ScipyChunkStepper(ChunkStepper):
    """:class:`ScipyStepper` on one chunk: a SciPy ``OdeSolver`` on the real view of ``y``; each
    :meth:`step` is one step of it, followed by the reality projection (not ``LSODA``) and the events."""

    def __init__(self, method, flow, y, t0, t_bound, chunk, events, counts):
        import scipy.integrate as si

        super().__init__(method, flow, y, t0, t_bound, chunk, events, counts)
        self.solver = None
        shape = y.shape
        calls = self.calls = {"n": 0, "t": None, "y": None, "f": None}

        def fun(t, yr):
            z = yr.view(np.complex128).reshape(shape)
            f = flow.rhs(z)
            calls["n"] += 1
            calls["t"], calls["y"], calls["f"] = t, yr, f
            return f.reshape(-1).view(np.float64)

        if chunk.f is None:
            chunk.f = flow.rhs(y)
            chunk.speed = flow.speed(chunk.f)
            counts.evaluations += 1
            if _all(events.check(y, t0, t0, None, chunk.speed)):
                chunk.frozen = True
                self.status = "finished"
                return
        if t_bound <= t0:
            self.status = "finished"
            return
        kw = {"rtol": method.rtol, "atol": method.atol, "max_step": method.max_step}
        if chunk.h:
            kw["first_step"] = min(chunk.h, t_bound - t0)
        flow.layout.realify(y)
        y_real = np.ascontiguousarray(y).reshape(-1).view(np.float64).copy()
        self.solver = getattr(si, method.method)(fun, t0, y_real, t_bound, vectorized=False, **kw)
        self.t_prev = t0

    def _step_impl(self) -> bool:
        solver, flow, chunk, calls, name = self.solver, self.flow, self.chunk, self.calls, self.method.method
        msg = solver.step()
        if solver.status == "failed":
            raise IntegrationError(f"{name} failed at t = {solver.t:.6g}: {msg}")
        self.counts.steps += 1
        z = solver.y.view(np.complex128).reshape(self.y.shape)
        if name != "LSODA":
            flow.layout.realify(z)  # in place on the solver's state (rounding-size change)
        if calls["t"] == solver.t and calls["y"] is not None and np.array_equal(calls["y"], solver.y):
            f = calls["f"].copy()
        else:
            f = flow.rhs(z)
            self.counts.evaluations += 1
        speed_prev = chunk.speed
        chunk.f, chunk.speed = f, flow.speed(f)
        h = solver.step_size
        if h:
            chunk.h = float(h)
        if _all(self.events.check(z, self.t_prev, solver.t, speed_prev, chunk.speed)):
            chunk.frozen = True
            return True
        self.t_prev = solver.t
        return solver.status != "running"

    def _finish(self) -> None:
        self.counts.evaluations += self.calls["n"]
        self.y[...] = self.solver.y.view(np.complex128).reshape(self.y.shape)


def _all(at_eq) -> bool:
    return at_eq is not None and bool(np.all(at_eq))


def _check_tolerances(rtol, atol):
    real(rtol, "rtol")
    real(atol, "atol")


def make_stepper(method: str = "geometric", rtol: float | None = None, atol: float | None = None,
                 dt: float | None = None, n: int | None = None):
    """A stepper by name: ``"geometric"`` (default), ``"DOP853"``, ``"RK45"``, ``"LSODA"``.

    Default tolerances: geometric ``rtol=1e-6, atol=1e-9`` (local error per neuron in the
    Plancherel norm, i.e. the parameter-space Euclidean norm, each neuron with its own step;
    measured with 64 neurons, seed 0, on Z1009 (shared), F21, S4, Q8: final states agree with an
    ``rtol=1e-8`` run to ``< 2e-7`` (dominated by where each neuron's state is frozen after
    ``|grad| < gtol``, up to ``~ gtol * step`` apart) and equilibrium times to ``< 1e-5``
    relative); SciPy ``rtol=1e-8``, ``atol=1e-9/n`` (componentwise on Fourier entries of size
    about ``1/n``).
    """
    if method == "geometric":
        return GeometricRK(rtol=1e-6 if rtol is None else rtol, atol=1e-9 if atol is None else atol, dt=dt)
    if dt is not None:
        raise SymflowError("dt (fixed step) is only available with method='geometric'")
    if method in ScipyStepper.METHODS:
        return ScipyStepper(method, rtol=1e-8 if rtol is None else rtol,
                            atol=(1e-9 / (n or 1)) if atol is None else atol)
    raise SymflowError(f"unknown method {method!r}; accepted: geometric, DOP853, RK45, LSODA")
