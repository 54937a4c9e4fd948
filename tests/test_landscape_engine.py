"""The landscape engine's fast paths against the brute force (issue 26): the one analytic Hessian
(:func:`symflow.theory.rates.numeric.energy_hessians`) against the complex step on random points of random
models and at every kind the search finds for a few small groups; the high-precision residuals on
``gmpy2.mpfr`` against ``mpmath``; and the atlas rows of a few small groups against the stored run of the
engine before (``tests/data/landscape_reference.json``, written by ``bench/bench_landscape.py --record``;
the whole comparison is ``bench/bench_landscape.py --compare``)."""
import importlib.util
import json
import pathlib
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symflow.groups import gap as gapmod
from symflow.landscape import analysis, landscape
from symflow.landscape.search import euclidean_hessians, tangent_hessian, tangent_operators
from symflow.neuron import bruteforce
from symflow.testing.strategies import model_definitions
from symflow.theory.model import Model
from symflow.theory.rates.numeric import energy_hessians
from symflow.theory.scope import ScopeWarning

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _model(definition):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScopeWarning)
        return Model(**definition) if isinstance(definition, dict) else definition


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_definitions(max_order=12, activations=(None, "z**2+z**3", "z**3+z")), st.integers(0, 2 ** 32 - 1))
def test_analytic_hessian_is_the_complex_step_at_random_points(definition, seed):
    model = _model(definition)
    rng = np.random.default_rng(seed)
    D = len(model.vector_names) * model.group.order
    x = rng.normal(size=(3, D))
    H = energy_hessians(model, x)
    want = np.stack([bruteforce.hessian(model, p) for p in x])
    assert H.shape == want.shape
    assert np.abs(H - want).max() <= 1e-12 * max(1.0, np.abs(want).max())
    assert np.abs(energy_hessians(model, x[0]) - want[0]).max() <= 1e-12 * max(1.0, np.abs(want).max())


@pytest.mark.parametrize("name,kw", [("S3", {"loss": "mse"}), ("Z6", {"loss": "mse", "shared": True})])
def test_analytic_hessian_with_a_training_mask(name, kw):
    n = _model({"group": name, **kw}).group.order
    rng = np.random.default_rng(3)
    mask = rng.random((n, n)) < 0.6
    masked = model = _model({"group": name, **kw, "mask": mask})
    x = rng.normal(size=(2, len(model.vector_names) * n))
    want = np.stack([bruteforce.hessian(masked, p) for p in x])
    assert np.abs(energy_hessians(masked, x) - want).max() <= 1e-12 * np.abs(want).max()


KIND_CASES = [("Q8", {}), ("D4", {"shared": True}), ("S3", {"spheres": "joint"}), ("Z6", {}),
              ("S3", {"loss": "mse"})]


@pytest.mark.parametrize("name,kw", KIND_CASES)
def test_fast_tangent_hessian_is_the_brute_force_at_every_kind_found(name, kw):
    model = _model({"group": name, **kw})
    L = landscape(model, starts=48, seed=1, analysis="spectrum")
    assert L.attractors
    for a in L.attractors:
        x = np.concatenate([np.asarray(a.representative[k]) for k in model.vector_names])
        J, B = tangent_hessian(model, x)
        Jb, Bb = bruteforce.tangent_hessian(model, x)
        scale = max(1.0, np.abs(Jb).max())
        assert np.abs(B - Bb).max() <= 1e-14 and np.abs(J - Jb).max() <= 1e-12 * scale
        np.testing.assert_allclose(np.linalg.eigvalsh(J), a.eigenvalues, atol=1e-12 * scale)
        A, r = tangent_operators(model, x[None])
        P = B @ B.T                                    # the ambient operator is B J B^T
        assert np.abs(A[0] - B @ Jb @ B.T).max() <= 1e-12 * scale
        assert np.abs(P @ r[0] - bruteforce.riemannian_gradient(model, x)).max() <= 1e-12
        assert np.abs(euclidean_hessians(model, x[None])[0] - bruteforce.hessian(model, x)).max() <= 1e-12 * scale


@pytest.mark.parametrize("shared", [False, True])
def test_high_precision_residual_and_energy_on_mpfr_are_mpmaths(shared):
    model = _model({"group": "D4", "shared": shared})
    x = np.random.default_rng(5).normal(size=len(model.vector_names) * 8)
    with mpmath.workdps(40):
        X = np.array([mpmath.mpf(float(v)) for v in x], dtype=object)
        X[3] = -X[3]
        g, gm = analysis.mp_riemannian_gradient(model, X), bruteforce.riemannian_gradient(model, X)
        assert all(isinstance(v, mpmath.mpf) for v in g)
        assert max(abs(a - b) for a, b in zip(g, gm)) <= mpmath.mpf(10) ** -36
        assert abs(analysis.mp_energy(model, X) - bruteforce.energy(model, X)) <= mpmath.mpf(10) ** -36


def _bench():
    spec = importlib.util.spec_from_file_location("bench_landscape", ROOT / "bench" / "bench_landscape.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


#: The CI-size subset of the reference run: (order, gap id).
REFERENCE_SUBSET = [(4, 2), (6, 1), (8, 4), (12, 3)]


@pytest.mark.gap
@pytest.mark.skipif(not gapmod.gap_available(), reason="passagemath-gap (symflow[gap]) not installed: the atlas's "
                                                       "SmallGroup names need it")
def test_atlas_rows_match_the_stored_run_of_the_engine_before():
    bench = _bench()
    with open(ROOT / "tests" / "data" / "landscape_reference.json") as f:
        doc = json.load(f)
    ref = [t for t in doc["tasks"] if (t["order"], t["gap_id"]) in REFERENCE_SUBSET]
    assert len(ref) == 2 * len(REFERENCE_SUBSET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScopeWarning)
        new = bench.run_tasks(REFERENCE_SUBSET, doc["starts"], doc["seed"])
    assert bench.compare_rows(ref, new) == []


def test_compare_rows_sees_a_changed_kind_energy_and_basin():
    bench = _bench()
    row = {"orbit": ["chi_1"], "rank": 1, "stable": True, "family_dimension": 0, "energy_exact": "1/8",
           "energy": 0.125, "basin_fraction": 0.5, "basin_lo": 0.45, "basin_hi": 0.55, "count": 256}
    task = {"order": 4, "gap_id": 1, "setting": "shared", "error": None, "unconverged": 0, "attractors": [row]}
    assert bench.compare_rows([task], [task]) == []
    moved = dict(task, attractors=[dict(row, basin_fraction=0.7, basin_lo=0.65, basin_hi=0.75)])
    other = dict(task, attractors=[dict(row, energy_exact="1/4", energy=0.25)])
    assert len(bench.compare_rows([task], [moved])) == 1
    assert len(bench.compare_rows([task], [other])) == 2


def test_refine_without_gmpy2_is_the_same_on_mpmath(monkeypatch):
    model = _model({"group": "Z5"})
    L = landscape(model, starts=8, seed=0, analysis="spectrum")
    a = L.attractors[0]
    x = np.concatenate([np.asarray(a.representative[k]) for k in model.vector_names])
    X, r = analysis.refine(model, x)
    E = analysis.exact_energy(model, X)
    monkeypatch.setattr(analysis, "_gmpy2", lambda: None)
    monkeypatch.setattr(analysis, "_RECOGNISED", {})
    Y, s = analysis.refine(model, x)
    F = analysis.exact_energy(model, Y)
    assert r <= mpmath.mpf(10) ** -32 and s <= mpmath.mpf(10) ** -32
    assert max(abs(u - v) for u, v in zip(X, Y)) <= mpmath.mpf(10) ** -30
    assert F[1] is not None and E[1] == F[1] and abs(E[0] - F[0]) <= mpmath.mpf(10) ** -36
