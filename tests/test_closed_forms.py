"""Abelian closed forms (magnitudes, phases, misalignment, w, competition) against brute force.

The reference maps ``bruteforce.flow`` (parameter space) to magnitude/phase rates by the exact
chain rule: for ``z = nu_hat[k]``, ``alpha = 2|z|``, ``phi = arg z``:
``alpha' = 2 Re(e^{-i phi} z')``, ``phi' = 2 Im(e^{-i phi} z') / alpha``; a self-conjugate
frequency has the real amplitude ``z`` itself.
"""
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symflow
from symflow.errors import ModelError
from symflow.theory import Model, abelian_closed_form
from symflow.neuron import bruteforce
from symflow.theory.symbols import N, OMEGA

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _reference_rates(cf, signals, velocities):
    """Magnitude/phase rates from parameter-space signals and velocities by the chain rule."""
    G = cf.model.group
    m = cf.model
    names = list(m.input_names[:1] if m.shared else m.input_names) + [m.output_name]
    hats = {k: G.fourier(signals[k]).to_list() for k in names}
    dots = {k: G.fourier(velocities[k]).to_list() for k in names}
    out = {}
    for nm, var in zip(names, cf.trivial_variables):
        out[var.name] = dots[nm][G.trivial_index][0, 0].real
    for c, (f, orb, label, kind) in zip(cf.coordinates, cf.frequencies):
        r = orb[0]
        for idx, nm in enumerate(names):
            z, zdot = hats[nm][r][0, 0], dots[nm][r][0, 0]
            if kind == "pair":
                rot = np.exp(-1j * np.angle(z)) * zdot
                out[c.magnitudes[idx].name] = 2 * rot.real
                out[c.phases[idx].name] = 2 * rot.imag / (2 * abs(z))
            else:
                out[c.magnitudes[idx].name] = zdot.real
        if kind == "pair":
            ph = {p.name: out[p.name] for p in c.phases}
            D = sp.lambdify(c.phases, c.misalignment())
            out[c.D.name] = D(*[ph[p.name] for p in c.phases])
    return out


def _signals(G, shared, rng):
    t1, t2, xi = (_unit(rng.normal(size=G.order)) for _ in range(3))
    if shared:
        t2 = t1
    v1, v2, vx = bruteforce.flow(G, t1, t2, xi, shared=shared)
    if shared:
        return {"theta": t1, "xi": xi}, {"theta": v1, "xi": vx}, (t1, t2, xi)
    return {"theta1": t1, "theta2": t2, "xi": xi}, {"theta1": v1, "theta2": v2, "xi": vx}, (t1, t2, xi)


@pytest.mark.parametrize("name", ["Z7", "Z8", "Z3xZ5", "Z2xZ4"])
@pytest.mark.parametrize("shared", [False, True], ids=["unshared", "shared"])
def test_closed_form_equals_bruteforce(name, shared):
    G = symflow.group(name)
    cf = abelian_closed_form(Model(G, shared=shared))
    signals, velocities, (t1, t2, xi) = _signals(G, shared, np.random.default_rng(7))
    state = cf.from_signals(**signals)
    got = cf.evaluate(state)
    want = _reference_rates(cf, signals, velocities)
    np.testing.assert_allclose(got["Omega"], bruteforce.omega(G, t1, t2, xi), atol=1e-14)
    for k, v in want.items():
        np.testing.assert_allclose(got[k], v, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("shared,spheres,rate", [(True, "separate", 5), (False, "separate", 3), (False, "joint", 5)])
def test_w_equation_rate(shared, spheres, rate):
    cf = abelian_closed_form(Model("Z7", shared=shared, spheres=spheres))
    assert cf.w_rate == rate
    assert not cf.w_drive.has(sp.I) and not cf.w_drive.has(OMEGA)


def test_shared_templates_match_theory():
    """THEORY section 4 (shared, sphere), with p -> n: derived, compared here symbol for symbol."""
    cf = abelian_closed_form(Model("Z7", shared=True))
    a, b = (sp.Symbol(s, positive=True) for s in ("alpha_k", "beta_k"))
    D = sp.Symbol("D_k", real=True)
    rates = {eq.lhs.expr.func.__name__: eq.rhs for eq in cf.template["pair"]}
    expected = {
        "alpha_k": a * b * sp.cos(D) / N - 2 * OMEGA * a,
        "beta_k": a ** 2 * sp.cos(D) / (2 * N) - OMEGA * b,
        "phi_k": -b * sp.sin(D) / N,
        "psi_k": a ** 2 * sp.sin(D) / (2 * N * b),
    }
    for k, v in expected.items():
        assert sp.simplify(rates[k] - v) == 0, k
    assert sp.simplify(cf.omega_template["pair"] - a ** 2 * b * sp.cos(D) / 4) == 0
    bl, Dl = sp.Symbol("beta_l", positive=True), sp.Symbol("D_l", real=True)
    assert sp.simplify(cf.competition.rhs - (b * sp.cos(D) - bl * sp.cos(Dl)) / N) == 0
    assert sp.simplify(cf.w_drive - a ** 2 * (a ** 2 + 4 * b ** 2) / (2 * N)) == 0


def test_self_conjugate_frequency_is_handled():
    cf = abelian_closed_form(Model("Z8", shared=True))
    kinds = [f[3] for f in cf.frequencies]
    assert kinds == ["pair", "pair", "pair", "real"]
    assert len(cf.variables) == 2 + 3 * 4 + 2


@SETTINGS
@given(seed=st.integers(0, 2 ** 31), shared=st.booleans())
def test_im_w_decays_and_competition_law(seed, shared):
    """Im(dw/dt) = -c Omega Im w and d/dt ln(alpha_k/alpha_l) from brute force."""
    G = symflow.group("Z7")
    cf = abelian_closed_form(Model(G, shared=shared))
    signals, velocities, (t1, t2, xi) = _signals(G, shared, np.random.default_rng(seed))
    st_ = cf.from_signals(**signals)
    rates = _reference_rates(cf, signals, velocities)
    om = bruteforce.omega(G, t1, t2, xi)
    for c in cf.coordinates:
        mags = [st_[x.name] for x in c.magnitudes]
        dmags = [rates[x.name] for x in c.magnitudes]
        D = sp.lambdify(c.phases, c.misalignment())(*[st_[p.name] for p in c.phases])
        ins = mags[:-1]
        prod_in = ins[0] ** 2 if shared else ins[0] * ins[1]
        w = prod_in * mags[-1] * np.exp(1j * D)
        log_rate = sum((2 if shared else 1) * dm / m for dm, m in zip(dmags[:-1], ins)) + dmags[-1] / mags[-1]
        dw = w * (log_rate + 1j * rates[c.D.name])
        assert abs(dw.imag + cf.w_rate * om * w.imag) < 1e-12
    k, l = cf.coordinates[0], cf.coordinates[1]
    ak, al = k.magnitudes[0], l.magnitudes[0]
    want = rates[ak.name] / st_[ak.name] - rates[al.name] / st_[al.name]
    args = sorted(cf.competition.rhs.free_symbols - {N}, key=lambda s: s.name)
    sub = {}
    for s in args:
        name = s.name.replace("_k", f"_{k.k}").replace("_l", f"_{l.k}")
        sub[s] = st_[name] if name in st_ else sp.lambdify(k.phases if s.name == "D_k" else l.phases,
                                                            (k if s.name == "D_k" else l).misalignment())(
            *[st_[p.name] for p in (k if s.name == "D_k" else l).phases])
    got = float(cf.competition.rhs.subs(sub).subs(N, G.order))
    assert abs(got - want) < 1e-10


def test_closed_form_errors():
    with pytest.raises(ModelError, match="not abelian"):
        abelian_closed_form(Model("S3"))
    with pytest.raises(ModelError, match="CE loss"):
        abelian_closed_form(Model("Z5", loss="mse"))
    with pytest.raises(ModelError, match="reduced flow needs"):
        abelian_closed_form(Model("Z5", activation="z**3"))
    cf = abelian_closed_form("Z5")
    with pytest.raises(symflow.SymflowError, match="missing"):
        cf.evaluate({"alpha1_1": 1.0})
    assert "w rate 3" in repr(cf) and "\\Omega" in cf.latex()


# ---------------------------------------------------------------------- the proof generic in n (issue 26)
from symflow.theory import generic_proof  # noqa: E402


@pytest.mark.parametrize("settings_", [dict(), dict(shared=True), dict(spheres="joint"), dict(constraint="none"),
                                       dict(loss="mse"), dict(activation="z**2+z**3"),
                                       dict(loss="mse", activation="z**3"), dict(shared=True, activation="z**3")])
def test_generic_proof_passes_for_every_setting(settings_):
    m = Model("Z9", **settings_)
    cf = abelian_closed_form(m) if m.loss == "ce" and m.is_bilinear else None
    proof = generic_proof.prove_abelian(m, cf, cache=False)
    assert proof.passed, proof.mismatches
    assert all(ok for _, _, ok in proof.lemmas) and len(proof.lemmas) == 7
    assert proof.energy_cases >= 15 and (proof.flow_checks > 0) == (cf is not None)
    assert "generic in n" in proof.summary() and proof.summary().startswith("PROVEN:")
    assert proof.points == 0 and proof.failure_probability == 0.0 and proof.exact


def test_generic_proof_agrees_with_the_exact_proof_on_a_small_group():
    m = Model("Z6")
    assert m.energy().verify(points=2).passed
    assert generic_proof.prove_abelian(m, abelian_closed_form(m)).passed


def test_generic_proof_fails_on_a_wrong_closed_form_coefficient():
    """Mutant: 1/n instead of 1/(2n) in d alpha1_k/dt (and the self-conjugate rate doubled)."""
    m = Model("Z7")
    cf = abelian_closed_form(m)
    a = cf._pair.mag["in"][0]
    good = cf.pair_rates[a]
    try:
        cf.pair_rates[a] = good.subs(2 * N, N)
        assert cf.pair_rates[a] != good
        proof = generic_proof.prove_abelian(m, cf, cache=False)
        assert not proof.passed and proof.summary().startswith("FAILED")
        assert any(str(a) in x for x in proof.mismatches)
    finally:
        cf.pair_rates[a] = good
    w = cf.w_rate
    try:
        cf.w_rate = w + 1                      # a wrong misalignment rate
        assert not generic_proof.prove_abelian(m, cf, cache=False).passed
    finally:
        cf.w_rate = w
    assert generic_proof.prove_abelian(m, cf, cache=False).passed


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_generic_proof_fails_on_a_wrong_energy_coefficient(monkeypatch, loss):
    """Mutant: the engine's Fourier energy words with a doubled coefficient."""
    from symflow.theory import energy
    from symflow.theory.matrix_expr import MatrixExpr

    real = energy.energy_trace_words

    def doubled(model, d, n):
        return MatrixExpr.collect("trace", [(2 * c, w) for c, w in real(model, d, n)])

    monkeypatch.setattr(energy, "energy_trace_words", doubled)
    proof = generic_proof.prove_abelian(Model("Z7", loss=loss), None, cache=False)
    assert not proof.passed and proof.mismatches[0].startswith("monomial")


def test_generic_proof_needs_a_product_of_cyclic_groups():
    from symflow.errors import SymflowError

    with pytest.raises(SymflowError, match="products? of cyclic groups"):
        generic_proof.prove_abelian(Model("S3"))


@pytest.mark.parametrize("name", ["Z9", "Z8", "Z2xZ4xZ6", "Z3xZ5", "Z2xZ2"])
def test_frequency_counts_and_first_frequencies_without_orbits(name):
    cf = abelian_closed_form(name)
    counts, first = cf.frequency_counts, cf.first_frequencies(12)   # before the orbits are built
    freqs = cf.frequencies
    assert counts == {"pair": sum(f[3] == "pair" for f in freqs), "real": sum(f[3] == "real" for f in freqs)}
    assert first == [(f, label, kind) for f, _, label, kind in freqs[:12]]
