"""Ctrl-C that is never lost.

Python turns SIGINT into ``KeyboardInterrupt`` at the next bytecode, wherever that is. When it lands inside a
callback that Python calls on its own (a weakref callback of ``importlib``'s module locks, a ``gc`` callback of
Hypothesis), the exception is printed as "Exception ignored in ..." and swallowed, and the program goes on as if
nothing had happened (observed: ``derive S5`` finishing with exit 0 after a Ctrl-C during its imports, ``verify``
reporting "all checks passed"). Within :func:`flagged` (and for the whole program once :func:`install` ran):

* SIGINT sets :data:`INTERRUPTED` and raises ``KeyboardInterrupt`` as usual;
* an interrupt swallowed in such a callback is not printed; the flag stays set and the signal is delivered
  again a moment later (at most :data:`REDELIVERIES` times), so it lands in ordinary code and stops the run;
* :func:`interrupted` tells a loop (or the command line, after a command returned) that Ctrl-C was pressed.

Only the standard library is imported, so ``python -m symflow`` installs it before anything heavy loads.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

#: Set by Ctrl-C while the handler is installed.
INTERRUPTED = threading.Event()
#: How many times a swallowed interrupt is delivered again before the flag alone has to stop the run.
REDELIVERIES = 20
#: Delay (s) before an interrupt swallowed in a callback is delivered again.
REDELIVERY_DELAY = 0.01

_state = {"redelivered": 0, "installed": False}


def _handler(signum, frame):
    INTERRUPTED.set()
    raise KeyboardInterrupt


def _unraisable(info, previous=sys.unraisablehook):
    if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
        INTERRUPTED.set()
        if _state["redelivered"] < REDELIVERIES:
            _state["redelivered"] += 1
            timer = threading.Timer(REDELIVERY_DELAY, os.kill, (os.getpid(), signal.SIGINT))
            timer.daemon = True
            timer.start()
        return
    previous(info)


def interrupted() -> bool:
    """Whether Ctrl-C was pressed since the handler was installed (or the flag last cleared)."""
    return INTERRUPTED.is_set()


def _can_install() -> bool:
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _handler))


def install() -> bool:
    """Install the handler for the rest of the program (main thread only, and only over Python's default
    handler); returns whether it is installed."""
    if not _can_install():
        return False
    if not _state["installed"]:
        previous = sys.unraisablehook
        sys.unraisablehook = lambda info: _unraisable(info, previous)
        signal.signal(signal.SIGINT, _handler)
        _state["installed"] = True
    return True


def installed() -> bool:
    """Whether :func:`install` put the handler in place for the whole program."""
    return _state["installed"]


@contextlib.contextmanager
def flagged():
    """Within the block: the flag cleared at entry, the handler and the unraisable hook in place (over whatever
    hook is current, e.g. a test runner's), both restored afterwards."""
    INTERRUPTED.clear()
    _state["redelivered"] = 0
    if not _can_install():
        yield
        return
    previous_handler = signal.getsignal(signal.SIGINT)
    previous_hook = sys.unraisablehook
    signal.signal(signal.SIGINT, _handler)
    sys.unraisablehook = lambda info: _unraisable(info, previous_hook)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_handler)
        sys.unraisablehook = previous_hook
