"""The landscape of a model: every attractor that random starts find, and every constructed equilibrium.

    from symflow.landscape import landscape
    L = landscape("D5", shared=True, starts=2000, seed=0)
    L.attractors[0].energy_exact, L.to_json()

Pipeline (each step in its module): seeded starts brought to critical points at rounding level
(:mod:`.search`), grouped into kinds by basis-free invariants (:mod:`.kinds`), and for each kind
(:mod:`.analysis`): a representative refined to ``DIGITS`` digits and its energy recognised exactly,
its tangent spectrum with the zero modes split into symmetry, family and degenerate directions, the
spectrum's range over sample points of the kind (other neurons of it, points along its family), the
basin fraction with a 95 % Wilson interval. For the CE model with the quadratic activation, the
constructed equilibrium of every orbit (:mod:`symflow.theory.equilibria`) is matched to a kind
(``source = "constructed"``) or listed with an empty basin; every other kind is ``"discovered"``.

Search: ``search="flow"`` is the reduced Fourier flow (quadratic activation, full table); ``"ascent"`` the
brute-force projected gradient ascent (:func:`.search.converge_by_ascent`: any model the brute force
evaluates, e.g. Li2's energy on a training mask or with ReLU / SiLU); ``"auto"`` the flow where it exists.
The flow and the ascent both go up the energy: kinds with no growing direction are its local maxima.
Analysis: ``analysis="full"`` as above; ``"spectrum"`` stops at the representative's tangent spectrum (no
high-precision refinement or exact energy, no sample spectra, no family test: the zero modes that are not
symmetries are left unsplit, ``Attractor.zero_modes`` counts them all), for callers that need kinds,
energies, flat dimensions, stability and basins fast.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .._version import __version__
from ..blas import blas_limits
from ..errors import ModelError, SymflowError
from ..neuron import bruteforce
from ..neuron.points import split, vector_length
from ..progress import progress_bar
from ..resources import forced, format_seconds
from ..statistics import wilson_interval
from ..theory.model import Model
from ..validation import integer, nontrivial_group
from . import analysis
from .kinds import KindKey, energy_level, kind_keys, orbit_shares, singular_values
from .search import FLOW_ARRAYS, GRADIENT_TOL, chunk_rows, search_basins, stream_rows

#: The search methods and the analysis depths of :func:`landscape`.
SEARCHES = ("auto", "flow", "ascent")
ANALYSES = ("full", "spectrum")

#: Neurons of a kind (besides the representative) whose spectra give its range.
SAMPLE_MEMBERS = 8
#: Points visited along a kind's family directions for its range and the stable part of the family.
FAMILY_POINTS = 16


@dataclass
class Attractor:
    """One kind of critical point; the fields of the JSON contract (``to_json``)."""

    orbits: list                  # IrrepOrbit of the support (non-trivial ones), dominant first
    energy: float
    energy_exact: str | None
    rank: int
    singular_values: dict
    symmetry_dimension: int
    family_dimension: int
    degenerate_dimension: int
    stable: bool
    family_stable_fraction: float | None
    spectrum: list                # [(mode, rate_min, rate_max, multiplicity)]
    count: int
    starts: int
    source: str
    representative: dict
    residual: float               # |grad| at the refined representative (mpmath)
    samples: int
    notes: list = field(default_factory=list)
    zero_modes: int = 0           # zero modes of the representative's tangent spectrum (all kinds of them)
    eigenvalues: list = field(default_factory=list)   # the representative's sorted tangent eigenvalues

    @property
    def dim(self) -> int:
        """Irrep dimension of the dominant orbit (1 for a kind on the trivial orbit only)."""
        return self.orbits[0].dim if self.orbits else 1

    @property
    def type(self) -> str:
        """Irrep type of the dominant orbit; a kind on the trivial orbit only is ``"real"`` (the trivial
        irrep is real), so the type is always one of real / complex / quaternionic."""
        return self.orbits[0].type if self.orbits else "real"

    def rate_range(self, which: str):
        """``(lo, hi)`` of the nonzero mode nearest to zero (``which="slowest"``) or farthest from it
        (``"fastest"``) over the kind's samples; ``None`` when every mode is a zero mode."""
        moving = [(lo, hi) for mode, lo, hi, _ in self.spectrum if mode in ("decay", "growth")]
        if not moving:
            return None
        return max(moving, key=lambda r: r[1]) if which == "slowest" else min(moving, key=lambda r: r[0])

    @property
    def fraction(self) -> float:
        return self.count / self.starts if self.starts else 0.0

    @property
    def ci95(self) -> tuple:
        return wilson_interval(self.count, self.starts)

    @property
    def convergence(self) -> str:
        if self.degenerate_dimension is None:
            return "not analysed"
        return "slower than exponential" if self.degenerate_dimension else "exponential"

    def to_json(self, labels) -> dict:
        return {"orbit": labels, "dim": self.dim, "type": self.type,
                "energy": self.energy, "energy_exact": self.energy_exact, "rank": self.rank,
                "singular_values": {k: [float(v) for v in s] for k, s in self.singular_values.items()},
                "family_dimension": self.family_dimension, "symmetry_dimension": self.symmetry_dimension,
                "degenerate_dimension": self.degenerate_dimension, "convergence": self.convergence,
                "stable": self.stable, "family_stable_fraction": self.family_stable_fraction,
                "spectrum": [{"mode": m, "rate_min": a, "rate_max": b, "multiplicity": k}
                             for m, a, b, k in self.spectrum],
                "basin": {"count": self.count, "fraction": self.fraction, "ci95": list(self.ci95)},
                "source": self.source, "samples": self.samples, "residual": self.residual,
                "representative": {k: [float(v) for v in vals] for k, vals in self.representative.items()},
                "notes": list(self.notes)}


@dataclass
class Landscape:
    """The result of :func:`landscape`."""

    model: object
    starts: int
    seed: int
    attractors: list
    unconverged: int
    warnings: list
    wall_time: float
    interrupted: bool = False
    #: per start (``uniform(model, starts, seed)``'s rows): index into ``attractors`` of the kind it reached, ``-1``
    #: unconverged; ``None`` when the search ran in several chunks (only a basin's first members are kept then)
    start_kind: np.ndarray | None = None

    def labels(self, a: Attractor) -> list:
        """The irrep labels of ``a``'s orbit support (dominant orbit first)."""
        return _labels(self.model.group, a)

    def to_json(self) -> dict:
        """The public contract of ``symflow landscape --json`` (README, "Landscape")."""
        m = self.model
        return {"group": m.group.name, "order": m.group.order, "shared": bool(m.shared), "spheres": m.spheres,
                "loss": m.loss, "activation": m.activation_text, "starts": self.starts, "seed": self.seed,
                "time_unit": "c=1", "warnings": list(self.warnings), "unconverged": self.unconverged,
                "interrupted": self.interrupted, "version": __version__, "wall_time": self.wall_time,
                "attractors": [a.to_json(self.labels(a)) for a in self.attractors],
                **({"bandlimit": m.group.bandlimit, "normalisation": m.to_dict()["normalisation"]}
                   if getattr(m, "is_compact", False) else {})}

    def __repr__(self) -> str:
        kinds = ", ".join(f"{'+'.join(self.labels(a)) or 'trivial'} E={a.energy:.6g} {a.fraction:.1%}"
                          for a in self.attractors)
        return f"<Landscape {self.model.group.name} {self.starts} starts: {kinds}>"


def _constructed(model) -> list:
    """The constructed equilibria (CE, quadratic activation, sphere constraint), else ``[]``."""
    if model.loss != "ce" or not model.is_bilinear or not model.neuron.constrained:
        return []
    if getattr(model, "is_compact", False):
        from ..theory.bandlimited import compact_equilibria

        return compact_equilibria(model)
    from ..theory.equilibria import orbit_equilibria

    try:
        return orbit_equilibria(model)
    except ModelError:
        return []


def _point_of(model, eq) -> np.ndarray:
    vec = dict(zip(model.neuron.roles[::-1], eq.point[::-1]))
    return np.concatenate([np.asarray(vec[name], float) for name in model.vector_names])


def memory_estimate(model, starts: int):
    """The peak memory of :func:`landscape` (:class:`~symflow.resources.MemoryEstimate`): with ``n`` the group's
    order, ``D = V n`` the coordinates of a neuron and ``M = starts``, the brute-force complex-step Hessian
    (``D`` points, four ``(D, n, n)`` complex arrays), the brute-force energy and gradient of every start (four
    ``(min(M, rows), n, n)`` arrays: they run :func:`~symflow.landscape.search.chunk_rows` starts at a time) and the
    flow's population (about ``FLOW_ARRAYS`` = 30 ``(C, D)`` arrays: stages, saves, copies; ``C = min(M,
    stream_rows)``: more starts run in chunks, :func:`~symflow.landscape.search.search_basins`)."""
    from ..resources import MemoryEstimate

    D = len(model.vector_names) * vector_length(model)
    P = bruteforce.pair_count(model.group)          # n^2 table entries (N^2 quadrature node pairs if compact)
    chunk = min(starts, stream_rows(model))
    est = MemoryEstimate(f"landscape {model.group.name} with {starts} starts",
                         lower="--starts or a smaller group")
    est.add("the brute-force Hessian", arrays=4, shape=(D, P), itemsize=16,
            lower="a smaller --bandlimit (the quadrature's node pairs grow as L^6 on SO(3); --starts does not change it)"
            if getattr(model, "is_compact", False) else
            "a smaller group (the Hessian grows as the cube of the order; --starts does not change it)")
    est.add("the brute-force energy and gradient of the starts", arrays=4, shape=(min(starts, chunk_rows(model)), P))
    est.add("the flow's population" + (f" (chunks of {chunk} starts)" if chunk < starts else ""),
            arrays=FLOW_ARRAYS, shape=(chunk, D))
    return est


#: Starts of the timed calibration run of a search in several chunks (:func:`time_estimate`).
CALIBRATION_STARTS = 256


def time_estimate(model, starts: int, seed: int, search: str) -> tuple:
    """``(seconds, basis)``: the search and basin bookkeeping of ``starts`` starts estimated as ``starts / c``
    times the measured time of a calibration run on ``c = min(CALIBRATION_STARTS, starts)`` seeded starts (one
    chunk of :func:`~symflow.landscape.search.search_basins`, after an untimed run on 8 starts that generates and
    loads the flow's code; the analysis of the kinds, whose number does not grow with the starts, is not
    counted); ``basis`` says what was measured."""
    c = min(CALIBRATION_STARTS, starts)
    search_basins(model, min(8, c), seed, search=search)      # untimed: code generation, imports, caches
    t = time.perf_counter()
    search_basins(model, c, seed, search=search)
    took = time.perf_counter() - t
    return took * starts / c, f"{c} starts took {took:.2g} s"


def landscape(model, starts: int = 512, seed: int = 0, shared=None, spheres=None, loss=None,
              progress: bool = False, workers: int = 1, search: str = "auto", analysis: str = "full",
              force: bool | None = None) -> Landscape:
    """Search the landscape of ``model``; returns a :class:`Landscape` (module docstring).

    ``model``: a Model, or a group name or Group with ``shared``, ``spheres``, ``loss``. ``starts`` seeded
    uniform starts (``seed``), the same ones every run with that width and seed draws. ``workers``: processes
    for the flow (see :func:`symflow.dynamics.simulate`). ``search``: ``"flow"`` (the reduced flow: quadratic
    activation, full table), ``"ascent"`` (brute-force ascent, any model) or ``"auto"`` (the flow where it
    exists); ``analysis``: ``"full"`` or ``"spectrum"`` (module docstring). A run whose :func:`memory_estimate`
    exceeds the machine's memory raises :class:`~symflow.errors.ResourceError` before computing, unless
    ``force`` (:mod:`symflow.resources`). More starts than one chunk
    (:func:`~symflow.landscape.search.stream_rows`) are streamed (:func:`~symflow.landscape.search.search_basins`)
    and, unless ``force``, their :func:`time_estimate` (a timed calibration run) is checked against the time
    budget (:func:`symflow.resources.time_budget`, an hour) first.

    >>> L = landscape("Z5", starts=16)
    >>> [(L.labels(a), a.energy_exact, a.source) for a in L.attractors]      # doctest: +SKIP
    [(['chi_1', 'chi_4'], 'sqrt(10)/50', 'constructed'), (['chi_2', 'chi_3'], 'sqrt(10)/50', 'constructed')]
    """
    t0 = time.perf_counter()
    if not hasattr(model, "neuron"):
        model = Model(model, shared=bool(shared), spheres=spheres, loss=loss or "ce")
    model = Model.coerce(model)
    if search not in SEARCHES:
        raise SymflowError(f"search must be one of {', '.join(SEARCHES)} (the reduced flow, the brute-force "
                           f"ascent, or the flow where it exists), got {search!r}")
    if analysis not in ANALYSES:
        raise SymflowError(f"analysis must be one of {', '.join(ANALYSES)}, got {analysis!r}")
    if search == "flow":
        model.require_block_flow()
    elif search == "auto":
        search = "flow" if (model.mask is None and model.is_bilinear) else "ascent"
    nontrivial_group(model.group, "a landscape search")
    starts = integer(starts, "starts", minimum=1)
    seed = integer(seed, "seed", minimum=0)
    est = memory_estimate(model, starts).check(force)
    with blas_limits(1):     # many small eigh/svd: one BLAS thread each (symflow/blas.py)
        if starts > stream_rows(model) and not (forced() if force is None else force):
            est.seconds, est.basis = time_estimate(model, starts, seed, search)
            est.check(force)
            if progress:
                print(f"{est.what}: about {format_seconds(est.seconds)} ({est.basis}) in chunks of "
                      f"{stream_rows(model)} starts", file=sys.stderr)
        return _landscape(model, starts, seed, progress, workers, t0, search, depth=analysis)


def _landscape(model, starts, seed, progress, workers, t0, search="flow", depth="full") -> Landscape:
    found = search_basins(model, starts, seed, search=search, progress=progress, workers=workers)
    method = "flow" if search == "flow" else "ascent"
    stopped = []
    if found.interrupted:
        if not found.done:
            raise KeyboardInterrupt(f"the {method} was interrupted"
                                    + (f" at t = {found.time:.4g}" if found.time else "") + "; no kind was analysed")
        # Ctrl-C between chunks: the landscape of the starts of the completed chunks
        stopped.append(f"interrupted after {found.done} of {starts} starts (chunks of {stream_rows(model)}): "
                       f"the basins are those of the first {found.done} starts")
        starts = found.done
    G = model.group
    scale = found.scale
    tol = GRADIENT_TOL * scale
    groups = _kinds_of(found.basins.values(), scale)
    constructed = _constructed(model)
    matched = {}
    for eq in constructed:
        p = _point_of(model, eq)
        k = kind_keys(model, p[None, :], np.array([bruteforce.energy(model, p)]), scale)[0]
        matched.setdefault(k, (eq, p))
    symmetries = analysis.SymmetryAlgebra(model, seed=seed)
    attractors, members = [], []
    todo = [(k, kind) for k, kind in groups.items()]
    todo += [(k, None) for k in matched if k not in groups]
    with progress_bar("kinds", total=len(todo), enabled=progress, counts=True) as bar:
        for key, kind in todo:
            point = kind.best[3] if kind else matched[key][1]
            count = kind.count if kind else 0
            if depth == "spectrum":
                attractors.append(_analyse_spectrum(model, key, point, count, symmetries, tol, starts))
            else:
                samples = [m[3] for m in kind.kept] if kind else []
                attractors.append(_analyse(model, key, point, count, samples, symmetries, tol, starts, seed,
                                           matched.get(key)))
            members.append([m[0] for m in kind.kept] if kind and len(kind.kept) == kind.count else [])
            bar.advance()
    order = sorted(range(len(attractors)), key=lambda i: (-attractors[i].count, -attractors[i].energy))
    attractors = [attractors[i] for i in order]
    start_kind = None
    if found.chunks == 1:          # every member kept: each start's kind is known
        start_kind = np.full(starts, -1, dtype=np.int64)
        for new, old in enumerate(order):
            start_kind[members[old]] = new
    warnings = list(model.scope) + stopped
    unconverged = len(found.unconverged)
    if unconverged:
        g = np.array([grad for _, grad in found.unconverged])
        warnings.append(f"{unconverged} of {starts} starts did not reach |grad| <= {tol:.2g} (10^4 roundings of "
                        f"the energy scale) after the {method} and Newton steps (|grad| {g.min():.2g} to {g.max():.2g}); "
                        f"they are not in any basin. Convergence slower than exponential (a rate that goes to zero, "
                        f"e.g. at the end of a family's stable part) is the usual cause")
    if found.failures:
        causes: dict = {}
        for m, cause in sorted(found.failures.items()):
            causes.setdefault(cause, []).append(m)
        warnings.append(f"{len(found.failures)} of the unconverged starts stopped because Newton could not continue: "
                        + "; ".join(f"{cause} (start{'s' if len(ms) > 1 else ''} "
                                    f"{', '.join(map(str, ms[:5]))}{', ...' if len(ms) > 5 else ''})"
                                    for cause, ms in causes.items()))
    for a in attractors:
        if a.count and not a.stable:
            warnings.append(f"{a.count} starts ended at a saddle ({'+'.join(lab for lab in _labels(G, a))}, "
                            f"E = {a.energy:.6g}): they stopped near it within the flow's tolerance")
        if a.degenerate_dimension and depth == "full":
            warnings.append(f"{'+'.join(_labels(G, a))} (E = {a.energy:.6g}): {a.degenerate_dimension} degenerate "
                            f"zero modes (neither symmetry nor family): convergence is slower than exponential")
    return Landscape(model, starts, seed, attractors, unconverged, warnings, time.perf_counter() - t0,
                     found.interrupted, start_kind)


@dataclass
class _Kind:
    """The converged starts of one kind, gathered from :class:`~symflow.landscape.search.Basin` s: ``count``,
    ``kept`` ``[(start, |grad|, E, point)]`` (its first members, in start order), ``best`` (least ``|grad|``,
    the first such: the representative) and ``first`` (its first start: kinds are listed in that order)."""

    count: int = 0
    kept: list = field(default_factory=list)
    best: tuple = None

    @property
    def first(self) -> int:
        return self.kept[0][0]


def _kinds_of(basins, scale: float) -> dict:
    """``{KindKey: _Kind}``: every kept member of a basin under its key at the energy ``scale`` of all the
    starts (:func:`~symflow.landscape.kinds.energy_level`); the basin's members not kept (a search in several
    chunks keeps the first ``KEPT_MEMBERS``) and its best under its best member's key. Ordered by first start."""
    kinds: dict = {}
    for b in basins:
        for member in b.kept:
            kind = kinds.setdefault(KindKey(b.support, b.rank, energy_level(member[2], scale, b.kink)), _Kind())
            kind.count += 1
            kind.kept.append(member)
        kind = kinds.setdefault(KindKey(b.support, b.rank, energy_level(b.best[2], scale, b.kink)), _Kind())
        kind.count += b.count - len(b.kept)
        if kind.best is None or b.best[:2] < kind.best[:2]:
            kind.best = b.best
    for kind in kinds.values():
        for start, grad, energy, point in kind.kept:
            if kind.best is None or (grad, start) < kind.best[:2]:
                kind.best = (grad, start, energy, point)
        kind.kept.sort(key=lambda m: m[0])
        if not kind.kept:
            grad, start, energy, point = kind.best
            kind.kept = [(start, grad, energy, point)]
    return dict(sorted(kinds.items(), key=lambda kv: kv[1].first))


def _labels(G, a) -> list:
    """Irrep labels of the orbits of ``a`` (each orbit's irreps by index into ``G.irreps``)."""
    return [G.irreps[i].label for o in a.orbits for i in o]


def _analyse_spectrum(model, key, point, count, symmetries, tol, starts) -> Attractor:
    """The ``analysis="spectrum"`` kind: the representative's energy and tangent spectrum (symmetry zero modes
    split off, the rest unsplit: ``family_dimension`` and ``degenerate_dimension`` are ``None``)."""
    G = model.group
    shares = orbit_shares(model, point[None, :])[0].max(axis=0)
    orbits = sorted((G.orbits[k] for k in key.support if not G.orbits[k].is_trivial), key=lambda o: -shares[o.id])
    rep = analysis.point_spectrum(model, point, symmetries, tol, test_family=False)
    modes = analysis.modes([rep], analysis.mode_labels(rep))
    sv = singular_values(model, point, orbits[0]) if orbits else {}
    residual = float(np.linalg.norm(bruteforce.riemannian_gradient(model, point)))
    return Attractor(orbits=orbits, energy=float(bruteforce.energy(model, point)), energy_exact=None, rank=key.rank,
                     singular_values=sv, symmetry_dimension=rep.symmetry, family_dimension=None,
                     degenerate_dimension=None, stable=rep.stable, family_stable_fraction=None, spectrum=modes,
                     count=count, starts=starts, source="discovered",
                     representative={k: v.copy() for k, v in split(model, point).items()}, residual=residual,
                     samples=1, notes=["analysis='spectrum': energy not refined, zero modes that are not "
                                       "symmetries not split into family and degenerate"],
                     zero_modes=rep.zero, eigenvalues=[float(w) for w in rep.eigenvalues])


def _analyse(model, key, point, count, members, symmetries, tol, starts, seed, constructed) -> Attractor:
    """The ``analysis="full"`` kind of ``count`` starts: ``point`` its representative, ``members`` the points of
    its first members in start order (their spectra, up to ``SAMPLE_MEMBERS`` other than the representative,
    give the kind's range)."""
    G = model.group
    shares = orbit_shares(model, point[None, :])[0].max(axis=0)
    orbits = sorted((G.orbits[k] for k in key.support if not G.orbits[k].is_trivial),
                    key=lambda o: -shares[o.id])
    X, residual = analysis.refine(model, point)
    E_mp, exact = analysis.exact_energy(model, X)
    point = np.array([float(v) for v in X])
    notes = []
    if constructed is not None:
        omega = sp.radsimp(constructed[0].omega_star)
        if abs(float(sp.N(omega, 30)) - float(E_mp)) > 1e-12 * abs(float(E_mp)):
            raise SymflowError(f"{G.name}: the kind matched to the constructed equilibrium of "
                               f"{constructed[0].irreps} has energy {float(E_mp)!r}, not Omega* = {omega}")
        if (exact is None and not getattr(model, "is_compact", False)) or (exact is not None
                                                                          and sp.simplify(exact - omega) != 0):
            notes.append(f"energy recognised as {exact}; the construction gives {omega}")
        exact = omega
    rep = analysis.point_spectrum(model, point, symmetries, tol)
    spectra = [rep]
    others = [p for p in members if not np.allclose(p, point, atol=1e-9)][:SAMPLE_MEMBERS]
    spectra += analysis.sample_spectra(model, others)
    family_fraction = None
    if rep.family:
        walk = analysis.family_walk(model, point, rep, symmetries, tol, FAMILY_POINTS, seed)
        walk_spectra = [ps for _, ps in walk]
        if walk_spectra:
            family_fraction = float(np.mean([s.stable for s in [rep] + walk_spectra]))
            unstable = [s for s in walk_spectra if not s.stable]
            if unstable:
                notes.append(f"the family continues into an unstable part: {len(unstable)} of "
                             f"{len(walk_spectra) + 1} sampled family points have a growing direction (largest "
                             f"rate {max(s.eigenvalues.max() for s in unstable):.4g}); the spectrum shown is "
                             f"over the stable points")
            spectra += [s for s in walk_spectra if s.stable or not rep.stable]
    sizes = {len(s.eigenvalues) for s in spectra}
    if len(sizes) != 1:  # pragma: no cover - one model, one tangent dimension
        raise SymflowError("internal check failed: sample spectra of one kind differ in dimension")
    modes = analysis.modes(spectra, analysis.mode_labels(rep))
    sv = singular_values(model, point, orbits[0]) if orbits else {}
    stable = all(s.stable for s in spectra[:1 + len(others)])
    return Attractor(orbits=orbits, energy=float(E_mp), energy_exact=None if exact is None else str(exact),
                     rank=key.rank, singular_values=sv, symmetry_dimension=rep.symmetry,
                     family_dimension=rep.family, degenerate_dimension=rep.degenerate, stable=stable,
                     family_stable_fraction=family_fraction, spectrum=modes, count=count, starts=starts,
                     source="constructed" if constructed is not None else "discovered",
                     representative={k: v.copy() for k, v in split(model, point).items()},
                     residual=float(residual), samples=len(spectra), notes=notes, zero_modes=rep.zero,
                     eigenvalues=[float(w) for w in rep.eigenvalues])

