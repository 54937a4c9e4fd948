"""``symflow atlas``: the landscape of every small group in both settings, on Dask, stored in DuckDB.

Groups: GAP's SmallGroups library, every group of order 2..N (``--max-order``, default 32; the trivial
group is skipped), or ``--groups`` names symflow knows. One task per (group, setting) on a Dask
``LocalCluster`` (``--workers``, default one per core) or a running cluster (``--scheduler``); the
results stream into the DuckDB file ``--db`` (schema: README "Atlas", :mod:`symflow.atlas.store`), one
transaction per task. Each task also stores the orbit predictor's basins (docs/theory.md section 14) beside the
measured ones; the run prints their error and the per-neuron agreement. Running the same command again resumes,
also at a larger ``--max-order`` (a task is reused when stored with the same starts, seed and landscape engine
version; one stored by another engine version is recomputed); ``--redo`` recomputes. Before computing, the time
estimate (the measured per-task cost law, :func:`symflow.atlas.run.time_estimate`) is checked: a run beyond the
time budget is refused with the ``--max-order`` that fits and the workers (``--scheduler``) that would finish it,
unless ``--force``. Then the report (``atlas.md``, ``index.html``, ``figures/``, ``fit.json``,
``predicted.json``) is written to ``--out``. ``--query SQL``
prints a query's result and computes nothing.
"""
from __future__ import annotations

import re
import sys

from . import options


def register(sub):
    p = sub.add_parser("atlas", help="landscapes of every small group (GAP SmallGroups) on Dask, into DuckDB",
                       description="One landscape task per (group, setting) on Dask distributed: every group of "
                                   "order <= N from GAP's SmallGroups library (the trivial group is skipped) or "
                                   "the named groups, unshared and/or shared embeddings. Results stream into a "
                                   "DuckDB database (resumable; --redo recomputes; failed tasks are stored with "
                                   "their error and tried again next time), then a report (atlas.md, a "
                                   "self-contained index.html with sortable tables, figures, a fitted "
                                   "description of basin fractions) is written. An existing cluster: start "
                                   "'dask scheduler' and 'dask worker tcp://HOST:8786 --nthreads 1' on machines "
                                   "with symflow[gap] installed, then pass --scheduler tcp://HOST:8786.")
    p.add_argument("--max-order", default="32", help="every group of order 2..N in GAP's library (default 32)")
    p.add_argument("--groups", default=None, help="comma-separated group names instead, e.g. 'F21,A4,Q8,SmallGroup(16,3)'")
    p.add_argument("--settings", default="unshared,shared", help="unshared, shared or both (default unshared,shared)")
    options.starts(p, 512)
    options.seed(p, what="every task's starts")
    p.add_argument("--db", default="atlas.duckdb", help="the DuckDB database file (default atlas.duckdb)")
    options.out_folder(p, "atlas", default="atlas", writes="the report (atlas.md, index.html, figures, fit.json, predicted.json)")
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler (default: a LocalCluster)")
    p.add_argument("--workers", default=None, help="LocalCluster worker processes (default: one per core)")
    p.add_argument("--redo", action="store_true", help="recompute tasks already stored")
    p.add_argument("--query", default=None, metavar="SQL", help="print the result of a SQL query on --db and exit")
    p.add_argument("--format", default="table", choices=["table", "csv", "json"],
                   help="--query output: a table (default), CSV with a header row, or JSON (one object per row)")
    p.add_argument("--no-report", action="store_true", help="compute and store only")
    options.no_progress(p)
    options.runs(p, run)


def print_query(db, sql, format: str = "table") -> None:
    """Print a query's result: a rich table, or (``format``) full-precision CSV / JSON via
    :func:`symflow.atlas.store.format_rows`."""
    from rich import box
    from rich.table import Table

    from ..atlas.store import AtlasStore, format_rows
    from ..groups.display import rich_console

    with AtlasStore(db, read_only=True) as s:
        cols, rows = s.query(sql)
    if format != "table":
        sys.stdout.write(format_rows(cols, rows, format))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for c in cols:
        table.add_column(str(c))
    for r in rows:
        table.add_row(*["NULL" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v)) for v in r])
    console = rich_console()
    console.print(table)
    console.print(f"{len(rows)} rows", style="dim", highlight=False)


def run(args) -> int:
    from ..errors import SymflowError
    from ..validation import integer

    if args.query is not None:
        print_query(args.db, args.query, args.format)
        return 0
    max_order = integer(args.max_order, "--max-order", minimum=2, text=True)
    starts, seed = args.starts, args.seed
    workers = None if args.workers is None else integer(args.workers, "--workers", minimum=1, text=True)
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    # commas inside parentheses belong to a name: SmallGroup(16,3)
    groups = [g.strip() for g in re.split(r",(?![^()]*\))", args.groups) if g.strip()] \
        if args.groups is not None else None
    if groups is not None and not groups:
        raise SymflowError("--groups is empty")
    options.refuse_compact(groups or [], "symflow atlas")
    from ..atlas import build_atlas, select_tasks
    from ..outputs import OutputFolder

    select_tasks(max_order, groups, settings)          # bad names and settings fail before any cluster starts
    parameters = {"max_order": max_order, "groups": groups, "settings": settings, "starts": starts, "seed": seed}
    if not args.no_report:
        OutputFolder(args.out, "atlas", parameters, force=args.force)    # writable before computing
    try:
        result = build_atlas(args.db, max_order=max_order, groups=groups, settings=settings, starts=starts,
                             seed=seed, scheduler=args.scheduler, workers=workers, redo=args.redo,
                             progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted: every finished task is stored in {args.db}; run the same command again to resume",
              file=sys.stderr)
        raise
    stale = f", {result.stale} of them stored by another engine version" if result.stale else ""
    print(f"{result.tasks} tasks: {result.skipped} already stored, {result.stored} computed{stale} "
          f"({len(result.failed)} failed) in {result.wall_time:.1f} s on {result.workers or 0} workers; "
          f"database {args.db}")
    for n, k, setting, error in result.failed:
        print(f"  failed: SmallGroup({n},{k}) {setting}: {error}")
    from ..atlas.report import load, predictor_summary, summary_line

    print(summary_line(predictor_summary(load(args.db))))
    if not args.no_report:
        from ..atlas import write_report

        path = write_report(args.db, args.out, force=args.force, parameters=parameters)
        print(f"report: {path}/atlas.md, {path}/index.html")
    return 0
