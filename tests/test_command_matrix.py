"""Every command on every group (issue 21): each command line of :data:`symflow.testing.command_matrix.COMMANDS`
on every group of :func:`~symflow.testing.command_matrix.matrix_groups` (the examples of ``symflow groups`` of
order <= 24, plus Z1, Z2, Z3, Z2xZ2, Z2xZ2xZ2), unshared and shared where the command takes ``--shared``,
with figures drawn into a temporary folder, ends with exit 0 or exit 2 and one line on stderr, never a
traceback. Small sizes (few neurons, starts, steps); all cases run in this process through ``cli.main``
(about 3 CPU minutes in all; the sweep at default sizes is ``bench/bench_command_matrix.py``).
"""
import pytest

from symflow.cli import COMMANDS as CLI_COMMANDS
from symflow.cli import main
from symflow.testing.command_matrix import COMMANDS, cases, compact_cases, matrix_groups, run_case

CASES = cases()
COMPACT_CASES = compact_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_command_ends_in_exit_0_or_one_line_error(case, tmp_path):
    outcome = run_case(main, case, tmp_path)
    assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
    assert outcome.problem is None, outcome.problem
    if outcome.code == 2 and case.group == "Z1" and case.command != "grok":
        # the trivial group: the message says why (no non-trivial irrep), not a symptom such as t_end = 0
        # (grok runs on Z_p, p odd >= 3, and says that)
        assert "trivial group" in outcome.message, outcome.message


@pytest.mark.parametrize("case", COMPACT_CASES, ids=[c.id for c in COMPACT_CASES])
def test_command_on_a_compact_group_works_or_refuses_in_one_line(case, tmp_path):
    """SO(3) --bandlimit 2 (issue 24): exit 0, or exit 2 with one line naming the compact group or what is missing."""
    outcome = run_case(main, case, tmp_path)
    assert outcome.problem is None, outcome.problem
    if outcome.code == 2:
        assert "SO(3)" in outcome.message, outcome.message


def test_the_matrix_covers_every_command_and_the_degenerate_groups():
    assert {c[1].split()[0] for c in COMMANDS} == set(CLI_COMMANDS)
    groups = matrix_groups()
    assert {"Z1", "Z2", "Z2xZ2", "S3", "D5", "Q8", "S4", "F21"} <= set(groups)
    assert len(groups) == len(set(groups))          # C5 and Z5, C7:C3 and F21 once each
    shared = {c.command for c in CASES if c.shared}
    assert {"derive", "rates", "landscape", "codegen", "simulate", "study", "theories", "verify"} <= shared


def test_run_case_reports_a_traceback_as_a_problem(tmp_path):
    def crashing_main(argv):
        raise TypeError("unsupported operand type(s) for *: 'NoneType' and 'float'")

    def two_line_error(argv):
        import sys
        print("usage: symflow x\nsymflow x: error: bad", file=sys.stderr)
        return 2

    case = CASES[1]
    crashed = run_case(crashing_main, case, tmp_path)
    assert crashed.code == 1 and crashed.traceback and "traceback" in crashed.problem
    assert "exit 2 without a one-line error" in run_case(two_line_error, case, tmp_path).problem
