"""On-disk cache of generated flow modules, and what a module is keyed by.

Location: ``$SYMFLOW_CACHE`` if set, else ``~/.cache/symflow``; modules live in its ``codegen/``
folder as ``flow_<code hash[:20]>.py`` (the code hash covers the expression hash and the code
style per block dimension). ``index.json`` maps a model key (plus dimensions, style and the SymPy
and symflow versions) to the code hash, so a second run skips the symbolic derivation entirely.
A module whose header hash does not match its file name is ignored and regenerated.
Writes are atomic (temporary file + ``os.replace``), so concurrent runs never see half a file.
Nothing here imports SymPy: loading a cached module never pays for it.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

from .._version import __version__ as SYMFLOW_VERSION
from ..errors import SymflowError


#: Bump when the generated code's layout changes (part of every index key and expression hash).
FORMAT_VERSION = "symflow-codegen-3"
#: Code styles of a generated module (see :mod:`.generator`).
STYLES = ("auto", "entries", "matrix")
#: The installed SymPy's version string (read without importing SymPy).
_SYMPY_VERSION = importlib.metadata.version("sympy")


def group_block_dims(group) -> tuple:
    """Block dimensions of ``group``; ``(1,)`` for abelian groups without touching their irreps."""
    if group.abelian_factors is not None:
        return (1,)
    return tuple(sorted(group.irreps_by_dim))


def model_dims(model) -> tuple:
    """The block dimensions a model's generated module has."""
    return group_block_dims(model.group)


def cache_dir() -> Path:
    """The codegen cache folder (created on demand)."""
    root = os.environ.get("SYMFLOW_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "symflow"
    path = base / "codegen"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SymflowError(f"cannot create the symflow cache folder {path} ({exc.strerror}); "
                           f"set SYMFLOW_CACHE to a writable folder") from None
    return path


def module_path(code_hash: str) -> Path:
    return cache_dir() / f"flow_{code_hash[:20]}.py"


def index_key(model_key: str, dims, style: str) -> str:
    """The index entry of a model's module (a new SymPy, symflow or code format regenerates it)."""
    return (f"{model_key}|dims={','.join(map(str, dims))}|style={style}|sympy={_SYMPY_VERSION}|symflow={SYMFLOW_VERSION}"
            f"|format={FORMAT_VERSION}")


def _index_path() -> Path:
    return cache_dir() / "index.json"


def read_index() -> dict:
    try:
        return json.loads(_index_path().read_text())
    except (OSError, ValueError):
        return {}


def lookup(key: str) -> Path | None:
    """The cached module for an index key, if present and intact."""
    code_hash = read_index().get(key)
    if not code_hash:
        return None
    path = module_path(code_hash)
    return path if is_intact(path, code_hash) else None


def remember(key: str, code_hash: str) -> None:
    index = read_index()
    index[key] = code_hash
    write_atomic(_index_path(), json.dumps(index, indent=1, sort_keys=True))


def is_intact(path: Path, code_hash: str) -> bool:
    try:
        text = path.read_text()
    except OSError:
        return False
    return f"CODE_HASH = {code_hash!r}" in text


def write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_module(path: Path):
    """Import a generated module from ``path`` (a fresh module object, not added to sys.modules)."""
    path = Path(path)
    name = f"symflow_generated_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SymflowError(f"cannot import generated code from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module
