"""``symflow verify`` and :mod:`symflow.testing`: the catalogue passes on correct models, catches
mutants, reports counterexamples, skips with reasons, and its references agree with THEORY."""
import ast
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symflow
from symflow.cli import main
from symflow.groups import Group
from symflow.testing import catalogue, checks, mutants, runner
from symflow.testing import strategies as sfs
from symflow.testing.catalogue import CATALOGUE, Invariant, system_for
from symflow.neuron import bruteforce

FAST = dict(examples=4, seed=0, shrink_seconds=0.2)


@pytest.fixture(scope="module")
def systems():
    cache = {}

    def get(name, **kw):
        key = (name, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = system_for(name, **kw)
        return cache[key]

    return get


@pytest.mark.parametrize("name,kw", [
    ("Z5", {}), ("Z4", {"shared": True}), ("D4", {}), ("Q8", {}), ("D3", {"spheres": "joint"}),
    ("Z3", {"loss": "mse"}), ("Z2xZ2", {}),
])
def test_catalogue_passes_on_correct_models(systems, name, kw):
    s = systems(name, **kw)
    report = runner.run_catalogue(s, model=s.extras["model"], **FAST)
    assert report.ok, [(r.name, r.error, r.counterexample) for r in report.failures]
    ran = [r for r in report.results if r.status == "passed"]
    assert all(r.examples >= 1 and r.counterexample is None for r in ran)
    for r in report.results:
        if r.status == "skipped":
            assert r.skipped and not r.passed and r.to_json()["passed"] is False


def test_skips_are_reported_with_reasons(systems):
    report = runner.run_catalogue(systems("D4"), **FAST)
    phase = report.result("flow.phase-equivariance")
    assert phase.status == "skipped" and "non-abelian" in phase.skipped
    assert "Z_p" in report.result("modular.conserved").skipped
    mse = runner.run_catalogue(systems("Z3", loss="mse"), invariants=[catalogue.get("equilibria.stationary")], **FAST)
    assert mse.results[0].status == "skipped" and "loss=ce" in mse.results[0].skipped


@pytest.mark.parametrize("mutant", sorted(mutants.MUTANTS))
@pytest.mark.parametrize("name", ["Z5", "D3"])
def test_mutants_are_caught(systems, mutant, name):
    s = systems(name)
    fn, caught = mutants.MUTANTS[mutant]
    report = runner.run_catalogue(fn(s), invariants=[catalogue.get(c) for c in caught], **FAST)
    for r in report.results:
        assert r.status == "failed", f"{mutant} not caught by {r.name}"
        assert r.counterexample is not None and r.error


def test_sign_flip_edits_the_generated_source(systems):
    s = systems("D3")
    assert "drive_xi" in s.extras["generated_source"]
    m = mutants.mutate(s, "sign-flip")
    assert "in generated code" in m.label
    text = mutants.flip_drive_sign(s.extras["generated_source"], "xi")
    flipped = [ln for ln in text.splitlines() if ln.strip().startswith("drive_xi") and "= -(" in ln]
    assert flipped and len(text.splitlines()) == len(s.extras["generated_source"].splitlines())


def test_mutant_leaves_the_original_untouched(systems):
    s = systems("Z5")
    mutants.mutate(s, "wrong-normalisation")
    assert runner.run_catalogue(s, invariants=[catalogue.get("fourier.plancherel")], **FAST).ok


def test_cli_reports_a_mutant(capsys):
    rc = main(["verify", "D3", "--mutant", "missing-projection", "--only", "flow.norm", "--examples", "5", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1 and data["ok"] is False and data["model"]["mutant"] == "missing-projection"
    (check,) = data["checks"]
    assert check["name"] == "flow.norm-preservation" and check["passed"] is False
    assert "theta1" in check["counterexample"]


def test_cli_json_contract(capsys):
    rc = main(["verify", "D3", "--examples", "3", "--seed", "7", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert {"model", "checks"} <= set(data)
    assert data["model"]["group"] == "D3" and data["seed"] == 7 and data["versions"]["sympy"]
    names = [c["name"] for c in data["checks"]]
    assert names == [i.name for i in CATALOGUE]
    for c in data["checks"]:
        assert {"name", "examples", "passed", "counterexample"} <= set(c)
        assert c["passed"] is (c["status"] == "passed")
        if c["status"] == "skipped":
            assert c["skipped"]


def test_cli_table_and_list(capsys):
    assert main(["verify", "Z3", "--examples", "2", "--only", "fourier"]) == 0
    out = capsys.readouterr().out
    assert "fourier.plancherel" in out and "all checks passed" in out
    assert main(["verify", "--list"]) == 0
    assert "spectrum.sign" in capsys.readouterr().out


@pytest.mark.parametrize("argv,words", [
    (["verify", "Z5", "--examples", "0"], "--examples"),
    (["verify", "Z5", "--mutant", "nonsense"], "sign-flip"),
    (["verify", "Z5", "--only", "nothing-like-this"], "checks:"),
    (["verify", "Zed5"], "unknown group"),
    (["verify"], "name a group"),
])
def test_cli_bad_input(capsys, argv, words):
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert words in err and "Traceback" not in err


def test_save_writes_json(tmp_path, capsys):
    path = tmp_path / "report.json"
    assert main(["verify", "Z3", "--examples", "2", "--only", "irreps", "--save", str(path)]) == 0
    assert json.loads(path.read_text())["checks"][0]["name"] == "irreps.homomorphism"


# ---------------------------------------------------------------------- runner mechanics
def _threshold(system, x):
    """Fails when some entry exceeds 1/2."""
    checks.expect(np.all(x <= 0.5), f"entry {x.max()} > 0.5")


def _crash(system, x):
    """Code under test that crashes."""
    raise ZeroDivisionError("boom")


def test_counterexample_is_shrunk_and_reproducible():
    G = symflow.group("Z4")
    inv = Invariant("demo.threshold", _threshold, lambda s: sfs.signals(s.group.order))
    a = runner.run_invariant(inv, checks.System(G), examples=20, seed=3)
    b = runner.run_invariant(inv, checks.System(G), examples=20, seed=3)
    assert a.status == "failed" and "> 0.5" in a.error
    assert a.counterexample == b.counterexample and a.examples == b.examples
    x = np.array(ast.literal_eval(a.counterexample.replace("array(", "").rstrip(")")))
    assert np.count_nonzero(x) <= 2 and x.max() > 0.5  # shrunk towards a simple vector


def test_crashing_code_is_a_failure_with_its_type():
    inv = Invariant("demo.crash", _crash, lambda s: sfs.signals(3))
    r = runner.run_invariant(inv, checks.System(symflow.group("Z3")), examples=5)
    assert r.status == "failed" and r.error.startswith("ZeroDivisionError: boom")


def test_keyboard_interrupt_keeps_finished_results():
    def interrupt(system, x):
        raise KeyboardInterrupt

    invs = [catalogue.get("irreps.homomorphism"), Invariant("demo.interrupt", interrupt, lambda s: st.just(0)),
            catalogue.get("fourier.plancherel")]
    report = runner.run_catalogue(checks.System(symflow.group("Z3")), invariants=invs, examples=3)
    assert report.interrupted and not report.ok
    assert [r.name for r in report.results] == ["irreps.homomorphism"] and report.results[0].passed
    assert report.not_run == ["demo.interrupt", "fourier.plancherel"]
    assert report.to_json()["interrupted"] is True


def test_user_invariants_register_in_their_own_registry():
    mine = []

    @catalogue.invariant("mine.plancherel", lambda s: sfs.signals(s.group.order), registry=mine)
    def plancherel_again(system, x):
        """Plancherel, registered privately."""
        checks.plancherel(system, x)

    assert [i.name for i in mine] == ["mine.plancherel"] and "mine.plancherel" not in [i.name for i in CATALOGUE]
    assert runner.run_catalogue(checks.System(symflow.group("D4")), invariants=mine, examples=3).ok


# ---------------------------------------------------------------------- references vs THEORY
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_general_reference_equals_bruteforce_for_quadratic_ce(data):
    """The general-activation table sums reduce to symflow.neuron.bruteforce for sigma = z^2."""
    from symflow.theory.model import Model

    name = data.draw(st.sampled_from(["Z5", "D3", "Q8"]))
    m = Model(name, activation="z**2 + z")  # same cross term as z**2, so the same energy
    s = checks.System(group=m.group, model=m)
    state = data.draw(sfs.model_states(m))
    G = m.group
    ref = bruteforce.omega(G, state["theta1"], state["theta2"], state["xi"])
    assert np.isclose(checks.reference_energy(s, state), ref, rtol=1e-10, atol=1e-15)
    g = checks.reference_gradients(s, state)
    for got, want in zip((g["theta1"], g["theta2"], g["xi"]),
                         bruteforce.euclidean_gradients(G, state["theta1"], state["theta2"], state["xi"])):
        assert np.allclose(got, want, rtol=1e-10, atol=1e-15)


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_ce_energy_fourier_formula(data):
    """THEORY 2: Omega = sum_{rho != 1} d tr(xi_hat^* theta2_hat theta1_hat) (GC convention)."""
    G = data.draw(sfs.groups(families=["cyclic", "dihedral", "quaternion", "symmetric"], max_order=24))
    t1, t2, xi = data.draw(sfs.neuron_states(G))
    h1, h2, hx = G.fourier(t1), G.fourier(t2), G.fourier(xi)
    val = sum(r.dim * np.trace(hx[i].conj().T @ h2[i] @ h1[i]) for i, r in enumerate(G.irreps) if not r.is_trivial)
    assert np.isclose(val, bruteforce.omega(G, t1, t2, xi), rtol=1e-9, atol=1e-15)


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_mse_energy_fourier_formula(data):
    """THEORY 7 (Li2): E = (2/n) sum_{rho != 1} d ||u_hat v_hat||_F^2 with u_hat = sum_g u(g) rho(g)."""
    from symflow.theory.model import Model

    name = data.draw(st.sampled_from(["Z5", "D3", "S3", "Q8"]))
    m = Model(name, loss="mse")
    state = data.draw(sfs.model_states(m))
    G = m.group
    E = checks.reference_energy(checks.System(group=G, model=m), state)
    n = G.order
    uh = [np.einsum("g,gab->ab", state["u"], r.matrices) for r in G.irreps]
    vh = [np.einsum("g,gab->ab", state["v"], r.matrices) for r in G.irreps]
    val = 2 / n * sum(r.dim * np.linalg.norm(uh[i] @ vh[i]) ** 2 for i, r in enumerate(G.irreps) if not r.is_trivial)
    assert np.isclose(E, val, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name,seed", [("D4", 1), ("Q8", 2)])
def test_catalogue_on_groups_from_tables(name, seed):
    """Groups given only by a (shuffled) Cayley table: numeric irreps, same invariants. (The runner
    nests @given, so the table is drawn with a seeded permutation here rather than by Hypothesis.)"""
    G = symflow.group(name)
    perm = np.random.default_rng(seed).permutation(G.order)
    H = Group.from_table(sfs.relabel_table(G.table, perm), name=f"{name}~table")
    report = runner.run_catalogue(system_for(H), examples=3, seed=0, shrink_seconds=0.2)
    assert report.ok, [(r.name, r.error) for r in report.failures]


def test_docs_worked_example_runs():
    import pathlib
    import re

    text = (pathlib.Path(__file__).parent.parent / "docs" / "writing-invariants.md").read_text()
    first, second = re.findall(r"```python\n(.*?)```", text, re.S)[:2]
    ns = {}
    exec(first.replace("examples=50", "examples=10"), ns)
    assert ns["report"].ok and ns["report"].results[0].status == "passed"
    exec(second.replace("max_examples=25", "max_examples=3"), ns)
    ns["test_energy_bounded"]()


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_random_model_definitions(data):
    """Random model definitions, single neurons and batches: the Fourier flow (generated code) agrees
    with the Cayley-table flow, is tangent and increases the energy."""
    from symflow.theory.model import Model

    kw = data.draw(sfs.model_definitions(names=["Z3", "Z4", "D3", "Z2xZ2"]))
    s = system_for(model=Model(**kw))
    state = data.draw(sfs.model_states(s.model, neurons=data.draw(st.sampled_from([None, 3]))))
    checks.flow_matches_reference(s, state)
    checks.flow_tangent(s, state)
    checks.energy_ascent(s, state)


def test_cli_interrupt_prints_what_finished(monkeypatch, capsys):
    def interrupt(system, x):
        raise KeyboardInterrupt

    invs = [catalogue.get("fourier.plancherel"), Invariant("demo.interrupt", interrupt, lambda s: st.just(0)),
            catalogue.get("fourier.inversion")]
    monkeypatch.setattr(catalogue, "CATALOGUE", invs)
    assert main(["verify", "Z3", "--examples", "2", "--json"]) == 130
    data = json.loads(capsys.readouterr().out)
    assert data["interrupted"] is True and [c["name"] for c in data["checks"]] == ["fourier.plancherel"]
    assert data["not_run"] == ["demo.interrupt", "fourier.inversion"]
