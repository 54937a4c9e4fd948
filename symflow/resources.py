"""Memory estimated before computing: every entry point adds up its largest arrays and refuses a run that
would not fit the machine, with one line naming the estimate, the memory available and the option that
lowers it.

    est = MemoryEstimate("landscape Z1000", lower="a smaller group")
    est.add("brute-force Hessian", arrays=4, shape=(3000, 1000, 1000), itemsize=16)
    est.check(force=False)          # ResourceError (exit status 2 in the CLI) when it does not fit

The machine's memory (:func:`available_memory`) is ``$SYMFLOW_MEMORY`` when set (e.g. ``8GiB``, ``500MB`` or
a number of bytes: a budget on a shared machine), else the smaller of ``MemAvailable`` (``/proc/meminfo``)
and the cgroup limit. A run is refused when its estimate exceeds :data:`USABLE_FRACTION` of it. The
estimates count the arrays that dominate (each term ``arrays * prod(shape) * itemsize`` bytes, ``arrays``
the number of such arrays alive at once, temporaries included), so they are right within a small factor,
and meant to tell 100 MB from 40 GB before anything is allocated.

Where a time estimate exists (:attr:`MemoryEstimate.seconds`, e.g. the landscape's, measured on a short
calibration run), a run is also refused when it exceeds :func:`time_budget`: :data:`TIME_BUDGET` (one hour),
or ``$SYMFLOW_TIME_BUDGET`` (``2h``, ``30min``, ``90s`` or a number of seconds).

``force`` (the CLI's ``--force``) runs anyway; the CLI sets it for a whole command with :func:`forcing`, so
a library call inside the command needs no argument.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import os
import re
from dataclasses import dataclass, field

from .errors import ResourceError, SymflowError

#: A run is refused when its estimate exceeds this fraction of the available memory.
USABLE_FRACTION = 0.9
#: A run whose time estimate exceeds this many seconds is refused (``$SYMFLOW_TIME_BUDGET`` overrides it).
TIME_BUDGET = 3600.0
_SECONDS = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400, "days": 86400}

_FORCED = contextvars.ContextVar("symflow_resources_forced", default=False)

_UNITS = {"": 1, "b": 1, "k": 2 ** 10, "kb": 10 ** 3, "kib": 2 ** 10, "m": 2 ** 20, "mb": 10 ** 6, "mib": 2 ** 20,
          "g": 2 ** 30, "gb": 10 ** 9, "gib": 2 ** 30, "t": 2 ** 40, "tb": 10 ** 12, "tib": 2 ** 40}


def parse_bytes(text: str, name: str = "SYMFLOW_MEMORY") -> int:
    """``"8GiB"``, ``"500 MB"``, ``"1.5g"`` or ``"123456"`` as a number of bytes."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*", str(text).lower())
    if not m or m.group(2) not in _UNITS:
        raise SymflowError(f"{name} must be a size such as 8GiB, 500MB or a number of bytes, got {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, three significant digits: ``44.7 GiB``."""
    for unit, size in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def parse_seconds(text: str, name: str = "SYMFLOW_TIME_BUDGET") -> float:
    """``"2h"``, ``"30min"``, ``"90s"``, ``"1.5d"`` or ``"600"`` as a number of seconds."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*", str(text).lower())
    if not m or m.group(2) not in _SECONDS:
        raise SymflowError(f"{name} must be a duration such as 2h, 30min, 90s or a number of seconds, got {text!r}")
    return float(m.group(1)) * _SECONDS[m.group(2)]


def time_budget() -> float:
    """Seconds a run may take: ``$SYMFLOW_TIME_BUDGET`` if set, else :data:`TIME_BUDGET`."""
    budget = os.environ.get("SYMFLOW_TIME_BUDGET")
    return parse_seconds(budget) if budget else TIME_BUDGET


def format_seconds(s: float) -> str:
    """``s`` seconds as ``40 s``, ``12 min``, ``3.5 h`` or ``2.1 days``."""
    if s < 120:
        return f"{s:.2g} s"
    if s < 7200:
        return f"{s / 60:.2g} min"
    if s < 2 * 86400:
        return f"{s / 3600:.2g} h"
    return f"{s / 86400:.2g} days"


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(path).read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2 ** 60:
            return int(text)
    return None


def available_memory() -> int:
    """Bytes a run may use: ``$SYMFLOW_MEMORY`` if set, else ``min(MemAvailable, cgroup limit)``
    (``2**63`` when neither can be read: nothing is refused)."""
    budget = os.environ.get("SYMFLOW_MEMORY")
    if budget:
        return parse_bytes(budget)
    known = [v for v in (_meminfo_available(), _cgroup_limit()) if v]
    return min(known) if known else 2 ** 63


def forced() -> bool:
    """Whether the current command asked to run regardless of the estimates (:func:`forcing`)."""
    return _FORCED.get()


@contextlib.contextmanager
def forcing(force: bool = True):
    """Within the block, :meth:`MemoryEstimate.check` with ``force=None`` does not refuse (the CLI's ``--force``)."""
    token = _FORCED.set(bool(force))
    try:
        yield
    finally:
        _FORCED.reset(token)


@dataclass
class MemoryEstimate:
    """The peak memory of one run: the sum of its ``terms`` ``[(what, bytes)]``; ``lower`` names what lowers it
    (an option such as ``"--starts"``, or ``"a smaller group"``); ``seconds`` an optional time estimate and
    ``basis`` what it was measured on (e.g. ``"256 starts took 0.3 s"``)."""

    what: str
    lower: str
    terms: list = field(default_factory=list)
    seconds: float | None = None
    basis: str = ""
    _lower: dict = field(default_factory=dict, repr=False)

    def add(self, what: str, arrays: float = 1, shape=(), itemsize: int = 8, lower: str | None = None
            ) -> "MemoryEstimate":
        """Add ``arrays`` arrays of ``shape`` and ``itemsize`` bytes per entry: ``arrays * prod(shape) * itemsize``
        bytes; ``lower`` what lowers this term when it is the largest (default: the estimate's ``lower``)."""
        self.terms.append((what, float(arrays) * math.prod(int(s) for s in shape) * itemsize))
        if lower:
            self._lower[what] = lower
        return self

    @property
    def total(self) -> float:
        return sum(b for _, b in self.terms)

    @property
    def largest(self) -> str:
        return max(self.terms, key=lambda t: t[1])[0] if self.terms else ""

    def __str__(self) -> str:
        return f"{self.what}: about {format_bytes(self.total)} (" + \
            ", ".join(f"{w} {format_bytes(b)}" for w, b in self.terms) + ")"

    def check(self, force: bool | None = None, available: int | None = None) -> "MemoryEstimate":
        """Raise :class:`~symflow.errors.ResourceError` (one line) when :attr:`total` exceeds
        ``USABLE_FRACTION * available`` (default :func:`available_memory`), or :attr:`seconds` exceeds
        :func:`time_budget`, and not ``force`` (``None``: the command's :func:`forcing`). Returns ``self``."""
        if force is None:
            force = forced()
        if force:
            return self
        avail = available_memory() if available is None else int(available)
        if self.total > USABLE_FRACTION * avail:
            when = f" and about {format_seconds(self.seconds)}" if self.seconds else ""
            raise ResourceError(
                f"{self.what} would need about {format_bytes(self.total)} of memory{when} (mostly {self.largest}) "
                f"but {format_bytes(avail)} is available{' ($SYMFLOW_MEMORY)' if os.environ.get('SYMFLOW_MEMORY') else ''}; "
                f"lower it with {self._lower.get(self.largest, self.lower)}, or pass --force (force=True) to run anyway")
        budget = time_budget()
        if self.seconds is not None and self.seconds > budget:
            raise ResourceError(
                f"{self.what} would take about {format_seconds(self.seconds)}"
                + (f" ({self.basis})" if self.basis else "")
                + f", using about {format_bytes(self.total)} of memory, but the time budget is "
                f"{format_seconds(budget)}{' ($SYMFLOW_TIME_BUDGET)' if os.environ.get('SYMFLOW_TIME_BUDGET') else ''}; "
                f"lower it with {self.lower}, or pass --force (force=True) to run anyway")
        return self


def check_memory(estimate: MemoryEstimate, force: bool | None = None) -> MemoryEstimate:
    """:meth:`MemoryEstimate.check` as a function."""
    return estimate.check(force)


__all__ = ["MemoryEstimate", "available_memory", "check_memory", "forced", "forcing", "format_bytes",
           "format_seconds", "parse_bytes", "parse_seconds", "time_budget", "TIME_BUDGET", "USABLE_FRACTION"]
