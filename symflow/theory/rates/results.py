"""Result types of the rates and the JSON contract of ``symflow rates``.

:class:`Mode` (one eigenvalue of the tangent Jacobian), :class:`Spectrum` (the spectrum of one orbit's
equilibrium), :class:`ClosedForm` (the exact spectrum of an orbit class as functions of ``n``), the
mode vocabulary (``MODE_ORDER``) and :func:`report_from_spectra` (the public JSON of
:func:`symflow.theory.rates.rates_report`). See :mod:`symflow.theory.rates` for the theory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from ...errors import SymflowError
from ..model import Model

if TYPE_CHECKING:  # annotations only
    from ..equilibria import Equilibrium

MODE_ORDER = ("phase alignment", "magnitude balance", "rotational alignment", "rank reduction",
              "losing irreps", "trivial component", "symmetry zero modes", "zero modes (manifold of maxima)")

#: Labels of the block coordinates (:func:`~symflow.theory.rates.derivation.real_form`) and numeric subspaces.
_LABEL = {"phase": "phase alignment", "balance": "magnitude balance", "cross": "rotational alignment",
          "comp": "rank reduction"}


@dataclass
class Mode:
    """One eigenvalue of the tangent Jacobian: ``rate`` (float, negative = decay, ``c = 1``),
    ``multiplicity``, ``mode`` label, ``exact`` (SymPy or ``None``) and ``units`` (exact
    ``rate / Omega*`` or ``None``)."""

    rate: float
    multiplicity: int
    mode: str
    exact: sp.Expr | None = None
    units: sp.Expr | None = None

    def to_json(self) -> dict:
        return {"rate": float(self.rate), "exact": None if self.exact is None else str(self.exact),
                "multiplicity": int(self.multiplicity), "mode": self.mode}


@dataclass
class Spectrum:
    """Tangent-space spectrum of one orbit's equilibrium: a list of :class:`Mode`.

    ``classification`` is ``"stable"`` (no positive rate: a local maximum of ``Omega``) or
    ``"saddle"`` (a positive rate). ``verified`` tells whether the brute-force Cayley-table spectrum was compared (and agreed).
    """

    equilibrium: Equilibrium
    modes: list = field(default_factory=list)
    classification: str = "stable"
    verified: bool = False

    @property
    def stable(self) -> bool:
        return self.classification == "stable"

    @property
    def omega_star(self) -> sp.Expr:
        return self.equilibrium.omega_star

    @property
    def rates(self) -> np.ndarray:
        """Every eigenvalue with multiplicity, ascending."""
        return np.sort(np.concatenate([np.full(m.multiplicity, m.rate) for m in self.modes]))

    @property
    def dimension(self) -> int:
        """Dimension of the tangent space (sum of multiplicities)."""
        return int(sum(m.multiplicity for m in self.modes))

    def by_rate(self) -> list:
        """``[(rate / Omega*, total multiplicity), ...]`` with equal rates merged, ascending."""
        merged: dict = {}
        om = self.equilibrium.omega_star_float
        for m in self.modes:
            key = m.units if m.units is not None else sp.Float(round(m.rate / om, 10))
            merged[key] = merged.get(key, 0) + m.multiplicity
        return sorted(merged.items(), key=lambda kv: float(kv[0]))

    def mode(self, label: str) -> list:
        """Modes whose label starts with ``label``."""
        return [m for m in self.modes if m.mode.startswith(label)]

    def to_json(self) -> dict:
        eq = self.equilibrium
        return {"irreps": list(eq.irreps), "dim": int(eq.dim), "orbit_size": int(eq.orbit_size),
                "omega_star": float(eq.omega_star), "omega_star_exact": str(eq.omega_star),
                "stable": bool(self.stable), "spectrum": [m.to_json() for m in self.modes]}

    def __repr__(self) -> str:
        eq = self.equilibrium
        parts = ", ".join(f"{m.units if m.units is not None else f'{m.rate / eq.omega_star_float:.10g}'} "
                          f"x{m.multiplicity} ({m.mode})" for m in self.modes)
        return (f"<Spectrum {eq.group.name} {{{', '.join(eq.irreps)}}}: {self.classification}, "
                f"Omega* = {eq.omega_star}; rates in units of Omega*: {parts}>")

    def _repr_latex_(self) -> str:
        eq = self.equilibrium
        rows = r" \\ ".join(
            f"{sp.latex(m.units) if m.units is not None else f'{m.rate / eq.omega_star_float:.10g}'}\\,\\Omega^* & "
            f"{m.multiplicity} & \\text{{{m.mode}}}" for m in self.modes)
        return (f"$\\Omega^* = {sp.latex(eq.omega_star)}\\ (\\text{{{self.classification}}}):\\quad"
                f"\\begin{{array}}{{rrl}} \\text{{rate}} & \\text{{mult.}} & \\text{{mode}} \\\\ {rows} \\end{{array}}$")


@dataclass
class ClosedForm:
    """Exact tangent spectrum at the equilibrium of an orbit of dimension ``d`` and ``type``,
    as functions of the group order ``n`` (derived from the model's block drive).

    ``modes``: ``[(units, multiplicity, label), ...]`` with ``units = rate / Omega*`` (exact
    numbers) and ``multiplicity`` a polynomial in ``n``; ``omega_star``: ``Omega*(n)``;
    ``rates``: ``[(rate(n), multiplicity(n), label)]``.
    """

    d: int
    type: str
    settings_key: str
    omega_star: sp.Expr
    modes: list
    n: sp.Symbol
    symmetry_rank: int

    @property
    def rates(self) -> list:
        return [(sp.simplify(u * self.omega_star), m, lab) for u, m, lab in self.modes]

    def at(self, n: int) -> list:
        """``[(units, multiplicity, label)]`` at group order ``n`` (zero multiplicities dropped)."""
        out = []
        for u, m, lab in self.modes:
            k = int(sp.sympify(m).subs(self.n, n))
            if k < 0:
                raise SymflowError(f"closed form for d={self.d} {self.type}: negative multiplicity at n={n}")
            if k:
                out.append((u, k, lab))
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{u} x({m}) [{lab}]" for u, m, lab in self.modes)
        return (f"<ClosedForm d={self.d} {self.type} ({self.settings_key}): Omega* = {self.omega_star}; "
                f"rates in units of Omega*: {parts}>")

    def _repr_latex_(self) -> str:
        rows = r" \\ ".join(f"{sp.latex(u)}\\,\\Omega^* & {sp.latex(sp.sympify(m))} & \\text{{{lab}}}"
                            for u, m, lab in self.modes)
        return (f"$\\Omega^*(n) = {sp.latex(self.omega_star)}:\\quad\\begin{{array}}{{rrl}} \\text{{rate}} & "
                f"\\text{{mult.}} & \\text{{mode}} \\\\ {rows} \\end{{array}}$")


def _derived_modes(eq, derived: list) -> list:
    om = eq.omega_star
    return [Mode(rate=float(sp.N(u * om, 17)), multiplicity=int(m), mode=lab,
                 exact=sp.radsimp(u * om), units=u) for u, m, lab in derived]


def report_from_spectra(model, spectra: list) -> dict:
    """The JSON contract for already computed spectra."""
    model = Model.coerce(model)
    model.require_stage_one()
    return {"group": model.group.name, "shared": bool(model.shared), "spheres": model.spheres,
            "time_unit": "c=1", "orbits": [s.to_json() for s in spectra]}
