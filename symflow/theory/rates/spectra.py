"""The tangent spectra of a model's orbits: derived exactly, checked against the brute force
(:func:`spectrum`, :func:`orbit_spectra`, :func:`rates_report`); see :mod:`symflow.theory.rates`.
"""
from __future__ import annotations

import numpy as np

from ...errors import SymflowError
from ..equilibria import Equilibrium, equilibrium, orbit_equilibria
from ..model import Model
from .derivation import _closed_form
from .numeric import NUMERIC_MAX_ORDER, numeric_spectrum
from .records import OrbitRecordEquilibrium, _from_records, _record_spectra
from .results import Spectrum, _derived_modes, report_from_spectra

#: Agreement required between derived and brute-force rates (relative to Omega*).
VERIFY_TOL = 1e-9
#: Largest group order verified by default (the dense Hessian has (3n)^2 entries).
VERIFY_MAX_ORDER = 200


def spectrum(model, orbit=None, verify: bool | None = None) -> Spectrum:
    """The tangent-space :class:`Spectrum` at the equilibrium of ``orbit``.

    ``model``: a Model, Group, group name or an :class:`Equilibrium` (then omit ``orbit``);
    ``orbit``: anything :meth:`Group.orbit <symflow.groups.group.Group.orbit>` resolves. Rates are derived exactly
    (:func:`orbit_closed_form`). ``verify`` (default: ``n <= VERIFY_MAX_ORDER``) compares them
    with the brute-force Cayley-table spectrum and its symmetry check (:func:`numeric_spectrum`).

    >>> from symflow import Model
    >>> s = spectrum(Model("F21"), 2)
    >>> s.classification, s.verified
    ('stable', True)
    >>> s                                  # rates in units of Omega*, with their multiplicities
    <Spectrum F21 {rho_1, rho_3}: stable, Omega* = sqrt(14)/882; rates in units of Omega*: -3 x1 (phase alignment), -2 x12 (rotational alignment), -1 x24 (rank reduction), -1 x6 (losing irreps (theta1, theta2, xi)), -1 x3 (trivial component (theta1, theta2, xi)), 0 x14 (symmetry zero modes)>
    """
    if isinstance(model, (Equilibrium, OrbitRecordEquilibrium)):
        eq = model
    else:
        m = Model.coerce(model)
        m.require_stage_one()
        if orbit is None:
            raise SymflowError(f"spectrum({m.group.name}) needs an orbit: an orbit id, label or irrep tuple of "
                               f"{m.group.name} (see group.orbits), or an Equilibrium; spectra(model) gives every orbit")
        eq = OrbitRecordEquilibrium(m, orbit) if _from_records(m.group, verify) else equilibrium(m, orbit)
    if isinstance(eq, OrbitRecordEquilibrium) and verify:
        raise SymflowError(f"{eq.group.name}: an orbit record has no point to check on the Cayley table; build "
                           f"Equilibrium(model, orbit) (order <= {NUMERIC_MAX_ORDER}) to verify")
    cf = _closed_form(eq.model, eq.dim, eq.type)
    n = eq.group.order
    derived = cf.at(n)
    classification = "saddle" if any(u > 0 for u, _, _ in derived) else "stable"
    if verify is None:
        verify = n <= VERIFY_MAX_ORDER
    if verify:
        num, num_class = numeric_spectrum(eq)
        _compare(eq, derived, num)
        if num_class != classification:
            raise SymflowError(f"{eq.group.name} orbit {eq.irreps}: derived classification {classification!r} "
                               f"but the brute-force check says {num_class!r}")
    return Spectrum(eq, _derived_modes(eq, derived), classification, bool(verify))


def _compare(eq: Equilibrium, derived: list, numeric: list) -> None:
    """Raise unless the derived and brute-force spectra agree: per mode label (its head, without
    the vector names), the sorted rates with multiplicity differ by at most ``VERIFY_TOL``."""
    def table(entries):
        acc: dict = {}
        for u, m, lab in entries:
            acc.setdefault(lab.split(" (")[0] if not lab.startswith("zero modes") else lab, []).extend(
                [float(u)] * int(m))
        return {k: np.sort(v) for k, v in acc.items()}

    d_tab, n_tab = table(derived), table(numeric)
    bad = sorted(set(d_tab) ^ set(n_tab))
    for k in set(d_tab) & set(n_tab):
        a, b = d_tab[k], n_tab[k]
        if a.shape != b.shape or np.abs(a - b).max(initial=0.0) > VERIFY_TOL:
            bad.append(k)
    if bad:
        summary = {k: (list(np.round(d_tab.get(k, []), 9)), list(np.round(n_tab.get(k, []), 9))) for k in bad}
        raise SymflowError(f"{eq.group.name} orbit {eq.irreps}: derived and brute-force spectra disagree "
                           f"(label: derived vs brute-force rates / Omega*): {summary}")


def orbit_spectra(model, verify: bool | None = None) -> list:
    """:class:`Spectrum` of every non-trivial orbit, in ``group.orbits`` order.

    ``verify=None`` checks one orbit of each ``(dimension, type)`` class against the brute-force
    spectrum when ``n <= VERIFY_MAX_ORDER``; ``True`` checks every orbit; ``False`` none.
    """
    model = Model.coerce(model)
    model.require_stage_one()
    n = model.group.order
    if _from_records(model.group, verify):
        return _record_spectra(model)
    out, checked = [], set()
    for eq in orbit_equilibria(model):
        cls = (eq.dim, eq.type)
        v = verify if verify is not None else (n <= VERIFY_MAX_ORDER and cls not in checked)
        checked.add(cls)
        out.append(spectrum(eq, verify=v))
    return out


def rates_report(model, verify: bool | None = None) -> dict:
    """The public JSON contract of ``symflow rates`` (see :mod:`symflow.commands.rates`)::

        {"group", "shared", "spheres", "time_unit": "c=1",
         "orbits": [{"irreps", "dim", "orbit_size", "omega_star", "omega_star_exact", "stable",
                     "spectrum": [{"rate", "exact", "multiplicity", "mode"}]}]}

    ``verify``: see :func:`orbit_spectra`.
    """
    model = Model.coerce(model)
    model.require_stage_one()
    return report_from_spectra(model, orbit_spectra(model, verify=verify))
