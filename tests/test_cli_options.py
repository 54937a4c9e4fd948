"""One command pattern (issue 20, point 4): the shared options of symflow/commands/options.py.

A single group is the positional NAME everywhere (``lottery`` and ``grok`` read ``23`` as ``Z23`` and keep
``--p``/``--group`` as aliases); ``--seed`` is an integer in every command, checked once (a bad one is one
line, exit 2); ``grok --model li2 --out`` goes through the output-folder rule before training; an explicit
value is never replaced by another model's default; commands never import commands.
"""
import ast
import json
from pathlib import Path

import pytest

from symflow import commands as commands_pkg
from symflow.cli import COMMANDS, build_parser, main
from symflow.errors import SymflowError
from symflow.outputs import MARKER, read_marker

COMMANDS_DIR = Path(commands_pkg.__file__).parent


class Stop(SymflowError):
    """Raised by a stand-in for the computation once the command has built its inputs."""


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


# ---------------------------------------------------------------------- the group: positional NAME
@pytest.mark.parametrize("argv", [["lottery", "23"], ["lottery", "Z23"], ["lottery", "z 23"], ["lottery", "C23"],
                                  ["lottery", "--p", "23"], ["lottery", "Z23", "--p", "23"], ["lottery"]])
def test_lottery_takes_the_group_as_positional_name(argv, monkeypatch):
    seen = []

    def fake(p, *a, **k):
        seen.append(p)
        raise Stop("stop")

    monkeypatch.setattr("symflow.modular.lottery.run_lottery", fake)
    assert main(argv + ["--width", "3"]) == 2
    assert seen == [23]


@pytest.mark.parametrize("argv,needle", [(["lottery", "D5", "--init", "0.1"], "modular-addition lottery"),
                                         (["lottery", "Z23", "--p", "11"], "two groups"),
                                         (["lottery", "Z22", "--start", "single"], "modular-addition lottery"),
                                         (["lottery", "Z23", "--samples", "9"], "--orbits"), (["grok", "S3"], "Z<p>"),
                                         (["grok", "Z11", "--group", "Z13"], "two groups")])
def test_a_group_the_command_cannot_take_is_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv", [["grok", "11"], ["grok", "Z11"], ["grok", "--p", "11"], ["grok", "--group", "Z11"]])
def test_grok_takes_the_group_as_positional_name(argv, monkeypatch, tmp_path):
    seen = []

    def fake(cfg, *a, **k):
        seen.append(cfg.p)
        raise Stop("stop")

    monkeypatch.setattr("symflow.modular.grokking.run_grokking", fake)
    assert main(argv + ["--out", str(tmp_path / "g")]) == 2
    assert seen == [11] and not (tmp_path / "g").exists()


@pytest.mark.parametrize("argv,group", [(["grok", "--model", "li2", "S3"], "S3"),
                                        (["grok", "--model", "li2", "--group", "S3"], "S3"),
                                        (["grok", "--model", "li2", "7"], "Z7"),
                                        (["grok", "--model", "li2", "--p", "7"], "Z7"),
                                        (["grok", "--model", "li2"], "Z23")])
def test_grok_li2_takes_any_group_as_name(argv, group, monkeypatch):
    seen = _li2_configs(monkeypatch)
    assert main(argv) == 2
    assert [c.group for c in seen] == [group]


def test_every_single_group_is_the_positional_name():
    """No command spells one group as an option only: NAME is positional wherever a group is taken
    (``mirrors`` takes 1-D data, no group: its positional is the data file)."""
    for name, p in _subparsers().items():
        positional = [a for a in p._actions if not a.option_strings and a.dest != "help"]
        if name in ("groups", "atlas"):
            assert not positional
            continue
        if name == "mirrors":
            assert all(a.metavar != "NAME" for a in positional)
            continue
        assert any(a.metavar == "NAME" for a in positional), name


def test_name_epilog_only_where_a_name_is_taken():
    for name, p in _subparsers().items():
        takes_name = any(a.metavar == "NAME" for a in p._actions)
        assert ("NAME is a group name" in (p.epilog or "")) == takes_name, name


# ---------------------------------------------------------------------- --seed: an integer, checked once
def _seed_commands():
    out = []
    for name, p in _subparsers().items():
        if any("--seed" in a.option_strings for a in p._actions):
            out.append(name)
    return out


def _name_args(command):
    return [] if command in ("atlas", "lottery", "grok") else ["Z5"]


def test_seed_is_in_the_commands_that_take_one():
    assert set(_seed_commands()) >= {"landscape", "rates", "li2", "li2-scaling", "simulate", "study", "lottery",
                                     "grok", "theories", "atlas", "verify"}


@pytest.mark.parametrize("command", ["landscape", "rates", "li2", "li2-scaling", "simulate", "study", "lottery",
                                     "grok", "theories", "atlas", "verify"])
def test_seed_is_an_int_when_the_command_runs(command, monkeypatch):
    import importlib

    module = importlib.import_module(f"symflow.commands.{command.replace('-', '_')}")
    seen = []
    monkeypatch.setattr(module, "run", lambda args: seen.append(args.seed) or 0)
    assert main([command, *_name_args(command), "--seed", "7"]) == 0
    assert seen == [7] and type(seen[0]) is int
    seen.clear()
    assert main([command, *_name_args(command)]) == 0
    assert seen == [0] and type(seen[0]) is int


@pytest.mark.parametrize("command", ["landscape", "rates", "li2", "li2-scaling", "simulate", "study", "lottery",
                                     "grok", "theories", "atlas", "verify"])
@pytest.mark.parametrize("bad", ["x", "1.5", "-1"])
def test_a_bad_seed_is_one_line_exit_2(command, bad, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main([command, *_name_args(command), "--seed", bad]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "--seed must be a non-negative integer" in err and bad in err
    assert list(tmp_path.iterdir()) == []          # nothing computed, nothing written


def test_an_argparse_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["codegen", "Q8", "--style", "bogus"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and len(err.splitlines()) == 1 and "'auto'" in err


# ---------------------------------------------------------------------- grok --model li2: the output-folder rule
def _li2_configs(monkeypatch):
    seen = []

    def fake(cfg, *a, **k):
        seen.append(cfg)
        raise Stop("stop")

    monkeypatch.setattr("symflow.li2.grok.run_li2_grokking", fake)
    return seen


def test_grok_li2_out_refuses_a_foreign_folder_before_training(tmp_path, monkeypatch, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")

    def boom(*a, **k):
        raise AssertionError("training started before the output folder was checked")

    monkeypatch.setattr("symflow.li2.grok.run_li2_grokking", boom)
    assert main(["grok", "--model", "li2", "Z5", "--steps", "20", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and len(err.strip().splitlines()) == 1
    assert (out / "notes.txt").read_text() == "keep me"


def test_grok_li2_out_is_an_output_folder(tmp_path, capsys):
    out = tmp_path / "g"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    argv = ["grok", "--model", "li2", "Z5", "--steps", "20", "--width", "8", "--json", "--out", str(out)]
    assert main(argv + ["--force"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert json.loads((out / "li2_grok.json").read_text()) == data
    assert not (out / "stale.txt").exists()                       # replaced whole
    marker = read_marker(out)
    assert marker["kind"] == "grok" and marker["parameters"]["group"] == "Z5" and (out / MARKER).exists()
    assert main(argv) == 0                                        # an earlier grok output: replaced without --force
    capsys.readouterr()


# ---------------------------------------------------------------------- an explicit value always wins
@pytest.mark.parametrize("flag,value,field,expected", [("--frac", "0.5", "frac", 0.5), ("--steps", "3000", "steps", 3000),
                                                       ("--weight-decay", "1.0", "weight_decay", 1.0),
                                                       ("--width", "256", "width", 256), ("--lr", "0.001", "lr", 0.001)])
def test_grok_li2_keeps_an_explicit_value_equal_to_the_ma_default(flag, value, field, expected, monkeypatch):
    seen = _li2_configs(monkeypatch)
    assert main(["grok", "--model", "li2", "Z5", flag, value]) == 2
    assert getattr(seen[0], field) == expected


def test_grok_li2_defaults_when_nothing_is_given(monkeypatch):
    from symflow.li2.grok import Li2GrokConfig

    seen = _li2_configs(monkeypatch)
    assert main(["grok", "--model", "li2"]) == 2
    d = Li2GrokConfig()
    assert (seen[0].frac, seen[0].steps, seen[0].weight_decay, seen[0].group) == (d.frac, d.steps, d.weight_decay, d.group)


def test_grok_ma_keeps_an_explicit_value_equal_to_the_li2_default(monkeypatch, tmp_path):
    seen = []

    def fake(cfg, *a, **k):
        seen.append(cfg)
        raise Stop("stop")

    monkeypatch.setattr("symflow.modular.grokking.run_grokking", fake)
    assert main(["grok", "--frac", "0.8", "--steps", "1000", "--out", str(tmp_path / "g")]) == 2
    assert (seen[0].frac, seen[0].steps, seen[0].weight_decay) == (0.8, 1000, 1.0)


@pytest.mark.parametrize("flag,value", [("--act", "relu"), ("--init-scale", "0.5")])
def test_grok_li2_refuses_an_option_of_the_ma_model(flag, value, monkeypatch, capsys):
    _li2_configs(monkeypatch)
    assert main(["grok", "--model", "li2", flag, value]) == 2
    assert flag in capsys.readouterr().err


# ---------------------------------------------------------------------- layers
def _imported_modules(path: Path) -> set:
    """Every module ``path`` imports, as dotted names relative to ``symflow`` where it is symflow's."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:          # from . import x / from .x import y: inside symflow.commands
                base = "commands" + (f".{node.module}" if node.module else "")
                names |= {base} if node.module else {f"commands.{a.name}" for a in node.names}
            elif node.level == 2:
                names.add(node.module or "")
            elif node.module and node.module.startswith("symflow."):
                names.add(node.module[len("symflow."):])
        elif isinstance(node, ast.Import):
            names |= {a.name[len("symflow."):] for a in node.names if a.name.startswith("symflow.")}
    return names


def test_no_command_imports_another_command():
    commands = {p.stem for p in COMMANDS_DIR.glob("*.py")} - {"__init__", "options"}
    assert commands == {c.replace("-", "_") for c in COMMANDS}
    for path in COMMANDS_DIR.glob("*.py"):
        imported = {m.split(".")[1] for m in _imported_modules(path) if m.startswith("commands.")}
        assert not (imported & commands), f"{path.name} imports the command module(s) {sorted(imported & commands)}"


def test_the_derive_json_contract_lives_with_the_derivation():
    from symflow.theory import derivation

    assert callable(derivation.derive_json)
    assert "def derive_json" not in (COMMANDS_DIR / "derive.py").read_text()


def test_shared_options_have_one_help_text():
    """``--shared``, ``--no-progress`` and ``--seed``'s validation read the same in every command."""
    helps = {}
    for name, p in _subparsers().items():
        for a in p._actions:
            if a.dest in ("shared", "no_progress"):
                helps.setdefault(a.dest, set()).add(a.help)
    assert all(len(v) == 1 for v in helps.values()), helps
    simulate = _subparsers()["simulate"]
    assert next(a for a in simulate._actions if a.dest == "spheres").help
