"""The shape of the code base: no import cycles, and cached paths that stay light.

Both are checked by running the real thing: the import graph of every module under ``symflow/``
(module-level and function-level imports, ``tools/import_cycles.py``) and a fresh Python process
that runs a population to alignment from a warm code cache.
"""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from import_cycles import import_cycles, import_graph  # noqa: E402


def test_no_import_cycles():
    cycles = import_cycles(ROOT / "symflow")
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_cycle_checker_finds_a_cycle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    (pkg / "c.py").write_text("from .b import f\n")
    assert import_cycles(pkg) == [["pkg.a", "pkg.b"]]
    assert import_graph(pkg)["pkg.c"] == {"pkg.b"}


CACHED_RUN = """
import json, sys
from symflow.dynamics import run_until_aligned
run = run_until_aligned("F21", 64, seed=0)
print(json.dumps({"fraction": run.fraction, "heavy": sorted(m for m in ("sympy", "matplotlib") if m in sys.modules)}))
"""


def test_cached_simulation_imports_neither_sympy_nor_matplotlib(private_code_cache):
    env = dict(os.environ, SYMFLOW_CACHE=private_code_cache, PYTHONPATH=str(ROOT))
    runs = [subprocess.run([sys.executable, "-c", CACHED_RUN], capture_output=True, text=True, env=env, cwd=ROOT)
            for _ in range(2)]  # the first run may generate the code; the second must only load it
    for r in runs:
        assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(runs[1].stdout.strip().splitlines()[-1])
    assert out["fraction"] >= 0.95
    assert out["heavy"] == [], f"a cached run imported {out['heavy']}"


def test_no_import_goes_up_a_layer_or_sideways():
    from layers import violations

    found = violations(ROOT / "symflow")
    assert not found, "layer violations: " + "; ".join(f"{a} -> {b}: {why}" for a, b, why in found)


def test_layer_checker_finds_an_upward_and_a_sideways_import(tmp_path, monkeypatch):
    import layers

    pkg = tmp_path / "symflow"
    for sub in ("groups", "theory", "landscape", "modular"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "groups" / "a.py").write_text("def f():\n    from ..theory import b\n")      # up a layer
    (pkg / "theory" / "b.py").write_text("from ..groups import a\n")                     # down: fine
    (pkg / "landscape" / "c.py").write_text("from ..modular import d\n")                 # sideways
    (pkg / "modular" / "d.py").write_text("")
    (pkg / "newpkg.py").write_text("")                                                    # no layer
    found = {(a, b) for a, b, _ in layers.violations(pkg)}
    assert found == {("symflow.groups.a", "symflow.theory.b"), ("symflow.landscape.c", "symflow.modular.d"),
                     ("newpkg", "")}
