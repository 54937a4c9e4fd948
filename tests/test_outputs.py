"""Output folders and interrupts (issue 12, "Data must never be lost or silently replaced").

Covers :mod:`symflow.outputs` and its use by ``study``, ``grok`` and ``lottery``: writability is
checked before computing, a foreign non-empty folder needs ``--force``, an earlier output is
replaced whole (no stale files), every OSError is one line with exit status 2, two names of one
group get two default folders, and a real SIGINT to a real subprocess exits with 130 leaving a
complete output marked as interrupted (never a half-written folder, never a DISAGREES row).
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symflow.cli import main
from symflow.errors import SymflowError
from symflow.outputs import MARKER, OutputFolder, read_marker

ROOT = Path(__file__).resolve().parents[1]

GROK = ["grok", "--p", "11", "--frac", "0.6", "--steps", "30", "--width", "8", "--json"]
LOTTERY = ["lottery", "--p", "5", "--width", "3", "--init", "0.05", "--json"]
STUDY = ["study", "Z3", "--width", "8", "--no-stage2", "--no-figures", "--no-progress", "--json"]
RUNNERS = {"study": ("symflow.study.run_study", STUDY), "grok": ("symflow.modular.grokking.run_grokking", GROK),
           "lottery": ("symflow.modular.lottery.run_lottery", LOTTERY)}


def _no_compute(monkeypatch, kind):
    """Make the computation of ``kind`` fail loudly: a refusal must come before it."""
    def boom(*a, **k):
        raise AssertionError("the computation started before the output folder was checked")
    monkeypatch.setattr(RUNNERS[kind][0], boom)


def _leftovers(parent: Path) -> list:
    return [p.name for p in parent.iterdir() if ".symflow-tmp-" in p.name]


def _earlier_output(folder: Path, kind: str) -> None:
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(json.dumps({"kind": kind, "symflow": "0", "parameters": {}, "interrupted": False}))
    (folder / "stale.png").write_text("an earlier run's figure")


# ------------------------------------------------------------------ unusable --out, before computing
@pytest.mark.parametrize("kind", ["study", "grok", "lottery"])
@pytest.mark.parametrize("where", ["under_file", "dev_null", "is_file"])
def test_unwritable_out_is_one_line_error_before_computing(kind, where, tmp_path, monkeypatch, capsys):
    (tmp_path / "plain").write_text("a regular file")
    out = {"under_file": tmp_path / "plain" / "out", "dev_null": Path("/dev/null"),
           "is_file": tmp_path / "plain"}[where]
    _no_compute(monkeypatch, kind)
    assert main(RUNNERS[kind][1] + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err and "not a folder" in err
    assert (tmp_path / "plain").read_text() == "a regular file" and not _leftovers(tmp_path)


def test_read_only_parent(tmp_path):
    if os.geteuid() == 0:  # permissions do not bind root; the path-under-a-file cases above do
        pytest.skip("root ignores folder permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(SymflowError, match="cannot write"):
            OutputFolder(ro / "out", "grok")
    finally:
        ro.chmod(0o700)


def test_oserror_while_writing_keeps_earlier_output(tmp_path, monkeypatch, capsys):
    out = tmp_path / "g"
    _earlier_output(out, "grok")

    def full_disk(result, folder):
        (Path(folder) / "report.md").write_text("half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("symflow.modular.report._write_files", full_disk)   # the writer inside the folder
    assert main(GROK + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and str(out) in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "stale.png"])
    assert not _leftovers(tmp_path)


# ------------------------------------------------------------------ refusal, --force, whole replacement
@pytest.mark.parametrize("kind", ["study", "grok", "lottery"])
def test_foreign_folder_refused_unless_force(kind, tmp_path, monkeypatch, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.md").write_text("my own notes")
    with monkeypatch.context() as m:
        _no_compute(m, kind)
        assert main(RUNNERS[kind][1] + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and str(out) in err
    assert (out / "report.md").read_text() == "my own notes"
    assert main(RUNNERS[kind][1] + ["--out", str(out), "--force"]) == 0
    capsys.readouterr()
    assert (out / "report.md").exists() != (kind == "lottery")
    if (out / "report.md").exists():
        assert (out / "report.md").read_text() != "my own notes"
    assert read_marker(out)["kind"] == kind and read_marker(out)["interrupted"] is False
    assert not _leftovers(tmp_path)


def test_earlier_output_of_same_kind_replaced_whole(tmp_path, capsys):
    out = tmp_path / "g"
    _earlier_output(out, "grok")
    assert main(GROK + ["--out", str(out)]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert not (out / "stale.png").exists() and Path(files["report"]).exists()
    assert Path(files["report"]).parent == out
    assert read_marker(out)["parameters"]["p"] == 11


def test_output_of_another_kind_refused(tmp_path, monkeypatch, capsys):
    out = tmp_path / "s"
    _earlier_output(out, "study")
    _no_compute(monkeypatch, "grok")
    assert main(GROK + ["--out", str(out)]) == 2
    assert "study output" in capsys.readouterr().err and (out / "stale.png").exists()


def test_empty_folder_accepted_and_library_write(tmp_path):
    from symflow.study import run_study

    study = run_study("Z3", width=8, progress=False, stage2=False)
    (tmp_path / "empty").mkdir()
    assert study.write(tmp_path / "empty", figures=False) == tmp_path / "empty"
    assert read_marker(tmp_path / "empty")["kind"] == "study"
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x.txt").write_text("x")
    with pytest.raises(SymflowError, match="--force"):
        study.write(tmp_path / "foreign")
    study.write(tmp_path / "foreign", figures=False, force=True)
    assert not (tmp_path / "foreign" / "x.txt").exists()


def test_two_names_of_one_group_get_two_default_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("Z3", "C3"):
        assert main(["study", name, "--width", "8", "--no-stage2", "--no-figures", "--no-progress", "--json"]) == 0
    capsys.readouterr()
    assert read_marker(tmp_path / "study-Z3")["parameters"]["group"] == "Z3"
    assert read_marker(tmp_path / "study-C3")["parameters"]["group"] == "C3"


# ------------------------------------------------------------------ a real SIGINT to a real subprocess
def _interrupt(argv, tmp_path, wait_for=None, delay=3.0):
    """Start ``python -m symflow argv``, wait for ``wait_for`` on stderr (then ``delay`` s) or just
    ``delay`` s, send SIGINT; returns (exit code, stdout, stderr, seconds from SIGINT to exit)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               COLUMNS="200")
    proc = subprocess.Popen([sys.executable, "-m", "symflow", *argv], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    try:
        if wait_for:
            while wait_for not in seen:
                line = proc.stderr.readline()
                assert line, f"the command ended before {wait_for!r}: {seen}"
                seen += line
        time.sleep(delay)
        assert proc.poll() is None, "the command finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, seen + err, time.monotonic() - t0


def _interrupt_while_computing(argv, tmp_path, out: Path, delay: float):
    """:func:`_interrupt` after ``delay`` s; a SIGINT that landed before the computation started
    (a slow start on a loaded machine) must leave the earlier output untouched, and is retried later."""
    for attempt in range(4):      # a loaded machine: the lottery's prediction alone can take over 10 s
        rc, stdout, err, took = _interrupt(argv, tmp_path, delay=delay * 2 ** attempt)
        assert rc == 130 and took < 30, err
        assert "Traceback" not in err
        if _aside(out):
            return stdout, err
        assert (out / "stale.png").exists() and not _leftovers(tmp_path)
    pytest.fail("the computation never started")


def _aside(out: Path) -> list:
    """The folders an interrupted run wrote next to ``out`` (``OUT.interrupted-<stamp>``)."""
    return sorted(out.parent.glob(out.name + ".interrupted-*"))


def _assert_complete_and_marked(out: Path, files, err: str = ""):
    """The complete earlier output in ``out`` is kept; the interrupted run's complete partial output is
    aside, marked interrupted, and the one warning line says where."""
    assert (out / "stale.png").exists() and read_marker(out)["interrupted"] is False   # earlier result kept
    [aside] = _aside(out)
    marker = read_marker(aside)
    assert marker is not None and marker["interrupted"] is True
    assert not (aside / "stale.png").exists()
    for name in files:
        assert (aside / name).exists(), name
    assert not _leftovers(out.parent) and not list(out.parent.glob(".*.symflow-lock"))
    if err:
        said = [line for line in err.splitlines() if "partial" in line]
        assert len(said) == 1 and str(aside.name) in said[0] and "keeps the complete earlier result" in said[0], err
    return aside


def test_sigint_study(tmp_path):
    out = tmp_path / "s"
    _earlier_output(out, "study")
    rc, _, err, took = _interrupt(["study", "Z5", "--width", "20000", "--no-progress", "--out", str(out)],
                                  tmp_path, wait_for="simulating", delay=1.5)
    assert rc == 130 and took < 30, err
    assert "Traceback" not in err
    out = _assert_complete_and_marked(out, ["report.md", "summary.json"], err)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["run"]["interrupted"] is True and summary["predictions"] == []
    report = (out / "report.md").read_text()
    assert "DISAGREES" not in report and "Interrupted" in report


def test_sigint_grok(tmp_path):
    out = tmp_path / "g"
    _earlier_output(out, "grok")
    _, err = _interrupt_while_computing(["grok", "--p", "23", "--steps", "200000", "--out", str(out)], tmp_path,
                                        out, 4)
    out = _assert_complete_and_marked(out, ["report.md", "metrics.json", "metrics.npz"], err)
    report = (out / "report.md").read_text()
    assert "**Interrupted**" in report
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True
    # no verdict computed at the step reached is shown as if final
    assert metrics["stages"]["grokking"] is None and metrics["stages"]["verdict"].startswith("no verdict: interrupted")
    assert "no verdict: interrupted at step" in report
    assert "no grokking by the stated rule" not in report and "did **not** reach" not in report


def test_sigint_lottery(tmp_path):
    out = tmp_path / "l"
    _earlier_output(out, "lottery")
    # about 25 s of work uninterrupted (p = 31, 2048 neurons), so every retry lands inside the computation
    stdout, err = _interrupt_while_computing(["lottery", "--p", "31", "--width", "2048", "--init", "0.001",
                                              "--json", "--out", str(out)], tmp_path, out, 3)
    out = _assert_complete_and_marked(out, ["lottery.json", "lottery.npz"], err)
    for summary in (json.loads(stdout)["summary"], json.loads((out / "lottery.json").read_text())["summary"]):
        assert summary["interrupted"] is True
        # the comparison is marked as not made, never an agreement computed at the time reached
        assert summary["agreement"] is None and summary["agreement_decided"] is None
        assert summary["comparison"].startswith(f"not made: interrupted at t = {summary['stop_time']:.4g}")


def test_sigint_simulate_save(tmp_path):
    """A real SIGINT during ``simulate --save``: exit 130, a complete file marked interrupted (never a
    half-written one), and one stderr line saying what was not computed."""
    from symflow.dynamics.results import SimulationResult

    # fixed steps of 0.5 to t = 1e6 with a save every 10: saves come quickly, the run never ends by itself
    argv = ["simulate", "A5", "--width", "256", "--dt", "0.5", "--n-save", "100001", "--no-stop", "--t-end", "1e6",
            "--no-progress", "--save", "s.npz", "--force"]   # to t_end it would keep ~46 GiB of saves
    for attempt in range(3):
        rc, stdout, err, took = _interrupt(argv, tmp_path, delay=4 * 2 ** attempt)
        assert rc == 130 and took < 30 and "Traceback" not in err, err
        assert not _leftovers(tmp_path)
        if (tmp_path / "s.npz").exists():
            break
        assert "interrupted" in err      # landed before the computation: nothing written, retry later
    else:
        pytest.fail("the computation never started")
    res = SimulationResult.load(tmp_path / "s.npz")
    assert res.interrupted and res.metadata["interrupted"] is True and res.t[-1] < 1e6
    said = [line for line in err.splitlines() if "interrupted before t_end" in line]
    assert len(said) == 1 and f"up to the save time t = {res.t[-1]:.4g}" in said[0] and "not computed" in said[0]
    assert "(interrupted)" in stdout


def test_simulate_save_checked_before_computing(tmp_path, monkeypatch, capsys):
    (tmp_path / "plain").write_text("a regular file")

    def boom(*a, **k):
        raise AssertionError("the simulation started before --save was checked")
    monkeypatch.setattr("symflow.dynamics.simulate", boom)
    (tmp_path / "folder.npz").mkdir()
    for target in (tmp_path / "plain" / "run.npz", tmp_path / "folder.npz", "/dev/null/run"):
        assert main(["simulate", "Z5", "--save", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot write" in err and "Traceback" not in err
    assert (tmp_path / "plain").read_text() == "a regular file" and not _leftovers(tmp_path)


def test_sigint_rates_large_group(tmp_path):
    """``rates Z1009`` (about 20 s of exact work): a real SIGINT exits 130 with one line, no traceback."""
    rc, _, err, took = _interrupt(["rates", "Z1009"], tmp_path, delay=4)
    assert rc == 130 and took < 30, err
    assert "Traceback" not in err and [line for line in err.splitlines() if line.strip()] == ["interrupted"]


def test_sigint_derive_during_exact_proof(tmp_path):
    """``derive Z101 --proof exact`` announces the exact proof (about 30 s) on stderr; a SIGINT during it exits 130
    with one line after the announcement, no traceback."""
    rc, stdout, err, took = _interrupt(["derive", "Z101", "--proof", "exact"], tmp_path, wait_for="takes a while",
                                       delay=1.5)
    assert rc == 130 and took < 30, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and lines[-1] == "interrupted" and "takes a while" in lines[0] and len(lines) == 2


@pytest.mark.parametrize("out", [".", "..", "/"])
def test_current_folder_or_its_parents_never_replaced(out, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("keep")
    monkeypatch.chdir(work)
    _no_compute(monkeypatch, "grok")
    assert main(GROK + ["--out", out, "--force"]) == 2
    assert "current folder" in capsys.readouterr().err and (work / "notes.txt").read_text() == "keep"


def test_two_concurrent_runs_never_mix(tmp_path):
    """Two processes with one --out: the folder ends as one complete run (the atomic replace)."""
    out = tmp_path / "g"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-m", "symflow", *GROK, "--seed", str(seed), "--out", str(out)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for seed in (1, 2)]
    codes = [p.wait(timeout=120) for p in procs]
    assert 0 in codes and set(codes) <= {0, 2}
    seed = read_marker(out)["parameters"]["seed"]
    assert json.loads((out / "metrics.json").read_text())["config"]["seed"] == seed
    assert str(seed) in (out / "report.md").read_text().split("--seed ")[1][:3]
    assert not _leftovers(tmp_path)


# ------------------------------------------------------------------ issue 21: interrupts never destroy
def test_interrupted_run_never_replaces_a_complete_earlier_output(tmp_path):
    out = tmp_path / "s"
    _earlier_output(out, "study")
    folder = OutputFolder(out, "study", {"group": "Z5"})
    folder.interrupted = True
    with pytest.warns(UserWarning, match="keeps the complete earlier result") as said:
        with folder as stage:
            (stage / "report.md").write_text("partial")
    aside = _assert_complete_and_marked(out, ["report.md"])
    assert folder.path == aside and folder.requested == out and str(aside) in str(said[0].message)
    assert aside.name.startswith("s.interrupted-")


@pytest.mark.parametrize("earlier", ["interrupted", "empty", "absent"])
def test_interrupted_run_replaces_only_nothing_or_an_interrupted_output(earlier, tmp_path):
    out = tmp_path / "s"
    if earlier == "interrupted":
        out.mkdir()
        (out / MARKER).write_text(json.dumps({"kind": "study", "parameters": {}, "interrupted": True}))
    elif earlier == "empty":
        out.mkdir()
    folder = OutputFolder(out, "study")
    folder.interrupted = True
    with folder as stage:
        (stage / "report.md").write_text("partial")
    assert folder.path == out and read_marker(out)["interrupted"] is True and not _aside(out)


def test_a_second_run_into_one_folder_is_refused_naming_the_first(tmp_path, monkeypatch, capsys):
    out = tmp_path / "g"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from symflow.outputs import OutputFolder; "
                               f"folder = OutputFolder({str(out)!r}, 'grok'); print('locked', flush=True); time.sleep(60)"],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        _no_compute(monkeypatch, "grok")
        assert main(GROK + ["--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"process {holder.pid}" in err and "another symflow run" in err, err
    finally:
        holder.kill()
        holder.communicate()
    folder = OutputFolder(out, "grok")          # the lock died with its process
    folder.discard()
    assert not list(tmp_path.glob(".*.symflow-lock"))


@pytest.mark.parametrize("delay", [0.0, 0.2, 0.5])
def test_sigint_during_the_imports_is_one_line(delay, tmp_path):
    """A Ctrl-C in the program's first moments (symflow and its libraries loading): exit 130, one line, no
    traceback. The signal is sent ``delay`` s after NumPy's extension is mapped into the process (read from
    /proc: symflow's first import of NumPy, inside the command line's handler), so it lands in symflow's imports,
    not in the interpreter's own start-up, however loaded the machine."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "symflow", "derive", "S5"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "_multiarray_umath" not in Path(f"/proc/{proc.pid}/maps").read_text():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert [line for line in err.splitlines() if line.strip()] == ["interrupted"], err


def test_sigint_verify_always_stops(tmp_path):
    """``verify S4 --examples 1000``: every real SIGINT stops it (exit 130), none is swallowed."""
    for delay in (3.0, 4.5, 6.0):
        # 1000 examples: long enough that every delay lands inside the run on a fast, idle machine too
        rc, stdout, err, took = _interrupt(["verify", "S4", "--examples", "1000", "--json"], tmp_path, delay=delay)
        assert rc == 130 and took < 30 and "Traceback" not in err, err
    assert not (tmp_path / ".hypothesis").exists()


def test_codegen_into_a_missing_folder_is_one_line(tmp_path, capsys):
    target = tmp_path / "missing" / "dir" / "x.py"
    assert main(["codegen", "Z3", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and not (tmp_path / "missing").exists()


def test_progress_bar_writes_nothing_when_stderr_is_a_file(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("TTY_COMPATIBLE", None)
    env.pop("FORCE_COLOR", None)
    with open(tmp_path / "err.txt", "w") as err:
        rc = subprocess.run([sys.executable, "-m", "symflow", "simulate", "Z5", "--width", "4", "--t-end", "200"],
                            env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=tmp_path, timeout=300).returncode
    assert rc == 0 and (tmp_path / "err.txt").read_text() == ""
