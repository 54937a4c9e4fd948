"""The landscape engine: brute force for every model, discovered attractors checked independently,
the named findings (F21 and abelian groups: only the constructed kinds; D5 shared: a non-rank-one family;
Q8 shared: a spectrum range), scope warnings and the ``symflow landscape`` contract."""
import json
import subprocess
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symflow
from symflow.cli import main
from symflow.landscape import landscape
from symflow.landscape.search import retract
from symflow.neuron.points import split as unstack, stack
from symflow.testing.checks import landscape_claims
from symflow.testing.strategies import model_definitions
from symflow.neuron import bruteforce
from symflow.theory import rates
from symflow.theory.energy import literal_energy
from symflow.theory.model import Model
from symflow.theory.scope import ScopeWarning, best_symmetric_accuracy

SMALL_MODELS = [("Z5", {}), ("Z6", {"shared": True}), ("S3", {}), ("D4", {"spheres": "joint"}),
                ("Q8", {"shared": True}), ("D5", {"shared": True}), ("S3", {"loss": "mse"}),
                ("Z5", {"loss": "mse", "shared": True})]


def _model(name, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScopeWarning)
        return Model(name, **kw)


_CACHE = {}


def _landscape(name, kw, starts=96, seed=0):
    key = (name, tuple(sorted(kw.items())), starts, seed)
    if key not in _CACHE:
        _CACHE[key] = landscape(_model(name, kw), starts=starts, seed=seed)
    return _CACHE[key]


# ------------------------------------------------------------------ the brute force for every model
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_definitions(max_order=12, activations=(None, "z**2+z**3", "z**3+z")), st.integers(0, 2 ** 32 - 1))
def test_bruteforce_energy_is_the_literal_sum_and_derivatives_agree(definition, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScopeWarning)
        model = Model(**definition) if isinstance(definition, dict) else definition
    rng = np.random.default_rng(seed)
    n = model.group.order
    vals = {k: rng.integers(-4, 5, n) for k in model.vector_names}
    x = stack(model, vals)
    literal = dict(vals)
    if model.shared:
        literal[model.input_names[1]] = vals[model.input_names[0]]
    exact = literal_energy(model, literal)
    assert abs(bruteforce.energy(model, x) - float(exact)) <= 1e-9 * max(1.0, abs(float(exact)))
    y = rng.normal(size=x.shape)
    g = bruteforce.gradient(model, y)
    h = 1e-6
    fd = np.array([(bruteforce.energy(model, y + h * e) - bruteforce.energy(model, y - h * e)) / (2 * h)
                   for e in np.eye(len(y))])
    assert np.abs(g - fd).max() <= 1e-6 * max(1.0, np.abs(g).max())
    H = bruteforce.hessian(model, y)
    Hfd = np.array([(bruteforce.gradient(model, y + h * e) - bruteforce.gradient(model, y - h * e)) / (2 * h)
                    for e in np.eye(len(y))])
    assert np.abs(H - Hfd).max() <= 1e-6 * max(1.0, np.abs(H).max())


@pytest.mark.parametrize("name", ["S3", "Q8", "Z6"])
def test_general_hessian_equals_the_analytic_cayley_table_hessian(name):
    model = Model(name)
    rng = np.random.default_rng(0)
    p = [rng.normal(size=model.group.order) for _ in range(3)]
    assert np.abs(bruteforce.hessian(model, np.concatenate(p)) - rates.euclidean_hessian(model, p)).max() <= 1e-14


# ------------------------------------------------------------------ discovered attractors, checked
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SMALL_MODELS))
def test_every_representative_is_stationary_with_its_energy_and_its_stability_is_the_fd_jacobians(case):
    name, kw = case
    L = _landscape(name, kw)
    landscape_claims(L)                       # symflow.testing: the same checks a user runs
    for a in L.attractors:
        assert a.residual <= 1e-25            # refined at 40 digits


def test_landscape_claims_catch_a_wrong_claim():
    """The checks can fail: a representative moved off its critical point, a wrong energy, a false
    stability claim are each caught."""
    import copy

    from symflow.testing import CheckFailure

    L = _landscape("D5", {"shared": True}, starts=400)
    for spoil in ("point", "energy", "stable"):
        bad = copy.deepcopy(L)
        a = next(a for a in bad.attractors if a.family_stable_fraction is None)
        if spoil == "point":
            a.representative = {k: v + 1e-3 * np.roll(v, 1) for k, v in a.representative.items()}
        elif spoil == "energy":
            a.energy *= 1 + 1e-9
            a.energy_exact = None
        else:
            a.stable = not a.stable
        with pytest.raises(CheckFailure):
            landscape_claims(bad)


def test_family_directions_are_tangent_to_equilibria():
    """A step along a family direction, then the reduced flow (not Newton), lands on the same energy."""
    from symflow.landscape import analysis

    L = _landscape("D5", {"shared": True}, starts=400)
    fam = [a for a in L.attractors if a.family_dimension]
    assert fam
    model = L.model
    symmetries = analysis.SymmetryAlgebra(model)
    for a in fam:
        x = stack(model, a.representative)
        ps = analysis.point_spectrum(model, x, symmetries, tol=1e-12 * a.energy)
        assert ps.family == a.family_dimension
        d = ps.family_directions[:, 0]
        y = retract(model, (x + 0.05 * d)[None, :])
        res = symflow.simulate(model, init=dict(unstack(model, y)), progress=False, gtol=1e-13, t_end=1e6,
                               width=1)
        end = stack(model, {"theta": res.theta1[-1], "xi": res.xi[-1]})
        assert abs(bruteforce.energy(model, end)[0] - a.energy) <= 1e-9 * a.energy
        assert np.linalg.norm(end[0] - x) >= 0.02       # it stayed on the family, away from x


def test_f21_and_abelian_groups_have_exactly_the_constructed_kinds():
    for name in ("F21", "Z6", "Z3xZ3"):
        L = _landscape(name, {}, starts=160)
        assert L.unconverged == 0
        assert {a.source for a in L.attractors} == {"constructed"}
        assert all(a.stable and a.rank == 1 and a.family_dimension == 0 for a in L.attractors)
        assert len(L.attractors) == sum(1 for o in L.model.group.orbits if not o.is_trivial)


def test_d5_shared_has_a_non_rank_one_family():
    L = _landscape("D5", {"shared": True}, starts=400)
    found = [a for a in L.attractors if a.source == "discovered"]
    assert found and all(a.rank == 2 and a.family_dimension >= 1 and a.count > 0 for a in found)
    for a in found:
        assert a.energy_exact == "sqrt(10)/200"


def test_q8_shared_reports_a_spectrum_range():
    L = _landscape("Q8", {"shared": True})
    quat = [a for a in L.attractors if a.orbits and a.orbits[0].type == "quaternionic"]
    assert quat and quat[0].family_dimension >= 1
    assert any(hi - lo > 1e-3 * abs(lo) for mode, lo, hi, _ in quat[0].spectrum if mode == "decay")


# ------------------------------------------------------------------ scope
def test_shared_non_abelian_model_warns_with_the_best_accuracy():
    with pytest.warns(ScopeWarning, match="cannot represent the task"):
        Model("S3", shared=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScopeWarning)
        Model("Z6", shared=True)
        Model("S3")
    for name in ("S3", "D4", "Q8", "A4", "F21"):
        G = symflow.group(name)
        T = G.table
        n = G.order
        # any symmetric predictor gets at most one of (a, b), (b, a) right when ab != ba
        best = sum(1 if T[a, b] == T[b, a] else Fraction(1, 2) for a in range(n) for b in range(n)) / n ** 2
        assert best == best_symmetric_accuracy(G)


# ------------------------------------------------------------------ the command
def test_landscape_json_contract(capsys):
    assert main(["landscape", "Z5", "--starts", "40", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("group", "order", "shared", "spheres", "starts", "seed", "time_unit", "warnings", "unconverged",
                "attractors"):
        assert key in out
    fractions = sum(a["basin"]["fraction"] for a in out["attractors"]) + out["unconverged"] / out["starts"]
    assert abs(fractions - 1) <= 1e-12
    a = out["attractors"][0]
    for key in ("orbit", "dim", "type", "energy", "energy_exact", "rank", "singular_values", "family_dimension",
                "symmetry_dimension", "stable", "spectrum", "basin", "source", "representative"):
        assert key in a
    assert set(a["representative"]) == {"theta1", "theta2", "xi"}
    assert all(len(v) == 5 for v in a["representative"].values())
    assert set(a["basin"]) == {"count", "fraction", "ci95"}
    assert {"mode", "rate_min", "rate_max", "multiplicity"} <= set(a["spectrum"][0])


@pytest.mark.parametrize("argv,needle", [(["landscape", "Z5", "--starts", "0"], "--starts"),
                                         (["landscape", "Z5", "--loss", "hinge"], "--loss"),
                                         (["landscape", "Z5", "--spheres", "round"], "--spheres"),
                                         (["landscape", "Z5", "--seed", "-1"], "--seed"),
                                         (["landscape", "Q9"], "Q9")])
def test_landscape_bad_input_is_one_line(argv, needle):
    proc = subprocess.run([sys.executable, "-m", "symflow", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_landscape_table_says_the_scope_and_marks_discovered_kinds():
    proc = subprocess.run([sys.executable, "-m", "symflow", "landscape", "D5", "--shared", "--starts", "200",
                           "--no-progress"], capture_output=True, text=True, env={**__import__("os").environ,
                                                                                  "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "cannot represent the task" in proc.stdout + proc.stderr
    assert " found" in proc.stdout and " theory" in proc.stdout


# ------------------------------------------------------------------ one bad start never aborts a search
def _perturb_one_start(monkeypatch, index=3):
    """After the flow, move start ``index`` off its critical point, so that it needs Newton steps."""
    from symflow.landscape import search

    real_retract = search.retract
    done = []

    def retract(model, x):
        if not done and x.shape[0] > index + 1:            # the population after the flow, not a Newton trial
            done.append(True)
            x[index] += 1e-3 * np.random.default_rng(0).normal(size=x.shape[1])
        return real_retract(model, x)

    monkeypatch.setattr(search, "retract", retract)


def _failing_eigh_in_newton(monkeypatch):
    """``numpy.linalg.eigh`` raises ``LinAlgError`` when :func:`search.newton` calls it (elsewhere it works)."""
    from symflow.landscape import search

    real_eigh = np.linalg.eigh

    def eigh(a, *args, **kw):
        if sys._getframe(1).f_code is search.newton.__code__:
            raise np.linalg.LinAlgError("Eigenvalues did not converge")
        return real_eigh(a, *args, **kw)

    monkeypatch.setattr(np.linalg, "eigh", eigh)


def test_a_perturbed_start_is_polished_by_newton(monkeypatch):
    _perturb_one_start(monkeypatch)
    L = landscape("Z5", starts=16)
    assert L.unconverged == 0 and sum(a.count for a in L.attractors) == 16


def test_a_linear_algebra_failure_in_newton_marks_that_start_unconverged_and_the_run_goes_on(monkeypatch):
    _perturb_one_start(monkeypatch)
    _failing_eigh_in_newton(monkeypatch)
    L = landscape("Z5", starts=16)
    assert L.unconverged == 1 and sum(a.count for a in L.attractors) == 15
    assert any("LinAlgError" in w and "start 3" in w for w in L.warnings), L.warnings


def test_newton_reports_a_non_finite_point_as_its_cause():
    from symflow.landscape.search import newton

    model = Model("Z5")
    x = np.full(3 * 5, np.nan)
    y, r, steps, cause = newton(model, x, 1e-12)
    assert r == np.inf and steps == 0 and "non-finite" in cause
