"""The generated-code cache (issue 12): cached Python code runs only if its content verifies,
``index.json`` loses no entry under concurrent writers, and cache files are readable by others but
never writable by them.

Every test has its own ``SYMFLOW_CACHE`` folder; fresh processes inherit it through the environment.
"""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symflow.codegen import cache, flow_kernels
from symflow.codegen import kernels as kmod
from symflow.theory import Model

ROOT = Path(__file__).resolve().parents[1]
GROUP = "Z5"

FRESH_RUN = """
import json, sys
from symflow.codegen import flow_kernels
from symflow.theory import Model
k = flow_kernels(Model(sys.argv[1]))
print(json.dumps({"generated": k.generated, "path": str(k.path)}))
"""


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYMFLOW_CACHE", str(folder))
    kmod._LOADED.clear()
    yield folder
    kmod._LOADED.clear()


def fresh_process(*args, script=FRESH_RUN):
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                         cwd=ROOT, env=dict(os.environ), timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _kernel_values(kern):
    """A fixed evaluation of every block kernel (to compare a regenerated module with the first)."""
    rng = np.random.default_rng(0)
    values = []
    for d, terms in sorted(kern.block_terms.items()):
        blocks = [rng.normal(size=(3, 2, d, d)) + 1j * rng.normal(size=(3, 2, d, d)) for _ in kern.names]
        omega, drives = terms(*blocks, 5)
        values.append(np.asarray(omega))
        values.extend(np.asarray(x) for x in drives)
    return values


def _truncate(text, marker):
    lines = text.splitlines(keepends=True)
    return "".join(lines[: len(lines) // 2])  # cut at a line: the CODE_HASH header survives


def _append(text, marker):
    return text + f"\nopen({str(marker)!r}, 'w').write('tampered code ran')\n"


def _one_character(text, marker):
    i = text.index("import numpy")
    return text[:i] + "import numpz" + text[i + len("import numpy"):]  # would fail if it ran


@pytest.mark.parametrize("tamper", [_truncate, _append, _one_character], ids=["truncated", "appended", "one-char"])
def test_a_changed_cached_module_never_runs_in_a_fresh_process(own_cache, tmp_path, tamper):
    first = flow_kernels(Model(GROUP))
    assert first.generated
    original = first.path.read_text()
    expected = _kernel_values(first)
    marker = tmp_path / "marker"
    first.path.write_text(tamper(original, marker))
    assert "CODE_HASH = " in first.path.read_text()  # the old substring check would have accepted it

    run = fresh_process(GROUP)
    assert run["generated"], "a changed module must be regenerated, not loaded"
    assert run["path"] == str(first.path)
    assert not marker.exists(), "the appended line was executed"
    assert first.path.read_text() == original  # resealed with the right content
    assert cache.is_intact(first.path, first.code_hash)

    again = fresh_process(GROUP)  # and the regenerated file is a plain cache hit afterwards
    assert not again["generated"]
    kmod._LOADED.clear()
    for a, b in zip(_kernel_values(flow_kernels(Model(GROUP))), expected):
        np.testing.assert_array_equal(a, b)


def test_a_changed_cached_module_never_runs_in_process(own_cache):
    first = flow_kernels(Model(GROUP))
    first.path.write_text(first.path.read_text() + "\nraise RuntimeError('tampered code ran')\n")
    kmod._LOADED.clear()
    second = flow_kernels(Model(GROUP))  # would raise if the appended line ran
    assert second.generated and second.path == first.path
    assert "tampered" not in second.path.read_text()


def test_the_digest_line_covers_the_whole_file(own_cache):
    k = flow_kernels(Model(GROUP))
    text = k.path.read_text()
    first, body = text.split("\n", 1)
    assert first.startswith(cache.DIGEST_PREFIX)
    assert cache.read_verified(k.path, k.code_hash) == text
    assert cache.read_verified(k.path, "0" * 64) is None  # right digest, other code hash
    k.path.write_text(first + "\n" + body.replace("\n", "\r\n", 1))  # whitespace counts too
    assert cache.read_verified(k.path, k.code_hash) is None
    k.path.write_text(body)  # no digest line at all (a file of an older symflow)
    assert cache.read_verified(k.path, k.code_hash) is None
    k.path.write_bytes(b"")
    assert cache.read_verified(k.path, k.code_hash) is None


def test_modular_generated_module_is_verified_too(own_cache):
    import sympy as sp

    from symflow.codegen import kernels
    from symflow.codegen.kernels import generated_function

    x, y = sp.symbols("x y")
    mod = generated_function([x * y + 1, x - y], [x, y], "unit_rates")
    assert mod.rates(2.0, 3.0) == (7.0, -1.0)
    (path,) = (own_cache / "codegen").glob("unit_rates_*.py")
    original = path.read_text()
    path.write_text(original + "\nraise RuntimeError('tampered code ran')\n")
    kernels._FUNCTIONS.clear()  # a new process: only the file is left
    mod = generated_function([x * y + 1, x - y], [x, y], "unit_rates")  # would raise if it ran
    assert mod.rates(2.0, 3.0) == (7.0, -1.0)
    assert path.read_text() == original


CONCURRENT_REMEMBER = """
import sys, time
from symflow.codegen import cache
worker, start = sys.argv[1], float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
for i in range(40):
    cache.remember(f"worker{worker}-key{i}", f"hash-{worker}-{i}")
print("{}")
"""


def test_concurrent_writers_lose_no_index_entry(own_cache):
    import time

    cache.cache_dir()  # create the folder before the race
    start = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_REMEMBER, str(w), str(start)], cwd=ROOT,
                              env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(8)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    index = cache.read_index()
    expected = {f"worker{w}-key{i}": f"hash-{w}-{i}" for w in range(8) for i in range(40)}
    missing = sorted(set(expected) - set(index))
    assert not missing, f"{len(missing)} index entries lost, e.g. {missing[:3]}"
    assert all(index[k] == v for k, v in expected.items())


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o077, 0o000, 0o022])
def test_cache_files_are_readable_but_never_writable_by_others(tmp_path, monkeypatch, umask):
    root = tmp_path / "shared" / "symflow"  # two missing levels: created by the cache itself
    monkeypatch.setenv("SYMFLOW_CACHE", str(root))
    kmod._LOADED.clear()
    old = os.umask(umask)
    try:
        k = flow_kernels(Model(GROUP))
    finally:
        os.umask(old)
        kmod._LOADED.clear()
    for folder in (tmp_path / "shared", root, root / "codegen"):
        assert _mode(folder) == 0o755, (folder, oct(_mode(folder)))
    files = [k.path, root / "codegen" / "index.json", root / "codegen" / "index.lock"]
    for f in files:
        assert _mode(f) == 0o644, (f, oct(_mode(f)))
    assert not list((root / "codegen").glob(".tmp_*"))  # no temporary file left behind


def test_a_cache_folder_under_a_regular_file_is_a_clean_error(tmp_path, monkeypatch):
    from symflow.errors import SymflowError

    regular = tmp_path / "file"
    regular.write_text("not a folder")
    monkeypatch.setenv("SYMFLOW_CACHE", str(regular / "cache"))
    with pytest.raises(SymflowError, match="SYMFLOW_CACHE"):
        cache.cache_dir()


def test_kernels_source_is_the_generated_code_that_ran(own_cache):
    from symflow.codegen import generate_source

    k = flow_kernels(Model(GROUP))
    assert k.source == generate_source(Model(GROUP)).source  # no digest line in `symflow codegen -o`
    k.path.write_text("changed on disk afterwards")
    assert k.source.startswith('"""Block kernels')
