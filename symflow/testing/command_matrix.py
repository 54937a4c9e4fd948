"""Every command on every group: the command lines of the command-by-group matrix and their runner.

A case is one ``symflow`` command line on one group; it passes when it ends with exit 0, or with exit 2
and a one-line message, never a traceback (issue 21). The lines are data (:data:`COMMANDS`) so the test
(``tests/test_command_matrix.py``, small sizes) and the sweep at default sizes
(``bench/bench_command_matrix.py``) run the same commands:

* ``template``: the command line, ``{name}`` the group's name, ``{order}`` its order, ``{out}`` a fresh
  folder for the case's files (figures stay on: every report is drawn);
* ``small``: options appended by the test (few neurons, starts, steps; short times) to fit CI;
* ``groups``: ``"all"`` (:func:`matrix_groups`), ``"cyclic"`` (the ``Z<n>`` among them: lottery and
  grok take the modulus ``--p n``) or ``"joined"`` (one case with the non-trivial groups as one
  comma-separated ``{name}``, and one case per trivial group: the atlas starts one Dask cluster per run);
* ``shared``: also run with ``--shared``.

The runner calls the CLI's ``main(argv)`` in this process (:func:`run_case`): ``main`` turns every
:class:`~symflow.errors.SymflowError` into one line and exit 2 and returns the exit status, so anything
it lets escape is what a user would see as a traceback; :func:`run_case` records that traceback as the
case's stderr. ``main`` is passed in (this module sits below the command line).
"""
from __future__ import annotations

import contextlib
import io
import re
import shlex
import time
import traceback
from dataclasses import dataclass

#: Orders of the named groups in the matrix (the examples of ``symflow groups`` up to this order).
MAX_ORDER = 24
#: Degenerate groups always in the matrix (the trivial group, exponent-2 groups of issue 21, Z3).
EXTRA_GROUPS = ("Z1", "Z2", "Z3", "Z2xZ2", "Z2xZ2xZ2")

#: ``(command, template, small, groups, shared)``: see the module docstring. Commands that take no
#: group (``groups``; ``mirrors``, on 1-D data) have ``groups=None`` and run once; so does ``limits``, which takes
#: only a compact group (it refuses a finite NAME in one line: tests/test_compact_limits.py).
COMMANDS = [
    ("groups", "groups", "", None, False),
    ("mirrors", "mirrors --x 0,4,5,7,10,11 --y 0,0,0,2,3,3 --depth 3 --out {out}/mirrors", "--train 2 --steps 200",
     None, False),
    ("group", "group {name}", "", "all", False),
    ("group --irreps", "group {name} --irreps", "", "all", False),
    ("derive", "derive {name} --no-progress", "--points 1", "all", True),
    ("rates", "rates {name}", "", "all", True),
    ("landscape", "landscape {name} --no-progress", "--starts 8", "all", True),
    ("codegen", "codegen {name} -o {out}/flow.py", "", "all", True),
    ("simulate", "simulate {name} --no-progress --save {out}/run.npz", "--width 8 --n-save 3", "all", True),
    ("study", "study {name} --out {out}/study --no-progress", "--width 12", "all", True),
    ("li2", "li2 {name}", "--starts 4", "all", False),
    ("li2-scaling", "li2-scaling {name} --out {out}/li2-scaling",
     "--subsets 1 --steps 10 --seeds 1 --bisect 0 --width 16 --max-steps 20 --fractions 0.5,0.9", "all", False),
    ("lottery", "lottery {name} --out {out}/lottery", "--width 8", "all", False),
    ("grok", "grok {name} --out {out}/grok", "--steps 20 --width 16", "all", False),
    ("grok --model li2", "grok --model li2 {name} --out {out}/grok", "--steps 20 --width 16", "all", False),
    ("theories", "theories {name} --out {out}/theories --no-progress", "--steps 30 --points 3 --stationary-steps 50 --sweep 0.001,0.01", "all", True),
    ("verify", "verify {name}", "--examples 2", "all", True),
    ("branching", "branching SO(3) {name} --bandlimit 4", "", "all", False),
    ("limits", "limits SO(2) --bandlimit 3 --nmax 8", "--sizes 50", None, False),
    ("atlas", "atlas --groups {name} --workers 1 --db {out}/atlas.duckdb --out {out}/atlas --no-progress",
     "--starts 4", "joined", False),
]


@dataclass
class Case:
    """One command line of the matrix: ``argv`` (``{out}`` still to fill), its command and group."""

    command: str
    group: str
    shared: bool
    argv: list

    @property
    def id(self) -> str:
        return f"{self.command} {self.group or '-'}{' --shared' if self.shared else ''}"


@dataclass
class Outcome:
    """What a case printed and returned; ``ok`` when it is exit 0, or exit 2 with one line on stderr, and no
    traceback anywhere."""

    case: Case
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr or "Traceback" in self.stdout

    @property
    def problem(self) -> str | None:
        """Why the case fails the matrix's rule, or None."""
        if self.traceback:
            return "traceback:\n" + self.stderr[-3000:]
        if self.code == 2:
            lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
            if len(lines) != 1 or ": error: " not in lines[0]:
                return f"exit 2 without a one-line error ({len(lines)} lines):\n" + self.stderr[-3000:]
            return None
        if self.code != 0:
            return f"exit {self.code}:\n" + self.stderr[-3000:]
        return None

    @property
    def message(self) -> str:
        """The last line of stderr (the error of an exit 2)."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        return lines[-1] if lines else ""


def matrix_groups(max_order: int = MAX_ORDER, extra=EXTRA_GROUPS) -> list:
    """The matrix's group names: ``extra``, then the examples of ``symflow groups``
    (:data:`symflow.groups.names.EXAMPLES`) of order ``<= max_order``, each group once (``C5`` is ``Z5``,
    ``C7:C3`` is ``F21``). ``SmallGroup(n,k)`` names are left out: they need the ``gap`` extra and the
    example is D4 by another name; the compact groups have their own rows (:func:`compact_cases`)."""
    from ..groups import group
    from ..groups.names import EXAMPLES, is_compact_name

    out, seen = [], set()
    for name in list(extra) + [n for n in EXAMPLES if not n.startswith("SmallGroup") and not is_compact_name(n)]:
        G = group(name)
        if G.order <= max_order and G.name not in seen:
            seen.add(G.name)
            out.append(G.name)
    return out


def cases(groups=None, small: bool = True, commands=None) -> list:
    """Every :class:`Case` of :data:`COMMANDS` (only the ``commands`` named, when given) on ``groups``
    (default :func:`matrix_groups`); ``small`` appends each command's small sizes."""
    from ..groups import group

    groups = matrix_groups() if groups is None else list(groups)
    out = []
    for command, template, sizes, which, shared in COMMANDS:
        if commands is not None and command not in commands:
            continue
        line = template + (" " + sizes if small and sizes else "")
        if which is None:
            out.append(Case(command, "", False, shlex.split(line)))
            continue
        names = groups
        if which == "joined":
            trivial = [nm for nm in groups if group(nm).order == 1]
            names = trivial + [",".join(nm for nm in groups if nm not in trivial)]
        for name in names:
            if which == "cyclic" and not re.fullmatch(r"Z\d+", name):
                continue
            order = "" if "," in name else str(group(name).order)
            argv = shlex.split(line.replace("{name}", name).replace("{order}", order))
            for sh in ((False, True) if shared else (False,)):
                out.append(Case(command, name, sh, argv + (["--shared"] if sh else [])))
    return out


#: The compact group of the matrix's compact rows, and its band limit.
COMPACT_GROUP, COMPACT_BANDLIMIT = "SO(3)", 2
#: Commands whose group is not the positional NAME with ``--bandlimit`` (a modulus or a list of names): their compact
#: rows pass the compact name alone, which they refuse in one line.
WITHOUT_BANDLIMIT = ("lottery", "grok", "grok --model li2", "atlas", "li2-scaling")


def compact_cases(name: str = COMPACT_GROUP, bandlimit: int = COMPACT_BANDLIMIT, small: bool = True) -> list:
    """One :class:`Case` per command of :data:`COMMANDS` on the band-limited compact group ``name`` (``--bandlimit``
    appended where the command takes it): each must work (exit 0) or refuse in one line naming what is missing."""
    out = []
    for command, template, sizes, which, _shared in COMMANDS:
        if which is None:
            continue
        line = template + (" " + sizes if small and sizes else "")
        argv = shlex.split(line.replace("{name}", name).replace("{order}", ""))
        if command not in WITHOUT_BANDLIMIT:
            argv += ["--bandlimit", str(bandlimit)]
        out.append(Case(command, f"{name} --bandlimit {bandlimit}", False, argv))
    return out


def run_case(main, case: Case, out) -> Outcome:
    """Run ``case`` through the CLI's ``main(argv)`` with stdout and stderr captured, ``{out}`` set to the
    folder ``out``. An exception ``main`` lets escape is recorded as its traceback on stderr with exit 1
    (what ``python -m symflow`` prints); ``SystemExit`` (argparse) gives its code."""
    argv = [a.replace("{out}", str(out)) for a in case.argv]
    stdout, stderr = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:   # noqa: BLE001 - the point: what escapes main is a traceback for the user
            traceback.print_exc()
            code = 1
    return Outcome(case, int(code or 0), stdout.getvalue(), stderr.getvalue(), time.perf_counter() - t0)


__all__ = ["COMMANDS", "EXTRA_GROUPS", "MAX_ORDER", "Case", "Outcome", "cases", "compact_cases", "matrix_groups",
           "run_case"]
