r"""``symflow study``: derive, generate, simulate, compare, report.

    from symflow.study import run_study
    study = run_study("F21", width=512, seed=0)      # separate spheres, unshared (GC's setting)
    study.table()                                    # prediction vs measurement, rich table
    study.write("study-F21")                         # report.md, summary.json, figures/*.png

Steps: the model (:class:`~symflow.theory.model.Model`) is derived and its flow generated as
NumPy code (:class:`~symflow.dynamics.reduced.ReducedFlow`, cached on disk); a seeded uniform
population is integrated with the geometric integrator while the observables of
:mod:`symflow.study.trajectory` are recorded; for every populated orbit the equilibrium
(``Omega*``, exact) and the tangent spectrum (exact rates) are derived; then every claim of
:mod:`symflow.study.claims` is evaluated.

Default final time (:func:`study_t_end`): ``T = 40 / min_O Omega*_O`` (time unit ``c = 1``): the slowest decay rate
at any equilibrium is ``Omega*`` (competition amplitude), so deviations fall by ``e^-40``, well
into rounding, after the transient. The run stops earlier once every neuron's Riemannian
gradient is below ``1e-11 n^-3/2``. Ctrl-C during the simulation ends it; an interrupted study
compares no prediction (an unfinished run is not a measurement of the end state) and its report
says so.

``loss="mse"`` studies Li2's model (quadratic activation): the CE theorems do not cover it, so
the end state, the energies and the basins are measurements, the other claims rows "not covered
by the theorem (CE)" (:data:`~symflow.study.claims.NOT_COVERED`). A width below
:data:`~symflow.study.claims.MIN_PER_ORBIT` neurons per non-trivial orbit adds a warning
(:func:`~symflow.study.claims.population_warnings`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._version import __version__
from ..dynamics.reduced import ReducedFlow
from ..dynamics.results import versions
from ..errors import SymflowError
from ..groups import group as get_group
from ..neuron import SPHERES
from ..theory.equilibria import equilibrium
from ..theory.model import Model
from ..theory.rates import spectrum
from ..validation import nontrivial_group
from . import claims as claims_mod
from .predictions import Prediction, totals
from .trajectory import STUDY_N_SAVE, run_observed

DEFAULT_GROUP = "F21"
DEFAULT_WIDTH = 512
T_END_OMEGA = 40.0
#: Losses a study supports (``"mse"``: Li2's model; CE-only theorems are shown as not covered).
STUDY_LOSSES = ("ce", "mse")
#: Default final time of an MSE study, ``T_END_MSE / n`` (time unit c = 1): the MSE energies of the
#: single-orbit end states are of order ``n`` (measured ``n/4`` and ``n/2``), so this is about
#: ``40 / E``; Z5, Z7 and S3 populations reach their end state by t = 5.
T_END_MSE = 160.0


def study_t_end(model) -> float:
    """The study's default final time ``T_END_OMEGA / min Omega*`` over the non-trivial orbits (one
    equilibrium per ``(dim, type)`` class: ``Omega*`` depends on the orbit only through them);
    ``T_END_MSE / n`` for the MSE model (no derived equilibria)."""
    G = model.group
    if model.loss != "ce":
        return T_END_MSE / G.order
    seen, best = {}, np.inf
    for o in G.orbits:
        if o.is_trivial:
            continue
        cls = (o.dim, o.type)
        if cls not in seen:
            seen[cls] = equilibrium(model, o).omega_star_float
        best = min(best, seen[cls])
    return T_END_OMEGA / best


@dataclass
class Study:
    """The outcome of :func:`run_study`: settings, the derived objects, the run and the predictions."""

    name: str
    settings: dict
    data: claims_mod.StudyData
    predictions: list
    timings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    # --------------------------------------------------------------- views
    @property
    def agreed(self) -> int:
        return sum(p.agrees is True for p in self.predictions)

    @property
    def disagreed(self) -> list:
        return [p for p in self.predictions if p.agrees is False]

    @property
    def totals(self) -> dict:
        """Rows per verdict: ``{"agrees", "disagrees", "measured", "not checked", "rows"}``."""
        return totals(self.predictions)

    def summary(self) -> dict:
        """The public ``summary.json`` contract:
        ``{"group", "width", "seed", "settings", "predictions": [{"name", "predicted", "measured",
        "tolerance", "agrees", "detail", "section", "verdict"}], "totals", "warnings"}``
        (``totals``: rows per verdict; ``warnings``: one line each, e.g. a width too small for
        population claims)."""
        return {"group": self.name, "width": int(self.settings["width"]), "seed": int(self.settings["seed"]),
                "settings": self.settings, "predictions": [p.to_json() for p in self.predictions],
                "totals": self.totals, "warnings": list(self.warnings)}

    def table(self, console=None):
        """Print the predictions as a rich table."""
        from .report import rich_table

        from rich.console import Console

        (console or Console()).print(rich_table(self))

    @property
    def interrupted(self) -> bool:
        """True when the simulation was stopped by Ctrl-C (then no prediction was compared)."""
        return bool(self.settings["run"]["interrupted"])

    def write(self, out=None, figures: bool = True, force: bool = False) -> Path:
        """Write ``report.md``, ``summary.json`` and (with matplotlib) ``figures/*.png`` to ``out``
        (default ``study-NAME``), replacing an earlier study output whole (:mod:`symflow.outputs`;
        another non-empty folder only with ``force=True``)."""
        from ..outputs import OutputFolder, safe_name
        from .report import write_report

        folder = OutputFolder(out or f"study-{safe_name(self.name)}", "study", self.output_parameters(), force=force)
        folder.interrupted = self.interrupted
        with folder as stage:
            write_report(self, stage, figures=figures)
        return folder.path

    def output_parameters(self) -> dict:
        """The parameters recorded in the output folder's marker."""
        s = self.settings
        return {"group": self.name, "width": s["width"], "seed": s["seed"], "shared": s["shared"],
                "spheres": s["spheres"], "t_end": s["t_end"], "loss": s["model"]["loss"]}

    def __repr__(self) -> str:
        return (f"<Study {self.name}: {len(self.predictions)} predictions, {self.agreed} agree, "
                f"{len(self.disagreed)} disagree, width {self.settings['width']}, seed {self.settings['seed']}>")

    def _repr_markdown_(self) -> str:
        from .report import markdown_table

        return markdown_table(self)


def run_study(name: str = DEFAULT_GROUP, width: int = DEFAULT_WIDTH, seed: int = 0, shared: bool = False,
              spheres: str | None = None, t_end: float | None = None, n_save: int = STUDY_N_SAVE,
              stage2: bool = True, progress: bool = False, log=None, loss: str = "ce",
              force: bool | None = None, bandlimit: int | None = None) -> Study:
    """Run the whole study for the group ``name`` (see the module docstring); returns a :class:`Study`.

    ``loss``: ``"ce"`` (GC, every prediction) or ``"mse"`` (Li2's model with the quadratic
    activation: the end state and energies are measured, the CE theorems are shown as not covered).
    ``spheres``: ``None`` is the neuron's default (separate, or joint for unshared MSE).
    ``log(message)`` is called with progress messages (the CLI prints them). ``bandlimit``: a compact ``name``
    (``SO(2)``, ``O(2)``, ``SO(3)``, ``O(3)``) runs the study of a band-limited population
    (:mod:`symflow.study.compact`).
    A study whose simulation would not fit the machine's memory (:func:`symflow.dynamics.drivers.memory_estimate`
    at ``width`` and ``n_save``) raises :class:`~symflow.errors.ResourceError` before anything is derived,
    unless ``force`` (``None``: the CLI's ``--force``).
    """
    say = log or (lambda msg: None)
    if spheres is not None and spheres not in SPHERES:
        raise SymflowError(f"spheres must be 'separate' or 'joint', got {spheres!r}")
    if not isinstance(loss, str) or loss.lower() not in STUDY_LOSSES:
        raise SymflowError(f"loss must be one of {', '.join(STUDY_LOSSES)} (a study supports cross-entropy and "
                           f"Li2's MSE with the quadratic activation), got {loss!r}")
    loss = loss.lower()
    if isinstance(n_save, bool) or not isinstance(n_save, (int, np.integer)) or n_save < 11:
        raise SymflowError(f"n_save must be an integer >= 11 (rate fits need dense samples), got {n_save!r}")
    timings = {}
    t0 = time.perf_counter()
    G = nontrivial_group(get_group(name, bandlimit=bandlimit), "a study")
    if getattr(G, "is_compact", False):    # a band-limited population: symflow/study/compact.py
        from .compact import run_compact_study

        return Study(*run_compact_study(G, width, seed, shared=shared, spheres=spheres, t_end=t_end,
                                        progress=progress, log=log, force=force))
    model = Model(G, shared=shared, spheres=spheres, loss=loss)
    if isinstance(width, (int, np.integer)) and not isinstance(width, bool):   # a bad width is refused below
        from ..dynamics.drivers import memory_estimate

        estimate = memory_estimate(model, int(width), int(n_save))
        estimate.what = f"study {G.name} with {width} neurons"
        estimate.check(force)
    spheres = model.spheres
    timings["group_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say(f"deriving and generating the flow of {model.describe()}")
    flow = ReducedFlow(model)
    timings["derive_and_codegen_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    T = study_t_end(model) if t_end is None else float(t_end)
    timings["t_end_s"] = time.perf_counter() - t0
    say(f"simulating {width} neurons to t = {T:.5g} (seed {seed})")
    t0 = time.perf_counter()
    run = run_observed(model, width, seed, T, n_save=n_save, progress=progress)
    timings["simulate_s"] = time.perf_counter() - t0
    notes = []
    interrupted = bool(run.info["interrupted"])
    if interrupted:
        # An unfinished run is not evidence against an end-state prediction: nothing is compared
        # (never a DISAGREES row), the settings record how far the run got, and the caller exits 130.
        notes.append(f"Interrupted (Ctrl-C) at t = {run.t[-1]:.5g} of {T:.5g}: no prediction was compared, "
                     "because an unfinished run is not a measurement of the end state.")

    t0 = time.perf_counter()
    data = claims_mod.StudyData(model, run, {}, {}, seed)
    checked = set()
    if not interrupted and model.loss == "ce":
        say("deriving equilibria and spectra of the populated orbits")
    for o in (() if interrupted or model.loss != "ce" else data.populated()):
        eq = equilibrium(model, o)
        cls = (o.dim, o.type)
        data.equilibria[o.id] = eq
        data.spectra[o.id] = spectrum(eq, verify=(cls not in checked and G.order <= 200))
        checked.add(cls)
    timings["theory_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if not interrupted and G.order <= claims_mod.LANDSCAPE_MAX_ORDER:
        from ..landscape import landscape

        say(f"searching the landscape from the same {width} seeded starts")
        try:
            data.landscape = landscape(model, starts=width, seed=seed, progress=progress)
        except KeyboardInterrupt:
            interrupted = True
            run.info["interrupted"] = True
            notes.append("Interrupted (Ctrl-C) during the landscape search: no prediction was compared.")
    elif not interrupted:
        notes.append(f"The landscape search (symflow landscape) is not run for order {G.order} > "
                     f"{claims_mod.LANDSCAPE_MAX_ORDER}: its Hessians have (V n)^2 entries per neuron.")
    timings["landscape_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    predictions: list[Prediction] = []
    if not interrupted:
        say("comparing predictions with measurements")
    for claim in (() if interrupted else claims_mod.ALL_CLAIMS):
        if claim is claims_mod.stage2 and not stage2:
            continue
        rows = claim(data) if claim is not claims_mod.flawed_indicator else claim(data, seed=seed)
        predictions.extend(rows if claim is claims_mod.landscape_kinds else claims_mod.scope_rows(data, rows))
    timings["compare_s"] = time.perf_counter() - t0
    del flow
    settings = {"model": model.to_dict(), "width": int(width), "seed": int(seed), "shared": bool(shared),
                "spheres": spheres, "t_end": float(T), "t_reached": float(run.t[-1]), "n_save": int(n_save),
                "time_unit": "c = 1", "init": "uniform on the spheres (seeded)", "run": run.info,
                "tolerances": {k: getattr(claims_mod, k) for k in ("SHARE_TOL", "RANK_TOL", "COS_TOL", "OMEGA_TOL",
                                                                    "RATE_TOL", "ALPHA", "STAGE2_TOL",
                                                                    "STAGE2_THEORY_TOL", "STAGE2_EPS",
                                                                    "MIN_PER_ORBIT")},
                "fit_windows": claims_mod.FIT_WINDOWS, "versions": versions(), "symflow": __version__,
                "timings_s": {k: round(v, 3) for k, v in timings.items()}}
    warnings = list(model.scope) + claims_mod.population_warnings(G, int(width))
    return Study(G.name, settings, data, predictions, timings, notes, warnings)
