"""Generated flow code vs SymPy: evalf at random points, both code styles, cache behaviour.

Tolerance: generated NumPy code and ``sympy.N`` (30 digits) agree to a relative 1e-12 (the
generated code is exact up to double rounding; the expressions have at most a few hundred terms).
"""
import importlib.util

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from symflow.codegen import cache, flow_kernels, generate_source
from symflow.codegen.expressions import flow_expressions
from symflow.codegen.generator import AUTO_MATRIX_FROM_D, choose_style
from symflow.errors import ModelError
from symflow.theory import Model
from symflow.theory.trace_calculus import drive_expressions
from symflow.theory.matrix_expr import MatrixExpr
from symflow.dynamics.flow import fourier_velocity

REL = 1e-12


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMFLOW_CACHE", str(tmp_path_factory.mktemp("symflow_cache")))
        yield


def _load(src, tmp_path, name="gen"):
    path = tmp_path / f"{name}.py"
    path.write_text(src.source)
    spec = importlib.util.spec_from_file_location(f"gen_{name}_{src.code_hash[:8]}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MODELS = {
    "unshared": lambda g: Model(g),
    "shared": lambda g: Model(g, shared=True),
    "joint": lambda g: Model(g, spheres="joint"),
    "mse": lambda g: Model(g, loss="mse"),
}


def _random_blocks(rng, names, d, k=2):
    return {nm: rng.standard_normal((3, k, d, d)) + 1j * rng.standard_normal((3, k, d, d)) for nm in names}


def _evalf(expr, be, values, neuron, irrep, n):
    rep = {be.n: n}
    for nm in be.names:
        B = be.blocks[nm]
        for i in range(be.d):
            for j in range(be.d):
                v = values[nm][neuron, irrep, i, j]
                rep[B[i, j]] = sp.Float(v.real, 30) + sp.I * sp.Float(v.imag, 30)
    return complex(sp.N(sp.sympify(expr).xreplace(rep), 30))


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(sorted(MODELS)), group=st.sampled_from(["D5", "F21", "S4"]),
       style=st.sampled_from(["entries", "matrix"]), seed=st.integers(0, 2 ** 31))
def test_generated_functions_match_sympy_evalf(kind, group, style, seed, tmp_path_factory):
    model = MODELS[kind](group)
    fx = flow_expressions(model)
    src = generate_source(model, style=style, fx=fx)
    mod = _load(src, tmp_path_factory.mktemp("gen"))
    rng = np.random.default_rng(seed)
    n = model.group.order
    for d in fx.dims:
        be = fx.blocks[d]
        vals = _random_blocks(rng, be.names, d)
        args = [vals[nm] for nm in be.names]
        om = getattr(mod, f"omega_block_{d}")(*args, n)
        drives = getattr(mod, f"drive_{d}")(*args, n)
        om2, drives2 = getattr(mod, f"block_terms_{d}")(*args, n)
        assert om.shape == (3, 2) and all(g.shape == (3, 2, d, d) for g in drives)
        np.testing.assert_allclose(om2, om, rtol=1e-13)
        for a, b in zip(drives, drives2):
            np.testing.assert_allclose(a, b, rtol=1e-13)
        for m_, r_ in [(0, 0), (2, 1)]:
            ref = _evalf(be.omega_block, be, vals, m_, r_, n)
            assert abs(om[m_, r_] - ref) <= REL * max(1.0, abs(ref))
            for nm, g in zip(be.names, drives):
                i, j = rng.integers(0, d, size=2)
                ref = _evalf(be.drive[nm][i, j], be, vals, m_, r_, n)
                assert abs(g[m_, r_, i, j] - ref) <= REL * max(1e-3, abs(ref))
    om_sym = sp.Symbol("Omega", real=True)
    radial = mod.radial(np.array([0.5]))
    for nm, r in zip(fx.names, radial):
        expect = float(fx.blocks[fx.dims[0]].radial[nm].subs(om_sym, 0.5))
        assert np.allclose(r, expect)


def test_header_names_sympy_version_settings_and_hash(tmp_path):
    model = Model("D5")
    src = generate_source(model)
    head = src.source.split('"""')[1]
    assert f"SymPy {sp.__version__}" in head
    # generic in n: the header names the settings and block dimensions it serves, never one group
    assert "Generic in the group order n" in head and model.settings_key() in head and "(1, 2)" in head
    assert "D5" not in head and "/10" not in head
    assert src.expression_hash in head and len(src.expression_hash) == 64
    assert "x0" in src.source  # cse temporaries
    # the hash depends on the expressions only: regenerating gives the same hash
    assert generate_source(model).expression_hash == src.expression_hash
    # a different model (shared) has different expressions
    assert generate_source(Model("D5", shared=True)).expression_hash != src.expression_hash
    # same block flows, different group of the same block dimensions: same expression hash
    assert generate_source(Model("D7")).expression_hash == src.expression_hash


def test_function_modules_come_from_the_same_generator_with_the_same_header():
    """Every generated module (flow kernels, functions of expressions such as the modular-addition
    rates) carries the one provenance header; a function module computes its expressions."""
    from symflow.codegen.generator import generate_function_source

    x, y = sp.symbols("x y", positive=True)
    exprs = [x * y * sp.cos(y) + x ** 2 * sp.cos(y), x / y]
    src = generate_function_source(exprs, (x, y), func="rates")
    head = src.source.split('"""')[1]
    flow_head = generate_source(Model("D5")).source.split('"""')[1]
    for text in (head, flow_head):
        assert "generated by symflow" in text and f"SymPy {sp.__version__}" in text
        assert "Expression hash: sha256:" in text and "Code hash: sha256:" in text and "Generated: " in text
    assert src.expression_hash in head and src.code_hash in head and f"CODE_HASH = {src.code_hash!r}" in src.source
    assert "x0" in src.source  # cse temporaries
    namespace = {}
    exec(compile(src.source, "<generated>", "exec"), namespace)
    a, b = np.array([0.3, 1.7]), np.array([2.0, 0.5])
    got = namespace["rates"](a, b)
    for g, e in zip(got, exprs):
        f = sp.lambdify((x, y), e, "numpy")
        np.testing.assert_allclose(g, f(a, b), rtol=1e-14)


def test_style_choice_and_matrix_code_is_matmul():
    assert choose_style(1) == "entries" and choose_style(AUTO_MATRIX_FROM_D) == "matrix"
    with pytest.raises(ModelError, match="code style"):
        choose_style(2, "fast")
    src = generate_source(Model("S4"), style="auto")
    assert src.styles == {1: "entries", 2: "entries", 3: "matrix"}
    body = src.source.split("def block_terms_3")[1].split("def ")[0]
    assert "@" in body and "numpy.swapaxes" in body
    assert "theta1_0_0" not in body  # no per-entry unrolling for matrix blocks


def test_cache_hit_and_corrupted_file_is_regenerated():
    model = Model("Z5", spheres="joint")
    from symflow.codegen import kernels as kmod

    kmod._LOADED.clear()
    k1 = flow_kernels(model)
    assert k1.generated and k1.path.exists() and str(k1.path).startswith(str(cache.cache_dir()))
    kmod._LOADED.clear()
    k2 = flow_kernels(model)
    assert not k2.generated and k2.path == k1.path
    k2.path.write_text("broken")
    kmod._LOADED.clear()
    k3 = flow_kernels(model)
    assert k3.generated and "CODE_HASH" in k3.path.read_text()


def test_block_kernels_match_the_theory_flow_per_block():
    """The module holds block kernels only; per block, drive - radial(Omega) B (and the trivial
    rate) equals the theory engine's own numeric flow (SymPy lambdify, independent of codegen)."""
    model = Model("F21")
    G = model.group
    mod = flow_kernels(model).module
    assert not hasattr(mod, "reduced_flow") and not hasattr(mod, "OMEGA_IMAG_TOL")
    rng = np.random.default_rng(3)
    coeffs = {nm: G.fourier(rng.standard_normal((5, G.order))) for nm in model.vector_names}
    ref, omega = fourier_velocity(model, coeffs)
    terms = {d: mod.BLOCK_TERMS[d](*(coeffs[nm].blocks[d] for nm in mod.NAMES), G.order) for d in mod.DIMS}
    triv = G.irreps_by_dim[1].index(G.trivial_index)
    total = sum(np.delete(om, triv, axis=-1).sum(axis=-1) if d == 1 else om.sum(axis=-1)
                for d, (om, _) in terms.items())
    np.testing.assert_allclose(total.real, omega, rtol=1e-12)
    assert np.abs(total.imag).max() <= 1e-12 * np.abs(omega).max()
    shaped = omega[:, None, None, None]
    for d, (_, drives) in terms.items():
        for nm, g, c in zip(mod.NAMES, drives, mod.radial(shaped)):
            B = coeffs[nm].blocks[d]
            vel = g - c * B
            if d == 1:
                vel[:, triv] = -mod.TRIVIAL_RATE[nm] * shaped[:, 0] * B[:, triv]
            np.testing.assert_allclose(vel, ref[nm].blocks[d], rtol=1e-11, atol=1e-14)


def test_codegen_cli_writes_importable_module(tmp_path):
    from symflow.cli import main

    out = tmp_path / "q8_flow.py"
    assert main(["codegen", "Q8", "--shared", "-o", str(out)]) == 0
    spec = importlib.util.spec_from_file_location("q8_flow", out)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.NAMES == ("theta", "xi") and set(mod.DIMS) == {1, 2}
    with pytest.raises(SystemExit):
        main(["codegen", "Q8", "--style", "bogus"])
    assert main(["codegen", "NotAGroup", "-o", str(out)]) == 2


def test_block_flow_for_unreducible_model_is_a_clear_error():
    with pytest.raises(ModelError, match="quadratic"):
        flow_kernels(Model("Z5", activation="z**3"))


def test_long_sums_are_split_over_lines(monkeypatch, tmp_path):
    from symflow.codegen import generator

    monkeypatch.setattr(generator, "MAX_TERMS_PER_LINE", 2)
    model = Model("S4")
    src = generate_source(model, style="entries")
    assert "omega = omega + " in src.source
    split = _load(src, tmp_path, "split")
    ref = flow_kernels(model, style="matrix").module
    rng = np.random.default_rng(1)
    for d, k in ((1, 2), (2, 1), (3, 2)):
        arrs = [rng.standard_normal((3, k, d, d)) + 1j * rng.standard_normal((3, k, d, d)) for _ in range(3)]
        (o1, g1), (o2, g2) = split.BLOCK_TERMS[d](*arrs, 24), ref.BLOCK_TERMS[d](*arrs, 24)
        np.testing.assert_allclose(o1, o2, rtol=1e-12)
        for a, b in zip(g1, g2):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
