"""Run the atlas: one Dask task per (group, setting), results streamed into the database as they finish.

    from symflow.atlas import build_atlas
    summary = build_atlas("atlas.duckdb", max_order=8, workers=2)

The scheduler is a ``LocalCluster`` (one single-threaded worker process per core by default, or
``workers``) unless ``scheduler`` names a running one (``tcp://host:8786``: start it with
``dask scheduler`` and each worker with ``dask worker tcp://host:8786 --nthreads 1`` on machines where
symflow is installed). The main process is the only writer: each finished task is stored in one
transaction (:class:`~symflow.atlas.store.AtlasStore`). Stored tasks with the same starts, seed and
landscape engine version (``symflow._version.LANDSCAPE_ENGINE``) are skipped (resume: a run at a larger
``max_order`` computes only the new tasks); tasks stored by another engine version are recomputed, never
reused (:attr:`AtlasRun.stale` counts them); ``redo=True`` recomputes every selected task. Every worker must
run this engine version (asked before anything is submitted).

Before computing, :func:`time_estimate` adds up the selected tasks' CPU seconds from the measured per-task
cost law (:data:`TASK_CPU`, scaled at each order to the costs this database measured with this engine) and
refuses a run beyond the time budget (:func:`symflow.resources.time_budget`) with the ``--max-order`` that
fits and the number of workers (``--scheduler``) that would finish it, unless ``force``.

A task that raises, or whose worker died too often (Dask's ``KilledWorker``), is stored with its error and
the run goes on; failed tasks are tried again by the next run. ``KeyboardInterrupt`` cancels what is in
flight and leaves every stored task intact.
"""
from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .._version import LANDSCAPE_ENGINE
from ..errors import ResourceError, SymflowError
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
    stale: int = 0                  # selected tasks stored by another engine version: recomputed
    estimate: "TimeEstimate | None" = None    # the time estimate checked before computing


#: The measured per-task cost law of engine "2" (the structured landscape engine and the orbit predictor's basins):
#: ``{order: (fixed CPU seconds, CPU seconds per start)}`` of one atlas task (a worker's CPU in the task). The cost
#: per start from ``python bench/bench_atlas.py --part costs --samples 16:5,24:12,32:20,32:51,64:1,64:50,64:138,
#: 64:267,128:1000 --starts-list 32,512`` (2026-12-08, load 3-4 on the 2 cores; mean over the sample groups of the
#: order and both settings); the fixed part: the samples' mean for 16..32 (512 starts: 0.45 / 1.58 / 1.63 s), and for
#: 64 the mean of all 534 order-64 tasks of ``symflow atlas --max-order 64`` (9.59 CPU s, max 16.0; the four sample
#: groups gave only 4.0). Order 128: one sample group, SmallGroup(128,1000), 18 s at 512 starts, scaled by the same
#: 9.59 / 4.0 = 2.4 as order 64's sample (an estimate within ~2x). Order 8 (0.55 s, SmallGroup(8,3)) is at the fixed
#: overhead and is left to the extrapolation. Engine "1" cost 75 CPU s per order-64 task. docs/performance.md.
#: :func:`task_cpu` interpolates log-log between orders and extrapolates with the first or last two.
TASK_CPU = {
    16: (0.30, 0.0003), 24: (0.76, 0.0016), 32: (0.92, 0.0014), 64: (8.26, 0.0026), 128: (28.1, 0.029),
}


def task_cost_law(measured=()) -> dict:
    """``{order: (fixed, per start)}``: :data:`TASK_CPU`, and at each order of the ``measured``
    ``[(order, starts, cpu seconds)]`` (a database's own tasks) the law at that order scaled to their mean."""
    law = dict(TASK_CPU)
    ratios = {}
    for n, starts, cpu in measured:
        ratios.setdefault(int(n), []).append(float(cpu) / task_cpu(int(n), int(starts), TASK_CPU))
    for n, rs in ratios.items():
        f = sum(rs) / len(rs)
        fixed, per = _interpolate(TASK_CPU, n)
        law[n] = (fixed * f, per * f)
    return law


def _interpolate(law, order):
    if order in law:
        return law[order]
    orders = sorted(law)
    if len(orders) == 1:
        return law[orders[0]]
    if order < orders[0]:
        a, b = orders[0], orders[1]
    elif order > orders[-1]:
        a, b = orders[-2], orders[-1]
    else:
        b = next(o for o in orders if o > order)
        a = max(o for o in orders if o < order)
    return tuple(law[a][i] * (order / a) ** (math.log(law[b][i] / law[a][i]) / math.log(b / a)) for i in (0, 1))


def task_cpu(order: int, starts: int, law=None) -> float:
    """Estimated CPU seconds of one task of a group of ``order`` with ``starts`` starts: fixed + per start *
    starts, each part of the ``law`` (:func:`task_cost_law`) interpolated as a power law between its two
    nearest orders and extrapolated with the power of its two last (first) orders beyond them."""
    fixed, per = _interpolate(task_cost_law() if law is None else law, int(order))
    return fixed + per * int(starts)


@dataclass
class TimeEstimate:
    """The CPU seconds of a selection of atlas tasks, and the wall seconds on ``workers`` parallel workers
    (the total over the workers, at least the longest task)."""

    tasks: int
    cpu: float
    longest: float
    workers: int
    basis: str

    @property
    def seconds(self) -> float:
        return max(self.cpu / max(self.workers, 1), self.longest)

    def workers_for(self, budget: float) -> int | None:
        """Workers that would finish within ``budget`` seconds (``None``: the longest task alone is longer)."""
        return None if self.longest > budget else max(1, math.ceil(self.cpu / budget))


def time_estimate(tasks, starts: int, workers: int, law=None) -> TimeEstimate:
    """:class:`TimeEstimate` of ``tasks`` (``[(order, gap_id, name, setting)]``) at ``starts`` on ``workers``."""
    law = task_cost_law() if law is None else law
    costs = [task_cpu(t[0], starts, law) for t in tasks]
    known = ", ".join(f"{n}: {task_cpu(n, starts, law):.3g} s" for n in sorted(law))
    basis = f"measured CPU seconds per task at {starts} starts by order {known}, a power law between and beyond"
    return TimeEstimate(len(tasks), sum(costs), max(costs, default=0.0), int(workers), basis)


def check_time(est: TimeEstimate, max_order=None, groups=None, settings=SETTINGS, starts: int = 512, law=None,
               force=None, done=()) -> TimeEstimate:
    """Refuse (:class:`~symflow.errors.ResourceError`, one line) an atlas whose estimate exceeds the time budget,
    naming the ``--max-order`` that fits (for a ``max_order`` selection; tasks ``done`` ``{(order, gap_id,
    setting)}`` are stored and cost nothing) and the workers that would finish it."""
    from ..resources import forced, format_seconds, time_budget

    if force is None:
        force = forced()
    budget = time_budget()
    if force or est.seconds <= budget:
        return est
    ways = []
    if not groups and max_order is not None:
        fits = None
        for m in range(int(max_order) - 1, 1, -1):
            smaller = time_estimate([t for t in select_tasks(m, None, settings) if (t[0], t[1], t[3]) not in done],
                                    starts, est.workers, law)
            if smaller.seconds <= budget:
                fits = (m, smaller)
                break
        if fits:
            ways.append(f"--max-order {fits[0]} (about {format_seconds(fits[1].seconds)})")
    need = est.workers_for(budget)
    ways.append(f"--scheduler ADDRESS with about {need} single-threaded workers" if need else
                "fewer --starts (the longest task alone exceeds the budget)")
    env = " ($SYMFLOW_TIME_BUDGET)" if os.environ.get("SYMFLOW_TIME_BUDGET") else ""
    raise ResourceError(
        f"the atlas ({est.tasks} tasks to compute) would take about {format_seconds(est.seconds)} on "
        f"{est.workers} workers ({format_seconds(est.cpu)} of CPU; {est.basis}) but the time budget is "
        f"{format_seconds(budget)}{env}; use {' or '.join(ways)}, or pass --force (force=True) to run anyway")


def _worker_engine() -> str:
    """The landscape engine version of the process that runs it (asked of each worker)."""
    from .._version import LANDSCAPE_ENGINE as engine

    return engine


def _check_worker_engines(client) -> None:
    """Every worker runs this process's engine version, else one line naming the first that does not."""
    try:
        engines = client.run(_worker_engine)
    except Exception as exc:
        raise SymflowError(f"cannot ask the Dask workers their symflow landscape engine version ({type(exc).__name__}"
                           f"); every worker needs the same symflow as this process") from None
    other = {w: e for w, e in engines.items() if str(e) != LANDSCAPE_ENGINE}
    if other:
        w, e = sorted(other.items())[0]
        raise SymflowError(f"worker {w} runs landscape engine {e}, this process {LANDSCAPE_ENGINE} "
                           f"({len(other)} of {len(engines)} workers differ): install the same symflow on every worker")


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
                progress: bool = False, on_stored=None, force: bool | None = None) -> AtlasRun:
    """Compute every selected (group, setting) task not stored yet (the resume key: starts, seed, engine
    version) into the database ``db``, after checking the time estimate (:func:`check_time`; ``force`` skips).

    ``on_stored(run, client)`` is called after each stored task (tests use it to kill a worker mid-run).
    """
    starts = integer(starts, "starts", minimum=1)
    seed = integer(seed, "seed", minimum=0)
    if workers is not None:
        workers = integer(workers, "workers", minimum=1)
    tasks = select_tasks(max_order, groups, settings)
    t0 = time.perf_counter()
    done, stale, costs = set(), set(), []
    if Path(db).exists():       # a new database is created only once the estimate has passed
        with AtlasStore(db) as store:
            done = set() if redo else store.done(starts, seed, LANDSCAPE_ENGINE)
            stale = store.stale(LANDSCAPE_ENGINE)
            costs = store.task_costs(LANDSCAPE_ENGINE)
    todo = [t for t in tasks if (t[0], t[1], t[3]) not in done]
    run = AtlasRun(tasks=len(tasks), skipped=len(tasks) - len(todo),
                   stale=sum(1 for t in todo if (t[0], t[1], t[3]) in stale))
    if not todo:
        return run
    law = task_cost_law(costs)
    check = dict(max_order=max_order, groups=groups, settings=settings, starts=starts, law=law, force=force,
                 done=done)
    if not scheduler:       # a LocalCluster's workers beyond the cores add no speed
        n_local = workers or os.cpu_count() or 1
        run.estimate = check_time(time_estimate(todo, starts, min(n_local, os.cpu_count() or 1), law), **check)
    client, cluster = _client(scheduler, workers)
    futures = []
    try:
        if scheduler:
            info = client.scheduler_info(n_workers=-1).get("workers", {})
            run.workers = len(info)
            threads = sum(int(w.get("nthreads", 1)) for w in info.values())
            run.estimate = check_time(time_estimate(todo, starts, max(threads, 1), law), **check)
        else:
            run.workers = workers or os.cpu_count() or 1
        _check_worker_engines(client)
        client.register_plugin(_worker_plugin())
        from distributed import as_completed

        with AtlasStore(db) as store:
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

__all__ = ["build_atlas", "select_tasks", "AtlasRun", "DEFAULT_MAX_ORDER", "TASK_CPU", "TimeEstimate",
           "check_time", "task_cost_law", "task_cpu", "time_estimate", "worker_name"]
