"""The one representation of derived matrix formulas (symflow.theory.matrix_expr): its producers
(energy trace words, trace-word drives) against the entrywise derivation, and its
one evaluator on SymPy matrices (exact) and on NumPy block arrays (against the generated kernels)."""
import numpy as np
import pytest
import sympy as sp

from symflow.codegen import flow_kernels
from symflow.codegen.expressions import flow_expressions
from symflow.errors import SymflowError
from symflow.theory import Model
from symflow.theory.energy import energy_trace_words
from symflow.theory.symbols import hat_matrix
from symflow.theory.trace_calculus import compact_drive, drive_expressions
from symflow.theory.matrix_expr import Factor, MatrixExpr, Term, adjoint_word, word_value
from symflow.theory.symbols import N

MODELS = {
    "unshared": lambda g: Model(g),
    "shared": lambda g: Model(g, shared=True),
    "joint": lambda g: Model(g, spheres="joint"),
    "mse": lambda g: Model(g, loss="mse"),
    "mse_shared": lambda g: Model(g, loss="mse", shared=True),
}


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMFLOW_CACHE", str(tmp_path_factory.mktemp("symflow_cache")))
        yield


def test_factor_word_and_collect():
    f = Factor("xi", 1, True)
    name, power, adjoint = f  # letters unpack as (name, power, adjoint)
    assert (name, power, adjoint) == ("xi", 1, True) and str(f) == "xi^H" and str(Factor("u", 2)) == "u^2"
    word = (Factor("a"), Factor("b", 1, True))
    assert adjoint_word(word) == (Factor("b"), Factor("a", 1, True))
    n = sp.Symbol("n")
    e = MatrixExpr.collect("matrix", [(1 / n, word), (1 / n, word), (3, (Factor("a"),)), (-3, (Factor("a"),))])
    assert e.terms == (Term(2 / n, word),)
    coef, w = next(iter(e))
    assert coef == 2 / n and w == word and len(e) == 1 and str(e) == "(2/n) * a b^H"
    with pytest.raises(SymflowError, match="kind"):
        MatrixExpr("scalar")
    with pytest.raises(SymflowError, match="scalar"):
        MatrixExpr("trace", e.terms).to_matrix_symbols(sp.Symbol)


def test_evaluator_numpy_and_sympy_agree():
    rng = np.random.default_rng(0)
    A = rng.integers(-5, 6, (2, 3, 3)) + 1j * rng.integers(-5, 6, (2, 3, 3))
    B = rng.integers(-5, 6, (2, 3, 3)) + 1j * rng.integers(-5, 6, (2, 3, 3))
    n = sp.Symbol("n", positive=True)
    e = MatrixExpr.collect("matrix", [(2 / n, (Factor("a"), Factor("b", 1, True))), (sp.Rational(1, 3), (Factor("b"),))])
    t = MatrixExpr("trace", e.terms)
    num, tr = e.evaluate({"a": A, "b": B}, n=4), t.evaluate({"a": A, "b": B}, n=4)
    assert num.shape == (2, 3, 3) and tr.shape == (2,)
    np.testing.assert_allclose(num, 0.5 * A @ np.conj(np.swapaxes(B, -1, -2)) + B / 3, rtol=1e-14)
    np.testing.assert_allclose(tr, np.trace(num, axis1=-2, axis2=-1), rtol=1e-14)
    for k in range(2):
        exact = e.evaluate({"a": sp.Matrix(A[k]), "b": sp.Matrix(B[k])}).subs(n, 4)
        np.testing.assert_allclose(np.array(exact, dtype=complex), num[k], rtol=1e-14)
        assert complex(t.evaluate({"a": sp.Matrix(A[k]), "b": sp.Matrix(B[k])}).subs(n, 4)) == pytest.approx(tr[k])
    # pointwise powers are looked up as (name, power); the empty sum is zero of the blocks' shape
    assert np.array_equal(word_value((Factor("a", 2),), {("a", 2): A}), A)
    assert np.array_equal(MatrixExpr("matrix").evaluate({"a": A}), np.zeros_like(A))


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("d", [1, 2])
def test_engine_formulas_equal_the_entrywise_derivation(kind, d):
    """Trace words give omega_block, trace-word drives give the Wirtinger drive, exactly."""
    model = MODELS[kind]("D4")
    be = flow_expressions(model, dims=(d,)).blocks[d]
    omega = energy_trace_words(model, d, N)
    assert omega.kind == "trace" and all(f.power == 1 for w in omega.words for f in w)
    assert sp.expand(omega.evaluate(be.blocks) - be.omega_block) == 0
    drives = drive_expressions(model, d)
    compact = compact_drive(model, d)
    for nm in be.names:
        assert sp.expand(drives[nm].evaluate(be.blocks) - be.drive[nm]) == sp.zeros(d, d)
        # compact_drive is the same sum shown with MatrixSymbols, terms in SymPy's MatAdd order
        shown = drives[nm].to_matrix_symbols(lambda name, power: hat_matrix(name, d))
        assert shown == compact[nm]
        if isinstance(shown, sp.MatAdd):
            singles = [MatrixExpr("matrix", (t,)).to_matrix_symbols(lambda name, power: hat_matrix(name, d))
                       for t in drives[nm].terms]
            assert tuple(singles) == shown.args


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_numeric_evaluator_matches_generated_matrix_kernels(kind):
    model = MODELS[kind]("S4")
    n = model.group.order
    mod = flow_kernels(model, style="matrix").module
    rng = np.random.default_rng(7)
    for d in mod.DIMS:
        blocks = {nm: rng.standard_normal((3, 2, d, d)) + 1j * rng.standard_normal((3, 2, d, d)) for nm in mod.NAMES}
        om, drives = mod.BLOCK_TERMS[d](*(blocks[nm] for nm in mod.NAMES), n)
        np.testing.assert_allclose(energy_trace_words(model, d, N).evaluate(blocks, n=n), om, rtol=1e-12)
        for nm, g in zip(mod.NAMES, drives):
            np.testing.assert_allclose(drive_expressions(model, d)[nm].evaluate(blocks, n=n), g, rtol=1e-12, atol=1e-15)
