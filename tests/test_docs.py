"""The documentation runs: every ``python`` block of docs/tutorial.md, in order and in one namespace,
and the runnable examples in the docstrings of the flat namespace's modules (doctest)."""
import doctest
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def python_blocks(path) -> list:
    """The fenced ```python blocks of a Markdown file, with their first line numbers."""
    text = path.read_text()
    return [(text[:m.start()].count("\n") + 2, m.group(1)) for m in re.finditer(r"```python\n(.*?)```", text, re.S)]


def test_tutorial_runs(capsys):
    path = ROOT / "docs" / "tutorial.md"
    blocks = python_blocks(path)
    assert len(blocks) >= 8
    namespace = {"__name__": "tutorial"}
    for line, code in blocks:
        exec(compile(code, f"{path}:{line}", "exec"), namespace)


DOCTEST_MODULES = ["symflow", "symflow.neuron.spec", "symflow.neuron.activation", "symflow.validation", "symflow.groups.orbits", "symflow.groups.group", "symflow.theory.model",
                   "symflow.theory.energy", "symflow.theory.flow", "symflow.theory.closed_forms",
                   "symflow.theory.equilibria", "symflow.theory.rates.spectra", "symflow.testing", "symflow.progress"]


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0


ARCHITECTURE = ROOT / "docs" / "architecture.md"
#: A file name ending in ``.py``, with the folders before it (``neuron/geometry.py``, ``tests/test_docs.py``).
PY_PATH = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.py)\b")


def named_py_paths(text: str) -> set:
    """Every ``*.py`` path written in ``text`` (in backticks or not)."""
    return set(PY_PATH.findall(text))


def test_architecture_names_every_module_and_only_modules_that_exist():
    """docs/architecture.md names every module of ``symflow/`` and names no ``.py`` file that does not exist.

    The rule: every ``symflow/**/*.py`` other than ``__init__.py`` appears in the page by its path relative to
    ``symflow/`` (``neuron/geometry.py``, ``theory/rates/numeric.py``, ``cli.py``); a bare file name does not
    count for a module in a subpackage. Conversely every ``*.py`` path the page writes must exist relative to
    ``symflow/`` or to the repository root (``tools/layers.py``, ``tests/test_docs.py``).
    """
    named = named_py_paths(ARCHITECTURE.read_text())
    package = ROOT / "symflow"
    modules = {p.relative_to(package).as_posix() for p in package.rglob("*.py")
               if p.name != "__init__.py" and "__pycache__" not in p.parts}
    missing = sorted(modules - named)
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"
    absent = sorted(p for p in named if not (package / p).is_file() and not (ROOT / p).is_file())
    assert not absent, f"docs/architecture.md names files that do not exist: {', '.join(absent)}"


def test_the_module_rule_catches_a_missing_and_an_absent_module():
    named = named_py_paths("* `neuron/geometry.py`: the geometry; `tools/layers.py`, cli.py and `neuron/gone.py`.")
    assert named == {"neuron/geometry.py", "tools/layers.py", "cli.py", "neuron/gone.py"}
    assert "geometry.py" not in named            # a path counts whole, not by its file name
    assert not (ROOT / "symflow" / "neuron" / "gone.py").exists()
