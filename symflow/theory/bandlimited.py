"""GC's energy on a band-limited compact group, as the one model derives it (docs/theory.md section 13).

A :class:`~symflow.theory.model.Model` on ``SO(2)``, ``O(2)``, ``SO(3)``, ``O(3)`` with a band limit is the finite
model with Haar probability in place of counting measure: the convolution theorem and Plancherel hold with the
same blocks, ``f_hat(rho) = int f rho^dagger dg``, so the energy is the same block sum
``Omega = sum_{rho != 1} d_rho tr(xi_hat^* theta2_hat theta1_hat)`` and the block flows are the model's
(:meth:`~symflow.theory.model.Model.block_flow`, derived once per ``d``) with ``n = 1``
(:func:`symflow.groups.compact.signals.mass`). The product of two band-``L`` functions integrates exactly with the
band-``2L`` quadrature and the convolution of band-limited functions stays band-limited, so the energy restricted to
band ``<= L`` is exact and the flow never leaves the band.

:class:`CompactEnergy` is what ``Model.energy()`` returns on a compact group: the Fourier form (text, LaTeX, its
value at coordinates) and :meth:`CompactEnergy.verify`, the check against the independent brute force (the Haar
double integral by quadrature, :mod:`symflow.neuron.bruteforce`): at seeded random band-limited points, the Fourier
form's energy and the derived block flows' velocity equal the brute-force energy and Riemannian gradient
(a numeric check, not an exact proof: the quadrature nodes are irrational).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import SymflowError
from .energy import energy_trace_words

#: Largest grid ``phi(g_a g_b)`` (``N^2 D`` entries, about 0.4 GB and a second per point) the check builds: a band
#: limit above it is checked at the largest band limit below it (:func:`check_bandlimit`).
CHECK_ENTRIES = 5 * 10 ** 7
#: Relative tolerance of :meth:`CompactEnergy.verify` (energies and velocities are ``O(1)``; rounding ``~1e-15``).
CHECK_RTOL = 1e-10

#: The energy as the command prints it (Haar probability, unit ``L^2`` spheres).
HAAR_TEXT = "Ω = ∫∫ ξ̃(g₁g₂) θ₁(g₁) θ₂(g₂) dg₁ dg₂   (Haar probability dg, ξ̃ = ξ - ∫ξ; unit L² spheres)"
HAAR_LATEX = ("\\Omega = \\int_G\\int_G \\tilde\\xi(g_1 g_2)\\,\\theta_1(g_1)\\,\\theta_2(g_2)\\,dg_1\\,dg_2,\\quad "
              "\\tilde\\xi = \\xi - \\textstyle\\int_G \\xi")


@dataclass
class CompactVerification:
    """Result of :meth:`CompactEnergy.verify` (the fields ``derive`` reads of a proof report)."""

    group: str
    model: str
    points: int
    seed: int
    passed: bool
    energy_error: float
    flow_error: float
    seconds: float = 0.0
    exact: bool = False
    bandlimit: int | None = None      # the band limit the check ran at
    requested: int | None = None      # the model's band limit

    @property
    def failure_probability(self) -> float:
        return float("nan")    # a numeric check: no false-pass bound

    def __bool__(self) -> bool:
        return self.passed

    def summary(self) -> str:
        verdict = "CHECKED" if self.passed else "FAILED"
        return (f"{verdict}: Fourier form and derived block flows == brute force (Haar integrals by the quadrature "
                f"exact to band 2L) on {self.group} at {self.points} random band-limited points (seed {self.seed}): "
                f"largest relative differences {self.energy_error:.1e} (energy), {self.flow_error:.1e} "
                f"(Riemannian gradient), tolerance {CHECK_RTOL:g}" + self._band_note())

    def _band_note(self) -> str:
        if self.bandlimit is None or self.bandlimit == self.requested:
            return ""
        return (f"; checked at band limit {self.bandlimit}, not {self.requested}: the brute-force grid of band "
                f"{self.requested} has more than {CHECK_ENTRIES:.0e} entries (the block flows do not depend on the band "
                f"limit, which only adds irreps)")


class CompactEnergy:
    """The energy of a model on a band-limited compact group (module doc); ``Model(G).energy()``."""

    parameter_space = None

    def __init__(self, model):
        self.model = model

    @property
    def group(self):
        return self.model.group

    def trace_words(self, d, n) -> list:
        """The block energy's trace words (:func:`symflow.theory.energy.energy_trace_words`, the finite model's)."""
        return list(energy_trace_words(self.model, d, n))

    def fourier_value(self, x, model=None) -> np.ndarray:
        """The Fourier form ``sum_{rho != 1} d_rho sum coef tr(word)`` at stacked coordinates ``x`` ``(..., V D)``:
        each vector's blocks from its coordinates (:func:`symflow.groups.compact.signals.fourier`)."""
        from ..neuron.points import split

        m = self.model if model is None else model
        G = m.group
        blocks = {name: G.fourier(v) for name, v in split(m, np.asarray(x, float)).items()}
        total = 0.0
        for r in G.irreps:
            if r.is_trivial:
                continue
            for coef, word in energy_trace_words(m, r.dim, 1):
                M = None
                for name, power, adj in word:
                    if power != 1:     # pragma: no cover - compact models are quadratic
                        raise SymflowError("compact models take the quadratic activation only")
                    B = blocks[name][r.id]
                    B = np.conj(np.swapaxes(B, -1, -2)) if adj else B
                    M = B if M is None else M @ B
                total = total + float(coef) * np.trace(M, axis1=-2, axis2=-1)
        return np.real(total)

    def verify(self, points: int = 5, seed: int = 0, progress: bool = False) -> CompactVerification:
        """Check the Fourier form and the derived block flows (SymPy, evaluated numerically; the trivial block's
        decay) against the brute force at ``points`` seeded random band-limited points on the model's spheres
        (module doc), at the band limit :func:`check_bandlimit` allows."""
        from ..groups import group
        from ..neuron import bruteforce
        from ..neuron.geometry import StackedGeometry
        from ..neuron.points import vector_length

        if not isinstance(points, int) or isinstance(points, bool) or points < 1:
            raise SymflowError(f"points must be a positive integer, got {points!r}")
        t0 = time.perf_counter()
        m = self.model
        band = check_bandlimit(m)
        if band != m.group.bandlimit:
            m = type(m)(group(m.group.name, bandlimit=band), shared=m.shared, spheres=m.spheres,
                        constraint=m.constraint)
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((points, len(m.vector_names) * vector_length(m)))
        if m.neuron.constrained:
            StackedGeometry.of(m).retract(x)
        E_bf, g = bruteforce.energy(m, x), bruteforce.riemannian_gradient(m, x)
        E_f = self.fourier_value(x, m)
        v = derived_velocity(m, x, E_f)
        scale = max(float(np.abs(E_bf).max()), float(np.abs(g).max()), 1e-300)
        e_err = float(np.abs(E_f - E_bf).max()) / scale
        f_err = float(np.abs(v - g).max()) / scale
        return CompactVerification(group=self.group.name, model=m.key(), points=points, seed=seed,
                                   passed=bool(e_err <= CHECK_RTOL and f_err <= CHECK_RTOL), energy_error=e_err,
                                   flow_error=f_err, seconds=time.perf_counter() - t0, bandlimit=band,
                                   requested=self.group.bandlimit)

    def latex(self, form: str = "fourier") -> str:
        from .display import energy_latex

        return HAAR_LATEX if form == "parameter" else energy_latex(self, "fourier")

    def __repr__(self) -> str:
        return f"<CompactEnergy {self.model!r}>"


def brute_force_estimate(model, points: int, what: str = ""):
    """The :class:`~symflow.resources.MemoryEstimate` of the brute force at ``points`` points on the model's compact
    group: the grid ``phi(g_a g_b)`` (``N^2 D`` floats, :func:`symflow.neuron.bruteforce.haar_grid`) and about eight
    ``(points, N, N)`` arrays (values at node pairs, activation, weights); ``N`` grows as ``(2L+1)^2 (L+1)`` on
    ``SO(3)``, so the band limit is what lowers it."""
    from ..neuron.bruteforce import haar_grid_entries
    from ..resources import MemoryEstimate

    G = model.group
    N, D = haar_grid_entries(G)
    est = MemoryEstimate(what or f"the brute force on {G.name} with band limit {G.bandlimit}",
                         lower="a smaller --bandlimit")
    est.add(f"phi(g_a g_b) on {N}^2 node pairs x {D} coordinates", shape=(N, N, D))
    est.add(f"{points} points at {N}^2 node pairs", arrays=8, shape=(points, N, N), itemsize=16)
    return est


def flow_texts(m, flows) -> list:
    """``[(d, irreps, [text], latex)]`` of the block flows of a compact model with ``n = 1`` (Haar probability)."""
    from .display import HAT, hat_latex, latex, matrix_text
    from .symbols import N

    out = []
    for d, bf in flows.items():
        exprs = {name: bf.compact(name).subs(N, 1).doit() for name in bf.names}
        text = [f"d{HAT.get(name, name)}/dt = {matrix_text(e)}" for name, e in exprs.items()]
        tex = "\\begin{aligned}" + " \\\\ ".join(
            "\\frac{d}{dt}%s &= %s" % (hat_latex(name), latex(e)) for name, e in exprs.items()) + "\\end{aligned}"
        out.append((d, len(m.group.irreps_by_dim[d]) - (1 if d == 1 else 0), text, tex))
    return out


def check_bandlimit(model) -> int:
    """The band limit :meth:`CompactEnergy.verify` checks at: the model's, or the largest below it whose brute-force
    grid has at most ``CHECK_ENTRIES`` entries (at least 1, so that a non-trivial irrep is checked)."""
    from ..groups import group
    from ..neuron.bruteforce import haar_grid_entries

    G = model.group
    for L in range(G.bandlimit, 0, -1):
        N, D = haar_grid_entries(group(G.name, bandlimit=L))
        if N * N * D <= CHECK_ENTRIES:
            return L
    return min(G.bandlimit, 1)


@dataclass
class CompactEquilibrium:
    """The constructed equilibrium of one non-trivial orbit of a compact model (the landscape's ``constructed``
    source): every vector the first basis function of the orbit's span (``sqrt(d) rho_00``, or ``sqrt(2d) Re rho_00``
    for a complex pair), a rank-one block ``f_hat = E_00 / sqrt(d)`` (``/ sqrt(2d)`` on both members of a pair), so
    ``Omega* = sum_{rho in O} d (k d)^(-3/2) = (k d)^(-1/2)`` (``k`` the orbit size); ``point`` the vectors in
    ``model.neuron.roles`` order, as a finite equilibrium's."""

    orbit_index: int
    irreps: tuple
    omega_star: object          # SymPy
    point: tuple


def compact_equilibria(model) -> list:
    """:class:`CompactEquilibrium` of every non-trivial orbit (separate spheres; ``[]`` for the joint sphere, whose
    normalisation the construction does not cover)."""
    import sympy as sp

    from ..groups.compact.signals import coordinate_count, orbit_slices

    if model.spheres != "separate" or model.constraint != "sphere":
        return []
    G = model.group
    D = coordinate_count(G)
    out = []
    for o, s in zip(G.orbits[1:], orbit_slices(G)[1:]):
        v = np.zeros(D)
        v[s.start] = 1.0
        out.append(CompactEquilibrium(o.id, tuple(G.irreps[i].label for i in o), 1 / sp.sqrt(o.size * o.dim),
                                      (v, v.copy(), v.copy())))
    return out


def derived_velocity(model, x, omega) -> np.ndarray:
    """The derived flow's velocity at stacked coordinates ``x`` ``(M, V D)`` with energies ``omega`` ``(M,)``: each
    non-trivial block from :meth:`~symflow.theory.model.Model.block_flow` (SymPy, lambdified, ``n = 1``), the trivial
    block ``-c Omega nu_hat[1]`` (:attr:`~symflow.theory.model.Model.trivial_flow`), back to coordinates."""
    import sympy as sp

    from ..groups.fourier import FourierCoefficients
    from ..neuron.points import split
    from .symbols import N, OMEGA

    G = model.group
    coeffs = {name: G.fourier(v) for name, v in split(model, np.asarray(x, float)).items()}
    out = {name: FourierCoefficients(G, {d: np.zeros_like(b) for d, b in c.blocks.items()})
           for name, c in coeffs.items()}
    omega = np.asarray(omega, float)
    for r in G.irreps:
        if r.is_trivial:
            for name, c in model.trivial_flow.items():
                out[name][r.id] = -float(c) * omega[:, None, None] * coeffs[name][r.id]
            continue
        bf = model.block_flow(r.dim)
        args = [OMEGA, N] + bf.symbols
        values = [omega, 1.0] + [coeffs[name][r.id][:, i, j] for name in bf.names
                                 for i in range(r.dim) for j in range(r.dim)]
        for name in bf.names:
            f = sp.lambdify(args, bf.rhs[name], modules="numpy")
            V = np.asarray(f(*values), dtype=complex)          # (d, d, M) or broadcast scalars
            out[name][r.id] = np.moveaxis(np.broadcast_to(V, (r.dim, r.dim, len(omega))), -1, 0)
    return np.concatenate([G.inverse_fourier(out[name], real=True) for name in model.vector_names], axis=-1)


#: CPU seconds of one block flow's derivation per ``d^5`` (measured: ``d = 9, 11, 13`` took 0.88, 2.6, 5.3 s, load
#: ~14 on 2 cores: ``~ d^5``; ``SO(3)`` with band limit ``L`` needs ``d = 1, 3, ..., 2L+1``).
FLOW_SECONDS_PER_D5 = 1.5e-5


def block_flow_estimate(model, what: str = ""):
    """The :class:`~symflow.resources.MemoryEstimate` (with ``seconds``) of deriving the block flows a compact model
    needs (every irrep dimension up to ``2L+1`` on ``SO(3)``), ``FLOW_SECONDS_PER_D5 d^5`` each; the dimensions
    derived already for this model cost nothing. ``SO(3)`` with ``L = 8``: about 40 s;
    ``L = 20``: hours."""
    from ..resources import MemoryEstimate

    G = model.group
    todo = [d for d in G.irreps_by_dim if d not in getattr(model, "_flows", {})]
    est = MemoryEstimate(what or f"the block flows of {G.name} with band limit {G.bandlimit}",
                         lower="a smaller --bandlimit (one block flow per irrep dimension, ~d^5 each)")
    est.add(f"the block flows of dimensions {todo}", shape=(sum(d ** 4 for d in todo),) if todo else (0,))
    est.seconds = FLOW_SECONDS_PER_D5 * sum(d ** 5 for d in todo)
    est.basis = f"{FLOW_SECONDS_PER_D5:g} CPU s x d^5 per block dimension, d up to {max(todo, default=1)}"
    return est
