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
   steps: ``dx = -B J^+ B^T grad``, ``J = B^T (H - Lambda) B`` the tangent Hessian with its near-zero
   eigenvalues dropped (so a manifold of critical points is reached, not a point of it), then the
   retraction of the one sphere geometry (:class:`~symflow.neuron.geometry.ParameterGeometry`). A step that
   does not lower ``|grad|`` is retried with more small eigenvalues dropped (``PSEUDO_INVERSE_TOLS``): near
   the slow end of a family an almost-zero mode would otherwise throw Newton off.
3. A neuron still above ``GRADIENT_TOL`` is *unconverged* and reported as such.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..dynamics.drivers import run_stepper, start_population
from ..neuron.geometry import ParameterGeometry
from ..dynamics.integrators import integrate
from ..dynamics.state import FourierState
from ..neuron import bruteforce
from ..neuron.points import split, stack

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


#: Brute-force sums over the Cayley table of many starts run on this many ``(rows, n, n)`` entries at a time
#: (``rows = max(1, CHUNK_ENTRIES // n^2)``): their temporaries stay near 4 x 8 x 2^22 bytes = 128 MiB
#: whatever the number of starts (each row is computed alone, so the values do not depend on the chunking).
CHUNK_ENTRIES = 2 ** 22


def chunk_rows(model) -> int:
    """Starts per chunk of :func:`per_start`: ``max(1, CHUNK_ENTRIES // n^2)``."""
    return max(1, CHUNK_ENTRIES // model.group.order ** 2)


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
            J, B = bruteforce.tangent_hessian(model, x)
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
    return max(float(np.abs(np.linalg.eigvalsh(bruteforce.tangent_hessian(model, x)[0])).max()) for x in x0)


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


def converge(model, starts: int, seed: int, progress: bool = False, workers: int = 1) -> Population:
    """Draw ``starts`` seeded neurons and bring each to a critical point (module docstring)."""
    t0 = time.perf_counter()
    flow, state0, width, seed = start_population(model, starts, seed)
    n = model.group.order
    x0 = stack(model, state0.to_parameters())
    speed0 = float(np.median(per_start(gradient_norms, model, x0)))
    # phase 1: into the basins, with the default steps; phase 2: to FLOW_TOL with steps that stay stable
    # at the stiffness measured where phase 1 ended (near the critical points, where it matters)
    lam = STIFFER_NEAR_CRITICAL * stiffness(model, x0[:3])
    stepper = run_stepper("geometric", n=n)
    stepper.max_step = min(stepper.max_step, STABLE_STEP / lam)
    out1 = integrate(flow, state0.data, np.geomspace(1.0 / lam, T_FACTOR / lam, 30), stepper,
                     gtol=COARSE_TOL * speed0, progress=progress, workers=workers)
    steps = int(out1.counts.steps)
    if out1.interrupted:
        x = stack(model, FourierState(flow.layout, out1.final).to_parameters())
        return Population(model, x, np.full(starts, np.inf), np.zeros(starts, bool), 1.0, 0, float(out1.t[-1]),
                          steps, time.perf_counter() - t0, True)
    x1 = stack(model, FourierState(flow.layout, out1.final).to_parameters())
    e1 = per_start(bruteforce.energy, model, x1)
    _, first = np.unique(np.round(e1 / max(np.abs(e1).max(), 1e-300), 3), return_index=True)
    lam = stiffness(model, x1[first])          # one point of every energy level phase 1 reached
    stepper = run_stepper("geometric", n=n)
    stepper.max_step = min(stepper.max_step, STABLE_STEP / lam)
    t1 = float(out1.t[-1])
    out = integrate(flow, out1.final, t1 + np.geomspace(1.0 / lam, POLISH_T_FACTOR / lam, 30), stepper,
                    gtol=FLOW_TOL * speed0, progress=progress, workers=workers)
    steps += int(out.counts.steps)
    x = stack(model, FourierState(flow.layout, out.final).to_parameters())
    retract(model, x)
    energies = per_start(bruteforce.energy, model, x)
    scale = float(max(np.abs(energies[np.isfinite(energies)]).max(initial=0.0), 1e-300))
    tol = GRADIENT_TOL * scale
    grad = per_start(gradient_norms, model, x)
    todo = np.nonzero(~(grad <= tol))[0]       # a non-finite |grad| is not converged either
    failures = {}
    for m in todo:
        x[m], grad[m], _, cause = newton(model, x[m], tol)
        if cause is not None:
            failures[int(m)] = cause
    return Population(model, x, grad, grad <= tol, scale, int(len(todo)), float(out.t[-1]),
                      steps, time.perf_counter() - t0, bool(out.interrupted), failures)
