"""``python -m symflow``: a Ctrl-C from the first line on ends with one line ``interrupted`` and exit status 130."""
import sys

from .interrupts import install, interrupted

install()   # from here on a Ctrl-C is never swallowed (symflow/interrupts.py)
try:
    from .cli import main
except BaseException as exc:     # during the imports: a KeyboardInterrupt, or what a library made of it
    if not (isinstance(exc, KeyboardInterrupt) or interrupted()):
        raise
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("\ninterrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
