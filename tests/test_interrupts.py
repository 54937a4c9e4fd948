"""A Ctrl-C is never lost (symflow/interrupts.py): an interrupt that Python swallows inside a callback it calls
on its own (importlib's module-lock weakrefs, gc callbacks) sets the flag and is delivered again, so it lands in
ordinary code."""
import signal
import time
import weakref

import pytest

from symflow import interrupts


class _Object:
    pass


def _swallowed_interrupt(ref):
    raise KeyboardInterrupt   # what SIGINT does when it lands here: Python prints "Exception ignored" and goes on


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler for the test (an earlier test in the session may have left another, and
    :func:`symflow.interrupts.flagged` only takes over from Python's default), restored afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_an_interrupt_swallowed_in_a_callback_is_delivered_again(capsys, default_sigint):
    with pytest.raises(KeyboardInterrupt):
        with interrupts.flagged():
            obj = _Object()
            ref = weakref.ref(obj, _swallowed_interrupt)
            del obj                                      # the callback runs and its KeyboardInterrupt is swallowed
            assert interrupts.interrupted() and ref() is None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:           # the re-delivered SIGINT raises here
                time.sleep(0.005)
    assert "Exception ignored" not in capsys.readouterr().err


def test_without_the_handler_python_swallows_it(capsys):
    """The mutant: with Python's default handling the same interrupt is lost (this is what the module fixes)."""
    obj = _Object()
    ref = weakref.ref(obj, _swallowed_interrupt)
    del obj
    time.sleep(0.05)
    assert ref() is None and not interrupts.installed()


def test_an_interrupt_a_library_turned_into_another_error_still_exits_130(monkeypatch, capsys):
    """NumPy reports a Ctrl-C during the import of its C extension as an ImportError ("PyCapsule_Import could
    not import module datetime"): with the flag set, the command line says 'interrupted' and exits 130."""
    from symflow import cli

    def interrupted_import(args):
        interrupts.INTERRUPTED.set()
        raise ImportError('PyCapsule_Import could not import module "datetime"')

    monkeypatch.setattr(cli, "_run", interrupted_import)
    monkeypatch.setitem(interrupts._state, "installed", True)
    try:
        assert cli.main(["groups"]) == 130
    finally:
        interrupts.INTERRUPTED.clear()
    assert capsys.readouterr().err.strip() == "interrupted"


def test_without_the_flag_another_error_is_not_hidden(monkeypatch):
    from symflow import cli

    def broken(args):
        raise ImportError("a real import error")

    monkeypatch.setattr(cli, "_run", broken)
    interrupts.INTERRUPTED.clear()
    with pytest.raises(ImportError):
        cli.main(["groups"])
