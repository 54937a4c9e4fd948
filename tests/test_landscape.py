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


# --- streaming: the starts in chunks of bounded memory (issue 21) -------------------------------------------

def _rows_patch(monkeypatch, model, rows):
    """Make :func:`search.stream_rows` give ``rows`` starts per chunk for ``model``."""
    from symflow.landscape import search

    D = len(model.vector_names) * model.group.order
    monkeypatch.setattr(search, "STREAM_BYTES", search.FLOW_ARRAYS * D * 8 * rows)
    assert search.stream_rows(model) == rows


def test_chunks_draw_exactly_the_unchunked_starts():
    """Chunk ``k`` of :func:`uniform_chunks` holds the starts ``k C .. (k+1) C - 1`` of :func:`uniform` (every
    vector's draws), and :func:`ascent_chunks` those of :func:`ascent_starts`. (Chunks of one start agree to
    rounding only: BLAS transforms a single row by another path.)"""
    from symflow.dynamics.initial import uniform, uniform_chunks
    from symflow.landscape.search import ascent_chunks, ascent_starts

    for model in (Model("D4"), Model("Z5", shared=True), Model("S3", spheres="joint")):
        whole = uniform(model, 23, 5).data
        for rows in (1, 4, 23, 50):
            chunks = list(uniform_chunks(model, 23, 5, rows))
            assert [c.width for c in chunks] == [min(rows, 23 - a) for a in range(0, 23, rows)]
            joined = np.concatenate([c.data for c in chunks])
            assert np.array_equal(joined, whole) if rows > 1 else np.allclose(joined, whole, rtol=0, atol=1e-15)
        assert np.array_equal(np.concatenate(list(ascent_chunks(model, 23, 5, 4))), ascent_starts(model, 23, 5))


def test_chunked_search_finds_the_same_basins_start_by_start():
    """The flow search in chunks of 5 starts puts every start in the basin the one-piece search puts it in, and
    the energy scale is the same (the largest over all starts)."""
    from symflow.landscape import engine, search

    model = Model("D4")

    def basins(rows):
        found = search.search_basins(model, 24, 3, rows=rows)
        assert found.done == 24 and found.chunks == -(-24 // rows) and not found.unconverged
        kinds = engine._kinds_of(found.basins.values(), found.scale)
        return found.scale, {(k.support, k.rank, k.level): sorted(m[0] for m in kind.kept) for k, kind in kinds.items()}

    scale, whole = basins(1000)
    scale5, chunked = basins(5)
    assert chunked == whole and len(whole) == 4 and abs(scale5 - scale) <= 1e-12 * scale


def test_landscape_in_chunks_is_the_landscape_in_one_piece(monkeypatch):
    """``landscape`` with a forced chunk of 7 starts: the same kinds, exact energies, basins and stability as in
    one piece, and the memory estimate counts one chunk."""
    from symflow.landscape import engine

    def summary(L):
        return [(L.labels(a), a.energy_exact, a.count, a.stable, a.source) for a in L.attractors], L.unconverged

    whole = landscape("Z5", starts=40)
    _rows_patch(monkeypatch, Model("Z5"), 7)
    chunked = landscape("Z5", starts=40, force=True)         # forced: no calibration run
    assert summary(chunked) == summary(whole) and chunked.starts == 40
    est = engine.memory_estimate(Model("Z5"), 40)
    assert any("chunks of 7 starts" in w for w, _ in est.terms)


def test_a_long_search_is_refused_with_its_time_unless_forced(monkeypatch):
    """More starts than one chunk: a calibration run estimates the time; beyond the budget the run is refused
    in one line naming the estimate and ``--starts``; ``force`` skips the calibration and runs."""
    from symflow.errors import ResourceError
    from symflow.landscape import engine

    _rows_patch(monkeypatch, Model("Z5"), 7)
    calls = []
    monkeypatch.setattr(engine, "time_estimate", lambda *a: calls.append(a) or (1e6, "3 starts took 1 s"))
    monkeypatch.setattr(engine, "_landscape", lambda *a, **k: "ran")
    with pytest.raises(ResourceError, match=r"would take about 12 days \(3 starts took 1 s\).*time budget is 60 "
                                            r"min; lower it with --starts.*--force") as info:
        landscape("Z5", starts=40)
    assert "\n" not in str(info.value) and len(calls) == 1
    assert landscape("Z5", starts=40, force=True) == "ran" and len(calls) == 1
    monkeypatch.setenv("SYMFLOW_TIME_BUDGET", "300h")
    assert landscape("Z5", starts=40) == "ran" and len(calls) == 2
    assert landscape("Z5", starts=7) == "ran" and len(calls) == 2      # one chunk: no calibration


def test_ctrl_c_between_chunks_gives_the_landscape_of_the_completed_chunks(monkeypatch, capsys):
    """Ctrl-C in the third chunk of 5 starts: the landscape of the first 10 starts, marked interrupted, exit 130;
    in the first chunk: exit 130 saying nothing was analysed."""
    from symflow.landscape import search

    _rows_patch(monkeypatch, Model("Z5"), 5)
    real, seen = search.converge, []

    def converge(*a, **k):
        seen.append(1)
        if len(seen) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(search, "converge", converge)
    assert main(["landscape", "Z5", "--starts", "12", "--force", "--json"]) == 130
    out, err = capsys.readouterr()
    assert err.strip() == "interrupted: the landscape above holds the first 10 of 12 starts"
    data = json.loads(out)
    assert data["interrupted"] is True and data["starts"] == 10
    assert sum(a["basin"]["count"] for a in data["attractors"]) + data["unconverged"] == 10
    assert any("interrupted after 10 of 12 starts" in w for w in data["warnings"])
    seen.clear()
    seen.extend([1, 1])             # the first chunk interrupted: nothing to show
    assert main(["landscape", "Z5", "--starts", "12", "--force", "--json"]) == 130
    out, err = capsys.readouterr()
    assert not out and "interrupted: the flow was interrupted; no kind was analysed" in err
