"""The chunked driver of the reduced flow's integration: :func:`integrate`.

:func:`integrate` drives a stepper (:mod:`.steppers`) over the save times ``t_eval``: for each save
interval it advances every chunk of neurons in turn (chunks sized so one block array is about
256 KB; the stage workspace of a chunk then stays in the shared cache), optionally in forked worker
processes, so a ``KeyboardInterrupt`` loses at most the current interval and returns everything
saved before it. Each chunk and interval is one problem: ``stepper.bind(flow, chunk rows, t0, t1,
status, events, counts).run()`` (:mod:`.steppers`), with the chunk's events (:mod:`.events`); a transient progress bar
(:func:`symflow.progress.progress_bar`) shows the time reached on stderr. For groups with
complex-conjugate pairs of irreps only one member of each pair is integrated
(:class:`~symflow.dynamics.flow.CompactFlow`: half the work for abelian groups).

The steppers and their counters are in :mod:`.steppers`, the events in :mod:`.events`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SymflowError
from ..progress import progress_bar
from .events import BLOWUP_NORM, Events
from .steppers import ChunkStatus, StepCounts

#: Bytes of one (name, d) block array of a chunk that the chunking aims for (cache-sized).
CHUNK_BYTES = 1 << 18


# ---------------------------------------------------------------------------- driver
@dataclass
class IntegrationOutput:
    """What :func:`integrate` returns (see :class:`~symflow.dynamics.results.SimulationResult`)."""

    t: np.ndarray                      # (K,) save times reached
    saved: list                        # per save time: whatever ``save`` returned
    final: np.ndarray                  # (M, L) state at t[-1]
    equilibrium_time: np.ndarray       # (M,) first time |grad| < gtol (nan: never)
    counts: StepCounts
    interrupted: bool = False
    stopped_early: bool = False
    wall_time: float = 0.0
    extra: dict = field(default_factory=dict)


def chunk_rows(layout, chunk_bytes: int = CHUNK_BYTES) -> int:
    """Neurons per chunk so that the largest ``(name, d)`` block array is about ``chunk_bytes``."""
    largest = max(layout.counts[d] * d * d for d in layout.dims)
    return max(1, int(chunk_bytes // (16 * largest)))


def _raise_malloc_threshold() -> None:
    """Keep the per-step temporaries off ``mmap`` (glibc; elsewhere harmless).

    glibc serves allocations above its mmap threshold (128 KB at start) with fresh ``mmap`` s whose
    pages fault in on first use, and raises the threshold to the size of the largest ``mmap`` ed block
    freed so far (up to 32 MB). The generated code's temporaries are 0.1-1 MB per chunk; without a
    large free first, every one of them is a new ``mmap`` (measured: 3.5x slower evaluations of a
    32-neuron Z1009 chunk). Allocating and freeing one block just under 32 MB sets the threshold once.
    """
    block = np.empty((32 << 20) - (1 << 16), dtype=np.uint8)
    del block


_WORKER: dict = {}


#: BLAS threads while integrating (in the process and in each worker): the stage combinations are
#: ``gemv`` s of a few rows of one chunk, far too small to gain from threads; with several threads (the
#: library's default) OpenBLAS splits them anyway, and on a busy machine a 64-neuron chunk of Z1009 then
#: ran 10x slower in CPU time (measured: 20 s against 2 s for 512 neurons at load 27).
BLAS_THREADS = 1


def _blas_one_thread(needed: bool = True):
    """:func:`symflow.blas.blas_limits` at :data:`BLAS_THREADS`; nothing when not ``needed`` (a population of
    one chunk: a short run, which then does not import ``threadpoolctl``, ~10 ms of start-up)."""
    if not needed:
        import contextlib

        return contextlib.nullcontext()
    from ..blas import blas_limits

    return blas_limits(BLAS_THREADS)


def _worker_init():
    """Workers ignore Ctrl-C (the parent handles it) and hold BLAS at one thread each (see :data:`BLAS_THREADS`)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit = _blas_one_thread()
    limit.__enter__()
    _WORKER["blas_limit"] = limit


def _advance_chunk(task):
    """Worker task: advance one chunk over one save interval (state inherited by ``fork``)."""
    c, y, status, t0, t1, eq = task
    flow, stepper = _WORKER["flow"], _WORKER["stepper"]
    counts = StepCounts()
    events = Events(flow, _WORKER["gtol"], _WORKER["blowup_norm"], eq, 0)
    y = stepper.bind(flow, y, t0, t1, status, events, counts).run()
    return c, y, status, counts, eq


def integrate(flow, y0: np.ndarray, t_eval, stepper, gtol: float | None = None, save=None,
              stop_at_equilibrium: bool = True, blowup_norm: float | None = BLOWUP_NORM,
              progress: bool = False, chunk: int | None = None, callback=None, workers: int = 1,
              compact: bool = True, save_working: bool = False) -> IntegrationOutput:
    """Integrate ``d y/dt = flow.rhs(y)`` from ``y0`` (M, L) over the increasing times ``t_eval``.

    ``save(t, y)`` is called at every save time with the full state (default: a copy of ``y``).
    With ``stop_at_equilibrium`` the run ends at the first save time by which every neuron has
    reached ``|grad| < gtol``. ``callback(t, y)`` runs after each save (return ``True`` to stop).
    ``KeyboardInterrupt`` ends the run at the last completed save time (``interrupted=True``).
    ``workers > 1`` advances the chunks in that many forked processes (Linux/macOS ``fork``);
    results are identical to ``workers=1`` (the state at ``t_eval[0]`` is then saved while the workers
    advance the first interval). BLAS is held at :data:`BLAS_THREADS` while integrating.

    ``compact`` (default): when ``flow.compact_flow()`` exists (a :class:`ReducedFlow` of a group
    with complex-conjugate pairs of irreps), the integration runs on compact rows, one member of
    each pair (about half the work for abelian groups); ``save``, ``callback`` and ``final`` still
    see full rows (``save_working=True``: ``save`` gets the working rows, compact when
    ``flow.compact_flow()`` is used; :func:`~symflow.dynamics.flow.simulate` converts them itself).

    Equilibrium (``gtol`` given): a neuron whose speed ``|F(y_m)|`` falls below ``gtol`` after an
    accepted step is at equilibrium from then on. Its first crossing time is recorded, it leaves
    the set of integrated neurons and its state stays the one of that step (``|F| < gtol``) in every
    later save: the exact flow would still move it by about ``gtol / lambda`` (``lambda`` its slowest
    tangent decay rate, ``~ Omega* ~ n^-3/2``: ``~ 1e-6`` relative with the default ``gtol``).
    """
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise SymflowError(f"workers must be a positive integer, got {workers!r}")
    t_eval = np.asarray(t_eval, dtype=float)
    if t_eval.ndim != 1 or len(t_eval) < 1 or not np.all(np.isfinite(t_eval)):
        raise SymflowError("t_eval must be a non-empty 1-d array of finite times")
    if np.any(np.diff(t_eval) <= 0):
        raise SymflowError("t_eval must be strictly increasing")
    if save is None:
        save = lambda t, y: y.copy()  # noqa: E731
    work = flow.compact_flow() if compact and hasattr(flow, "compact_flow") else None
    if work is not None:
        y = work.compress(np.asarray(y0, dtype=np.complex128))   # a new array: y0 is never written
        full = work.expand
        flow = work
    else:
        y = np.array(y0, dtype=np.complex128, copy=True)
        full = lambda z: z  # noqa: E731
    M = y.shape[0]
    _raise_malloc_threshold()
    rows = chunk or chunk_rows(flow.layout)
    starts = list(range(0, M, rows))
    statuses = [ChunkStatus() for _ in starts]
    eq_time = np.full(M, np.nan)
    counts = StepCounts()
    t_done = [float(t_eval[0])]
    to_save = (lambda z: z) if save_working else full
    saved = []

    def save_start():
        # the state at t_eval[0]; with worker processes it is saved while they advance the first interval
        if not saved:
            saved.append(save(float(t_eval[0]), to_save(y0_work)))

    y0_work = y
    interrupted = stopped = False
    wall0 = time.perf_counter()
    t_start, n_chunks = float(t_eval[0]), len(starts)
    bar = progress_bar("reduced flow", total=max(float(t_eval[-1]) - t_start, 1e-300), enabled=progress,
                       fields={"t": f"{t_start:.4g}", "info": ""}, formats={"t": "t = {}"})
    pool = None
    if not (workers > 1 and len(starts) > 1):
        save_start()
    if workers > 1 and len(starts) > 1:
        import multiprocessing

        _WORKER.update(flow=flow, stepper=stepper, gtol=gtol, blowup_norm=blowup_norm)
        pool = multiprocessing.get_context("fork").Pool(int(workers), initializer=_worker_init)
    try:
        with bar, _blas_one_thread(len(starts) > 1):
            for k in range(1, len(t_eval)):
                t0, t1 = float(t_eval[k - 1]), float(t_eval[k])
                new = y.copy()
                if pool is None:
                    for c, a in enumerate(starts):
                        st = statuses[c]
                        if st.frozen:
                            _chunk_done(bar, t_start, n_chunks, t0, t1, c)
                            continue
                        sl = slice(a, min(a + rows, M))
                        ev = Events(flow, gtol, blowup_norm, eq_time, a)
                        new[sl] = stepper.bind(flow, np.ascontiguousarray(new[sl]), t0, t1, st, ev, counts).run()
                        _chunk_done(bar, t_start, n_chunks, t0, t1, c, counts, eq_time)
                else:
                    tasks = [(c, np.ascontiguousarray(new[a:a + rows]), statuses[c], t0, t1, eq_time[a:a + rows].copy())
                             for c, a in enumerate(starts) if not statuses[c].frozen]
                    results = pool.imap_unordered(_advance_chunk, tasks)
                    save_start()
                    for done, (c, yc, st, cnt, eq) in enumerate(results):
                        a = starts[c]
                        new[a:a + rows] = yc
                        statuses[c] = st
                        eq_time[a:a + rows] = eq
                        counts.add(cnt)
                        _chunk_done(bar, t_start, n_chunks, t0, t1, min(done, n_chunks - 1), counts, eq_time)
                y = new
                t_done.append(t1)
                saved.append(save(t1, to_save(y)))
                if callback is not None and callback(t1, full(y)):
                    stopped = True
                    break
                if stop_at_equilibrium and gtol is not None and all(s.frozen for s in statuses):
                    stopped = True
                    break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
            _WORKER.clear()
    save_start()
    return IntegrationOutput(t=np.array(t_done), saved=saved, final=full(y), equilibrium_time=eq_time, counts=counts,
                             interrupted=interrupted, stopped_early=stopped, wall_time=time.perf_counter() - wall0)


def _chunk_done(bar, t_start, n_chunks, t0, t1, c, counts=None, eq_time=None) -> None:
    """Progress after chunk ``c`` of the interval ``[t0, t1]``: the time reached (chunks in equal shares),
    steps so far and the fraction of neurons at equilibrium."""
    if not bar.enabled:
        return
    t = t0 + (t1 - t0) * (c + 1) / n_chunks
    info = ""
    if counts is not None:
        info = f"{counts.steps} steps"
        if eq_time is not None and eq_time.size:
            info += f", {np.mean(~np.isnan(eq_time)):.0%} at equilibrium"
    bar.update(completed=t - t_start, t=f"{t:.4g}", info=info)
