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

#: Every subcommand, in ``--help`` order; each is the module ``symflow.commands.<name>`` (a missing
#: module is a bug and raises).
COMMANDS = ["group", "derive", "rates", "codegen", "simulate", "study", "lottery", "grok", "verify"]


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="symflow",
        description="What a two-layer network trained on a finite group's composition table learns, and how fast.")
    parser.add_argument("--version", action="version", version=f"symflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"symflow.commands.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        rc = args.func(args)
    except SymflowError as exc:
        from rich.console import Console

        Console(stderr=True, soft_wrap=True).print(f"[bold red]symflow {args.command}: error:[/] {exc}",
                                                   highlight=False, markup=True)  # one line, never wrapped
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
