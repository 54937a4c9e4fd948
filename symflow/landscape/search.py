"""Many seeded starts, each brought to a critical point of its neuron's energy at rounding level.

1. **Flow.** ``starts`` neurons drawn uniformly on the product of spheres (the seeded start of every run,
   :func:`symflow.dynamics.drivers.start_population`) follow the reduced flow (the one flow evaluator,
   :class:`~symflow.dynamics.flow.FlowEvaluator`) with the geometric RK stepper, in two phases: until every
   neuron's speed is below ``COARSE_TOL``, then below ``FLOW_TOL``, times the median starting speed (phase 1
   at most ``T_FACTOR / lambda_max``, phase 2 at most ``POLISH_T_FACTOR / lambda_max``). The largest step is ``STABLE_STEP / lambda_max``,
   ``lambda_max`` the largest tangent-Hessian eigenvalue at a few starts, and for phase 2 at one point of every
   energy level where phase 1 ended (DOPRI5 is stable for ``h |lambda| < 3.3``; without the bound the MSE flow,
   whose Hessian near its maxima is much stiffer than at random starts, stalls at an error-control plateau
   near ``1e-6``).
2. **Polish.** Each neuron whose brute-force Riemannian gradient (:func:`symflow.neuron.bruteforce.riemannian_gradient`,
   sums over the Cayley table) is above ``GRADIENT_TOL`` relative to the energy scale gets Riemannian Newton
   steps: ``dx = -B J^+ B^T grad``, ``J = B^T (H - Lambda) B`` the tangent Hessian (:func:`tangent_hessian`: ``H``
   the analytic Hessian :func:`symflow.theory.rates.numeric.energy_hessians`) with its near-zero
   eigenvalues dropped (so a manifold of critical points is reached, not a point of it), then the
   retraction of the one sphere geometry (:class:`~symflow.neuron.geometry.ParameterGeometry`). A step that
   does not lower ``|grad|`` is retried with more small eigenvalues dropped (``PSEUDO_INVERSE_TOLS``): near
   the slow end of a family an almost-zero mode would otherwise throw Newton off.
3. A neuron still above ``GRADIENT_TOL`` is *unconverged* and reported as such.

**Ascent** (:func:`converge_by_ascent`, any model the brute force evaluates: a training mask, a non-polynomial
activation, where no reduced flow exists): ``starts`` seeded Gaussian points ``rng.normal(size=(starts, D))``
retracted to the spheres (uniform on them) follow the projected gradient ascent :func:`ascend` of the energy
(the flow's direction, ``E`` never decreases) until ``|grad| <= ASCENT_TOL`` relative to the energy scale,
then Newton (step 2): first for all starts at once (:func:`newton_batch`, the pseudo-inverse in ambient
coordinates), then one by one (:func:`newton`) for those it left above ``GRADIENT_TOL``. A non-differentiable activation (ReLU) has maxima at kinks
where the gradient does not vanish and the adaptive step collapses instead: a start whose step fell below
``STALLED`` (times the energy scale) counts as converged there (``Population.stalled``).

**Streaming** (:func:`search_basins`, what the engine calls): more starts than :func:`stream_rows` run in chunks,
each drawn exactly as the rows of the unchunked draw, brought to critical points as above and reduced to
:class:`Basin` s (per provisional kind: the count, the first ``KEPT_MEMBERS`` members and the best one) before the
next is drawn, so the memory is that of one chunk. With one chunk this is the unchunked search exactly; with
several, the flow's constants (its tolerances' median speed, its step bounds) come from the first chunks, so a
start's end point differs from the unchunked one within Newton's tolerance and its basin is the same (checked
start by start in the tests). The ascent's step control follows its population's energy
scale, so a chunked ascent finds the same kinds and basins in distribution, not start by start.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..neuron.geometry import ParameterGeometry
from ..neuron import bruteforce
from ..groups.compact.signals import mass
from ..neuron.geometry import StackedGeometry, tangent_basis
from ..neuron.points import split, stack, vector_length

#: Converged: ``|Riemannian grad| <= GRADIENT_TOL * scale`` (``scale`` the largest final energy): 10^4 roundings.
GRADIENT_TOL = 1e4 * np.finfo(float).eps
#: The flow stops when every neuron's speed is below ``FLOW_TOL * scale``; Newton finishes from there.
FLOW_TOL = 1e-13
#: Phase 1 of the flow ends when every speed is below ``COARSE_TOL`` times the median starting speed.
COARSE_TOL = 1e-3
#: Phase 1 assumes the Hessian near the critical points up to this much stiffer than at the starts (MSE on
#: S3: 24 at the maxima, 7.7 at random starts).
STIFFER_NEAR_CRITICAL = 4.0
#: Largest step ``STABLE_STEP / lambda_max`` (DOPRI5's real stability interval is about 3.3).
STABLE_STEP = 2.5
#: Final time ``T_FACTOR / lambda_max`` (about ``T_FACTOR`` times the fastest decay time).
T_FACTOR = 3e4
#: Phase 2 of the flow lasts at most ``POLISH_T_FACTOR / lambda_max``; Newton finishes the slow neurons
#: (near the slow end of a family a rate goes to zero and the flow would take ~1/rate).
POLISH_T_FACTOR = 200.0
#: Newton iterations at most, per neuron.
NEWTON_STEPS = 8
#: Tangent-Hessian eigenvalues below these, relative to the largest, count as zero in Newton steps (the next
#: one is tried when a step does not lower |grad|).
PSEUDO_INVERSE_TOLS = (1e-8, 1e-6, 1e-4, 1e-2)
#: Ascent: at most this many steps; a start stops when its ``|grad| <= ASCENT_TOL * scale`` and Newton takes
#: over (below ~1e-7 the energy's increments, ~|grad|^2, reach its rounding and the step control is noise).
ASCENT_STEPS = 3000
ASCENT_TOL = 1e-6
#: Ascent: a start whose last step (times the energy scale) fell below this stalled at a kink (ReLU's maxima).
STALLED = 1e-9


#: Brute-force sums over the Cayley table of many starts run on this many ``(rows, n, n)`` entries at a time
#: (``rows = max(1, CHUNK_ENTRIES // n^2)``): their temporaries stay near 4 x 8 x 2^22 bytes = 128 MiB
#: whatever the number of starts (each row is computed alone, so the values do not depend on the chunking).
CHUNK_ENTRIES = 2 ** 22


def chunk_rows(model) -> int:
    """Starts per chunk of :func:`per_start`: ``max(1, CHUNK_ENTRIES // n^2)``."""
    return max(1, CHUNK_ENTRIES // bruteforce.pair_count(model.group))


def per_start(fn, model, x) -> np.ndarray:
    """``fn(model, x)`` for stacked points ``x`` ``(M, D)``, evaluated :func:`chunk_rows` rows at a time and
    concatenated along the first axis (a brute-force function of each row alone)."""
    rows = chunk_rows(model)
    if len(x) <= rows:
        return fn(model, x)
    return np.concatenate([fn(model, x[a:a + rows]) for a in range(0, len(x), rows)])


def retract(model, x) -> np.ndarray:
    """Every sphere of every point of ``x`` (``(M, V n)``, in place) back to norm 1: the one geometry."""
    if model.neuron.constrained:
        ParameterGeometry(model.neuron.sphere_groups).retract(split(model, x))
    return x


def gradient_norms(model, x) -> np.ndarray:
    """``|grad|`` of the projected flow at each row of ``x`` (brute force, Cayley table)."""
    return np.linalg.norm(bruteforce.riemannian_gradient(model, x), axis=-1)


def pseudo_newton_step(w, V, B, rt, cut: float = PSEUDO_INVERSE_TOLS[0]) -> np.ndarray:
    """``B J^+ rt`` with ``J = V diag(w) V^T`` and eigenvalues ``|w| <= cut * max|w|`` dropped: the Newton
    step in stacked coordinates for the tangent residual ``rt``."""
    keep = np.abs(w) > cut * max(np.abs(w).max(initial=0.0), 1e-300)
    return B @ (V[:, keep] @ ((V[:, keep].T @ rt) / w[keep]))


def newton(model, x, tol: float, steps: int = NEWTON_STEPS) -> tuple:
    """Riemannian Newton from one point (module docstring): ``(x, |grad|, steps taken, cause)``.

    ``cause`` is ``None``, or one line saying why Newton stopped early: a linear-algebra failure
    (``numpy.linalg.LinAlgError``, e.g. ``eigh`` not converging) or a non-finite gradient or tangent Hessian.
    Then ``x`` is the last good point and ``|grad|`` its gradient norm (``inf`` when not finite), so one bad
    start is reported as unconverged and never aborts a search.
    """
    x = np.array(x, dtype=float)
    r = float(np.linalg.norm(bruteforce.riemannian_gradient(model, x)))
    if not np.isfinite(r):
        return x, np.inf, 0, "non-finite gradient at the end of the flow"
    k = 0
    while r > tol and k < steps:
        try:
            J, B = tangent_hessian(model, x)
            if not np.all(np.isfinite(J)):
                return x, r, k, f"non-finite tangent Hessian at Newton step {k + 1}"
            w, V = np.linalg.eigh(J)
        except np.linalg.LinAlgError as exc:
            return x, r, k, f"linear algebra failed at Newton step {k + 1} (numpy.linalg.LinAlgError: {exc})"
        rt = B.T @ bruteforce.riemannian_gradient(model, x)
        k += 1
        for cut in PSEUDO_INVERSE_TOLS:
            trial = retract(model, (x - pseudo_newton_step(w, V, B, rt, cut))[None, :])[0]
            r_trial = np.linalg.norm(bruteforce.riemannian_gradient(model, trial))
            if np.isfinite(r_trial) and r_trial < r:
                break
        else:
            break
        x, r = trial, r_trial
    return x, r, k, None


def stiffness(model, x0: np.ndarray) -> float:
    """``lambda_max``: the largest |eigenvalue| of the tangent Hessian over a few starting points."""
    return max(float(np.abs(np.linalg.eigvalsh(tangent_hessian(model, x)[0])).max()) for x in x0)


@dataclass
class Population:
    """Converged starts: ``points`` ``(M, V n)``, ``grad`` ``|grad|`` per start, ``converged`` flags,
    the energy ``scale``, ``polished`` (how many needed Newton), the flow's final ``time`` and costs;
    ``failures``: ``{start index: cause}`` for the starts Newton could not continue (:func:`newton`)."""

    model: object
    points: np.ndarray
    grad: np.ndarray
    converged: np.ndarray
    scale: float
    polished: int
    time: float
    steps: int
    wall_time: float
    interrupted: bool = False
    failures: dict = field(default_factory=dict)
    #: ascent only: the starts that stalled at a kink (converged there, the gradient does not vanish)
    stalled: np.ndarray = field(default=None, repr=False)


class Ascent(NamedTuple):
    """The result of :func:`ascend`: ``points``, ``energies``, ``residual`` (``|grad| / max E`` per point)
    and ``step`` (the last step size times the energy scale: ~0 where the ascent stalled at a kink)."""

    points: np.ndarray
    energies: np.ndarray
    residual: np.ndarray
    step: np.ndarray


def ascend(model, x, steps: int = ASCENT_STEPS, tol: float = 1e-7, lr: float | None = None,
           objective=None) -> Ascent:
    """Projected (retracted) gradient ascent of the model's energy (brute force) from stacked starts ``x``.

    ``y = R(x + h P_x grad E(x))`` with ``P_x`` the tangent projection and ``R`` the retraction of the one
    sphere geometry; per point the step ``h`` starts at ``0.5 / E`` (the energy is homogeneous, this is the
    flow's time unit; ``lr`` overrides it) and adapts: x1.2 after an accepted step, x0.5 and rejected when
    ``E`` would drop, so ``E`` never decreases. A point stops when its ``|P grad| / max E <= tol`` or when its
    step (times ``max E``) fell to ``STALLED`` (a kink: ReLU's maxima), ``x`` is ``(M, D)``; the others go on;
    all stop after ``steps``. ``objective``: ``x -> (E, grad E)`` of another
    energy on the model's spheres (default the model's, :func:`symflow.neuron.bruteforce.energy_gradient`)."""
    geometry = StackedGeometry.of(model)
    evaluate = objective or (lambda y: bruteforce.energy_gradient(model, y))
    x = geometry.retract(np.array(x, dtype=float))
    E, g = evaluate(x)
    g = geometry.project_tangent(x, g)
    scale = max(float(np.max(E)), 1e-12)
    step = np.full(x.shape[:-1] + (1,), (0.5 / scale) if lr is None else float(lr))
    for _ in range(int(steps)):
        moving = (np.linalg.norm(g, axis=-1) > tol * scale) & (step[:, 0] * scale > STALLED)
        if moving.all():                        # every point moves: no gathers
            y = geometry.retract(x + step * g)
            Ey, gy = evaluate(y)
            up = Ey >= E
            x = np.where(up[:, None], y, x)
            E = np.where(up, Ey, E)
            g = np.where(up[:, None], geometry.project_tangent(y, gy), g)
            step = np.where(up[:, None], step * 1.2, step * 0.5)
        else:
            a = np.nonzero(moving)[0]
            if not len(a):
                break
            y = geometry.retract(x[a] + step[a] * g[a])
            Ey, gy = evaluate(y)
            up = Ey >= E[a]
            gy = geometry.project_tangent(y, gy)
            x[a] = np.where(up[:, None], y, x[a])
            E[a] = np.where(up, Ey, E[a])
            g[a] = np.where(up[:, None], gy, g[a])
            step[a] = np.where(up[:, None], step[a] * 1.2, step[a] * 0.5)
        scale = max(float(np.max(E)), 1e-12)
    return Ascent(x, E, np.linalg.norm(g, axis=-1) / scale, step[..., 0] * scale)


def analytic_hessians(model) -> bool:
    """Whether the landscape's Hessians are the analytic ones (:func:`symflow.theory.rates.numeric.energy_hessians`):
    a polynomial activation (exact to rounding, as the complex step) or the MSE loss (its ``sigma''`` by the
    activation's own rule) on a finite group's table; else the brute force's (central differences, or its quadrature
    on a band-limited compact group: :func:`symflow.neuron.bruteforce.hessian`)."""
    if getattr(model, "is_compact", False):
        return False
    return model.sigma.is_polynomial or model.loss == "mse"


def euclidean_hessians(model, x) -> np.ndarray:
    """Euclidean Hessians ``(M, D, D)`` at stacked points ``x`` ``(M, D)``: the analytic ones where
    :func:`analytic_hessians`, else central differences of the brute-force gradient."""
    from ..theory.rates.numeric import energy_hessians

    if analytic_hessians(model):
        return energy_hessians(model, x)
    M, D = x.shape
    I = np.eye(D)
    h = bruteforce.FD_STEP
    H = (bruteforce.gradient(model, x[:, None, :] + h * I) - bruteforce.gradient(model, x[:, None, :] - h * I)) / (2 * h)
    return (H + np.swapaxes(H, -1, -2)) / 2


def mse_hessians(model, x) -> np.ndarray:
    """The MSE model's Euclidean Hessians ``(M, D, D)`` (with its mask): :func:`symflow.theory.rates.numeric.energy_hessians`."""
    from ..theory.rates.numeric import energy_hessians

    return energy_hessians(model, x)


def tangent_hessian(model, x) -> tuple:
    """``(J, B)`` of :func:`symflow.neuron.bruteforce.tangent_hessian` (``B^T (H - Lambda) B`` in the orthonormal
    tangent basis ``B``) with the Hessian of :func:`euclidean_hessians` (analytic: ``O(n^2)`` work instead of the
    complex step's ``D`` gradients of ``O(n^2)`` each)."""
    x = np.asarray(x, dtype=float)
    if not analytic_hessians(model):
        return bruteforce.tangent_hessian(model, x)
    H = euclidean_hessians(model, x[None])[0]
    if not model.neuron.constrained:
        return H, np.eye(len(x))
    lam = bruteforce.multipliers(model, x)
    B = tangent_frame(model, x)
    return B.T @ ((H - np.diag(lam)) @ B), B


def tangent_frame(model, x) -> np.ndarray:
    """``B``: the orthonormal tangent basis at the stacked point ``x`` (:func:`symflow.neuron.geometry.tangent_basis`,
    the one of :func:`symflow.neuron.bruteforce.tangent_hessian`)."""
    return tangent_basis(model.vector_names, model.neuron.sphere_groups, split(model, x))


def tangent_operators(model, x) -> tuple:
    """``(A, r)`` at stacked points ``x`` ``(M, D)``: ``A = P (H - Lambda) P`` in ambient coordinates (``P`` the
    tangent projection of the one geometry, ``H`` the Euclidean Hessian of :func:`euclidean_hessians`, ``Lambda``
    the sphere multipliers) and the Riemannian gradient ``r``. On the tangent space ``A`` is the tangent Hessian;
    the radial directions are in its kernel."""
    M, D = x.shape
    I = np.eye(D)
    H = euclidean_hessians(model, x)
    g = bruteforce.gradient(model, x)
    lam = bruteforce.multipliers(model, x, g)
    H -= lam[:, None, :] * I
    if not model.neuron.constrained:
        return H, g
    geometry = StackedGeometry.of(model)
    P = geometry.project_tangent(np.repeat(x[:, None, :], D, axis=1), np.broadcast_to(I, (M, D, D)).copy())
    return P @ H @ P, geometry.project_tangent(x, g)


def newton_batch(model, x, tol: float, steps: int = NEWTON_STEPS) -> tuple:
    """Riemannian Newton for many points at once: ``x <- R(x - A^+ r)`` (:func:`tangent_operators`; eigenvalues
    ``|w| <= PSEUDO_INVERSE_TOLS[0] max|w|`` dropped, the radial ones among them), a point's step kept only when
    it lowers ``|r|``. Returns ``(x, |r|)``; points it could not bring below ``tol`` are left where they got."""
    x = np.array(x, dtype=float)
    r = gradient_norms(model, x)
    for _ in range(steps):
        todo = np.nonzero(r > tol)[0]       # a non-finite |r| is left to the one-by-one Newton (and its cause)
        if not len(todo):
            break
        A, g = tangent_operators(model, x[todo])
        try:
            w, V = np.linalg.eigh(A)
        except np.linalg.LinAlgError:       # one bad point must not stop the batch: newton() goes one by one
            break
        keep = np.abs(w) > PSEUDO_INVERSE_TOLS[0] * np.maximum(np.abs(w).max(axis=-1, keepdims=True), 1e-300)
        coef = np.where(keep, np.einsum("mdk,md->mk", V, g) / np.where(keep, w, 1.0), 0.0)
        trial = retract(model, x[todo] - np.einsum("mdk,mk->md", V, coef))
        r_trial = gradient_norms(model, trial)
        better = np.isfinite(r_trial) & (r_trial < r[todo])
        if not better.any():
            break
        x[todo[better]], r[todo[better]] = trial[better], r_trial[better]
    return x, r


def ascent_starts(model, starts: int, seed: int) -> np.ndarray:
    """The seeded starts of the ascent: ``rng.normal(size=(starts, D))`` retracted to the spheres."""
    D = len(model.vector_names) * vector_length(model)
    return retract(model, np.random.default_rng(seed).normal(size=(starts, D)))


def ascent_chunks(model, starts: int, seed: int, rows: int):
    """The rows of :func:`ascent_starts` ``rows`` at a time, without drawing them all (the draws are row-major
    and NumPy's draws do not depend on how they are split: chunk ``k`` holds starts ``k rows .. (k+1) rows - 1``)."""
    D = len(model.vector_names) * vector_length(model)
    rng = np.random.default_rng(seed)
    for a in range(0, starts, rows):
        yield retract(model, rng.normal(size=(min(rows, starts - a), D)))


def converge_by_ascent(model, starts: int, seed: int, steps: int = ASCENT_STEPS, x0=None,
                       scale_before: float = 0.0) -> Population:
    """Seeded starts (or the stacked starts ``x0``) brought to critical points by :func:`ascend` and Newton
    (module docstring); Newton's tolerance is ``GRADIENT_TOL`` times the larger of ``scale`` (the scale of the
    chunks before, :func:`search_basins`) and this population's."""
    t0 = time.perf_counter()
    run = ascend(model, ascent_starts(model, starts, seed) if x0 is None else x0, steps=steps, tol=ASCENT_TOL)
    x = run.points
    scale = float(max(np.abs(run.energies).max(), 1e-300))
    tol = GRADIENT_TOL * max(scale, scale_before)
    grad = gradient_norms(model, x)
    stalled = (grad > tol) & (run.step <= STALLED)
    todo = np.nonzero((grad > tol) & ~stalled)[0]
    if len(todo):
        x[todo], grad[todo] = newton_batch(model, x[todo], tol)
    failures = {}
    for m in todo[~(grad[todo] <= tol)]:
        x[m], grad[m], _, cause = newton(model, x[m], tol)
        if cause is not None:
            failures[int(m)] = cause
    polished = len(todo)
    return Population(model, x, grad, (grad <= tol) | stalled, scale, polished, 0.0, int(steps),
                      time.perf_counter() - t0, False, failures, stalled)


def _no_save(t, y) -> None:
    """The search needs the flow's final state only: no copy of the population at every save time."""
    return None


@dataclass
class FlowSteps:
    """The population-wide constants of the flow search: the median starting speed ``speed0`` (its tolerances
    are relative to it) and the stiffness ``lam1`` (phase 1) and ``lam2`` (phase 2) that bound its steps.
    :func:`search_basins` takes ``speed0`` and ``lam1`` from its first chunk and ``lam2`` as the largest over
    the chunks so far."""

    speed0: float
    lam1: float
    lam2: float = 0.0


def converge(model, starts: int, seed: int, progress: bool = False, workers: int = 1, state0=None, flow=None,
             constants: FlowSteps | None = None, scale_before: float = 0.0) -> Population:
    """Draw ``starts`` seeded neurons (or take the FourierState ``state0`` and the model's ``flow``, a
    :class:`~symflow.dynamics.reduced.ReducedFlow`) and bring each to a critical point
    (module docstring). ``constants``: the :class:`FlowSteps` of the chunks before (updated in place; ``None``:
    measured on this population); ``scale_before``: their energy scale (Newton's tolerance is ``GRADIENT_TOL``
    times the larger of it and this population's)."""
    from ..dynamics.drivers import run_stepper, start_population     # the flow only (the ascent needs none)
    from ..dynamics.integrators import integrate
    from ..dynamics.state import FourierState

    t0 = time.perf_counter()
    if state0 is None:
        flow, state0, starts, seed = start_population(model, starts, seed)
    else:
        starts = state0.width
    n = mass(model.group)       # 1 on a compact group: the flow's natural time scale
    x0 = stack(model, state0.to_parameters())
    if constants is None:
        constants = FlowSteps(0.0, 0.0)
    if not constants.lam1:
        constants.speed0 = float(np.median(per_start(gradient_norms, model, x0)))
        # phase 1: into the basins, with the default steps; phase 2: to FLOW_TOL with steps that stay stable
        # at the stiffness measured where phase 1 ended (near the critical points, where it matters)
        constants.lam1 = STIFFER_NEAR_CRITICAL * stiffness(model, x0[:3])
    speed0, lam = constants.speed0, constants.lam1
    stepper = run_stepper("geometric", n=n)
    stepper.max_step = min(stepper.max_step, STABLE_STEP / lam)
    out1 = integrate(flow, state0.data, np.geomspace(1.0 / lam, T_FACTOR / lam, 30), stepper,
                     gtol=COARSE_TOL * speed0, progress=progress, workers=workers, save=_no_save)
    steps = int(out1.counts.steps)
    if out1.interrupted:
        x = stack(model, FourierState(flow.layout, out1.final).to_parameters())
        return Population(model, x, np.full(starts, np.inf), np.zeros(starts, bool), 1.0, 0, float(out1.t[-1]),
                          steps, time.perf_counter() - t0, True)
    x1 = stack(model, FourierState(flow.layout, out1.final).to_parameters())
    e1 = per_start(bruteforce.energy, model, x1)
    _, first = np.unique(np.round(e1 / max(np.abs(e1).max(), 1e-300), 3), return_index=True)
    lam = constants.lam2 = max(constants.lam2, stiffness(model, x1[first]))   # a point of every level reached
    stepper = run_stepper("geometric", n=n)
    stepper.max_step = min(stepper.max_step, STABLE_STEP / lam)
    t1 = float(out1.t[-1])
    out = integrate(flow, out1.final, t1 + np.geomspace(1.0 / lam, POLISH_T_FACTOR / lam, 30), stepper,
                    gtol=FLOW_TOL * speed0, progress=progress, workers=workers, save=_no_save)
    steps += int(out.counts.steps)
    x = stack(model, FourierState(flow.layout, out.final).to_parameters())
    retract(model, x)
    energies = per_start(bruteforce.energy, model, x)
    scale = float(max(np.abs(energies[np.isfinite(energies)]).max(initial=0.0), 1e-300))
    tol = GRADIENT_TOL * max(scale, scale_before)
    grad = per_start(gradient_norms, model, x)
    todo = np.nonzero(~(grad <= tol))[0]       # a non-finite |grad| is not converged either
    failures = {}
    for m in todo:
        x[m], grad[m], _, cause = newton(model, x[m], tol)
        if cause is not None:
            failures[int(m)] = cause
    return Population(model, x, grad, grad <= tol, scale, int(len(todo)), float(out.t[-1]),
                      steps, time.perf_counter() - t0, bool(out.interrupted), failures)


# ---------------------------------------------------------------------------------------------------------
# Streaming: the starts in chunks of bounded memory, each reduced to what the landscape needs

#: A search holds at most this many bytes of starts in the flow (or the ascent) at once; more starts run in
#: chunks of :func:`stream_rows` (each flowed, polished and reduced to its basins before the next is drawn).
STREAM_BYTES = 2 ** 28
#: ``(starts, D)`` float arrays alive at once in the flow (its stages and copies, the compact and full rows, the
#: per-start results): the memory per start (Z5, ``D = 15``: 3.6 KB estimated, 3.5 KB measured).
FLOW_ARRAYS = 30
#: Members of a basin (in start order) kept with their points when the search runs in several chunks: the
#: analysis samples the first ``SAMPLE_MEMBERS`` of a kind that are not its representative.
KEPT_MEMBERS = 64


def stream_rows(model) -> int:
    """Starts per chunk of :func:`search_basins`: ``max(1, STREAM_BYTES // (FLOW_ARRAYS * D * 8))``, ``D = V n``."""
    D = len(model.vector_names) * vector_length(model)
    return max(1, STREAM_BYTES // (FLOW_ARRAYS * D * 8))


@dataclass
class Basin:
    """Converged starts with one provisional kind key (:class:`~symflow.landscape.kinds.KindKey` at the first
    chunk's energy scale) and kink flag: ``count``; ``kept``: ``[(start, |grad|, E, point)]`` of its first
    members in start order (all of them when ``kept_members`` is ``None``); ``best``: the member of least
    ``|grad|`` (the first such), as ``(|grad|, start, E, point)``."""

    support: tuple
    rank: int
    kink: bool
    count: int = 0
    kept: list = field(default_factory=list)
    best: tuple = None

    def add(self, start: int, grad: float, energy: float, point, kept_members) -> None:
        """Count the start; keep it (a copy of ``point``) if it is among the first ``kept_members``."""
        self.count += 1
        if kept_members is None or len(self.kept) < kept_members or start < self.kept[-1][0]:
            point = np.array(point)
            self.kept.append((start, grad, energy, point))
            if len(self.kept) > 1 and start < self.kept[-2][0]:
                self.kept.sort(key=lambda m: m[0])
            if kept_members is not None:
                del self.kept[kept_members:]
        if self.best is None or (grad, start) < self.best[:2]:
            self.best = (grad, start, energy, np.array(point))


@dataclass
class Basins:
    """The result of :func:`search_basins`: the converged starts grouped into :class:`Basin` s (``basins``
    ``{(provisional key, kink): Basin}``), ``unconverged`` ``[(start, |grad|)]``, the energy ``scale`` (largest
    final energy over all starts), ``failures`` ``{start: cause}``, ``done`` starts of ``starts`` (fewer when
    interrupted), ``chunks``, the flow's final ``time``, its ``steps`` and ``interrupted``."""

    starts: int
    done: int
    chunks: int
    scale: float
    basins: dict
    unconverged: list
    failures: dict
    steps: int
    time: float
    wall_time: float
    interrupted: bool


def search_basins(model, starts: int, seed: int, search: str = "flow", progress: bool = False, workers: int = 1,
                  rows: int | None = None) -> Basins:
    """The starts of :func:`converge` (``search="flow"``) or :func:`converge_by_ascent` (``"ascent"``) in chunks
    of ``rows`` (default :func:`stream_rows`), each brought to critical points and reduced to :class:`Basin` s
    before the next chunk is drawn: memory of one chunk whatever ``starts``.

    Chunk ``k`` holds exactly the starts ``k rows .. (k+1) rows - 1`` of the unchunked draw
    (:func:`symflow.dynamics.initial.uniform_chunks`, :func:`ascent_chunks`); the flow's constants
    (:class:`FlowSteps`) come from the first chunk, Newton's tolerance from the energy scale of the chunks so
    far, the convergence test at the end from the scale of all (a start above it in its chunk but below it at
    the end counts as converged). With one chunk this is the unchunked search exactly; with several, the flow's
    basins are the same start by start (the points agree to Newton's tolerance; checked in the tests), the
    ascent's in distribution (module docstring). ``KeyboardInterrupt`` (or an interrupted flow)
    stops after the chunks completed (``interrupted``, ``done``)."""
    from ..dynamics.initial import uniform_chunks
    from ..progress import progress_bar
    from .kinds import kind_keys

    t0 = time.perf_counter()
    rows = stream_rows(model) if rows is None else int(rows)
    n_chunks = -(-starts // rows)
    kept_members = None if n_chunks == 1 else KEPT_MEMBERS
    if search == "flow":
        from ..dynamics.reduced import ReducedFlow

        flow, chunks = ReducedFlow(model, style="auto"), uniform_chunks(model, starts, seed, rows)
    else:
        chunks = ascent_chunks(model, starts, seed, rows)
    constants, scale, scale0 = None, 0.0, None
    basins, pending, failures = {}, [], {}
    steps, t_flow, done, interrupted = 0, 0.0, 0, False
    with progress_bar(f"chunks of {rows} starts", total=n_chunks, enabled=progress and n_chunks > 1, counts=True,
                      remaining=True) as bar:
        for k in range(n_chunks):
            try:
                chunk = next(chunks)
                if search == "flow":
                    constants = constants or FlowSteps(0.0, 0.0)
                    pop = converge(model, 0, seed, progress=progress and n_chunks == 1, workers=workers,
                                   state0=chunk, flow=flow, constants=constants, scale_before=scale)
                else:
                    pop = converge_by_ascent(model, 0, seed, x0=chunk, scale_before=scale)
            except KeyboardInterrupt:
                interrupted = True
                break
            if pop.interrupted:
                interrupted = True
                if n_chunks == 1:
                    t_flow = pop.time
                break
            a = k * rows
            scale = max(scale, pop.scale)
            scale0 = pop.scale if scale0 is None else scale0
            steps += pop.steps
            t_flow = max(t_flow, pop.time)
            failures.update({a + m: cause for m, cause in pop.failures.items()})
            E = per_start(bruteforce.energy, model, pop.points)
            keys = kind_keys(model, pop.points, E, scale0, kinks=pop.stalled)
            for m in range(len(pop.points)):
                kink = pop.stalled is not None and bool(pop.stalled[m])
                item = (keys[m], kink, a + m, float(pop.grad[m]), float(E[m]), pop.points[m])
                if pop.converged[m]:
                    _file(basins, item, kept_members)
                else:
                    pending.append(item[:5] + (item[5].copy(),))
            done = a + len(pop.points)
            bar.advance()
    tol = GRADIENT_TOL * scale
    unconverged = []
    for item in pending:                    # converged at the scale of all the starts, not of its chunk's
        if item[3] <= tol:
            _file(basins, item, kept_members)
        else:
            unconverged.append((item[2], item[3]))
    return Basins(starts, done, n_chunks, max(scale, 1e-300) if done else 1.0, basins, unconverged, failures,
                  steps, t_flow, time.perf_counter() - t0, interrupted)


def _file(basins: dict, item, kept_members) -> None:
    key, kink, start, grad, energy, point = item
    basin = basins.get((key, kink))
    if basin is None:
        basin = basins[(key, kink)] = Basin(key.support, key.rank, kink)
    basin.add(start, grad, energy, point, kept_members)
