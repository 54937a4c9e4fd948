"""The ``symflow`` command line.

Each subcommand lives in its own module ``symflow.commands.<name>`` exposing
``register(subparsers)``, which adds an ``argparse`` parser whose ``func`` default runs it.
Errors derived from :class:`symflow.errors.SymflowError` print a one-line message (no traceback)
and exit with status 2; ``KeyboardInterrupt`` exits with 130 after the command saved what it had.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import SymflowError
from .interrupts import install, installed, interrupted

#: Every subcommand, in ``--help`` order; each is the module ``symflow.commands.<name>`` (``-`` read as ``_``; a missing
#: module is a bug and raises).
COMMANDS = ["group", "groups", "branching", "limits", "derive", "rates", "landscape", "li2", "li2-scaling", "codegen", "simulate", "study",
            "lottery", "grok", "theories", "atlas", "verify", "mirrors"]


#: ``--help`` examples of every subcommand (shown as the parser's epilog).
EXAMPLES = {
    "group": ["symflow group F21", "symflow group S4 --irreps", "symflow group Z3xZ5 --json",
              "symflow group SO(3) --bandlimit 4", "symflow group A5 --in SO(3)"],
    "groups": ["symflow groups"],
    "branching": ["symflow branching SO(3) A5 --bandlimit 6", "symflow branching SO(3) S4 --bandlimit 4 --json",
                  "symflow branching O(2) D4 --bandlimit 5"],
    "limits": ["symflow limits SO(2) --bandlimit 4", "symflow limits SO(3) --bandlimit 3 --sizes 100,1000 --json",
               "symflow limits O(2) --bandlimit 3 --nmax 16 --sizes none"],
    "derive": ["symflow derive Z7 --shared", "symflow derive F21 --latex", "symflow derive S3 --loss mse",
               "symflow derive Z5 --activation 'z**2+z**3'"],
    "rates": ["symflow rates F21", "symflow rates Z7 --shared --json", "symflow rates SO(3) --bandlimit 4", "symflow rates D5 --shared --discover",
              "symflow rates D5 --lr 0.1 --width 512 --scale 0.01 --reduction sum"],
    "landscape": ["symflow landscape D5 --shared --starts 2000", "symflow landscape S4 --json",
                  "symflow landscape S3 --loss mse --starts 256"],
    "li2": ["symflow li2 S3", "symflow li2 Z23 --fraction 0.5 --json", "symflow li2 D5 --nodes --check"],
    "li2-scaling": ["symflow li2-scaling Z11 Z13 --subsets 2 --out li2-scaling"],
    "codegen": ["symflow codegen F21 --out f21_flow.py", "symflow codegen Z7 --shared --style entries"],
    "simulate": ["symflow simulate Z7 --width 64 --seed 1", "symflow simulate F21 --width 256 --out f21.npz",
                 "symflow simulate Z7 --init frequency:2 --json"],
    "study": ["symflow study F21", "symflow study Z7 --shared --width 256 --out study-z7",
              "symflow study D5 --no-figures --json", "symflow study F21 --strict",
              "symflow study S3 --loss mse --out study-s3-mse"],
    "lottery": ["symflow lottery Z23 --width 64", "symflow lottery 11 --start single --json"],
    "grok": ["symflow grok Z23", "symflow grok 23 --act quad --steps 5000 --out grok-quad",
             "symflow grok --model li2 S3 --steps 600 --out grok-li2-s3"],
    "theories": ["symflow theories S3", "symflow theories S3 --optimizer adamw --json",
                 "symflow theories Z7 --shared --sweep 0.001,0.01,0.1 --out theories-z7"],
    "atlas": ["symflow atlas", "symflow atlas --max-order 8 --workers 2 --starts 128 --db small.duckdb --out atlas-8",
              "symflow atlas --groups F21,A4,Q8 --settings unshared",
              "symflow atlas --query 'SELECT * FROM attractors WHERE \"order\" = 21'",
              "symflow atlas --query 'SELECT * FROM attractors' --format csv",
              "symflow atlas --scheduler tcp://127.0.0.1:8786"],
    "mirrors": ["symflow mirrors --x 0,4,5,7,10,11 --y 0,0,0,2,3,3 --depth 4",
                "symflow mirrors data.csv --beta 0.1 --train 10 --out mirrors-run",
                "symflow mirrors --x 0,1,2,3 --y 0,1,0,1 --activation abs --json"],
    "verify": ["symflow verify F21", "symflow verify Z7 --shared --examples 50",
               "symflow verify --list", "symflow verify S3 --loss mse --json"],
}


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__
    from .commands.groups import grammar_text
    from .commands.options import NAME_EPILOG, Parser

    parser = Parser(
        prog="symflow",
        description="What a two-layer network trained on a finite group's composition table learns, and how fast.",
        epilog=grammar_text() + "\n\nRun 'symflow COMMAND --help' for a command's options and examples; the theory "
                                "and its sources are in docs/theory.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"symflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"symflow.commands.{name.replace('-', '_')}").register(sub)
    for name, p in sub.choices.items():
        # One look for every subcommand: a description (the one-line help if the module gave none)
        # and its examples, kept as written.
        help_line = next((a.help for a in sub._choices_actions if a.dest == name), None)
        if not p.description and help_line:
            p.description = help_line[:1].upper() + help_line[1:] + "."
        if name in EXAMPLES:
            p.epilog = "examples:\n" + "\n".join("  " + e for e in EXAMPLES[name])
            if any(a.metavar == "NAME" for a in p._actions):      # only commands that take a group NAME
                p.epilog += "\n\n" + NAME_EPILOG
        p.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv=None) -> int:
    """Run one command; returns the exit status (0, 2 for a :class:`~symflow.errors.SymflowError` line, 130 for
    Ctrl-C). A Ctrl-C at any moment, the imports included, prints one line ``interrupted`` (with what the
    command said it did, e.g. ``interrupted: ... after 300000 of 1000000 starts``) and no traceback;
    as the program's entry (``argv=None``) a second Ctrl-C while the program exits is ignored."""
    command = "symflow"
    if argv is None:
        install()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = f"symflow {args.command}" if getattr(args, "command", None) else command
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        rc = _run(args)
        if rc != 130 and installed() and interrupted():   # a Ctrl-C that Python swallowed in a callback
            raise KeyboardInterrupt
        return rc
    except SymflowError as exc:     # e.g. a bad $SYMFLOW_MEMORY read while parsing
        print(f"{command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if argv is None:
            _ignore_interrupts()
        print("\ninterrupted" + (f": {exc}" if str(exc) else ""), file=sys.stderr)   # e.g. how far it got
        return 130
    except BaseException:
        # a Ctrl-C that a library turned into another exception on its way out (e.g. NumPy's import of its C
        # extension reports an interrupted import of ``datetime`` as an ImportError): still an interrupt
        if installed() and interrupted():
            if argv is None:
                _ignore_interrupts()
            print("\ninterrupted", file=sys.stderr)
            return 130
        raise


def _ignore_interrupts() -> None:
    """No further ``KeyboardInterrupt`` while the program exits (worker shutdown, atexit handlers)."""
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:   # pragma: no cover - not the main thread
        pass


def _run(args) -> int:
    import warnings

    from .resources import forcing

    def one_line_warning(message, category, filename, lineno, file=None, line=None):
        print(f"symflow {args.command}: warning: {message}", file=sys.stderr)

    warnings.showwarning = one_line_warning   # e.g. ScopeWarning: one line, no source location
    try:
        with forcing(bool(getattr(args, "force", False))):   # --force: run even when the memory estimate is refused
            rc = args.func(args)
    except SymflowError as exc:
        from rich.console import Console

        Console(stderr=True, soft_wrap=True).print(f"[bold red]symflow {args.command}: error:[/] {exc}",
                                                   highlight=False, markup=True)  # one line, never wrapped
        return 2
    except BrokenPipeError:   # e.g. 'symflow simulate ... | head': the reader left; nothing to report
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
