"""Run the atlas: one Dask task per (group, setting), results streamed into the database as they finish.

    from symflow.atlas import build_atlas
    summary = build_atlas("atlas.duckdb", max_order=8, workers=2)

The scheduler is a ``LocalCluster`` (one single-threaded worker process per core by default, or
``workers``) unless ``scheduler`` names a running one (``tcp://host:8786``: start it with
``dask scheduler`` and each worker with ``dask worker tcp://host:8786 --nthreads 1`` on machines where
symflow is installed). The main process is the only writer: each finished task is stored in one
transaction (:class:`~symflow.atlas.store.AtlasStore`). Stored tasks with the same starts and seed are
skipped (resume); ``redo=True`` recomputes them. A task that raises, or whose worker died too often
(Dask's ``KilledWorker``), is stored with its error and the run goes on; failed tasks are tried again
by the next run. ``KeyboardInterrupt`` cancels what is in flight and leaves every stored task intact.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from ..errors import SymflowError
from ..progress import progress_bar
from ..validation import integer
from .groups import resolve, small_group_ids
from .store import AtlasStore
from .task import SETTINGS, run_task, worker_name

#: Default largest order (GAP's library: 143 non-trivial groups of order <= 32).
DEFAULT_MAX_ORDER = 32


@dataclass
class AtlasRun:
    """What :func:`build_atlas` did."""

    tasks: int                      # selected (group, setting) tasks
    skipped: int                    # already stored (resume)
    stored: int = 0                 # stored now, failures included
    failed: list = field(default_factory=list)   # [(order, gap_id, setting, error)]
    wall_time: float = 0.0
    workers: int = 0
    interrupted: bool = False


def select_tasks(max_order: int = DEFAULT_MAX_ORDER, groups=None, settings=SETTINGS) -> list:
    """``[(order, gap_id, name, setting)]``: the named ``groups``, else every group of order 2..max_order."""
    settings = tuple(settings)
    bad = [s for s in settings if s not in SETTINGS]
    if bad or not settings:
        raise SymflowError(f"settings must be a non-empty list of {', '.join(SETTINGS)}; got {','.join(settings)}")
    if groups:
        chosen = resolve(groups)
    else:
        max_order = integer(max_order, "max order", minimum=2)
        chosen = [(n, k, f"SmallGroup({n},{k})") for n, k in small_group_ids(max_order)]
    return [(n, k, name, s) for n, k, name in chosen for s in dict.fromkeys(settings)]


def _worker_plugin():
    """A plugin that loads GAP in each worker's main thread when the worker starts (cysignals, which
    libgap loads, installs signal handlers and refuses to from a task thread)."""
    from distributed import WorkerPlugin

    class LoadGAP(WorkerPlugin):
        name = "symflow-atlas-gap"

        def setup(self, worker):
            from ..groups.gap import gap_available

            gap_available()
            _ignore_sigint()    # libgap's cysignals installed its own handler: a terminal's Ctrl-C is the main process's

    return LoadGAP()


def _client(scheduler, workers):
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as exc:
            raise SymflowError(f"cannot reach the Dask scheduler {scheduler}: {str(exc).splitlines()[0]}") from None
    import signal

    n = workers or os.cpu_count() or 1
    # the worker processes (and the cluster's threads, which start them) begin with SIGINT blocked, a mask they
    # inherit: a terminal's Ctrl-C reaches the whole process group, and only the main process handles it (it
    # cancels the tasks and closes the cluster), so no worker prints its traceback. A Ctrl-C meanwhile waits
    # and is raised here once the mask is lifted.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address="127.0.0.1:0",     # its HTTP server on a free local port
                               silence_logs=logging.ERROR)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    return Client(cluster), cluster


def _ignore_sigint():
    """Ignore SIGINT in this process (main thread only); returns the previous handler, or ``None``."""
    import signal

    try:
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:      # not the main thread
        return None


def build_atlas(db, max_order: int = DEFAULT_MAX_ORDER, groups=None, settings=SETTINGS, starts: int = 512,
                seed: int = 0, scheduler: str | None = None, workers: int | None = None, redo: bool = False,
                progress: bool = False, on_stored=None) -> AtlasRun:
    """Compute every selected (group, setting) task not stored yet into the database ``db``.

    ``on_stored(run, client)`` is called after each stored task (tests use it to kill a worker mid-run).
    """
    starts = integer(starts, "starts", minimum=1)
    seed = integer(seed, "seed", minimum=0)
    if workers is not None:
        workers = integer(workers, "workers", minimum=1)
    tasks = select_tasks(max_order, groups, settings)
    t0 = time.perf_counter()
    with AtlasStore(db) as store:
        done = set() if redo else store.done(starts, seed)
        todo = [t for t in tasks if (t[0], t[1], t[3]) not in done]
        run = AtlasRun(tasks=len(tasks), skipped=len(tasks) - len(todo))
        if not todo:
            return run
        client, cluster = _client(scheduler, workers)
        futures = []
        try:
            client.register_plugin(_worker_plugin())
            from distributed import as_completed

            run.workers = len(client.scheduler_info(n_workers=-1).get("workers", {})) if scheduler else \
                (workers or os.cpu_count() or 1)
            # largest groups first (they take longest), one retry budget per task as Dask's default
            for n, k, name, setting in todo:
                futures.append(client.submit(run_task, n, k, name, setting, starts, seed, pure=False,
                                             priority=n, key=f"atlas-{n}-{k}-{setting}-{os.getpid()}-{time.time_ns()}"))
            meta = {f.key: t for f, t in zip(futures, todo)}
            with progress_bar("atlas", total=len(todo), enabled=progress, counts=True, remaining=True,
                              fields={"failed": 0}, formats={"failed": "{} failed"}) as bar:
                for fut in as_completed(futures):
                    n, k, name, setting = meta[fut.key]
                    try:
                        result = fut.result()
                    except Exception as exc:  # KilledWorker, a lost connection: stored as a failure
                        result = {"order": n, "gap_id": k, "setting": setting, "group": None, "attractors": [],
                                  "unconverged": None, "wall_time": None, "worker": None,
                                  "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
                    store.store(result, starts, seed)
                    run.stored += 1
                    if result["error"]:
                        run.failed.append((n, k, setting, result["error"]))
                    bar.advance(failed=len(run.failed))
                    fut.release()
                    if on_stored is not None:
                        on_stored(run, client)
        except KeyboardInterrupt:
            run.interrupted = True
            raise
        finally:
            run.wall_time = time.perf_counter() - t0
            try:
                client.cancel([f for f in futures if not f.done()])
            except Exception:  # pragma: no cover - shutting down anyway
                pass
            client.close()
            if cluster is not None:
                cluster.close()
    return run


__all__ = ["build_atlas", "select_tasks", "AtlasRun", "DEFAULT_MAX_ORDER", "worker_name"]
