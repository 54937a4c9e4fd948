"""The one progress helper for every long loop: a transient rich progress bar on stderr.

    with progress_bar("reduced flow", total=t_end, enabled=show, fields={"t": "0"}) as bar:
        ...
        bar.update(completed=t, t=f"{t:.4g}")
        bar.advance()

On its own console (no ``console`` given) the bar is drawn only when stderr is a terminal: redirected to a
file or a pipe, it writes nothing (no blank lines, no control codes).

``fields`` are extra values shown after the bar (each rendered ``{value}``; give them already
formatted, or as numbers with ``formats={"loss": "loss {:.5g}"}``). A disabled bar (``enabled=False``,
or stderr not a terminal when ``only_terminal=True``) costs nothing and accepts the same calls, so a
loop never branches on whether progress is shown. Library functions take ``progress=False`` by default
(a script or notebook sees no bar unless it asks); the CLI passes ``progress=True``. Elapsed time is always shown, remaining time
with ``remaining=True``, ``done/total`` counts with ``counts=True``.

>>> with progress_bar("work", total=3, enabled=False) as bar:   # the same calls, nothing shown
...     for _ in range(3):
...         bar.advance(loss=0.5)
"""
from __future__ import annotations


class ProgressBar:
    """A started (or disabled) bar with one task; see :func:`progress_bar`."""

    def __init__(self, description: str, total: float | None, enabled: bool = True, fields: dict | None = None,
                 formats: dict | None = None, counts: bool = False, remaining: bool = False,
                 console=None, only_terminal: bool = False):
        self.enabled = bool(enabled)
        self._progress = None
        self._task = None
        self.description, self.total = description, total
        self.fields, self.formats = dict(fields or {}), dict(formats or {})
        self.counts, self.remaining = counts, remaining
        self.console, self.only_terminal = console, only_terminal

    def __enter__(self) -> "ProgressBar":
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        console = self.console or Console(stderr=True)
        columns = [TextColumn("[bold]{task.description}[/]"), BarColumn()]
        if self.counts:
            columns.append(MofNCompleteColumn())
        for name in self.fields:
            fmt = self.formats.get(name, "{}")
            columns.append(TextColumn(fmt.replace("{", "{task.fields[" + name + "]", 1)))
        columns.append(TimeElapsedColumn())
        if self.remaining:
            columns.append(TimeRemainingColumn())
        self._progress = Progress(*columns, console=console, transient=True,
                                  disable=(self.only_terminal or self.console is None) and not console.is_terminal)
        self._progress.__enter__()
        self._task = self._progress.add_task(self.description, total=self.total, **self.fields)
        return self

    def __exit__(self, *exc) -> bool:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None
        return False

    def update(self, completed: float | None = None, description: str | None = None, **fields) -> None:
        """Set the completed amount, the description or field values."""
        if self._progress is None:
            return
        kw = dict(fields)
        if completed is not None:
            kw["completed"] = completed
        if description is not None:
            kw["description"] = description
        self._progress.update(self._task, **kw)

    def advance(self, amount: float = 1.0, **fields) -> None:
        """Advance by ``amount`` (and set field values)."""
        if self._progress is None:
            return
        self._progress.update(self._task, advance=amount, **fields)


def progress_bar(description: str, total: float | None, enabled: bool = True, **options) -> ProgressBar:
    """A :class:`ProgressBar` to use as a context manager (see the module docstring)."""
    return ProgressBar(description, total, enabled, **options)
