"""Memory estimated before computing (issue 21): each of the issue's examples is refused in one line, before
anything large is allocated, naming the estimate, the memory available and the option that lowers it;
``--force`` (``force=True``) goes ahead; ``$SYMFLOW_MEMORY`` sets the budget."""
import pytest

from symflow.cli import main
from symflow.errors import ResourceError, SymflowError
from symflow.resources import MemoryEstimate, available_memory, forcing, parse_bytes, parse_seconds, time_budget

#: The issue's examples (each asked for 15 to 75 GiB or was killed by the kernel at 23 GB), and what lowers each.
REFUSED = [(["landscape", "Z1000", "--starts", "4"], "a smaller group"),
           (["lottery", "--p", "100001", "--width", "2"], "--p or --width"),
           (["li2", "Z1000", "--starts", "4"], "a smaller group"),
           (["grok", "--p", "1001", "--steps", "1"], "a smaller group"),
           (["simulate", "Z7", "--width", "100000000"], "--width")]


@pytest.mark.parametrize("argv, lower", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_issue_examples_refused_in_one_line(argv, lower, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYMFLOW_MEMORY", "16GiB")     # the same verdict on any machine with <= 16 GiB to spare
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "would need about" in err and "16 GiB is available" in err and lower in err and "--force" in err


def test_refusal_comes_before_any_allocation(monkeypatch):
    """The check runs before the arrays exist: a refused run never reaches NumPy's allocator for them."""
    import numpy as np

    from symflow.modular.lottery import run_lottery

    def boom(*a, **k):
        raise AssertionError("allocated before the memory check")
    monkeypatch.setattr(np.random, "default_rng", boom)
    with pytest.raises(ResourceError, match="lower it with --p or --width"):
        run_lottery(100001, 2, 0.05)


def test_force_runs_anyway(tmp_path, monkeypatch, capsys):
    """A tiny budget refuses a small run; ``--force`` (and ``force=True`` / ``forcing()``) run it."""
    from symflow.landscape import landscape

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYMFLOW_MEMORY", "1KB")
    argv = ["landscape", "Z3", "--starts", "4", "--json", "--no-progress"]
    assert main(argv) == 2 and "1000 B is available" in capsys.readouterr().err.replace("1e+03", "1000")
    assert main(argv + ["--force"]) == 0 and '"attractors"' in capsys.readouterr().out
    with pytest.raises(ResourceError):
        landscape("Z3", starts=4)
    assert landscape("Z3", starts=4, force=True).starts == 4
    with forcing():
        assert landscape("Z3", starts=4).starts == 4


def test_estimate_terms_and_budget(monkeypatch):
    est = MemoryEstimate("a run", lower="--starts").add("big", arrays=2, shape=(1000, 1000)).add("small", shape=(10,))
    assert est.total == 2 * 8e6 + 80 and est.largest == "big" and "big" in str(est)
    assert est.check(available=10 ** 9) is est
    with pytest.raises(ResourceError, match=r"needs?|would need about 15.3 MiB .* mostly big.* --starts"):
        est.check(available=10 ** 6)
    assert est.check(force=True, available=1) is est
    monkeypatch.setenv("SYMFLOW_MEMORY", "2GiB")
    assert available_memory() == 2 ** 31
    monkeypatch.delenv("SYMFLOW_MEMORY")
    assert available_memory() > 0
    assert parse_bytes("1.5g") == 3 * 2 ** 29 and parse_bytes("500MB") == 5 * 10 ** 8
    with pytest.raises(SymflowError, match="SYMFLOW_MEMORY must be a size"):
        parse_bytes("lots")


def test_time_estimate_and_budget(monkeypatch):
    """A time estimate beyond :func:`time_budget` is refused in one line (with what it was measured on);
    ``$SYMFLOW_TIME_BUDGET`` sets the budget."""
    est = MemoryEstimate("a run", lower="--starts").add("small", shape=(10,))
    est.seconds, est.basis = 7200.0, "10 starts took 1 s"
    with pytest.raises(ResourceError, match=r"^a run would take about 2 h \(10 starts took 1 s\), using about 80 B of "
                                            r"memory, but the time budget is 60 min; lower it with --starts, or pass --force"):
        est.check(available=10 ** 9)
    assert est.check(force=True, available=10 ** 9) is est
    monkeypatch.setenv("SYMFLOW_TIME_BUDGET", "3h")
    assert time_budget() == 3 * 3600 and est.check(available=10 ** 9) is est
    assert parse_seconds("90s") == 90 and parse_seconds("30min") == 1800 and parse_seconds("600") == 600
    with pytest.raises(SymflowError, match="SYMFLOW_TIME_BUDGET must be a duration"):
        parse_seconds("long")


def test_landscape_with_10_to_the_8_starts_is_a_time_question(tmp_path, monkeypatch, capsys):
    """The issue's ``landscape Z5 --starts 100000000`` (refused for 410 GiB before the starts were streamed) fits
    in memory in chunks; a short calibration run estimates its time and it is refused in one line naming the time,
    the budget and ``--starts``, before any of its own starts is drawn."""
    import symflow.dynamics.initial as initial
    from symflow.landscape import engine

    real = initial.uniform_chunks

    def chunks(model, width, *a, **k):
        if width > engine.CALIBRATION_STARTS:
            raise AssertionError("drew the starts before the time check")
        return real(model, width, *a, **k)
    monkeypatch.setattr(initial, "uniform_chunks", chunks)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYMFLOW_MEMORY", "16GiB")
    assert main(["landscape", "Z5", "--starts", "100000000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "landscape Z5 with 100000000 starts would take about" in err and "256 starts took" in err
    assert "time budget is 60 min" in err and "lower it with --starts" in err and "--force" in err


def test_landscape_brute_force_runs_in_chunks_with_the_same_result(monkeypatch):
    """The brute-force sums over many starts run a chunk of rows at a time: the estimate counts one chunk, and
    the landscape is the same with chunks of 7 starts as in one piece."""
    import json

    from symflow.landscape import engine, landscape, search
    from symflow.theory.model import Model

    est = engine.memory_estimate(Model("Z5"), 10 ** 8)
    [term] = [b for w, b in est.terms if "brute-force energy" in w]
    assert term <= 4 * 8 * search.CHUNK_ENTRIES and est.largest.startswith("the flow's population")
    whole = landscape("Z5", starts=40).to_json()
    monkeypatch.setattr(search, "CHUNK_ENTRIES", 25 * 7)
    chunked = landscape("Z5", starts=40).to_json()
    for data in (whole, chunked):
        data.pop("wall_time", None)
        data.pop("timings_s", None)
    assert json.dumps(whole, sort_keys=True, default=str) == json.dumps(chunked, sort_keys=True, default=str)


def test_study_refused_before_deriving(tmp_path, monkeypatch, capsys):
    """``study`` checks its simulation's memory before the (long) derivation and code generation."""
    import symflow.study.run as study_run

    def boom(*a, **k):
        raise AssertionError("derived before the memory check")
    monkeypatch.setattr(study_run, "ReducedFlow", boom)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYMFLOW_MEMORY", "16GiB")
    assert main(["study", "Z5", "--width", "100000000", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "study Z5 with 100000000 neurons would need about" in err and "--width" in err
    assert not list(tmp_path.glob(".*.symflow-lock"))
