"""The lottery ticket for every group: each neuron's orbit predicted from its initial Fourier blocks.

Derivation (docs/theory.md section 14). On the spheres every vector ``u_s`` of a neuron (quadratic
activation, CE, Stage I) follows ``u_s' = F_s(u) - p_s Omega u_s``, where ``F`` is the drive of the
model's block flows (:meth:`symflow.theory.Model.block_flow`, block by block: the drive of the block of
``rho`` depends on that block only) and ``p_s`` the Euler degree of ``Omega`` in the vectors of sphere ``s``
(the radial coefficient ``p_s Omega``). The irrep blocks are coupled only through the scalar ``Omega(t)``.
Write ``u_s = v_s / |v_s|`` with ``v`` following the weighted flow ``v_s' = a_s F_s(v)``: the directions
agree with the sphere flow (after a change of clock) iff ``a_s = c |v_s|^2`` for one scalar ``c``, and
then ``|v_s|^2 = exp(2 p_s Lambda)`` with ``Lambda' = c Omega(v)``.

* All ``p_s`` equal (**unshared, separate spheres**: ``p = 1`` for ``theta1, theta2, xi``): ``c = exp(-2 Lambda)``
  makes ``a_s = 1`` and the blocks *decouple exactly*: each block follows the unconstrained flow
  ``v' = F(v)`` of its own block from its initial value, which blows up at a time ``tau*_rho``; the block
  that blows up first carries the neuron's whole norm in the limit, so the neuron's orbit is
  ``argmin_rho tau*_rho`` (MA's lottery ticket, here exact for every group).
* Unequal degrees (**shared** embeddings: ``p_theta = 2, p_xi = 1``; **joint** sphere ``[theta1; theta2]``: 2
  and 1): ``c = exp(-4 Lambda)`` gives ``a_theta = 1, a_xi = exp(-2 Lambda) = 1/R`` with ``R = |v_theta|`` (the
  norm on the degree-2 sphere, trivial block included; :func:`coupling_exponents`). So the exact flow is
  ``theta_rho' = F_theta(theta_rho, xi_rho)``, ``xi_rho' = F_xi(theta_rho) / R``: every block follows its own
  low-dimensional ODE, and the blocks are coupled through the one scalar ``R(tau)^2 = |theta_1|^2 +
  sum_rho w_rho |theta_rho(tau)|^2`` (``w_rho = n d``, ``2 n d`` for a complex pair's stored member,
  :func:`block_weights`); the directions follow the sphere flow at ``t = int |v_xi| dtau`` (``R = |v_xi|^2``).
  Given the path ``R(tau)`` the blocks are independent, and the block that blows up first wins as above.
  The predictor (``coupling="early"``) integrates this coupled flow exactly for :data:`EARLY_STEPS` RK4 steps
  (clock ``d sigma = |blocks| (1 + 1/R) dtau``; a neuron whose leading orbit holds ``1 - COUPLED_EPS`` of
  ``R^2`` with positive energy is decided there), then freezes ``R`` at its value ``R_0`` there: with ``R``
  constant, dividing ``theta`` by ``sqrt(R_0)`` turns the block flow into ``v' = F(v)`` with the same clock,
  so the rest is the decoupled blow-up race below. Exact until the freeze, approximate after it (measured,
  docs/theory.md section 14); ``coupling="frozen"`` freezes ``R = 1`` at the start (the first predictor),
  ``coupling="coupled"`` never freezes (the exact flow to the decision, as costly as simulating).

Basins (:func:`predicted_basins`): Monte Carlo on the predictor over uniform starts, pooled over
:func:`exchangeable_classes` (orbits of one dimension, type and size have equal basins exactly: swapping their
blocks is an orthogonal map that keeps ``Omega`` and the spheres; groups with one class are decided by symmetry).

Blow-up time of one block. With ``r = |v|`` (Frobenius norm of the stacked block matrices) and
``w = v / r``, the clock ``d sigma = r d tau`` gives ``dw/dsigma = F(w) - g(w) w``, ``d ln r/dsigma = g(w)``
with ``g(w) = Re <w, F(w)>``, and ``tau* = int_0^inf exp(-ln r(sigma)) dsigma``. The ``w`` flow is gradient
ascent of the block's energy on the unit sphere (``F`` is its gradient, ``g = 3 Omega_rho(w) / (n d)`` by
Euler), so ``g`` never decreases: after ``sigma``, ``tau*`` lies in ``[tau(sigma), tau(sigma) + exp(-ln r) / g]``
when ``g > 0``. The blocks are integrated (RK4 in ``sigma``, fixed step ``h n``, all neurons and irreps
of a dimension at once) only until these brackets decide each neuron's race: a block drops out when its
lower bound passes the leader's upper bound, a neuron is decided when only its leader is left (or its
leader's bracket is narrower than ``rtol``). A block that never blows up (``g <= 0`` throughout, e.g. the
dead neurons of groups of exponent 2, shared) has ``tau* = inf``; a neuron with no blow-up is predicted
``-1`` (no orbit).

Where it stops: quadratic activation (other activations couple the blocks through pointwise powers),
the CE energy on the whole table, the sphere constraint (Stage I) or none; the prediction is the limit of
the flow, so it says nothing about the time to get there.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, SymflowError
from .steppers import RK4, explicit_rk_step

__all__ = ["OrbitLottery", "predict_orbits", "predicted_basins", "exact_decoupling", "multiplier_degrees",
           "block_rows", "block_weights", "coupling_exponents", "simulated_orbits", "compare_with_simulation",
           "exchangeable_classes", "exchange_orbits", "z2_shared_dead_share"]

#: RK4 step in ``sigma`` is ``STEP * n`` (the drive of a unit block is ``O(1/n)``)
STEP = 0.5
#: a neuron's race is decided when the leader's bracket is this narrow (relative) or the others are out
RTOL = 1e-6
#: at most this many steps per call (a block still undecided then uses its bracket's upper end)
MAX_STEPS = 300
#: shared / joint: steps of the exact coupled flow before ``R`` is frozen (``coupling="early"``)
EARLY_STEPS = 20
#: the coupled phase decides a neuron when one orbit holds this close to all of ``R^2`` (with positive energy)
COUPLED_EPS = 0.01
#: ``coupling="coupled"``: at most this many steps of the exact coupled flow
COUPLED_MAX_STEPS = 4000


def multiplier_degrees(model) -> dict:
    """``{name: p}`` with the radial term ``-p Omega nu`` of each vector, read off the model's derived block flow
    (:attr:`~symflow.theory.flow.BlockFlow.radial` of ``Model.block_flow(1)``, SymPy): the Euler degree of
    ``Omega`` in the vectors of its sphere (0 without a constraint)."""
    import sympy as sp

    bf = model.block_flow(1)
    return {k: int(sp.simplify(bf.radial[k] / bf.omega_symbol)) for k in bf.names}


def exact_decoupling(model) -> bool:
    """Whether the reduction is exact for ``model``: every vector has the same radial coefficient
    (:func:`multiplier_degrees`; unshared embeddings on separate spheres: 1, 1, 1; no constraint: 0), so the
    common multiplier is removed by one change of scale and clock (module docstring)."""
    return len(set(multiplier_degrees(model).values())) == 1


def _check_model(model):
    from ..theory.model import Model

    model = Model.coerce(model)
    if model.loss != "ce":
        raise ModelError(f"the orbit lottery is derived for the cross-entropy energy Omega (loss='ce'); got {model.loss!r}")
    if not model.is_bilinear:
        raise ModelError(f"the orbit lottery needs the quadratic activation (the blocks decouple only then); "
                         f"sigma = {model.activation_text}")
    model.require_block_flow()
    return model


def _nontrivial_slots(flow) -> dict:
    """``{d: (keep (bool per stored slot), orbit ids of the kept slots)}``: the stored slots of the compact layout
    (one member of each complex pair) that lie on a non-trivial orbit, and the orbit of each."""
    lay = flow.layout
    comp = lay.compact
    orbit_of_slot = {s: o.id for o in lay.orbits for s in lay.orbit_slots_of(o)}
    out = {}
    for d in comp.dims:
        orb = np.array([orbit_of_slot[lay.slot(d, int(p))] for p in comp.keep[d]], dtype=np.int64)
        keep = orb != 0
        if keep.any():
            out[d] = (keep, orb[keep])
    return out


def block_rows(flow, data: np.ndarray) -> dict:
    """``{d: (orbit_ids (k,), blocks (V, M, k, d, d))}``: the stored nontrivial blocks of the compact rows of
    ``data`` (full rows of ``flow.layout``), one member of each complex pair, with the orbit of each."""
    lay = flow.layout
    rows = lay.compact.compress(data)
    return {d: (orb, np.stack([lay.compact.view(rows, nm, d)[:, keep] for nm in lay.names]))
            for d, (keep, orb) in _nontrivial_slots(flow).items()}


def block_weights(flow) -> dict:
    """``{d: (k,)}``: the Plancherel weight ``n d`` (``2 n d`` for a complex pair's stored member, which stands
    for both) of every block :func:`block_rows` returns, in its order: ``|nu|^2 = |nu_hat[1]|^2 n +
    sum_blocks weight * |block|_F^2`` (:attr:`~symflow.dynamics.state.CompactLayout.slot_weight`)."""
    comp = flow.layout.compact
    return {d: (flow.n * d * comp.slot_weight[d])[keep] for d, (keep, _) in _nontrivial_slots(flow).items()}



def coupling_exponents(model) -> dict:
    """``{name: e}`` of the exact change of scale and clock (module docstring): the unconstrained vectors ``v``
    follow ``v_s' = R^(2 e_s) F_s(v)`` with ``R = |v|`` on the sphere of the largest Euler degree ``p_max``
    (:func:`multiplier_degrees`) and ``e_s = (p_s - p_max) / p_max``; all zero when the reduction decouples
    (:func:`exact_decoupling`). Shared: ``theta 0, xi -1/2``; joint: ``theta1, theta2 0, xi -1/2``."""
    from fractions import Fraction

    p = multiplier_degrees(model)
    pmax = max(p.values())
    if pmax == 0:
        return {k: Fraction(0) for k in p}
    return {k: Fraction(v - pmax, pmax) for k, v in p.items()}


def _coupling_sphere(model) -> tuple:
    """The vector names on the sphere of the largest degree (one sphere: ``R`` is its norm)."""
    p = multiplier_degrees(model)
    big = tuple(k for k, v in p.items() if v == max(p.values()))
    if big not in tuple(tuple(s) for s in model.neuron.sphere_groups):
        raise ModelError(f"the coupled lottery needs the vectors of the largest Euler degree {big} on one sphere; "
                         f"the model's spheres are {model.neuron.sphere_groups}")
    if sorted(set(p.values())) != [1, 2]:
        raise ModelError(f"the coupled lottery is derived for Euler degrees 2 (one sphere) and 1; got {p}")
    return big


@dataclass
class OrbitLottery:
    """Per neuron and orbit the blow-up time ``tau*`` of the orbit's block under ``v' = F(v)`` (``inf``: never,
    or dropped from the race: ``lower`` holds the bound it had passed) and the predicted orbit. Shared / joint
    (``coupling="early"``): times count from the start of the coupled phase; a neuron decided inside it has only
    its winner's entry, the clock ``tau`` where the winner held ``1 - COUPLED_EPS`` of ``R^2`` (a lower bound of
    its blow-up time)."""

    model: object
    times: np.ndarray        # (M, #orbits): tau* estimate (upper end of the bracket), inf for the trivial orbit
    lower: np.ndarray        # (M, #orbits): lower end of the bracket
    winner: np.ndarray       # (M,) orbit id, -1 when no block blows up
    steps: int
    evaluations: int         # block-drive evaluations (each on every active block of one dimension)
    wall_time_s: float       # the integration (building the flow and loading its kernels excluded)
    exact: bool
    #: "exact" (unshared separate: no coupling), "frozen" (R = 1 throughout), "early" (the exact coupled flow for
    #: the first ``early_steps`` steps, then R frozen at its value there), "coupled" (the exact coupled flow to
    #: the decision)
    coupling: str = "exact"
    early_steps: int = 0
    decided_early: int = 0   # neurons decided inside the coupled phase (leader's share >= 1 - COUPLED_EPS)
    cpu_time_s: float = 0.0  # process time of the integration (what the cost ratios compare under load)

    @property
    def width(self) -> int:
        return self.times.shape[0]

    def fractions(self) -> np.ndarray:
        """Share of the neurons predicted on each orbit (index = orbit id; index 0, the trivial orbit, stays 0)."""
        won = self.winner[self.winner >= 0]
        return np.bincount(won, minlength=self.times.shape[1]) / max(self.width, 1)

    def __repr__(self) -> str:
        return (f"<OrbitLottery {self.model.group.name} ({self.coupling}): "
                f"{self.width} neurons, {self.steps} steps, {self.wall_time_s:.3g} s>")


def predict_orbits(model, init, step: float = STEP, rtol: float = RTOL, max_steps: int = MAX_STEPS,
                   flow=None, race: bool = True, coupling: str | None = None,
                   early_steps: int | None = None) -> OrbitLottery:
    """The predicted orbit of every neuron of ``init`` (a :class:`~symflow.dynamics.state.FourierState` of the
    model, or anything :func:`~symflow.dynamics.initial.initial_state` accepts as a ready population); see the
    module docstring for the derivation and the integration. ``race=False`` integrates every block until its
    own bracket is narrower than ``rtol`` (every ``tau*``, not only the winner's; for checks).

    ``coupling`` (shared / joint spheres; ignored where the reduction decouples exactly): ``"early"`` (default)
    integrates the exact coupled flow (every block and the one scalar ``R``) for ``early_steps`` steps
    (default :data:`EARLY_STEPS`), then races the blocks with ``R`` frozen at its value there; ``"frozen"``
    freezes ``R = 1`` from the start (the first predictor); ``"coupled"`` integrates the exact coupled flow
    until one orbit holds ``1 - COUPLED_EPS`` of ``R^2`` (the reference, as costly as simulating)."""
    from .initial import initial_state
    from .reduced import ReducedFlow

    model = _check_model(model)
    if not (np.isfinite(step) and step > 0):
        raise SymflowError(f"step must be a positive number (the RK4 step in units of n), got {step!r}")
    exact = exact_decoupling(model)
    coupling = "exact" if exact else (coupling or "early")
    if coupling not in ("exact", "frozen", "early", "coupled"):
        raise SymflowError(f"coupling must be 'early', 'frozen' or 'coupled', got {coupling!r}")
    early_steps = EARLY_STEPS if early_steps is None else int(early_steps)
    if coupling == "coupled":
        early_steps = COUPLED_MAX_STEPS
    if coupling in ("exact", "frozen"):
        early_steps = 0
    flow = ReducedFlow(model) if flow is None else flow   # the kernels: loaded once per process, not timed
    state = initial_state(model, None, 0, init)
    t0, c0 = time.perf_counter(), time.process_time()
    M, norb = state.width, len(flow.layout.orbits)
    blocks = block_rows(flow, state.data)
    tau0 = np.zeros(M)
    early = np.full(M, -2, dtype=np.int64)
    steps = evaluations = 0
    if early_steps > 0:
        blocks, tau0, early, steps, evaluations = _coupled_phase(model, flow, blocks, M, step, early_steps,
                                                                  COUPLED_EPS)
    undecided = early == -2
    times = np.full((M, norb), np.inf)
    lower = np.full((M, norb), np.inf)
    if coupling != "coupled" and undecided.any():
        sub = {d: (orb, B[:, undecided]) for d, (orb, B) in blocks.items()}
        t_r, l_r, s_r, e_r = _race(flow, sub, int(undecided.sum()), norb, step, rtol, max_steps, race)
        times[undecided], lower[undecided] = t_r + tau0[undecided, None], l_r + tau0[undecided, None]
        steps, evaluations = steps + s_r, evaluations + e_r
    decided = ~undecided
    if decided.any():   # decided inside the coupled phase: the leader's time is the clock there
        idx = np.nonzero(decided & (early >= 0))[0]
        times[idx, early[idx]] = lower[idx, early[idx]] = tau0[idx]
    finite = np.isfinite(times).any(axis=1)
    winner = np.where(finite, np.argmin(np.where(np.isfinite(times), times, np.inf), axis=1), -1)
    return OrbitLottery(model, times, lower, winner, steps, evaluations, time.perf_counter() - t0, exact,
                        coupling, early_steps, int(decided.sum()), time.process_time() - c0)


def _coupled_phase(model, flow, blocks, M, step, max_steps, eps) -> tuple:
    """The exact coupled flow ``v_s' = R^(2 e_s) F_s(v)`` (:func:`coupling_exponents`; ``R^2 = |v|^2`` on the
    sphere of degree 2, trivial block included, which does not move) for at most ``max_steps`` RK4 steps of
    ``h n`` in the clock ``d sigma = S d tau``, ``S = |blocks|_F (1 + 1/R)`` per neuron. A neuron is decided when
    one orbit holds ``1 - eps`` of ``R^2`` with positive energy. Returns ``(blocks at the end with the
    degree-2 vectors divided by sqrt(R): the frozen race's start, tau (M,), winner (M,; -2 undecided), steps,
    evaluations)``."""
    n, kern = flow.n, flow.kernels.block_terms
    names = flow.layout.names
    expo = coupling_exponents(model)
    big = [i for i, nm in enumerate(names) if nm in _coupling_sphere(model)]
    e = np.array([float(expo[nm]) for nm in names])
    weights = block_weights(flow)
    groups = []
    R2triv = np.ones(M)
    for d, (orb, B) in blocks.items():
        k = len(orb)
        W = B.reshape((B.shape[0], M * k, d, d)).astype(np.complex128, copy=True)
        grp = {"d": d, "neuron": np.repeat(np.arange(M), k), "orbit": np.tile(orb, M),
               "wt": np.tile(weights[d], M), "W": W, "k": k, "orb": orb}
        R2triv -= np.bincount(grp["neuron"], (np.abs(W[big]) ** 2).sum(axis=(0, 2, 3)) * grp["wt"], minlength=M)
        groups.append(grp)
    tau = np.zeros(M)
    winner = np.full(M, -2, dtype=np.int64)
    active = np.ones(M, dtype=bool)
    norb = len(flow.layout.orbits)
    evaluations = steps = 0

    def sums(Ws, sel):
        r2, s2 = R2triv[sel].copy(), np.zeros(len(sel))
        for g, W in zip(groups, Ws):
            r2 += np.bincount(g["nidx"], (np.abs(W[big]) ** 2).sum(axis=(0, 2, 3)) * g["wta"], minlength=len(sel))
            s2 += np.bincount(g["nidx"], (np.abs(W) ** 2).sum(axis=(0, 2, 3)), minlength=len(sel))
        return r2, s2

    def rhs(Y, sel):
        *Ws, _ = Y
        r2, s2 = sums(Ws, sel)
        R = np.sqrt(np.maximum(r2, 1e-300))
        S = np.sqrt(s2) * (1 + 1 / R)
        out = []
        for g, W in zip(groups, Ws):
            _, drives = kern[g["d"]](*W[:, :, None], n)
            a = R[g["nidx"]][None, :] ** (2 * e[:, None]) / S[g["nidx"]][None, :]
            out.append(np.stack(drives)[:, :, 0] * a[:, :, None, None])
        return (*out, 1 / S)

    while active.any() and steps < max_steps:
        steps += 1
        sel = np.nonzero(active)[0]
        remap = np.full(M, -1)
        remap[sel] = np.arange(len(sel))
        for g in groups:
            g["rmask"] = active[g["neuron"]]
            g["nidx"] = remap[g["neuron"][g["rmask"]]]
            g["wta"] = g["wt"][g["rmask"]]
        Y = tuple(g["W"][:, g["rmask"]] for g in groups) + (tau[sel],)
        Y = explicit_rk_step(lambda y: rhs(y, sel), Y, step * n, RK4)
        evaluations += 4
        *Ws, tau[sel] = Y
        share, energy = np.zeros((len(sel), norb)), np.zeros((len(sel), norb))
        for g, W in zip(groups, Ws):
            g["W"][:, g["rmask"]] = W
            om, _ = kern[g["d"]](*W[:, :, None], n)
            np.add.at(share, (g["nidx"], g["orbit"][g["rmask"]]), (np.abs(W[big]) ** 2).sum(axis=(0, 2, 3)) * g["wta"])
            np.add.at(energy, (g["nidx"], g["orbit"][g["rmask"]]), np.real(om[:, 0]) * g["wta"])
        r2, _ = sums(Ws, sel)
        share /= r2[:, None]
        lead = np.argmax(share, axis=1)
        rows = np.arange(len(sel))
        done = (share[rows, lead] >= 1 - eps) & (energy[rows, lead] > 0)
        winner[sel[done]] = lead[done]
        active[sel[done]] = False
    # R at the end of the phase, for every neuron
    R2 = R2triv.copy()
    for g in groups:
        R2 += np.bincount(g["neuron"], (np.abs(g["W"][big]) ** 2).sum(axis=(0, 2, 3)) * g["wt"], minlength=M)
    scale = np.isin(np.arange(len(names)), big)
    out = {}
    for g in groups:
        W = g["W"].copy()
        f = np.sqrt(np.sqrt(np.maximum(R2, 1e-300)))[g["neuron"]]
        W[scale] /= f[None, :, None, None]
        out[g["d"]] = (g["orb"], W.reshape((W.shape[0], M, g["k"], g["d"], g["d"])))
    return out, tau, winner, steps, evaluations


def _race(flow, blocks, M, norb, step, rtol, max_steps, race) -> tuple:
    """The blow-up race of the blocks ``{d: (orbit ids (k,), (V, M, k, d, d))}`` under ``v' = F(v)`` (module
    docstring): ``(times, lower, steps, evaluations)``."""
    n = flow.n
    kern = flow.kernels.block_terms
    groups = []
    for d, (orb, B) in blocks.items():
        k = len(orb)
        W = B.reshape((B.shape[0], M * k, d, d)).copy()
        r0 = np.sqrt((np.abs(W) ** 2).sum(axis=(0, 2, 3)))
        live = r0 > 0
        W[:, live] /= r0[live][None, :, None, None]
        groups.append({"d": d, "neuron": np.repeat(np.arange(M), k), "orbit": np.tile(orb, M), "W": W,
                       "lnr": np.log(np.where(live, r0, 1.0)), "tau": np.zeros(M * k),
                       "active": live.copy(), "g": np.zeros(M * k)})
    evaluations = 0

    def velocity(d, W):
        _, drives = kern[d](*W[:, :, None], n)
        F = np.stack(drives)[:, :, 0]
        g = (np.conj(W) * F).real.sum(axis=(0, 2, 3))
        return F - g[None, :, None, None] * W, g

    ds = step * n
    for grp in groups:
        if grp["active"].any():
            _, grp["g"][grp["active"]] = velocity(grp["d"], grp["W"][:, grp["active"]])
            evaluations += 1
    steps = 0
    while steps < max_steps:
        if not any(g["active"].any() for g in groups):
            break
        steps += 1
        for grp in groups:
            a = grp["active"]
            if not a.any():
                continue
            d = grp["d"]

            def rhs(y, d=d):   # (w, ln r, tau): dw/dsigma = F(w) - g(w) w, d ln r/dsigma = g(w), d tau/dsigma = 1/r
                k, g = velocity(d, y[0])
                return k, g, np.exp(-y[1])

            W, grp["lnr"][a], grp["tau"][a] = explicit_rk_step(rhs, (grp["W"][:, a], grp["lnr"][a], grp["tau"][a]),
                                                               ds, RK4)
            evaluations += 4
            W /= np.sqrt((np.abs(W) ** 2).sum(axis=(0, 2, 3)))[None, :, None, None]
            grp["W"][:, a] = W
            _, grp["g"][a] = velocity(d, W)
            evaluations += 1
        _retire(groups, M, rtol, race)
    times, lower = _brackets(groups, M, norb)
    return times, lower, steps, evaluations


def _bounds(grp):
    """``(lower, upper)`` of ``tau*`` for every row of a dimension group (``upper = inf`` while ``g <= 0``)."""
    g = grp["g"]
    with np.errstate(over="ignore", divide="ignore"):
        tail = np.where(g > 0, np.exp(-grp["lnr"]) / np.where(g > 0, g, 1.0), np.inf)
    return grp["tau"], grp["tau"] + tail


def _retire(groups, M, rtol, race=True) -> None:
    """Drop the rows that can no longer win (lower bound above their neuron's best upper bound) and the
    leaders of decided neurons (every other row dropped, or the leader's bracket narrower than ``rtol``);
    ``race=False``: only the rows whose bracket is narrower than ``rtol``."""
    if not race:
        for grp in groups:
            lo, up = _bounds(grp)
            grp["active"] &= ~(np.isfinite(up) & (up - lo <= rtol * up))
        return
    best = np.full(M, np.inf)
    for grp in groups:
        lo, up = _bounds(grp)
        np.minimum.at(best, grp["neuron"], up)
    contenders = np.zeros(M, dtype=np.int64)
    for grp in groups:
        lo, up = _bounds(grp)
        out = lo > best[grp["neuron"]]
        grp["active"] &= ~out
        np.add.at(contenders, grp["neuron"], (~out).astype(np.int64))
    for grp in groups:
        lo, up = _bounds(grp)
        leader = up <= best[grp["neuron"]]
        narrow = np.isfinite(up) & (up - lo <= rtol * up)
        decided = (contenders[grp["neuron"]] <= 1) & leader & np.isfinite(up)
        grp["active"] &= ~(decided | narrow)


def _brackets(groups, M, norb) -> tuple:
    times = np.full((M, norb), np.inf)
    lower = np.full((M, norb), np.inf)
    for grp in groups:
        lo, up = _bounds(grp)
        np.minimum.at(times, (grp["neuron"], grp["orbit"]), up)
        np.minimum.at(lower, (grp["neuron"], grp["orbit"]), lo)
    return times, lower


def predicted_basins(model, samples: int = 4096, seed: int = 0, **options) -> dict:
    """Basin fractions from first principles: :func:`predict_orbits` on ``samples`` starts drawn uniformly on
    the spheres (:func:`~symflow.dynamics.initial.uniform`, ``seed``) - Monte Carlo on the predictor, not on
    the flow. Returns ``{"fractions": (#orbits,), "dead": share with no blow-up, "samples", "lottery"}`` and
    ``"pooled"``: the fractions averaged over each class of :func:`exchangeable_classes` (whose orbits have
    equal basins exactly, so the average is the same estimate with less variance), ``"classes"`` (lists of
    orbit ids), ``"by_symmetry"``: ``True`` where symmetry alone fixes the fractions (one class holds every
    nontrivial orbit and no start is predicted dead: each gets ``1 / #orbits``; then ``pooled`` is exact)."""
    from .initial import uniform

    model = _check_model(model)
    lot = predict_orbits(model, uniform(model, samples, seed), **options)
    fr = lot.fractions()
    classes = exchangeable_classes(model)
    pooled = fr.copy()
    for c in classes:
        pooled[c] = fr[c].mean()
    dead = float(np.mean(lot.winner < 0))
    return {"fractions": fr, "dead": dead, "samples": int(samples), "lottery": lot, "pooled": pooled,
            "classes": classes, "by_symmetry": len(classes) == 1 and dead == 0.0}


#: a simulated neuron whose final ``Omega`` is below this multiple of ``n^-3/2`` is dead (no orbit: the
#: exponent-2 family at ``Omega = 0``, docs/theory.md section 8); every orbit's ``Omega*`` is above ``0.2 n^-3/2``
DEAD_OMEGA = 1e-3


def simulated_orbits(result) -> np.ndarray:
    """The simulated outcome per neuron: the dominant orbit of the final state
    (:func:`~symflow.dynamics.observables.dominant_orbit`), ``-1`` where the final ``Omega`` is below
    ``DEAD_OMEGA n^-3/2`` (a dead neuron)."""
    from .observables import dominant_orbit

    out = dominant_orbit(result.final_state)
    n = result.model.group.order
    return np.where(result.omega[-1] < DEAD_OMEGA * n ** -1.5, -1, out)


def compare_with_simulation(model, width: int = 512, seed: int = 0, samples: int = 4096,
                            basin_seed: int | None = None, simulation: dict | None = None,
                            coupling: str | None = None) -> dict:
    """Predicted against simulated orbit per neuron, and predicted against measured basins.

    ``width`` neurons are drawn uniformly on the spheres (``seed``); the predictor (:func:`predict_orbits`) and
    :func:`~symflow.dynamics.drivers.simulate` (to equilibrium) start from the same population. Agreement is the
    share of neurons whose predicted orbit is the simulated one (:func:`simulated_orbits`), with its Wilson
    interval (:func:`symflow.statistics.wilson_interval`); ``confusion`` counts the failures by
    ``"predicted->simulated"`` orbit label. Basins: predicted = :func:`predicted_basins` on ``samples`` other
    starts (``basin_seed``, default ``seed + 1``), measured = the simulated shares with Wilson intervals, next to
    the Plancherel weights ``|O| d^2 / (n - 1)``. ``simulation``: extra options of ``simulate``.
    Returns a JSON-able dict; ``"lottery"`` and ``"result"`` hold the objects (popped by the callers that print)."""
    from ..statistics import wilson_interval
    from .drivers import simulate
    from .initial import check_seed, check_width, uniform

    model = _check_model(model)
    width, seed = check_width(width), check_seed(seed)
    samples = check_width(samples)
    basin_seed = seed + 1 if basin_seed is None else check_seed(basin_seed)
    init = uniform(model, width, seed)
    lot = predict_orbits(model, init, coupling=coupling)   # loads the block kernels, which simulate then shares
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate(model, init=init, seed=seed, **(simulation or {}))
    sim_wall, sim_cpu = time.perf_counter() - t0, time.process_time() - c0
    sim = simulated_orbits(res)
    G = model.group
    orbits = G.orbits
    label = {o.id: o.display_label for o in orbits}
    label[-1] = "dead"
    hits = int(np.sum(lot.winner == sim))
    lo, hi = wilson_interval(hits, width)
    confusion: dict = {}
    for p, s in zip(lot.winner[lot.winner != sim], sim[lot.winner != sim]):
        key = f"{label[int(p)]}->{label[int(s)]}"
        confusion[key] = confusion.get(key, 0) + 1
    basins = predicted_basins(model, samples, basin_seed, coupling=coupling)
    n = G.order
    rows = []
    for o in orbits:
        if o.type == "trivial":
            continue
        k = int(np.sum(sim == o.id))
        a, b = wilson_interval(k, width)
        pred = float(basins["pooled"][o.id])
        rows.append({"orbit": o.display_label, "dim": o.dim, "type": o.type, "size": o.size,
                     "predicted": pred, "measured": k / width, "ci95": [a, b],
                     "plancherel": o.size * o.dim ** 2 / (n - 1), "error": pred - k / width,
                     "predicted_unpooled": float(basins["fractions"][o.id]),
                     "class": next(i for i, c in enumerate(basins["classes"]) if o.id in c)})
    dead_sim = int(np.sum(sim < 0))
    if dead_sim or basins["dead"] > 0:
        a, b = wilson_interval(dead_sim, width)
        rows.append({"orbit": "dead", "dim": None, "type": "dead", "size": None, "predicted": basins["dead"],
                     "measured": dead_sim / width, "ci95": [a, b], "plancherel": 0.0,
                     "error": basins["dead"] - dead_sim / width})
    unconverged = int(np.sum(np.isnan(res.equilibrium_time)))
    comparison = "made"
    if res.interrupted:   # the state reached is not the outcome: no agreement, no measured basins
        comparison = f"not made: interrupted at t = {float(res.t[-1]):.4g}, before equilibrium"
        hits, lo, hi, confusion = None, None, None, {}
        for r in rows:
            r.update(measured=None, ci95=None, error=None)
    return {
        "group": G.name, "order": n, "shared": model.shared, "spheres": model.spheres, "width": width,
        "seed": seed, "samples": samples, "basin_seed": basin_seed,
        "reduction": "exact" if lot.exact else ("coupled early phase, then frozen multiplier" if lot.coupling == "early"
                                                else "frozen multiplier" if lot.coupling == "frozen" else "coupled"),
        "coupling": lot.coupling, "early_steps": lot.early_steps,
        "comparison": comparison,
        "agreement": {"fraction": None if hits is None else hits / width, "ci95": None if lo is None else [lo, hi],
                      "agree": hits, "neurons": width},
        "confusion": dict(sorted(confusion.items(), key=lambda kv: -kv[1])),
        "basins": rows,
        "basin_error_max": (float(max(abs(r["error"]) for r in rows)) if rows else 0.0) if hits is not None else None,
        "cost": {"predictor_s": lot.wall_time_s, "simulation_s": sim_wall,
                 "ratio": sim_wall / max(lot.wall_time_s, 1e-9), "predictor_steps": lot.steps,
                 "predictor_cpu_s": lot.cpu_time_s, "simulation_cpu_s": sim_cpu,
                 "cpu_ratio": sim_cpu / max(lot.cpu_time_s, 1e-9), "decided_in_coupled_phase": lot.decided_early,
                 "simulated_unconverged": unconverged, "simulation_t": float(res.t[-1])},
        "neurons": {"predicted": lot.winner.tolist(), "simulated": sim.tolist(),
                    "orbit_labels": [o.display_label for o in orbits], "dead": -1},
        "lottery": lot, "result": res,
    }


# ---------------------------------------------------------------------------------------------------- basins
def exchangeable_classes(model) -> list:
    """The nontrivial orbits grouped by (dimension, Frobenius-Schur type, orbit size): ``[[orbit id, ...], ...]``.

    Two orbits of one class have blocks of the same shape, Plancherel weight and reality map, and the energy is
    a sum over blocks of one form per class (``d tr(xi_hat^* theta2_hat theta1_hat)``, section 2), so swapping
    their blocks (:func:`exchange_orbits`, the same orthogonal map of ``R^n`` on every vector) leaves ``Omega``,
    the spheres and the uniform measure unchanged: the flow commutes with it (any setting, quadratic activation),
    and the two orbits have equal basins. ``tests/test_lottery_exact.py`` checks the invariance of ``Omega`` on
    the Cayley table (:mod:`symflow.neuron.bruteforce`)."""
    out: dict = {}
    for o in model.group.orbits:
        if o.type != "trivial":
            out.setdefault((o.dim, o.type, o.size), []).append(o.id)
    return list(out.values())


def exchange_orbits(model, state, a: int, b: int):
    """``state`` (a FourierState of ``model``) with the blocks of orbits ``a`` and ``b`` (same class of
    :func:`exchangeable_classes`) swapped, member by member (a complex pair's first member with the other's
    first, its conjugate with the other's conjugate)."""
    from .state import FourierState

    lay = state.layout
    A, B = lay.orbits[a], lay.orbits[b]
    if (A.dim, A.type, A.size) != (B.dim, B.type, B.size):
        raise SymflowError(f"orbits {A.display_label} and {B.display_label} are not exchangeable "
                           f"(dimension, type and size differ)")
    data = state.data.copy()
    for nm in lay.names:
        for sa, sb in zip(lay.orbit_slots_of(A), lay.orbit_slots_of(B)):
            (d, pa), (_, pb) = lay.slot_position(sa), lay.slot_position(sb)
            v = lay.view(data, nm, d)
            v[:, [pa, pb]] = v[:, [pb, pa]]
    return FourierState(lay, data)


def z2_shared_dead_share() -> float:
    """The share of uniform starts that end dead (``Omega -> 0``, no orbit) for Z2 with shared embeddings, in
    closed form from the coupled flow (docs/theory.md section 14): with ``t, x`` the trivial and sign components of
    ``theta`` (orthonormal) and ``y`` the sign component of ``xi``, ``Omega = x^2 y / (2 sqrt 2)`` and the coupled
    flow ``x' = x y / sqrt 2``, ``y' = x^2 / (2 sqrt 2 R)``, ``R^2 = t^2 + x^2`` conserves ``y^2 - R``; ``y`` rises
    to 0 (then the block blows up) iff ``R`` can fall by ``y0^2`` before it reaches ``|t|``. So a start is dead iff
    ``y0 < 0`` and ``|t0| > 1 - y0^2``: with ``t0 = cos phi``, ``y0 = sin psi`` uniform on the circles, the share is
    ``pi^-2 int_0^pi arccos(cos^2 psi) d psi = 0.30644`` (quadrature)."""
    from scipy.integrate import quad

    value, _ = quad(lambda p: np.arccos(np.cos(p) ** 2), 0.0, np.pi, epsabs=1e-13, epsrel=1e-13)
    return float(value / np.pi ** 2)
