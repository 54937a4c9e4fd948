"""Run a catalogue of invariants on a system with Hypothesis and collect a reproducible report.

For each :class:`~symflow.testing.catalogue.Invariant` the runner builds, programmatically,

    @seed(seed + crc32(name)) @settings(max_examples=N, deadline=None, database=None, quiet)
    @given(invariant.examples(system))
    def property(example): invariant.run(system, example)

and calls it. Hypothesis shrinks a failure and replays the minimal example last, so the example
recorded by the last call is the shrunk counterexample. Shrinking is bounded in time
(``shrink_seconds``, default :data:`SHRINK_SECONDS`): once the budget is spent the next call
stops Hypothesis (a private ``BaseException``) and the last failing example - the smallest found
so far, since the shrinker only tries smaller candidates - is reported. The :class:`VerifyReport` holds, per
invariant, the examples tried (before the first failure), pass/fail/skip, the counterexample as
text, the error and the time; it renders as a rich table and as the public JSON object
``{"model", "checks": [{"name", "examples", "passed", "counterexample", ...}], ...}``.

A ``KeyboardInterrupt`` stops the run between (or inside) invariants; the report keeps every
finished result, lists the rest under ``not_run`` and has ``interrupted = True``.
"""
from __future__ import annotations

import sys
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hseed
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..interrupts import flagged, interrupted
from ..progress import progress_bar
from ..provenance import versions
from .catalogue import CATALOGUE, Invariant
from .checks import CheckFailure, System

#: Characters of a counterexample kept in reports (longer ones are cut with a note).
MAX_COUNTEREXAMPLE_CHARS = 4000
#: Seconds of shrinking allowed per failing invariant (then the smallest failure so far is reported).
SHRINK_SECONDS = 1.0


@dataclass
class CheckResult:
    """Outcome of one invariant: ``status`` is ``"passed"``, ``"failed"`` or ``"skipped"``."""

    name: str
    status: str
    examples: int = 0
    seconds: float = 0.0
    counterexample: str | None = None
    error: str | None = None
    skipped: str | None = None
    summary: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict:
        out = {"name": self.name, "examples": self.examples, "passed": self.passed,
               "counterexample": self.counterexample, "status": self.status,
               "seconds": round(self.seconds, 4)}
        if self.error is not None:
            out["error"] = self.error
        if self.skipped is not None:
            out["skipped"] = self.skipped
        return out


@dataclass
class VerifyReport:
    """All results of one ``verify`` run, with its parameters and library versions."""

    model: dict
    results: list = field(default_factory=list)
    seed: int = 0
    examples: int = 0
    interrupted: bool = False
    not_run: list = field(default_factory=list)
    versions: dict = field(default_factory=lambda: versions("scipy", "sympy", "hypothesis"))

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        """True when nothing failed and the run was not interrupted."""
        return not self.failures and not self.interrupted

    def result(self, name: str) -> CheckResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_json(self) -> dict:
        return {"model": self.model, "checks": [r.to_json() for r in self.results], "ok": self.ok,
                "seed": self.seed, "examples": self.examples, "interrupted": self.interrupted,
                "not_run": list(self.not_run), "versions": self.versions}

    def table(self):
        """A ``rich`` table: check, examples tried, time, result."""
        title = "symflow verify " + " ".join(f"{k}={v}" for k, v in self.model.items())
        t = Table(title=title, header_style="bold")
        t.add_column("check", style="cyan", no_wrap=True)
        t.add_column("examples", justify="right")
        t.add_column("time", justify="right")
        t.add_column("result")
        style = {"passed": "[green]pass[/]", "failed": "[bold red]FAIL[/]", "skipped": "[yellow]skip[/]"}
        for r in self.results:
            res = style[r.status]
            if r.skipped:
                res += f" [dim]({r.skipped})[/]"
            t.add_row(r.name, str(r.examples) if r.status != "skipped" else "-", f"{r.seconds:.2f}s", res)
        for name in self.not_run:
            t.add_row(name, "-", "-", "[dim]not run (interrupted)[/]")
        return t

    def details(self):
        """Renderables for each failure: message and shrunk counterexample."""
        out = []
        for r in self.failures:
            body = Text()
            body.append(f"{r.error}\n", style="red")
            if r.counterexample is not None:
                body.append("shrunk counterexample:\n", style="bold")
                body.append(r.counterexample)
            out.append(Panel(body, title=f"{r.name} failed", border_style="red"))
        return out

    def __rich_console__(self, console, options):
        yield self.table()
        yield from self.details()
        n_pass = sum(r.status == "passed" for r in self.results)
        n_skip = sum(r.status == "skipped" for r in self.results)
        verdict = "[bold green]all checks passed[/]" if self.ok else (
            "[bold yellow]interrupted[/]" if self.interrupted and not self.failures else
            f"[bold red]{len(self.failures)} check(s) failed[/]")
        yield f"{verdict}: {n_pass} passed, {len(self.failures)} failed, {n_skip} skipped (seed {self.seed})"

    def __repr__(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in ("passed", "failed", "skipped")}
        return f"<VerifyReport {self.model}: {counts}{' interrupted' if self.interrupted else ''}>"


# ---------------------------------------------------------------------- formatting examples
def format_example(value, precision: int = 6) -> str:
    """Readable text of a drawn example (arrays, tuples, dicts, Fourier coefficients)."""
    text = _fmt(value, precision)
    if len(text) > MAX_COUNTEREXAMPLE_CHARS:
        text = text[:MAX_COUNTEREXAMPLE_CHARS] + f" ... ({len(text) - MAX_COUNTEREXAMPLE_CHARS} more characters)"
    return text


def _fmt(v, precision):
    if isinstance(v, np.ndarray):
        return "array(" + np.array2string(v, precision=precision, separator=", ", threshold=400,
                                          max_line_width=100, suppress_small=True) + ")"
    if isinstance(v, tuple):
        inner = ", ".join(_fmt(x, precision) for x in v)
        return f"({inner}{',' if len(v) == 1 else ''})"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x, precision) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {_fmt(x, precision)}" for k, x in v.items()) + "}"
    if hasattr(v, "blocks") and isinstance(getattr(v, "blocks"), dict):
        return "FourierCoefficients(" + _fmt(dict(v.blocks), precision) + ")"
    if isinstance(v, float):
        return repr(v)
    return repr(v)


# ---------------------------------------------------------------------- running
class _ShrinkBudgetSpent(BaseException):
    """Raised inside a property to stop Hypothesis when the shrink budget is spent."""


def _describe(exc) -> str:
    """One line: the check's message, or ``Type: message`` for code that crashed."""
    kind = "" if isinstance(exc, CheckFailure) else f"{type(exc).__name__}: "
    text = str(exc).strip()
    return kind + (text.splitlines()[0] if text else type(exc).__name__)


def example_key(value):
    """A hashable fingerprint of a drawn example (arrays by dtype, shape and bytes)."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return ("dict",) + tuple((k, example_key(v)) for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__,) + tuple(example_key(v) for v in value)
    if isinstance(value, float):
        return ("float", value.hex())
    try:
        hash(value)
        return value
    except TypeError:
        return ("repr", repr(value))


def run_invariant(inv: Invariant, system: System, examples: int = 20, seed: int = 0,
                  shrink_seconds: float = SHRINK_SECONDS) -> CheckResult:
    """Run one invariant with Hypothesis; never raises except ``KeyboardInterrupt``."""
    reason = inv.skip_reason(system)
    if reason is not None:
        return CheckResult(inv.name, "skipped", skipped=reason, summary=inv.summary)
    state = {"calls": 0, "first_failure": None, "last": None, "failed_at": None, "failing": None, "error": None}

    def body(example):
        if interrupted():     # a Ctrl-C that Hypothesis or a gc callback swallowed
            raise KeyboardInterrupt
        if state["failed_at"] is not None and time.perf_counter() - state["failed_at"] > shrink_seconds:
            raise _ShrinkBudgetSpent()
        state["calls"] += 1
        state["last"] = example
        try:
            inv.run(system, example)
        except Exception as exc:
            state["failing"], state["error"] = example, exc
            if state["first_failure"] is None:
                state["first_failure"] = state["calls"]
                state["failed_at"] = time.perf_counter()
            raise

    t0 = time.perf_counter()
    try:
        strategy = inv.examples(system)
        prop = given(strategy)(body)
        prop = settings(max_examples=int(examples), deadline=None, database=None, verbosity=Verbosity.quiet,
                        suppress_health_check=list(HealthCheck), print_blob=False,
                        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))(prop)
        prop = hseed(int(seed) + zlib.crc32(inv.name.encode()))(prop)
        prop()
        if interrupted():
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise
    except (Exception, _ShrinkBudgetSpent) as exc:  # a failed invariant, or code under test that crashed
        shrunk = not isinstance(exc, _ShrinkBudgetSpent) and state["failing"] is not None
        example = state["last"] if shrunk else state["failing"]
        err = state["error"] if state["error"] is not None else exc
        tried = state["first_failure"] or state["calls"]
        return CheckResult(inv.name, "failed", examples=tried, seconds=time.perf_counter() - t0,
                           counterexample=None if example is None else format_example(example),
                           error=_describe(err), summary=inv.summary)
    return CheckResult(inv.name, "passed", examples=state["calls"], seconds=time.perf_counter() - t0,
                       summary=inv.summary)


def run_catalogue(system: System, examples: int = 20, seed: int = 0, invariants=None, progress: bool = False,
                  model: dict | None = None, console=None, shrink_seconds: float = SHRINK_SECONDS) -> VerifyReport:
    """Run ``invariants`` (default :data:`CATALOGUE`) on ``system``; returns a :class:`VerifyReport`.

    ``progress=True`` shows a rich progress bar on stderr (on terminals). Interrupting keeps the
    finished results (``report.interrupted``).
    """
    invs = list(CATALOGUE if invariants is None else invariants)
    _hypothesis_home()
    report = VerifyReport(model=dict(model or {"system": system.label}), seed=int(seed), examples=int(examples))
    with progress_bar("verify", total=len(invs), enabled=progress, counts=True, console=console,
                      only_terminal=True) as bar:
        with flagged():
            for k, inv in enumerate(invs):
                bar.update(description=f"verify {inv.name}")
                try:
                    if interrupted():
                        raise KeyboardInterrupt
                    report.results.append(run_invariant(inv, system, examples, seed, shrink_seconds))
                except KeyboardInterrupt:
                    report.interrupted = True
                    report.not_run = [i.name for i in invs[k:]]
                    break
                bar.advance()
    return report


def _hypothesis_home() -> None:
    """Hypothesis keeps its caches under the symflow cache folder (``hypothesis/``), never in the working folder
    (``.hypothesis/``), unless ``$HYPOTHESIS_STORAGE_DIRECTORY`` says where."""
    import os

    from hypothesis.configuration import set_hypothesis_home_dir

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    from ..codegen.cache import cache_dir

    set_hypothesis_home_dir(cache_dir().parent / "hypothesis")
