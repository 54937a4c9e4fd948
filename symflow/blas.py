"""The one place that limits BLAS threads: :func:`blas_limits`.

Small dense linear algebra (a 48 x 48 ``eigh`` per neuron in the landscape's Newton steps and spectra)
is 30x slower with OpenBLAS's thread pool than with one thread when the cores are busy (measured:
34 ms vs 1.1 ms on the 2-core CI machine under load). Long loops of small problems hold BLAS at one
thread, and so do the integrators' stage combinations (``gemv`` s of a few rows of a chunk, which OpenBLAS
splits across threads anyway: 10x the CPU time for 64-neuron Z1009 chunks on a busy machine).
"""
from __future__ import annotations

import contextlib
import numbers


def blas_limits(threads: int | None):
    """A context manager holding BLAS at ``threads`` threads (``threadpoolctl``); ``None`` leaves it alone."""
    if threads is None:
        return contextlib.nullcontext()
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
        from .errors import SymflowError

        raise SymflowError(f"blas_threads must be a positive integer or None, got {threads!r}")
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(threads), user_api="blas")
