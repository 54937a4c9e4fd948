"""Output folders of ``study``, ``grok``, ``lottery`` and ``theories``: checked first, written aside, replaced whole.

    with OutputFolder("study-F21", "study", {"group": "F21", "width": 512}, force=False) as stage:
        write_everything(stage)          # a temporary sibling folder
    # on success the folder is renamed into place; on any exception (Ctrl-C included) it is removed

Rules (README, "Output folders and exit codes"):

- the target is checked before any computation (:meth:`OutputFolder.check`, called by the
  constructor): a path under a regular file, a file such as ``/dev/null``, or a folder that
  cannot be written is a :class:`~symflow.errors.SymflowError` (exit status 2);
- an existing non-empty folder is replaced only when it is an earlier symflow output of the same
  kind (it holds the marker :data:`MARKER`) or with ``force=True`` (``--force``);
- everything is written into a temporary sibling folder which then replaces the target in one
  rename, so no stale file of an earlier run survives;
- an interrupted run (``interrupted = True``) never replaces a complete earlier output (a non-empty
  folder not itself marked interrupted): its partial result goes aside, into the sibling
  ``OUT.interrupted-YYYYMMDD-HHMMSS``, :attr:`OutputFolder.path` becomes that folder and a warning
  says where it is and that ``OUT`` kept the earlier result;
- one run at a time per target: the constructor takes a lock (``fcntl.flock`` on the sibling file
  ``.OUT.symflow-lock``, released when the folder is written or discarded, or when the process ends);
  a second run into the same folder is refused with one line naming the other run's process;
- the marker ``.symflow-output.json`` records ``kind``, ``symflow`` (version), ``parameters`` and
  ``interrupted``;
- every ``OSError`` while writing becomes one ``SymflowError`` line naming the folder.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from ._version import __version__
from .errors import SymflowError

MARKER = ".symflow-output.json"
KINDS = ("study", "grok", "lottery", "theories", "atlas", "li2-scaling", "mirrors")


def read_marker(path) -> dict | None:
    """The marker of a symflow output folder, or ``None`` when ``path`` holds none (or an unreadable one)."""
    try:
        data = json.loads((Path(path) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def safe_name(name: str) -> str:
    """A group name as typed, usable as one path component (``/`` and blanks become ``_``)."""
    out = "".join("_" if (c in "/\\" or c.isspace()) else c for c in str(name)).strip(".")
    return out or "_"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class OutputFolder:
    """One output folder of ``kind`` (one of :data:`KINDS`); see the module docstring."""

    def __init__(self, path, kind: str, parameters: dict | None = None, force: bool = False):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.path = Path(path)
        self._abs = Path(os.path.abspath(self.path))   # "." and "x/.." name real folders
        self.kind = kind
        self.parameters = dict(parameters or {})
        self.force = bool(force)
        self.interrupted = False
        self.stage: Path | None = None
        self.requested = self.path        # the folder asked for (:attr:`path` may become the aside folder)
        self._locked = False
        self.check()
        self._locked = _lock(self._abs, self._error)

    def __del__(self):
        # a folder that was never written (the computation failed) frees its target for the next run
        if getattr(self, "_locked", False) and getattr(self, "stage", None) is None:
            _unlock(self._abs)

    # ------------------------------------------------------------------ checks
    def _error(self, what: str) -> SymflowError:
        return SymflowError(f"cannot write the {self.kind} output folder {self.path}: {what}")

    def check(self) -> None:
        """Refuse an unusable or foreign target and prove the parent is writable (before computing)."""
        p = self._abs
        cwd = Path(os.path.abspath(os.getcwd()))
        if p == p.parent or p == cwd or p in cwd.parents:
            raise self._error("it is the current folder or contains it, which an output never replaces; "
                              "give --out a folder of its own")
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                raise self._error("it exists and is not a folder (give --out a folder path)")
            try:
                entries = os.listdir(p)
            except OSError as exc:
                raise self._error(_reason(exc)) from None
            if entries and not self.force:
                marker = read_marker(p)
                if marker is None or marker.get("kind") != self.kind:
                    what = (f"holds a symflow {marker.get('kind')} output, not a {self.kind} output" if marker
                            else f"is not empty and is not an earlier symflow {self.kind} output")
                    raise SymflowError(f"refusing to replace {self.path}: the folder {what}; choose another --out "
                                       f"or pass --force to replace it whole")
        parent = p.parent
        anc = parent
        while not (anc.exists() or anc.is_symlink()) and anc != anc.parent:
            anc = anc.parent
        if anc.exists() and not anc.is_dir():
            raise self._error(f"{anc} is not a folder")
        try:
            parent.mkdir(parents=True, exist_ok=True)
            probe = self._new_stage()
            probe.rmdir()
        except OSError as exc:
            raise self._error(_reason(exc)) from None

    def _new_stage(self) -> Path:
        return Path(tempfile.mkdtemp(prefix=f".{self._abs.name}.symflow-tmp-", dir=self._abs.parent))

    # ------------------------------------------------------------------ writing
    def __enter__(self) -> Path:
        try:
            self.stage = self._new_stage()
        except OSError as exc:
            raise self._error(_reason(exc)) from None
        return self.stage

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
            return False
        self.discard()
        if isinstance(exc, OSError):
            raise self._error(_reason(exc)) from None
        return False

    def discard(self) -> None:
        """Remove the temporary folder (the target keeps its earlier content) and release the lock."""
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None
        _unlock(self._abs)

    def _keeps_earlier(self) -> bool:
        """Whether the target holds a complete earlier output that this (interrupted) run must not replace."""
        p = self._abs
        if not (p.exists() or p.is_symlink()):
            return False
        if not p.is_dir() or p.is_symlink():
            return True
        if not os.listdir(p):
            return False
        marker = read_marker(p)
        return not (marker is not None and marker.get("interrupted") is True)

    def commit(self) -> Path:
        """Write the marker and replace the target by the temporary folder (or, for an interrupted run over a
        complete earlier output, rename it to the aside folder); returns the folder written (:attr:`path`)."""
        stage, p = self.stage, self._abs
        target = p
        if self.interrupted and self._keeps_earlier():
            p = p.with_name(f"{p.name}.interrupted-{time.strftime('%Y%m%d-%H%M%S')}")
            k = 1
            while p.exists() or p.is_symlink():
                k += 1
                p = p.with_name(f"{target.name}.interrupted-{time.strftime('%Y%m%d-%H%M%S')}-{k}")
        try:
            os.chmod(stage, 0o777 & ~_umask())   # mkdtemp makes it private; an output folder is not
            (stage / MARKER).write_text(json.dumps(
                {"kind": self.kind, "symflow": __version__, "parameters": self.parameters,
                 "interrupted": bool(self.interrupted)}, indent=1, default=str) + "\n")
            old = None
            if p.exists() or p.is_symlink():
                if p.is_dir() and not p.is_symlink() and not os.listdir(p):
                    p.rmdir()
                else:
                    old = Path(str(stage) + "-old")
                    os.rename(p, old)
            os.rename(stage, p)
            self.stage = None
            if old is not None:
                if old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink()
        except OSError as exc:
            self.discard()
            raise self._error(_reason(exc)) from None
        finally:
            _unlock(target)
        if p != target:
            self.path = self.requested.with_name(p.name)
            warnings.warn(f"interrupted: the partial {self.kind} result is in {self.path}; {self.requested} keeps "
                          f"the complete earlier result", OutputWarning, stacklevel=2)
        return self.path



class OutputWarning(UserWarning):
    """Where an interrupted run's partial output went (the CLI shows it as one warning line)."""


# ---------------------------------------------------------------------- one run per folder
#: Locks this process holds: ``{target folder: file descriptor}`` (a second OutputFolder of the same target in
#: one process, e.g. the atlas's check before computing, shares it).
_HELD: dict = {}


def _lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.symflow-lock")


def _unlock_all() -> None:
    for target in list(_HELD):
        _unlock(target)


def _lock(target: Path, error) -> bool:
    """Take the lock of ``target`` (module docstring) or raise one ``SymflowError`` line naming the holder;
    ``False`` when this process holds it already."""
    import fcntl

    if target in _HELD:
        return False
    path = _lock_path(target)
    for _ in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise error(_reason(exc)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = json.loads(os.read(fd, 4096) or b"{}")
            except (OSError, ValueError):
                holder = {}
            os.close(fd)
            who = f"process {holder.get('pid', '?')}"
            if holder.get("command"):
                who += f", '{holder['command']}'"
            if holder.get("started"):
                who += f", started {holder['started']}"
            raise SymflowError(f"refusing to write {target}: another symflow run ({who}) is writing it; wait for it "
                               f"to end or choose another --out") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino   # not a lock file its holder just removed
        except OSError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "command": " ".join(["symflow"] + sys.argv[1:]),
                                     "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
            if not _HELD:
                import atexit

                atexit.unregister(_unlock_all)     # registered once, whatever the number of locks taken
                atexit.register(_unlock_all)
            _HELD[target] = fd
            return True
        os.close(fd)
    raise error("its lock file keeps changing")   # pragma: no cover


def _unlock(target: Path) -> None:
    """Release the lock of ``target`` if this process holds it (the lock file is removed while still locked)."""
    fd = _HELD.pop(target, None)
    if fd is None:
        return
    try:
        os.unlink(_lock_path(target))
    except OSError:
        pass
    os.close(fd)


# ---------------------------------------------------------------------- single files
def _file_error(path, what: str) -> SymflowError:
    return SymflowError(f"cannot write {path}: {what}")


def check_file(path, make_folders: bool = True) -> Path:
    """Prove that the file ``path`` can be written (before computing): its folder exists (or, with
    ``make_folders``, can be made), is a folder and is writable, and ``path`` is not a folder. Returns
    ``path`` as a Path; anything else is one :class:`~symflow.errors.SymflowError` line."""
    path = Path(path)
    p = Path(os.path.abspath(path))
    if p.is_dir():
        raise _file_error(path, "it is a folder (give a file name)")
    anc = p.parent
    while not (anc.exists() or anc.is_symlink()) and anc != anc.parent:
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise _file_error(path, f"{anc} is not a folder")
    if not make_folders and anc != p.parent:
        raise _file_error(path, f"the folder {path.parent} does not exist (create it first)")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.symflow-tmp-", dir=p.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _file_error(path, _reason(exc)) from None
    return path


class AtomicFile:
    """Write one file aside and rename it into place, so ``path`` holds either its earlier content or
    the complete new file (an interrupt or an error while writing removes the temporary file):

        with AtomicFile("run.npz") as tmp:      # a temporary path in the same folder, same suffix
            np.savez(tmp, ...)
    """

    def __init__(self, path):
        self.path = Path(path)
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        p = Path(os.path.abspath(self.path))
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.symflow-tmp-", suffix=p.suffix, dir=p.parent)
            os.close(fd)
        except OSError as exc:
            raise _file_error(self.path, _reason(exc)) from None
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        tmp, self.tmp = self.tmp, None
        try:
            if exc_type is None:
                os.chmod(tmp, 0o666 & ~_umask())
                os.replace(tmp, self.path)
                return False
        except OSError as err:
            exc, exc_type = err, OSError
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _file_error(self.path, _reason(exc)) from None
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
