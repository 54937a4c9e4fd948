"""Every command on every group at default sizes (issue 21): the command lines of
:data:`symflow.testing.command_matrix.COMMANDS` without the test's small sizes, on the groups of
:func:`~symflow.testing.command_matrix.matrix_groups`, through ``cli.main`` in this process, figures drawn into
a temporary folder. Prints a table of command x group with the exit code and the wall time of each case
(``0``, ``2`` a one-line error, ``TB`` a traceback, ``2!`` an exit 2 of more than one line); then every
problem in full. No asserts; the exit status is 1 when any case broke the rule.

    python bench/bench_command_matrix.py                     # every command (tens of minutes on 2 cores)
    python bench/bench_command_matrix.py --commands study,theories --groups Q8,S3 --small
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

from symflow.cli import main
from symflow.testing.command_matrix import cases, matrix_groups, run_case


def cell(outcome) -> str:
    if outcome.traceback:
        code = "TB"
    elif outcome.problem:
        code = f"{outcome.code}!"
    else:
        code = str(outcome.code)
    return f"{code} {outcome.seconds:.1f}s"


def run(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", default=None, help="comma-separated commands of the table (default: all)")
    ap.add_argument("--groups", default=None, help="comma-separated group names (default: the matrix's groups)")
    ap.add_argument("--small", action="store_true", help="the test's small sizes instead of the defaults")
    args = ap.parse_args(argv)
    groups = args.groups.split(",") if args.groups else matrix_groups()
    chosen = args.commands.split(",") if args.commands else None
    table, problems = {}, []
    with tempfile.TemporaryDirectory(prefix="symflow-matrix-") as tmp:
        for i, case in enumerate(cases(groups, small=args.small, commands=chosen)):
            out = pathlib.Path(tmp) / f"case{i}"
            out.mkdir()
            o = run_case(main, case, out)
            row = case.command + (" --shared" if case.shared else "")
            column = "-" if not case.group else "(all, one run)" if "," in case.group else case.group
            table.setdefault(row, {})[column] = cell(o)
            print(f"{case.id[:100]}: {cell(o)} {o.message[:120]}", file=sys.stderr, flush=True)
            if o.problem:
                problems.append((case.id, o.problem))
    columns = ["-"] + groups + ["(all, one run)"]
    columns = [c for c in columns if any(c in r for r in table.values())]
    width = max(len(r) for r in table)
    print(" | ".join([f"{'command':<{width}}"] + [f"{c:>10}" for c in columns]))
    for row, cells in table.items():
        print(" | ".join([f"{row:<{width}}"] + [f"{cells.get(c, ''):>10}" for c in columns]))
    for case_id, problem in problems:
        print(f"\n== {case_id}\n{problem}")
    print(f"\n{sum(len(c) for c in table.values())} cases, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":     # the atlas's Dask workers import this file again: run only as a script
    sys.exit(run())
