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
