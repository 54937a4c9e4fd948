"""The atlas database (embedded DuckDB): schema, one transaction per task, resume and queries.

Tables (public contract, README "Atlas"):

* ``groups``: order, gap_id, name, structure (GAP's StructureDescription), abelian, n_classes,
  irrep_dims (INTEGER[]);
* ``attractors``: order, gap_id, setting ('unshared'|'shared'), idx (rank in the task's landscape:
  largest basin first), orbit (VARCHAR[] of irrep labels, dominant orbit first; empty for the trivial
  kind), orbit_dim, orbit_size, type ('real'|'complex'|'quaternionic'), energy, energy_exact,
  rank, family_dimension, stable, slowest_rate, fastest_rate (nonzero tangent rates nearest to and
  farthest from 0, c = 1; NULL if none), basin_fraction, basin_lo, basin_hi (95% Wilson), count,
  source ('constructed'|'discovered');
* ``runs``: one row per task: order, gap_id, setting, starts, seed, loss, spheres, activation,
  versions (JSON), unconverged, wall_time (s), worker (host:pid), error (NULL if it succeeded),
  finished (UTC timestamp), cpu_time (s of the worker process's CPU in the task), engine (the landscape
  engine version that computed it, ``symflow._version.LANDSCAPE_ENGINE``; NULL before it was recorded); the orbit predictor's
  columns (docs/theory.md section 14, :mod:`symflow.atlas.predict`): pred_samples, pred_seed (its Monte Carlo
  starts), reduction ('exact'|'frozen multiplier'), agreement_hits, agreement_neurons (per-neuron agreement on
  the task's converged starts; NULL where the landscape kept no start's kind), prediction (JSON: confusion,
  agreement on rank > 1 kinds, saddles, dead neurons), pred_cpu_time (s), pred_error (NULL if it ran);
* ``predicted_basins``: order, gap_id, setting, orbit_id (index into the group's orbits; -1 dead), orbit
  (VARCHAR[] of its irrep labels; empty for dead), orbit_dim, orbit_size, type, predicted, predicted_lo,
  predicted_hi (95% Wilson of the Monte Carlo), samples, predicted_same (on the task's own starts), measured,
  measured_lo, measured_hi, count (starts whose kind has this dominant orbit), kinds, plancherel.

Stores written before the predictor: ``AtlasStore`` (read-write) adds the new table and columns (old tasks have
no predicted rows and NULL predictor columns; a resumed run reuses them, ``--redo`` recomputes); the report reads
old stores opened read-only too (:meth:`AtlasStore.has`).

Resume key: a task ``(order, gap_id, setting)`` is reused when it is stored without error with the same
``starts``, ``seed`` and ``engine`` (:meth:`AtlasStore.done`); the model (CE loss, quadratic activation,
separate spheres) is the atlas's fixed choice, so a change of it is an engine version change. A task stored
with other starts, seed or engine is recomputed and its rows replaced (one row set per task).

Only the main process writes. Each task's rows replace that task's earlier rows in one transaction, so
a row is stored once whatever was retried, and an interrupted run keeps every finished task.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import SymflowError

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS groups (
        "order" INTEGER NOT NULL, gap_id INTEGER NOT NULL, name VARCHAR, structure VARCHAR, abelian BOOLEAN,
        n_classes INTEGER, irrep_dims INTEGER[], PRIMARY KEY ("order", gap_id))""",
    """CREATE TABLE IF NOT EXISTS attractors (
        "order" INTEGER NOT NULL, gap_id INTEGER NOT NULL, setting VARCHAR NOT NULL, idx INTEGER NOT NULL,
        orbit VARCHAR[], orbit_dim INTEGER, orbit_size INTEGER, type VARCHAR, energy DOUBLE, energy_exact VARCHAR,
        rank INTEGER, family_dimension INTEGER, stable BOOLEAN, slowest_rate DOUBLE, fastest_rate DOUBLE,
        basin_fraction DOUBLE, basin_lo DOUBLE, basin_hi DOUBLE, count INTEGER, source VARCHAR,
        PRIMARY KEY ("order", gap_id, setting, idx))""",
    """CREATE TABLE IF NOT EXISTS runs (
        "order" INTEGER NOT NULL, gap_id INTEGER NOT NULL, setting VARCHAR NOT NULL, starts INTEGER, seed INTEGER,
        loss VARCHAR, spheres VARCHAR, activation VARCHAR, versions VARCHAR, unconverged INTEGER,
        wall_time DOUBLE, worker VARCHAR, error VARCHAR, finished TIMESTAMP DEFAULT current_timestamp,
        cpu_time DOUBLE, PRIMARY KEY ("order", gap_id, setting))""",
    # databases written before cpu_time was recorded
    'ALTER TABLE runs ADD COLUMN IF NOT EXISTS cpu_time DOUBLE',
    # the resume key's engine version (symflow._version.LANDSCAPE_ENGINE of the worker); NULL in databases
    # written before it was recorded, which counts as version "1" (LEGACY_ENGINE)
    'ALTER TABLE runs ADD COLUMN IF NOT EXISTS engine VARCHAR',
    # databases written before the orbit predictor's basins were stored
    """CREATE TABLE IF NOT EXISTS predicted_basins (
        "order" INTEGER NOT NULL, gap_id INTEGER NOT NULL, setting VARCHAR NOT NULL, orbit_id INTEGER NOT NULL,
        orbit VARCHAR[], orbit_dim INTEGER, orbit_size INTEGER, type VARCHAR, predicted DOUBLE, predicted_lo DOUBLE,
        predicted_hi DOUBLE, samples INTEGER, predicted_same DOUBLE, measured DOUBLE, measured_lo DOUBLE,
        measured_hi DOUBLE, count INTEGER, kinds INTEGER, plancherel DOUBLE,
        PRIMARY KEY ("order", gap_id, setting, orbit_id))""",
] + [f'ALTER TABLE runs ADD COLUMN IF NOT EXISTS {c} {t}' for c, t in (
    ("pred_samples", "INTEGER"), ("pred_seed", "INTEGER"), ("reduction", "VARCHAR"), ("agreement_hits", "INTEGER"),
    ("agreement_neurons", "INTEGER"), ("prediction", "VARCHAR"), ("pred_cpu_time", "DOUBLE"), ("pred_error", "VARCHAR"))]

#: The engine version of rows stored before ``runs.engine`` existed (all computed by engine "1").
LEGACY_ENGINE = "1"


GROUP_COLUMNS = ["order", "gap_id", "name", "structure", "abelian", "n_classes", "irrep_dims"]
ATTRACTOR_COLUMNS = ["order", "gap_id", "setting", "idx", "orbit", "orbit_dim", "orbit_size", "type", "energy",
                     "energy_exact", "rank", "family_dimension", "stable", "slowest_rate", "fastest_rate",
                     "basin_fraction", "basin_lo", "basin_hi", "count", "source"]
PREDICTED_COLUMNS = ["order", "gap_id", "setting", "orbit_id", "orbit", "orbit_dim", "orbit_size", "type", "predicted",
                     "predicted_lo", "predicted_hi", "samples", "predicted_same", "measured", "measured_lo",
                     "measured_hi", "count", "kinds", "plancherel"]
#: the predictor's columns of ``runs`` (NULL in tasks stored before it)
PREDICTOR_RUN_COLUMNS = ["pred_samples", "pred_seed", "reduction", "agreement_hits", "agreement_neurons", "prediction",
                         "pred_cpu_time", "pred_error"]


def _q(cols) -> str:
    return ", ".join(f'"{c}"' for c in cols)


class AtlasStore:
    """The database file (created with its schema if new). Use as a context manager."""

    def __init__(self, path, read_only: bool = False):
        import duckdb

        self.path = Path(path)
        self.read_only = bool(read_only)
        if read_only and not self.path.exists():
            raise SymflowError(f"no atlas database at {self.path}")
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except (OSError, duckdb.Error) as exc:
            raise SymflowError(f"cannot open the atlas database {self.path}: {str(exc).splitlines()[0]}") from None
        if not read_only:
            for statement in SCHEMA:
                self.con.execute(statement)

    def __enter__(self) -> "AtlasStore":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def close(self) -> None:
        if self.con is not None:
            if not self.read_only:
                try:
                    self.con.execute("CHECKPOINT")      # one self-contained file (no .wal beside it)
                except Exception:  # pragma: no cover - another connection in this process still writes
                    pass
            self.con.close()
            self.con = None

    def done(self, starts: int, seed: int, engine: str | None = None) -> set:
        """Keys ``(order, gap_id, setting)`` stored without error for these starts and seed (the resume key) and,
        unless ``engine`` is ``None``, by this landscape engine version (``runs.engine``; NULL counts as
        :data:`LEGACY_ENGINE`)."""
        sql = 'SELECT "order", gap_id, setting FROM runs WHERE error IS NULL AND starts = ? AND seed = ?'
        params = [starts, seed]
        if engine is not None:
            sql += ' AND coalesce(engine, ?) = ?'
            params += [LEGACY_ENGINE, str(engine)]
        return {tuple(r) for r in self.con.execute(sql, params).fetchall()}

    def stale(self, engine: str) -> set:
        """Keys ``(order, gap_id, setting)`` stored without error by another engine version than ``engine``."""
        rows = self.con.execute('SELECT "order", gap_id, setting FROM runs WHERE error IS NULL AND '
                                'coalesce(engine, ?) <> ?', [LEGACY_ENGINE, str(engine)]).fetchall()
        return {tuple(r) for r in rows}

    def task_costs(self, engine: str | None = None) -> list:
        """``[(order, starts, cpu seconds)]`` of the tasks stored without error with a CPU time (by ``engine``
        when given): the measured costs the atlas's time estimate uses."""
        sql = 'SELECT "order", starts, cpu_time FROM runs WHERE error IS NULL AND cpu_time IS NOT NULL AND starts > 0'
        params = []
        if engine is not None:
            sql += ' AND coalesce(engine, ?) = ?'
            params = [LEGACY_ENGINE, str(engine)]
        return [(int(n), int(st), float(c)) for n, st, c in self.con.execute(sql, params).fetchall()]

    def store(self, result: dict, starts: int, seed: int) -> None:
        """Store one task's result (rows, or its error) in one transaction, replacing the task's earlier rows."""
        key = [result["order"], result["gap_id"], result["setting"]]
        con = self.con
        model = result.get("model") or {}
        con.execute("BEGIN TRANSACTION")
        try:
            g = result.get("group")
            if g is not None:
                con.execute('DELETE FROM groups WHERE "order" = ? AND gap_id = ?', key[:2])
                con.execute(f"INSERT INTO groups ({_q(GROUP_COLUMNS)}) VALUES ({', '.join('?' * len(GROUP_COLUMNS))})",
                            [g[c] for c in GROUP_COLUMNS])
            con.execute('DELETE FROM attractors WHERE "order" = ? AND gap_id = ? AND setting = ?', key)
            if result["attractors"]:
                con.executemany(f"INSERT INTO attractors ({_q(ATTRACTOR_COLUMNS)}) VALUES "
                                f"({', '.join('?' * len(ATTRACTOR_COLUMNS))})",
                                [[r[c] for c in ATTRACTOR_COLUMNS] for r in result["attractors"]])
            con.execute('DELETE FROM predicted_basins WHERE "order" = ? AND gap_id = ? AND setting = ?', key)
            if result.get("predicted"):
                con.executemany(f"INSERT INTO predicted_basins ({_q(PREDICTED_COLUMNS)}) VALUES "
                                f"({', '.join('?' * len(PREDICTED_COLUMNS))})",
                                [[r[c] for c in PREDICTED_COLUMNS] for r in result["predicted"]])
            pred = result.get("prediction") or {}
            con.execute('DELETE FROM runs WHERE "order" = ? AND gap_id = ? AND setting = ?', key)
            con.execute('INSERT INTO runs ("order", gap_id, setting, starts, seed, loss, spheres, activation, versions, '
                        'unconverged, wall_time, worker, error, cpu_time, engine, ' + _q(PREDICTOR_RUN_COLUMNS) + ') VALUES ('
                        + ', '.join('?' * (15 + len(PREDICTOR_RUN_COLUMNS))) + ')',
                        key + [starts, seed, model.get("loss"), model.get("spheres"), model.get("activation"), json.dumps(result.get("versions") or {}), result["unconverged"],
                               result["wall_time"], result["worker"], result["error"],
                               result.get("cpu_time"), result.get("engine")] + [pred.get(c) for c in PREDICTOR_RUN_COLUMNS])
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower():
                # DuckDB reports a Ctrl-C that lands inside a query as RuntimeError('Query interrupted'): the task's
                # rows are rolled back whole and the run stops as every interrupted run does
                raise KeyboardInterrupt("a Ctrl-C while storing a task; its rows were rolled back") from None
            raise

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether the database holds ``table`` (and its ``column``): a store written by an older symflow and
        opened read-only has not been given the newer ones."""
        sql = "SELECT count(*) FROM duckdb_columns() WHERE table_name = ?" + (" AND column_name = ?" if column else "")
        return bool(self.con.execute(sql, [table] + ([column] if column else [])).fetchone()[0])

    def query(self, sql: str):
        """``(column names, rows)`` of a query."""
        import duckdb

        try:
            cur = self.con.execute(sql)
        except duckdb.Error as exc:
            raise SymflowError(f"query failed: {str(exc).splitlines()[0]}") from None
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()


def format_rows(columns, rows, format: str) -> str:
    """A query's ``(columns, rows)`` as machine-readable text: ``"csv"`` (a header row, then one line per row;
    NULL is an empty field, floats in full precision) or ``"json"`` (a list of ``{column: value}`` objects;
    NULL and non-finite floats are ``null``, other non-JSON values their text)."""
    import csv
    import io
    import json
    import math

    if format == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([str(c) for c in columns])
        writer.writerows([["" if v is None else (repr(v) if isinstance(v, float) else v) for v in r] for r in rows])
        return buf.getvalue()
    if format == "json":
        def plain(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            return v if v is None or isinstance(v, (bool, int, float, str)) else str(v)

        return json.dumps([{str(c): plain(v) for c, v in zip(columns, r)} for r in rows], indent=1) + "\n"
    raise SymflowError(f"format must be one of table, csv, json; got {format!r}")
