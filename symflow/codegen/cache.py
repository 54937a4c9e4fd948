"""On-disk cache of generated flow modules, and what a module is keyed by.

Location: ``$SYMFLOW_CACHE`` if set, else ``~/.cache/symflow``; modules live in its ``codegen/``
folder as ``flow_<code hash[:20]>.py`` (the code hash covers the expression hash and the code
style per block dimension); generated functions of expressions (:func:`.kernels.generated_function`)
as ``<name>_<code hash[:20]>.py``. ``index.json`` maps a model key (plus dimensions, style and the SymPy
and symflow versions) to the code hash, so a second run skips the symbolic derivation entirely.

The cache holds executable Python code, so nothing is imported unverified: every module is written
with a first line ``# symflow-content-sha256: <hex>``, the SHA-256 of the rest of the file, and is
imported only from bytes whose digest matches that line and whose ``CODE_HASH`` is the one expected
(:func:`read_verified`, :func:`load_verified`); what is executed is exactly what was verified (no
second read). A truncated or changed file is ignored and regenerated.
Writes are atomic (temporary file + ``os.replace``), so concurrent runs never see half a file;
``index.json`` is read, modified and written under an exclusive lock (``fcntl.flock`` on
``index.lock``; without ``fcntl`` the update is unlocked but still atomic). Files are created 0644
and folders 0755 whatever the umask: readable by others, never writable by them.
Nothing here imports SymPy: loading a cached module never pays for it.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import tempfile
import types
from pathlib import Path

from .._version import __version__ as SYMFLOW_VERSION
from ..errors import SymflowError


#: Bump when the generated code's layout changes (part of every index key and expression hash).
FORMAT_VERSION = "symflow-codegen-3"
#: Code styles of a generated module (see :mod:`.generator`).
STYLES = ("auto", "entries", "matrix")
#: The installed SymPy's version string (read without importing SymPy).
_SYMPY_VERSION = importlib.metadata.version("sympy")
#: First line of every cached module: the SHA-256 of the rest of the file.
DIGEST_PREFIX = "# symflow-content-sha256: "
#: Modes of cache files and folders (readable by others, never writable by them).
FILE_MODE = 0o644
DIR_MODE = 0o755


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
        _make_dirs(path)
    except OSError as exc:
        raise SymflowError(f"cannot create the symflow cache folder {path} ({exc.strerror}); "
                           f"set SYMFLOW_CACHE to a writable folder") from None
    return path


def _make_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0755 (folders that exist are left alone)."""
    if path.is_dir():
        return
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # a concurrent run made it
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
    if not path.is_dir():
        raise NotADirectoryError(20, "Not a directory", str(path))


def module_path(code_hash: str, stem: str = "flow") -> Path:
    """The cache file of a generated module: ``<stem>_<code hash[:20]>.py`` (flow kernels: ``flow``)."""
    return cache_dir() / f"{stem}_{code_hash[:20]}.py"


def index_key(model_key: str, dims, style: str) -> str:
    """The index entry of a model's module (a new SymPy, symflow or code format regenerates it)."""
    return (f"{model_key}|dims={','.join(map(str, dims))}|style={style}|sympy={_SYMPY_VERSION}|symflow={SYMFLOW_VERSION}"
            f"|format={FORMAT_VERSION}")


def _index_path() -> Path:
    return cache_dir() / "index.json"


def read_index() -> dict:
    try:
        index = json.loads(_index_path().read_text())
    except (OSError, ValueError):
        return {}
    return index if isinstance(index, dict) else {}


def lookup(key: str):
    """The module cached for an index key, loaded from bytes that verify (:func:`load_verified`), or
    ``None`` (no entry, or a missing, truncated or changed file: it is never executed)."""
    code_hash = read_index().get(key)
    if not isinstance(code_hash, str) or not code_hash:
        return None
    return load_verified(module_path(code_hash), code_hash)


@contextlib.contextmanager
def index_lock():
    """Exclusive lock for a read-modify-write of ``index.json`` (``fcntl.flock`` on ``index.lock``
    in the cache folder; a no-op where ``fcntl`` is missing or the lock file cannot be opened)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: atomic writes only
        yield
        return
    lock_path = cache_dir() / "index.lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError:
        yield
        return
    try:
        try:
            os.fchmod(fd, FILE_MODE)
        except OSError:
            pass  # another user's lock file: still lockable
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def remember(key: str, code_hash: str) -> None:
    """Record ``key -> code_hash`` in ``index.json`` (under :func:`index_lock`: no entry is lost)."""
    with index_lock():
        index = read_index()
        if index.get(key) == code_hash:
            return
        index[key] = code_hash
        write_atomic(_index_path(), json.dumps(index, indent=1, sort_keys=True))


def content_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def sealed(source: str) -> str:
    """``source`` with the first line recording its SHA-256 (the form every cached module has)."""
    return f"{DIGEST_PREFIX}{content_digest(source.encode('utf-8'))}\n{source}"


def unsealed(text: str) -> str:
    """``text`` without the digest line :func:`sealed` put in front of it."""
    return text.split("\n", 1)[1] if text.startswith(DIGEST_PREFIX) else text


def read_verified(path: Path, code_hash: str) -> str | None:
    """The text of the cached module at ``path`` if its first line's SHA-256 matches the rest of the
    file and the module declares ``CODE_HASH = code_hash``; ``None`` otherwise (missing, truncated,
    changed, or written by another code version)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    first, newline, body = data.partition(b"\n")
    prefix = DIGEST_PREFIX.encode()
    if not newline or not first.startswith(prefix):
        return None
    if first[len(prefix):].decode("ascii", "replace") != content_digest(body):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if f"\nCODE_HASH = {code_hash!r}\n" not in text:
        return None
    return data.decode("utf-8")


def is_intact(path: Path, code_hash: str) -> bool:
    """Whether ``path`` holds a verified module with this code hash (see :func:`read_verified`)."""
    return read_verified(path, code_hash) is not None


def write_module(path: Path, source: str) -> str:
    """Write ``source`` sealed with its digest (atomically, mode 0644); returns the text written."""
    text = sealed(source)
    write_atomic(path, text)
    return text


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + ``os.replace``), mode 0644."""
    path = Path(path)
    _make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_", suffix=path.suffix)
    try:
        if hasattr(os, "fchmod"):  # POSIX (Windows has no group/other bits to set)
            os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_source(text: str, path: Path):
    """Execute module ``text`` (already verified) as the module of ``path``: a fresh module object,
    registered in ``sys.modules`` only if the name is free. The file is not read again."""
    path = Path(path)
    name = f"symflow_generated_{path.stem}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__symflow_source__ = unsealed(text)  # what ran, as generated (FlowKernels.source)
    registered = sys.modules.setdefault(name, module) is module
    try:
        exec(compile(text, str(path), "exec"), module.__dict__)
    except BaseException:
        if registered:
            sys.modules.pop(name, None)
        raise
    return module


def load_verified(path: Path, code_hash: str):
    """The module at ``path`` if it verifies (:func:`read_verified`), else ``None``: a file that
    does not verify is never executed."""
    text = read_verified(path, code_hash)
    return None if text is None else load_source(text, path)


def load_module(path: Path):
    """Import any module file from ``path``, unverified (benchmarks, user files; the cache itself
    uses :func:`load_verified`)."""
    path = Path(path)
    name = f"symflow_generated_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SymflowError(f"cannot import generated code from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module
