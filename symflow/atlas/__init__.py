"""``symflow atlas``: the landscape of every small group in every setting, on Dask, stored in DuckDB.

    from symflow.atlas import build_atlas, write_report
    build_atlas("atlas.duckdb", max_order=12, workers=2)
    write_report("atlas.duckdb", "atlas/")

Modules: ``groups`` (GAP's SmallGroups library, SmallGroup ids of named groups), ``task`` (one
(group, setting) landscape as rows, run on a worker), ``predict`` (the orbit predictor's basins beside the
task's measured ones), ``store`` (the DuckDB schema, one transaction per task), ``run`` (the Dask driver: resume, redo, failures, interrupts), ``report`` (atlas.md, index.html,
figures and the fitted description of basin fractions).
"""
from .run import DEFAULT_MAX_ORDER, AtlasRun, build_atlas, select_tasks
from .store import AtlasStore

__all__ = ["build_atlas", "select_tasks", "AtlasRun", "AtlasStore", "DEFAULT_MAX_ORDER", "write_report"]


def write_report(db, out, **kw):
    """Write ``atlas.md``, ``index.html`` and the figures of database ``db`` into folder ``out``."""
    from .report import write_report as _write

    return _write(db, out, **kw)
