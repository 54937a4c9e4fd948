"""Issue 12, "The newcomer's path" and "Hygiene": the theory document and its citations, ``--help``,
``symflow groups``, fixed choices, the ``--activation`` example, LICENSE, dev dependencies, the cost of
each extra, and examples that clean up after themselves."""
import argparse
import importlib.util
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

import symflow
import symflow.cli as cli
from symflow.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "docs" / "theory.md"
CITATION = re.compile(r"docs/theory\.md\W{0,3}sections?\s+(\d+)((?:\s*(?:,|and|-)\s*\d+)*)")
MARKUP = re.compile(r"``|:(?:func|mod|class|meth|attr|data):")


def _theory_sections() -> set[int]:
    return {int(m.group(1)) for m in re.finditer(r"^## (\d+)\. ", THEORY.read_text(), re.M)}


def _cited_sources():
    files = sorted((ROOT / "symflow").rglob("*.py")) + sorted((ROOT / "examples").glob("*.py")) + [ROOT / "README.md"]
    files += sorted((ROOT / "docs").glob("*.md"))
    for f in files:
        yield f, f.read_text()


# ---------------------------------------------------------------------- 1. the theory document
def test_every_cited_theory_section_exists():
    sections = _theory_sections()
    assert sections >= {1, 2, 3, 4, 5, 6, 7}
    cited = []
    for f, text in _cited_sources():
        for m in CITATION.finditer(text):
            nums = [int(m.group(1))] + [int(x) for x in re.findall(r"\d+", m.group(2) or "")]
            cited += [(f.relative_to(ROOT), k) for k in nums]
    assert len(cited) >= 20, cited                 # reports, docstrings and the README do cite it
    missing = [(str(f), k) for f, k in cited if k not in sections]
    assert not missing, f"cited sections missing from docs/theory.md: {missing}"


def test_no_citation_of_a_missing_file():
    stale = [(str(f.relative_to(ROOT)), m.group(0)) for f, text in _cited_sources()
             for m in re.finditer(r"THEORY\.md|THEORY(?:'s|:|\s+section|\s+states|\))", text)]
    assert not stale, stale


def test_theory_document_names_its_sources_and_terms():
    text = THEORY.read_text()
    for term in ("GC", "Li2", "Omega*", "Stage I", "Stage II", "c = 1", "Plancherel", "element order"):
        assert term in text, term
    ids = set(re.findall(r"arXiv:(\d{4}\.\d{5})", text))
    assert {"2606.02993", "2602.16849", "2509.21519"} <= ids
    readme = (ROOT / "README.md").read_text()
    assert "docs/theory.md" in readme
    for i in ids:
        assert i in readme, f"README does not cite arXiv:{i}"


def test_theory_constants_agree_with_the_code():
    """The worked numbers quoted in docs/theory.md are what the code computes."""
    from symflow.dynamics.stage2 import theory_time_to_loss

    text = THEORY.read_text()
    assert "0.0073478" in text and "0.0042422" in text
    assert "719.4" in text and abs(float(theory_time_to_loss(0.01, 7)) - 719.4) < 0.05


# ---------------------------------------------------------------------- 2. --help
def _subparsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, sub.choices


def test_top_level_help_has_the_group_name_grammar():
    text = build_parser().format_help()
    for form in ("Z<n>", "Z3xZ5", "D<n>", "Q8", "Dic<n>", "S<n>", "A<n>", "F<m>", "C<p>:C<q>", "SmallGroup(n,k)",
                 "symflow groups"):
        assert form in text, form
    assert "groups" in COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_every_subcommand_has_a_description_examples_and_no_markup(name):
    _, choices = _subparsers()
    p = choices[name]
    text = p.format_help()
    assert p.description and len(p.description) > 20
    assert "examples:" in text and f"symflow {name}" in text.split("examples:")[1]
    assert not MARKUP.search(text), MARKUP.search(text).group(0)


def test_every_help_example_parses_to_its_command():
    parser, _ = _subparsers()
    assert set(cli.EXAMPLES) == set(COMMANDS)
    for name, examples in cli.EXAMPLES.items():
        for e in examples:
            argv = shlex.split(e)
            assert argv[0] == "symflow" and argv[1] == name
            args = parser.parse_args(argv[1:])
            assert args.command == name and callable(args.func)


def test_groups_lists_every_family_and_its_examples_work(capsys):
    from symflow.commands.groups import FAMILIES

    assert main(["groups"]) == 0
    out = capsys.readouterr().out
    for form, _, examples in FAMILIES:
        assert form in out
        for ex in re.findall(r"[A-Za-z][A-Za-z0-9:]*(?:\(\d+(?:,\d+)?\))?(?: --bandlimit \d+)?", examples):
            if ex.startswith("SmallGroup"):
                continue                                       # needs the gap extra
            name, _, band = ex.partition(" --bandlimit ")
            G = symflow.group(name, bandlimit=int(band)) if band else symflow.group(name)
            assert G is not None, ex
    assert not MARKUP.search(out)


def _accepted(action):
    """The fixed values of an option: argparse ``choices``, or a ``{a,b}`` metavar checked by the command."""
    if action.choices is not None:
        return set(action.choices)
    m = re.fullmatch(r"\{([\w,]+)\}", action.metavar or "")
    return set(m.group(1).split(",")) if m else None


def test_spheres_and_reduction_have_fixed_choices():
    _, choices = _subparsers()
    seen = set()
    for name, p in choices.items():
        for a in p._actions:
            if a.dest in ("spheres", "reduction"):
                assert _accepted(a) == ({"separate", "joint"} if a.dest == "spheres" else {"mean", "sum"}), \
                    f"{name} --{a.dest} has no fixed choices"
                seen.add((name, a.dest))
    assert ("rates", "spheres") in seen and ("rates", "reduction") in seen
    text = choices["rates"].format_help()
    assert "{mean,sum}" in text and "{separate,joint}" in text


@pytest.mark.parametrize("argv,accepted", [(["rates", "Z5", "--spheres", "jointly"], "'separate' or 'joint'"),
                                           (["rates", "Z5", "--reduction", "total"], "'mean' or 'sum'")])
def test_a_bad_choice_is_a_one_line_error(argv, accepted, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert accepted in err and argv[-1] in err and "Traceback" not in err


def test_the_activation_help_example_works():
    """`symflow derive Z5 --activation 'z**2+z**3'` (the example of --help) exits 0 and explains the flow."""
    _, choices = _subparsers()
    assert "z**2+z**3" in choices["derive"].format_help()
    r = subprocess.run([sys.executable, "-m", "symflow", "derive", "Z5", "--activation", "z**2+z**3"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "PROVEN" in r.stdout and "quadratic" in r.stdout and "Traceback" not in r.stderr


# ---------------------------------------------------------------------- 3. hygiene
def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_file_matches_pyproject():
    proj = _pyproject()["project"]
    assert proj["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


def test_every_dev_dependency_is_used():
    dev = _pyproject()["project"]["optional-dependencies"]["dev"]
    used = "\n".join(f.read_text() for d in ("tests", "bench", "tools") for f in (ROOT / d).rglob("*.py"))
    used += (ROOT / ".ci" / "run").read_text() if (ROOT / ".ci" / "run").exists() else ""
    for req in dev:
        name = re.split(r"[<>=!~\[ ]", req)[0]
        if name == "pytest":
            assert "pytest" in used
            continue
        module = name.replace("-", "_")
        fixture = name.split("-", 1)[-1]
        # used = imported, or (a pytest plugin) its fixture is an argument of some function
        assert re.search(rf"(?:import|from) {module}\b|def \w+\([^)]*\b{fixture}\b", used), \
            f"dev dependency {name} is unused"


def test_readme_says_what_each_extra_costs():
    extras = _pyproject()["project"]["optional-dependencies"]
    readme = (ROOT / "README.md").read_text()
    for extra in extras:
        row = next((line for line in readme.splitlines() if f"`[{extra}]`" in line and "|" in line), None)
        assert row is not None and re.search(r"\d\s*[MG]B", row), f"README gives no size for the {extra} extra"


def _load_example(name):
    spec = importlib.util.spec_from_file_location(f"_example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "examples"))
    return module


def test_grokking_example_leaves_no_temporary_folder(tmp_path, monkeypatch, capsys):
    """examples/z23_grokking.py --fast in a fresh cwd with a private TMPDIR: nothing is left behind
    (training shortened to a few steps: the cleanup is what is tested)."""
    pytest.importorskip("matplotlib")
    ex = _load_example("z23_grokking")
    real = ex.run_grokking
    monkeypatch.setattr(ex, "run_grokking", lambda **kw: real(**{**kw, "steps": 40, "width": 16}))
    tmp = tmp_path / "tmp"
    cwd = tmp_path / "cwd"
    tmp.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    ex.main(["--fast"])
    assert "report:" in capsys.readouterr().out
    assert list(tmp.iterdir()) == [] and list(cwd.iterdir()) == []
