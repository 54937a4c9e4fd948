"""Compact rows (one member of each conjugate pair) and blocked working arrays: the same neurons, the
same geometry and the same flow as the full row layout, to rounding."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from symflow.dynamics import FourierState, ReducedFlow, initial
from symflow.neuron.geometry import ParameterGeometry
from symflow.dynamics.state import BlockedLayout, FourierLayout
from symflow.theory import Model


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMFLOW_CACHE", str(tmp_path_factory.mktemp("symflow_cache")))
        yield


CASES = [("Z7", {}), ("Z8", {"shared": True}), ("Z3xZ5", {}), ("Z2xZ4", {"spheres": "joint"}), ("F21", {}),
         ("F21", {"shared": True}), ("A4", {}), ("Dic3", {}), ("D5", {}), ("Q8", {}), ("S4", {})]


IDS = [g + "".join(f"-{k}={v}" for k, v in kw.items()) for g, kw in CASES]


def _case(i):
    group, kw = CASES[i]
    return Model(group, **kw)


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_compact_rows_round_trip_and_geometry(i):
    model = _case(i)
    lay = FourierLayout.for_model(model)
    c = lay.compact
    y = initial.uniform(model, 5, 3).data
    yc = c.compress(y)
    assert yc.shape == (5, c.size) and c.size <= lay.size
    np.testing.assert_allclose(c.expand(yc), y, rtol=0, atol=1e-15)
    np.testing.assert_allclose(c.inner(yc, yc), lay.inner(y, y), rtol=1e-13)
    np.testing.assert_allclose(c.sphere_norms(yc), lay.sphere_norms(y), rtol=1e-13)
    params = FourierState(lay, y).to_parameters()
    for name, x in c.to_parameters(yc, chunk=2).items():
        np.testing.assert_allclose(x, params[name], rtol=0, atol=1e-13)
    # the abelian groups and F21-type groups store about half of the coefficients
    if model.group.name in ("Z7", "Z8", "Z3xZ5", "F21"):
        assert c.has_pairs and c.size <= lay.size // 2 + len(lay.names) * 2


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_compact_flow_equals_full_flow(i):
    model = _case(i)
    flow = ReducedFlow(model)
    cf = flow.compact_flow()
    if not flow.layout.compact.has_pairs:
        assert cf is None  # nothing to save: the integrators use the full rows
        return
    assert cf is not None and cf.self_check()
    rng = np.random.default_rng(7)
    p = initial._normalise(model, {nm: rng.standard_normal((4, model.group.order)) for nm in model.vector_names})
    y = FourierState.from_parameters(model, p).data
    om_full, v_full = flow.evaluate(y)
    om_c, v_c = cf.evaluate(cf.compress(y))
    np.testing.assert_allclose(om_c, om_full, rtol=1e-12, atol=1e-16)
    assert np.abs(cf.expand(v_c) - v_full).max() <= 1e-12 * np.abs(v_full).max()
    np.testing.assert_allclose(cf.speed(v_c), flow.speed(v_full), rtol=1e-12)


def test_compact_flow_rejects_imaginary_energy_of_self_conjugate_blocks():
    from symflow.errors import IntegrationError

    model = Model("Z8", shared=True)   # frequency 4 is self-conjugate: its coefficients must be real
    cf = ReducedFlow(model).compact_flow()
    y = cf.compress(initial.uniform(model, 2, 0).data)
    lay = cf.layout
    for nm in lay.names:
        lay.view(y, nm, 1)[:, 4] *= np.exp(0.7j)
    with pytest.raises(IntegrationError, match="reality"):
        cf.evaluate(y)
    lay.realify(y)
    cf.evaluate(y)


@settings(max_examples=12, deadline=None)
@given(i=st.integers(0, len(CASES) - 1), m=st.integers(1, 6), seed=st.integers(0, 2 ** 31), compact=st.booleans())
def test_blocked_layout_is_the_same_neurons_stored_part_by_part(i, m, seed, compact):
    model = _case(i)
    full = FourierLayout.for_model(model)
    base = full.compact if compact else full
    y = initial.uniform(model, m, seed).data
    rows = base.compress(y) if compact else y
    bl = BlockedLayout(base, m)
    yb = bl.from_rows(rows)
    np.testing.assert_array_equal(bl.to_rows(yb), rows)
    for nm in base.names:
        for d in base.dims:
            v = bl.view(yb, nm, d)
            assert v.flags.c_contiguous
            np.testing.assert_array_equal(v, base.view(rows, nm, d))
    np.testing.assert_allclose(bl.inner(yb, yb), base.inner(rows, rows), rtol=1e-13)
    np.testing.assert_allclose(bl.sphere_norms(yb), base.sphere_norms(rows), rtol=1e-13)
    # projections act neuron by neuron exactly as on the rows
    noisy = rows * (1 + 0.3 * np.random.default_rng(seed).standard_normal(rows.shape)) + 0.01j
    nb = bl.from_rows(noisy)
    base.realify(noisy)
    base.retract(noisy)
    bl.realify(nb)
    bl.retract(nb)
    np.testing.assert_allclose(bl.to_rows(nb), noisy, rtol=0, atol=1e-14)
    # row selection and write-back
    mask = np.arange(m) % 2 == 0
    np.testing.assert_array_equal(BlockedLayout(base, int(mask.sum())).to_rows(bl.take(yb, mask)), rows[mask])
    dst = np.zeros_like(rows)
    bl.put_rows(dst, np.arange(m)[::-1], yb, mask)
    np.testing.assert_array_equal(dst[::-1][mask], rows[mask])
    other = bl.from_rows(np.zeros_like(rows))
    bl.assign(other, yb, mask)
    np.testing.assert_array_equal(bl.to_rows(other)[mask], rows[mask])
    assert not np.any(bl.to_rows(other)[~mask])


@pytest.mark.parametrize("group,kw", [("Z1009", {"shared": True}), ("F21", {}), ("S4", {})])
def test_blocked_evaluation_equals_row_evaluation(group, kw):
    model = Model(group, **kw)
    flow = ReducedFlow(model)
    work = flow.compact_flow() or flow
    y = initial.uniform(model, 6, 1).data
    rows = work.compress(y) if work is not flow else y
    bl = BlockedLayout(work.layout, 6)
    om_b, v_b = work.evaluate(bl.from_rows(rows), layout=bl)
    om_r, v_r = work.evaluate(rows)
    np.testing.assert_allclose(om_b, om_r, rtol=1e-13)
    np.testing.assert_allclose(bl.to_rows(v_b), v_r, rtol=0, atol=1e-15 * np.abs(v_r).max() + 1e-300)


def test_real_type_irreps_are_projected_by_dropping_imaginary_parts():
    lay = FourierLayout.for_model(Model("S4"))   # Young's orthogonal form: real matrices
    assert lay._real_positions == set(lay.dims)
    y = initial.uniform(Model("S4"), 3, 0).data
    assert np.abs(y.imag).max() < 1e-15     # real signals have real blocks for real irreps
    noisy = y + 1e-3j
    lay.realify(noisy)
    np.testing.assert_array_equal(noisy, y)
    assert FourierLayout.for_model(Model("F21"))._real_positions == set()


def test_cyclic_from_parameters_fast_path_equals_the_group_transform():
    model = Model("Z9")
    rng = np.random.default_rng(0)
    p = {nm: rng.standard_normal((4, 9)) for nm in model.vector_names}
    fast = FourierState.from_parameters(model, p).data
    lay = FourierLayout.for_model(model)
    for nm in lay.names:
        np.testing.assert_allclose(lay.view(fast, nm, 1), model.group.fourier(p[nm]).blocks[1], rtol=0, atol=1e-15)


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_one_sphere_geometry_for_fourier_rows_and_parameter_rows(i):
    """Plancherel: the geometry of every spectral form equals that of the parameter rows (the trainer's)."""
    model = _case(i)
    full = FourierLayout.for_model(model)
    rng = np.random.default_rng(11)
    x = {nm: rng.standard_normal((4, model.group.order)) for nm in model.vector_names}
    g = {nm: rng.standard_normal((4, model.group.order)) for nm in model.vector_names}
    X, Gv = FourierState.from_parameters(model, x).data, FourierState.from_parameters(model, g).data
    params = ParameterGeometry(full.spheres)
    assert params.inner(x, g).shape == (4,)
    for form, rows in ((full, lambda a: a), (full.compact, full.compact.compress)):
        for lay, to in ((form, rows), (form.blocked(4), lambda a, f=form, r=rows: f.blocked(4).from_rows(r(a)))):
            np.testing.assert_allclose(lay.inner(to(X), to(Gv)), params.inner(x, g), rtol=1e-12)
            np.testing.assert_allclose(lay.sphere_norms(to(X)), params.sphere_norms(x), rtol=1e-12)
    # tangent projection: <x_S, g_S> = 0 on every sphere afterwards, in both storages, and the same vector
    gp = {nm: a.copy() for nm, a in g.items()}
    params.project_tangent(x, gp)
    Gp = full.project_tangent(X, Gv.copy())
    for sphere in full.spheres:
        s = ParameterGeometry([sphere])
        np.testing.assert_allclose(s.inner(x, gp), 0.0, atol=1e-12)
    for nm, a in FourierState(full, Gp).to_parameters().items():
        np.testing.assert_allclose(a, gp[nm], rtol=0, atol=1e-12)
    # retraction: unit norms, the same points
    xr = {nm: a.copy() for nm, a in x.items()}
    params.retract(xr)
    Xr = full.retract(X.copy())
    if full.spheres:
        np.testing.assert_allclose(params.sphere_norms(xr), 1.0, rtol=1e-14)
    for nm, a in FourierState(full, Xr).to_parameters().items():
        np.testing.assert_allclose(a, xr[nm], rtol=0, atol=1e-13)
    assert full.compact.compact is full.compact and full.full is full
    assert full.blocked(4) is full.blocked(4) and full.blocked(4).form == "blocked"
