"""Where an analysis's SQL runs: embedded DuckDB (the default), or Spark for large warehouses.

Both read the dataset version's Parquet by path and leave out opted-out patients the same
way; each runs the statements its dialect of the compiler wrote, and returns plain rows
(tuples) to `campus.analysis.results`, where disclosure control is applied once, whatever
the engine. Spark reads through one session per process (local mode unless a master URL is
given: `campus worker --engine spark --spark-master spark://host:7077`, or the settings
CAMPUS_ANALYSIS_ENGINE and CAMPUS_SPARK_URL); each job gets its own SQL session (its
temporary views are its own) and frees the tables it kept when it ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from campus.errors import BadRequest
from campus.views import sandbox
from campus.warehouse import layout

ENGINES = ("duckdb", "spark")
OPTOUT_TABLE = "__optout_patients"


class Backend(Protocol):
    name: str

    def execute(self, sql: str) -> None: ...

    def rows(self, sql: str) -> list[tuple]: ...


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _patient_column(resource: str) -> str:
    # A Patient row is its own patient; other resources carry the patient they are about.
    return "coalesce(patient, id)" if resource == "Patient" else "patient"


class DuckDBBackend:
    name = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection | None = None, *, threads: int = 2):
        self.connection = connection or duckdb.connect(config={"threads": threads})

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def rows(self, sql: str) -> list[tuple]:
        return self.connection.execute(sql).fetchall()

    def tables(
        self, found: layout.DatasetVersion, kind: layout.Kind, optout_keys: set[str] | None
    ) -> dict[str, str]:
        """Resource type -> SQL table expression; then only the version's folder is readable."""
        out = self.expressions(found, kind, optout_keys)
        sandbox.seal(self.connection, [found.path])
        return out

    def expressions(
        self, found: layout.DatasetVersion, kind: layout.Kind, optout_keys: set[str] | None
    ) -> dict[str, str]:
        """Resource type -> SQL table expression; on real data, opted-out patients removed."""
        tables = _tables(found, kind)
        if kind == "dummy" or optout_keys is None:
            out = {name: layout.scan(path) for name, path in tables.items()}
        else:
            keys = pa.table({"optout_key": pa.array(sorted(optout_keys), pa.string())})
            self.connection.register("__registry_keys", keys)
            if found.optout_keys.is_file():
                self.connection.execute(
                    f"CREATE OR REPLACE TEMP TABLE {OPTOUT_TABLE} AS SELECT DISTINCT k.patient "
                    f"FROM read_parquet({_quote(found.optout_keys)}) k JOIN __registry_keys r "
                    "ON r.optout_key = k.optout_key WHERE k.patient IS NOT NULL"
                )
            else:
                self.connection.execute(
                    f"CREATE OR REPLACE TEMP TABLE {OPTOUT_TABLE} (patient VARCHAR)"
                )
            self.connection.unregister("__registry_keys")
            out = {name: _without_optouts(layout.scan(path), name) for name, path in tables.items()}
        return out

    def close(self) -> None:
        self.connection.close()


def _tables(found: layout.DatasetVersion, kind: layout.Kind) -> dict[str, Path]:
    from campus.errors import NotFound

    tables = found.tables(kind)
    if not tables:
        raise NotFound(
            f"dataset {found.dataset} {found.version} has no {kind} tables", code="no_tables"
        )
    return tables


def _without_optouts(table: str, resource: str) -> str:
    column = _patient_column(resource)
    return (
        f"(SELECT * FROM {table} WHERE {column} IS NULL OR "
        f"{column} NOT IN (SELECT patient FROM {OPTOUT_TABLE}))"
    )


class SparkBackend:
    """One job on Spark: a new SQL session of the process's SparkSession.

    The compiler's `CACHE TABLE name AS select` statements (the opt-outs, the views, the
    cohort) run as a local checkpoint of the query, named as a temporary view: its rows are
    kept on the executors (memory, then disk) without the plan that made them. A table cached
    by CACHE TABLE kept that plan, and every query reading it ran the plan's broadcasts again
    (eight Spark jobs for a count over the cohort instead of two; docs/deployment.md, "When
    to move analyses to Spark"). The rows are released when the job ends.
    """

    name = "spark"

    def __init__(self, master: str | None = None, *, session: Any = None):
        from campus.views.engines import spark_session

        self.spark = (session or spark_session(master)).newSession()
        self._kept: list[Any] = []  # the job's checkpointed tables, released by close()

    def execute(self, sql: str) -> None:
        head, _, select = sql.partition(" AS ")
        if head.startswith("CACHE TABLE ") and select:
            self._materialise(head[len("CACHE TABLE ") :], select)
        else:
            self.spark.sql(sql)

    def _materialise(self, name: str, select: str) -> None:
        from pyspark import StorageLevel

        # Serialized (PySpark's MEMORY_AND_DISK): compact bytes, spilled to disk when memory
        # is short, rather than a Java object a row.
        frame = self.spark.sql(select).localCheckpoint(
            eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK
        )
        frame.createOrReplaceTempView(name.strip("`").replace("``", "`"))
        self._kept.append(frame)

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def tables(
        self, found: layout.DatasetVersion, kind: layout.Kind, optout_keys: set[str] | None
    ) -> dict[str, str]:
        """Resource type -> `parquet.<path>` of the version's files (a URL works the same)."""
        tables = {name: _spark_parquet(path) for name, path in _tables(found, kind).items()}
        if kind == "dummy" or optout_keys is None:
            return tables
        keys = self.spark.createDataFrame([(k,) for k in sorted(optout_keys)], "optout_key STRING")
        keys.createOrReplaceTempView("__registry_keys")
        if found.optout_keys.is_file():
            self.execute(
                f"CACHE TABLE {OPTOUT_TABLE} AS SELECT DISTINCT k.patient FROM "
                f"{_spark_parquet(found.optout_keys)} k JOIN __registry_keys r "
                "ON r.optout_key = k.optout_key WHERE k.patient IS NOT NULL"
            )
        else:
            self.spark.createDataFrame([], "patient STRING").createOrReplaceTempView(OPTOUT_TABLE)
        return {name: _spark_without_optouts(table, name) for name, table in tables.items()}

    def close(self) -> None:
        for frame in self._kept:
            _release(frame)
        self._kept.clear()


def _release(frame: Any) -> None:
    """Frees a local checkpoint's rows on the executors now rather than at the driver's next
    garbage collection (the plan of a checkpointed frame is a LogicalRDD over them)."""
    from py4j.protocol import Py4JError

    try:
        frame._jdf.queryExecution().logical().rdd().unpersist(False)
    except (AttributeError, Py4JError):  # another Spark's internals: its cleaner frees them
        return


def _spark_without_optouts(table: str, resource: str) -> str:
    """DuckDB's filter as an anti join that broadcasts the opted-out patients. Spark read the
    `NOT IN` as a nested-loop join and, not knowing the size of the kept opt-out table, could
    broadcast the resource table instead: at 50M resources its Patient rows, JSON included,
    filled local mode's 1 GB heap. Same rows kept: the opt-out table has no NULL patient, and
    a row without a patient matches none."""
    column = "coalesce(t.patient, t.id)" if resource == "Patient" else "t.patient"
    return (
        f"(SELECT /*+ BROADCAST(o) */ t.* FROM {table} t "
        f"LEFT ANTI JOIN {OPTOUT_TABLE} o ON o.patient = {column})"
    )


def _spark_parquet(path: Path) -> str:
    """A table's Parquet for Spark SQL: the file, or the folder of part files."""
    return "parquet.`" + str(path).replace("`", "``") + "`"


def engine_name(engine: str | None = None) -> str:
    name = engine or "duckdb"
    if name not in ENGINES:
        raise BadRequest(
            f"unknown analysis engine {name!r} (known: {', '.join(ENGINES)})", where="engine"
        )
    return name


def open_backend(engine: str, *, spark_master: str | None = None, threads: int = 2):
    if engine == "spark":
        return SparkBackend(spark_master)
    return DuckDBBackend(threads=threads)
