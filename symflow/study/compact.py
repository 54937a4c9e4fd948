"""The study of a band-limited population on a compact group: ``symflow study SO(3) --bandlimit L``.

Why a study of its own and not the finite study's claims: the finite study compares GC's statements that rest on
the exact equilibria and spectra of :mod:`symflow.theory.equilibria` and :mod:`symflow.theory.rates` (built on the
Cayley table: alignment rates, the lottery floor, Stage II, the logit fit); on a compact group the equilibria and
rates are the band-limited ones (``Omega* = (k d)^(-1/2)``, :func:`symflow.theory.compact.compact_rates`), so this
module states those and measures the population on the same path as every finite group: the one model
(:class:`~symflow.theory.model.Model` on the compact group), the reduced flow (:func:`symflow.dynamics.simulate`,
generated kernels with ``n = 1``) and the landscape engine (:func:`symflow.landscape.landscape` on the same seeded
starts, with the quadrature brute force). What a researcher asks of a population (which ``l`` or ``k`` the neurons
end on, with basins) is the rows:

* every neuron ends on one irrep orbit (largest orbit share ``>= 1 - SHARE_TOL``) with rank-one blocks;
* its energy is its orbit's ``Omega* = (k d)^(-1/2)`` (Haar probability, unit ``L^2`` spheres);
* per orbit (``l`` on ``SO(3)``/``O(3)``, ``k`` on ``SO(2)``/``O(2)``): the fraction of neurons (a measurement with its
  95 % Wilson interval; no theorem predicts it), next to the landscape's basin of that orbit from the same starts
  (the flow is per neuron, so the two must agree exactly);
* the landscape's kinds: stable, energy ``(k d)^(-1/2)``, in-orbit tangent rates equal to ``compact_rates``'.
"""
from __future__ import annotations

import time

import numpy as np

from .._version import __version__
from ..provenance import versions
from ..statistics import wilson_interval
from .claims import OMEGA_TOL, RANK_TOL, SHARE_TOL
from .predictions import Prediction

#: Relative tolerance of the landscape's tangent rates against ``compact_rates``' (rounding of the eigenvalues).
RATE_RTOL = 1e-6


def run_compact_study(G, width: int, seed: int, shared: bool = False, spheres=None, t_end=None,
                      progress: bool = False, log=None, force=None):
    """``(name, settings, None, predictions, timings, notes, warnings)``: the fields of the
    :class:`~symflow.study.run.Study` of a band-limited population (module doc; ``data`` is ``None``)."""
    from ..dynamics import simulate
    from ..dynamics.drivers import memory_estimate
    from ..theory.bandlimited import brute_force_estimate
    from ..theory.model import Model

    say = log or (lambda msg: None)
    timings, notes, rows = {}, [], []
    model = Model(G, shared=shared, spheres=spheres)
    from ..theory.bandlimited import block_flow_estimate

    block_flow_estimate(model, f"study {G.name} --bandlimit {G.bandlimit}").check(force)
    est = memory_estimate(model, int(width), 11)
    est.what = f"study {G.name} --bandlimit {G.bandlimit} with {width} neurons"
    est.check(force)
    t0 = time.perf_counter()
    say(f"simulating {width} neurons of {model.describe()} (seed {seed})")
    from .trajectory import STUDY_GTOL_FACTOR

    # the finite study's equilibrium tolerance (its n^-3/2 is 1 here: Omega* is of order one)
    run = simulate(model, width=width, seed=seed, t_end=t_end, progress=progress, force=force,
                   gtol=STUDY_GTOL_FACTOR)
    timings["simulate_s"] = time.perf_counter() - t0
    settings = {"model": model.to_dict(), "width": int(width), "seed": int(seed), "shared": bool(shared),
                "spheres": model.spheres, "t_end": float(run.t[-1]), "t_reached": float(run.t[-1]),
                "time_unit": "c = 1", "init": "uniform on the spheres (seeded)",
                "run": _run_info(run), "n_save": int(len(run.t)), "fit_windows": {},
                "tolerances": {"SHARE_TOL": SHARE_TOL, "RANK_TOL": RANK_TOL, "OMEGA_TOL": OMEGA_TOL,
                               "RATE_RTOL": RATE_RTOL},
                "bandlimit": int(G.bandlimit), "normalisation": model.to_dict()["normalisation"],
                "versions": versions(), "symflow": __version__}
    if run.interrupted:
        notes.append(f"Interrupted (Ctrl-C) at t = {run.t[-1]:.5g}: no prediction was compared, because an "
                     "unfinished run is not a measurement of the end state.")
        return G.name, settings, None, [], timings, notes, list(model.scope)
    table = run.observables()
    rows += _population_rows(model, table, width)
    t0 = time.perf_counter()
    from ..errors import ResourceError
    from ..landscape.engine import memory_estimate as landscape_estimate

    try:
        brute_force_estimate(model, 8, f"the landscape of {G.name} --bandlimit {G.bandlimit}").check(force)
        landscape_estimate(model, width).check(force)
    except ResourceError as exc:      # the quadrature grid grows fast with the band limit
        notes.append(f"The landscape search is not run: {exc}")
        landscape_result = None
    else:
        from ..landscape import landscape

        say(f"searching the landscape from the same {width} seeded starts")
        landscape_result = landscape(model, starts=width, seed=seed, progress=progress, force=force)
    timings["landscape_s"] = time.perf_counter() - t0
    if landscape_result is not None:
        rows += _landscape_rows(model, table, landscape_result)
    settings["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    return G.name, settings, None, rows, timings, notes, list(model.scope)


def _population_rows(model, table, width: int) -> list:
    from ..theory.compact import predicted_energy

    G = model.group
    dom = np.asarray(table["dominant_orbit"])
    rank = np.max([table[k] for k in table if k.startswith("rank_ratio_")], axis=0)
    single = table["dominant_share"] >= 1 - SHARE_TOL
    rows = [Prediction("every neuron ends on one irrep orbit", 1.0, float(single.mean()), 0.0,
                       bool(single.all()), f"largest orbit share >= 1 - {SHARE_TOL:g} (Haar L^2 norm)"),
            Prediction("every neuron's blocks are rank one", 1.0, float((rank <= RANK_TOL).mean()), 0.0,
                       bool((rank <= RANK_TOL).all()), f"largest singular value ratio <= {RANK_TOL:g}")]
    omega = np.asarray(table["omega"])
    for o in G.orbits[1:]:
        on = dom == o.id
        count = int(on.sum())
        lo, hi = wilson_interval(count, width)
        band = G.irreps[o[0]].band
        rows.append(Prediction(f"share of neurons on {o.display_label} (band {band})", None, count / width, None,
                               None, f"{count} of {width}; 95% Wilson interval {lo:.3f}-{hi:.3f}; no theorem "
                                     f"predicts the basin", section="basins"))
        if count:
            err = float(np.max(np.abs(omega[on] - predicted_energy(o)))) / predicted_energy(o)
            rows.append(Prediction(f"Omega on {o.display_label} = (k d)^(-1/2)", predicted_energy(o),
                                   float(np.mean(omega[on])), OMEGA_TOL, err <= OMEGA_TOL,
                                   f"k = {o.size}, d = {o.dim}; largest relative difference {err:.2g} over "
                                   f"{count} neurons", section="energies"))
    return rows


def _landscape_rows(model, table, result) -> list:
    from ..theory.compact import compact_rates

    G = model.group
    dom = np.asarray(table["dominant_orbit"])
    rows = []
    rates = {tuple(o["irreps"]): o for o in compact_rates(G)["orbits"]} if (
        not model.shared and model.spheres == "separate") else {}
    for a in result.attractors:
        labels = tuple(result.labels(a))
        if len(a.orbits) != 1:
            rows.append(Prediction(f"landscape kind {'+'.join(labels) or 'trivial'}", None, a.fraction, None, None,
                                   "a kind on several orbits (or none): not a constructed equilibrium",
                                   section="landscape"))
            continue
        o = a.orbits[0]
        same = int((dom == o.id).sum())
        rows.append(Prediction(f"basin of {o.display_label}: landscape = population", same, a.count, 0,
                               a.count == same, "the same seeded starts; the flow is per neuron",
                               section="landscape"))
        rows.append(Prediction(f"{o.display_label} is stable", True, bool(a.stable), None, bool(a.stable),
                               "largest tangent eigenvalue <= 0 (brute-force Hessian by quadrature)",
                               section="landscape"))
        spec = rates.get(labels)
        if spec is not None and a.eigenvalues:
            want = np.sort(np.repeat([e["rate"] for e in spec["spectrum"]], [e["multiplicity"] for e in spec["spectrum"]]))
            got = np.sort(np.asarray(a.eigenvalues))
            ok = len(want) == len(got) and float(np.max(np.abs(want - got))) <= RATE_RTOL * max(abs(want).max(), 1e-300)
            rows.append(Prediction(f"tangent spectrum at {o.display_label} = compact_rates'", len(want), len(got),
                                   RATE_RTOL, ok, "every eigenvalue with its multiplicity (symflow rates "
                                                  f"{G.name} --bandlimit {G.bandlimit})", section="landscape"))
    return rows


def _run_info(run) -> dict:
    """The study's ``settings["run"]`` (the keys of :func:`symflow.study.trajectory.run_observed`'s) from a simulation."""
    meta = run.metadata
    integrator = dict(meta.get("integrator", {}))
    integrator.setdefault("max_step", float("nan"))
    return {"steps": meta.get("steps"), "rejected_steps": meta.get("rejected_steps"),
            "rhs_evaluations": meta.get("rhs_evaluations"), "wall_time_s": meta.get("wall_time_s"),
            "interrupted": bool(run.interrupted), "stopped_at_equilibrium": bool(run.stopped_early),
            "t_reached": float(run.t[-1]), "gtol": float(meta.get("gtol") or float("nan")),
            "integrator": {"rtol": float("nan"), "atol": float("nan"), **integrator}}
