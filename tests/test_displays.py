"""What the display commands print: no ``-0`` terms, ``derive --json``, large abelian ``rates``/``derive``,
and tables that stay readable at 120 columns and when piped (issue 12)."""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy as sp

from symflow.cli import main
from symflow.errors import SymflowError

ROOT = Path(__file__).resolve().parents[1]

#: ``-0`` printed as a number or coefficient (``-0Ω``, ``- 0Ω``, ``-0 ∫``, ``-0.0``, ``+ -x``), never ``-0.03``.
NEGATIVE_ZERO = re.compile(r"(?<![\w.])-\s?0(?![.\d])|(?<![\w.])-0\.0+(?!\d)|\+ -|- 0\s?(Ω|\\Omega)")


def output(capsys, argv) -> str:
    rc = main(argv)
    out = capsys.readouterr().out
    assert rc == 0, out
    return out


# ---------------------------------------------------------------------- item: no -0 Omega terms
@pytest.mark.parametrize("argv", [
    ["derive", "Z6", "--constraint", "none", "--points", "0"],
    ["derive", "Z6", "--constraint", "none", "--shared", "--points", "0"],
    ["derive", "Q8", "--constraint", "none", "--loss", "mse", "--points", "0"],
    ["derive", "Z6", "--constraint", "none", "--points", "0", "--latex"],
    ["derive", "Z6", "--shared", "--points", "0"],
    ["derive", "D3", "--spheres", "joint", "--points", "0"],
    ["rates", "Q8", "--shared"],
    ["rates", "Z6", "--spheres", "joint", "--lr", "0.1", "--width", "8", "--scale", "1"],
])
def test_no_negative_zero_terms(capsys, argv):
    out = output(capsys, argv)
    assert not NEGATIVE_ZERO.search(out), NEGATIVE_ZERO.search(out).group(0) + " in: " + \
        next(l for l in out.splitlines() if NEGATIVE_ZERO.search(l))


def test_unconstrained_flow_says_zero_and_conserved(capsys):
    out = output(capsys, ["derive", "Z6", "--constraint", "none", "--points", "0"])
    assert "dθ̂₁[1]/dt = 0" in out and "Im w_k is conserved" in out
    out = output(capsys, ["derive", "Z6", "--points", "0"])   # the sphere keeps its decay terms
    assert "dθ̂₁[1]/dt = -Ω θ̂₁[1]" in out and "- 3Ω w_k" in out


def test_omega_decay_text():
    from symflow.theory.display import omega_decay_text

    assert omega_decay_text(0, "x") == "0"
    assert omega_decay_text(sp.Integer(0), "x") == "0"
    assert omega_decay_text(1, "x") == "-Ω x"
    assert omega_decay_text(2, "x") == "-2Ω x"
    assert omega_decay_text(sp.Rational(1, 2), "x") == "-(1/2)Ω x"


# ---------------------------------------------------------------------- item: derive --json
DERIVE_KEYS = {"group", "order", "abelian", "model", "energy", "proof", "flows", "flow_note", "trivial_flow",
               "closed_form", "versions"}


def test_derive_json_contract_agrees_with_text(capsys):
    data = json.loads(output(capsys, ["derive", "Z6", "--points", "2", "--json"]))
    assert DERIVE_KEYS <= set(data)
    assert data["group"] == "Z6" and data["order"] == 6 and data["abelian"] is True
    assert data["model"] == {"shared": False, "spheres": "separate", "loss": "ce", "activation": "z**2",
                             "constraint": "sphere"}
    for form in ("fourier", "parameter"):
        assert data["energy"][form]["text"] and data["energy"][form]["latex"]
    proof = data["proof"]
    assert proof["points"] == 2 and proof["passed"] is True and 0 < proof["failure_probability"] < 1e-10
    assert [f["d"] for f in data["flows"]] == [1] and data["flows"][0]["irreps"] == 5
    assert len(data["flows"][0]["text"]) == 3 and "\\frac{d}{dt}" in data["flows"][0]["latex"]
    cf = data["closed_form"]
    assert cf["frequencies"] == 3 and cf["frequency_pairs"] == 2 and cf["self_conjugate"] == 1
    assert cf["w_rate"] == "3" and len(cf["pair"]) == 7 and cf["latex"].startswith("\\begin{aligned}")
    assert set(data["versions"]) >= {"symflow", "numpy", "python", "sympy"}
    text = output(capsys, ["derive", "Z6", "--points", "2"])
    assert proof["summary"] in " ".join(text.split()) or proof["verdict"] + ":" in text
    assert proof["verdict"] == "PROVEN" and "PROVEN:" in text
    for line in data["flows"][0]["text"] + cf["pair"]:
        assert line.split(" = ")[0] in text


def test_derive_json_non_abelian_and_no_flow(capsys):
    data = json.loads(output(capsys, ["derive", "D3", "--points", "0", "--json"]))
    assert data["proof"] is None and data["closed_form"] is None and data["abelian"] is False
    assert [(f["d"], f["irreps"]) for f in data["flows"]] == [(1, 1), (2, 1)]
    data = json.loads(output(capsys, ["derive", "F21", "--points", "0", "--json"]))
    assert data["energy"]["parameter"]["text"] is None and "21^2" in data["energy"]["parameter"]["note"]
    data = json.loads(output(capsys, ["derive", "Z5", "--activation", "z**2+z**3", "--points", "1", "--json"]))
    assert data["flows"] is None and "No per-block flow" in data["flow_note"] and data["proof"]["passed"]
    assert data["model"]["activation"] == "z**3 + z**2"


def test_derive_json_documented(capsys):
    from symflow.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if getattr(a, "choices", None) and "derive" in a.choices)
    assert "--json" in sub.choices["derive"].format_help()
    readme = (ROOT / "README.md").read_text()
    assert "derive NAME" in readme and "derive --json" in readme and '"closed_form"' in readme
    assert main(["derive", "Z5", "--json", "--latex"]) == 2
    assert "give one of them" in capsys.readouterr().err


# ---------------------------------------------------------------------- item: large abelian rates/derive
def _units(spectrum):
    return [(m.units, m.multiplicity, m.mode) for m in spectrum.modes]


@pytest.mark.parametrize("name,small,n_orbits", [("Z5003", "Z7", 2501), ("Z2xZ2xZ2000", "Z2xZ2xZ4", 4003)])
def test_rates_large_abelian(capsys, name, small, n_orbits):
    from symflow.theory import Model
    from symflow.theory.rates import orbit_closed_form, orbit_spectra

    t0 = time.perf_counter()
    data = json.loads(output(capsys, ["rates", name, "--no-verify", "--json"]))
    assert time.perf_counter() - t0 < 60
    assert len(data["orbits"]) == n_orbits
    n = 5003 if name == "Z5003" else 8000
    model = Model(small)
    spectra = {s.equilibrium.type: s for s in orbit_spectra(model)}   # small group: built and verified points
    expected = {}
    for kind in spectra:   # the closed form in n, evaluated at the group's n (Z7: pairs only)
        cf = orbit_closed_form(model, 1, kind)
        om = sp.radsimp(cf.omega_star.subs(cf.n, n))
        expected[kind] = (str(om), [(str(sp.radsimp(u * om)), k, lab) for u, k, lab in cf.at(n)])
        # the same rates in units of Omega* as the small group's verified spectrum (multiplicities in n)
        assert [(u, lab) for u, _, lab in cf.at(n)] == [(u, lab) for u, _, lab in _units(spectra[kind])]
    for orb in data["orbits"]:
        om, modes = expected["complex" if orb["orbit_size"] == 2 else "real"]
        assert orb["omega_star_exact"] == om
        assert [(m["exact"], m["multiplicity"], m["mode"]) for m in orb["spectrum"]] == modes
    text = output(capsys, ["rates", name, "--no-verify"])
    assert f"({n_orbits if name == 'Z5003' else 3996} orbits with this spectrum)" in " ".join(text.split())
    assert "checked against" not in text


def test_rates_large_abelian_limits():
    from symflow.theory import Model
    from symflow.theory.rates import orbit_spectra, spectrum

    m = Model("Z5003")
    s = spectrum(m, 1)
    assert s.equilibrium.irreps == ["chi_1", "chi_5002"] and not s.verified and s.stable
    with pytest.raises(SymflowError, match=r"limited to order <= 1500 .*--no-verify"):
        orbit_spectra(m, verify=True)


def test_rates_default_does_not_claim_a_check_it_skipped(capsys):
    assert "checked against" not in output(capsys, ["rates", "Z211"])
    assert "checked against" in output(capsys, ["rates", "Z7"])


@pytest.mark.parametrize("name,small,n_freq", [("Z5003", "Z7", 2501), ("Z2xZ2xZ2000", "Z2xZ2xZ4", 4003)])
def test_derive_large_abelian(capsys, name, small, n_freq):
    t0 = time.perf_counter()
    big = json.loads(output(capsys, ["derive", name, "--points", "0", "--json"]))
    assert time.perf_counter() - t0 < 60
    ref = json.loads(output(capsys, ["derive", small, "--points", "0", "--json"]))
    n = big["order"]
    assert big["flows"][0]["irreps"] == n - 1 and len(big["flows"]) == 1
    for key in ("pair", "real", "omega", "w", "competition", "latex"):
        assert big["closed_form"][key] == ref["closed_form"][key]   # the same formulas in n
    assert big["closed_form"]["frequencies"] == n_freq
    text = output(capsys, ["derive", name, "--points", "0"])
    assert "Abelian closed form" in text and f"{n - 1}" in text


def test_closed_form_of_a_large_group_evaluates_the_template():
    from symflow.theory import abelian_closed_form
    from symflow.theory.symbols import N

    cf = abelian_closed_form("Z5003")
    assert len(cf.frequencies) == 2501 and cf.frequencies[4][2] == (5,)
    small = abelian_closed_form("Z7")
    assert [e.rhs for e in cf.template["pair"]] == [e.rhs for e in small.template["pair"]]
    cf9 = abelian_closed_form("Z9")   # the group's system is the template at the group's n
    eq = cf9.equations[len(cf9.trivial_variables)]
    assert eq.rhs == cf9.template["pair"][0].rhs.xreplace({N: 9, **{
        a: b for a, b in zip(cf9._pair.magnitudes + cf9._pair.phases + [cf9._pair.D],
                             cf9.coordinates[0].magnitudes + cf9.coordinates[0].phases + [cf9.coordinates[0].D])}})


def test_derive_proof_limit_is_one_line(capsys):
    assert main(["derive", "Z5003", "--proof", "exact"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "4096" in err and "--points 0" in err and "--proof generic" in err


# ---------------------------------------------------------------------- item: readable at 120 columns and piped
def run_piped(argv, columns):
    """Run ``symflow argv`` in a subprocess with stdout piped; ``columns`` sets COLUMNS (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    proc = subprocess.run([sys.executable, "-m", "symflow", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _words(G, irreps: bool):
    """Tokens the group tables print: irrep labels, class representatives, exact matrix entries."""
    from symflow.groups.display import matrix_lines

    words = [r.label for r in G.irreps] + [str(G.labels[c[0]]) for c in G.classes[:4]]
    for r in G.irreps if irreps else []:
        if r.dim <= 3:
            words += [e for g in range(3) for line in matrix_lines(r.exact_matrices[g]) for e in
                      line.strip("[]").split()]
    return words


@pytest.mark.parametrize("columns", [120, None])
@pytest.mark.parametrize("argv", [["group", "S4", "--irreps"], ["group", "A5"], ["group", "F21", "--irreps"],
                                  ["groups"], ["rates", "F21"], ["derive", "F21", "--points", "0"]])
def test_tables_readable_at_120_columns_and_piped(argv, columns):
    from rich.cells import cell_len

    import symflow

    out = run_piped(argv, columns)
    lines = out.splitlines()
    assert max(map(cell_len, lines)) <= 120, max(lines, key=cell_len)
    if argv[0] == "group":
        words = _words(symflow.group(argv[1]), "--irreps" in argv)
    elif argv[0] == "groups":
        words = ["Z<a>xZ<b>x...", "SmallGroup(n,k)", "SmallGroup(8,3)", "C7:C3", "Frobenius"]
    elif argv[0] == "rates":
        words = ["{chi_1, chi_2}", "{rho_1, rho_3}", "sqrt(42)/882", "sqrt(14)/882", "phase alignment",
                 "rotational alignment", "rank reduction", "losing irreps (theta1, theta2, xi)",
                 "trivial component (theta1, theta2, xi)", "symmetry zero modes", "-0.00848448"]
    else:
        words = ["dθ̂₁/dt = (1/n) θ̂₂* ξ̂ - Ω θ̂₁", "dξ̂/dt = (1/n) θ̂₂ θ̂₁ - Ω ξ̂", "irreps", "flow"]
    for w in words:   # every word (a cell, a label, a formula) whole on one line: nothing folded mid-word
        assert any(w in line for line in lines), f"{w!r} is broken across lines in:\n{out}"


def test_irreps_of_large_dimension_are_named_not_folded():
    from rich.cells import cell_len

    out = run_piped(["group", "S6", "--irreps"], 120)
    assert max(map(cell_len, out.splitlines())) <= 120
    assert "not shown" in out and "(16x16)" in out and "exact_matrices" in " ".join(out.split())


@pytest.mark.parametrize("columns", [120, None])
def test_study_and_landscape_tables_readable_piped(columns, tmp_path):
    """The study's and the landscape's tables, piped: no line wider than 120 cells, no word broken."""
    from rich.cells import cell_len

    for argv, words in (
            (["study", "Z5", "--width", "64", "--no-figures", "--no-stage2", "--out", str(tmp_path / "s"),
              "--force"], ["non-quaternionic", "phase-alignment", "every neuron ends on", "agrees", "measured"]),
            (["landscape", "D5", "--shared", "--starts", "200", "--no-progress"],
             ["sqrt(10)/200", "sqrt(5)/100", "theory", "found", "{rho_1}"])):
        out = run_piped(argv, columns)
        lines = out.splitlines()
        assert max(map(cell_len, lines)) <= 120, max(lines, key=cell_len)
        for w in words:
            assert any(w in line for line in lines), f"{w!r} is broken across lines in:\n{out}"
