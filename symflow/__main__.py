"""``python -m symflow``: a Ctrl-C from the first line on ends with one line ``interrupted`` and exit status 130."""
import sys

from .interrupts import install

install()   # from here on a Ctrl-C is never swallowed (symflow/interrupts.py)
try:
    from .cli import main
except KeyboardInterrupt:        # during the imports
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("\ninterrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
