"""Query engines that run compiled views: DuckDB (embedded default) and Spark SQL.

An engine maps a resource type to a SQL table expression over its `Source`, runs one
compiled SELECT and streams the result into a file (written beside the target and renamed
into place when complete, so that a failed run leaves nothing behind) or to a stream.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from campus import exports
from campus.errors import BadRequest
from campus.views import sandbox
from campus.views.compiler import CompiledView
from campus.views.dialects.base import Dialect
from campus.views.sources import Source, is_ndjson, sql_path
from campus.warehouse import layout

FORMATS = ("csv", "parquet", "ndjson")
BATCH_ROWS = 10_000
SPARK_URL_VARIABLE = "CAMPUS_SPARK_URL"


class Engine(Protocol):
    """What runs a compiled view: both engines below, which `service` opens by name."""

    name: str
    dialect: str  # the SQL dialect views are compiled to for this engine

    def table(self, resource: str) -> str:
        """The SQL table expression (a `resource` column) of one resource type."""
        ...

    def rows(self, compiled: CompiledView, limit: int | None = None) -> list[dict[str, Any]]:
        """The rows as dictionaries (previews and tests: small results)."""
        ...

    def stream(self, compiled: CompiledView, fmt: str, out: IO[bytes]) -> int:
        """csv or ndjson to a byte stream, never held whole; returns the number of rows."""
        ...

    def write(self, compiled: CompiledView, fmt: str, output: Path) -> int:
        """csv, parquet or ndjson into `output`, complete or not at all; the number of rows."""
        ...

    def close(self) -> None: ...


def engine_error(error: Exception) -> BadRequest:
    """An engine failure as a clear message, without the engine's stack trace."""
    text = str(error)
    marker = Dialect.ERROR_MARK
    if marker in text:
        message = text[text.index(marker) + len(marker) :]
        message = re.split(r"\s+SQLSTATE|\n|\]\s*$", message)[0].strip().rstrip(".")
        return BadRequest(message, code="view_failed")
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return BadRequest(f"the query failed: {first[:500]}", code="query_failed")


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`, renamed onto it only when the block succeeds."""
    target = target.resolve()
    if target.is_dir():
        raise BadRequest(f"{target} is a folder: give a file name", where="output")
    if not target.parent.is_dir():
        raise BadRequest(f"the folder {target.parent} does not exist", where="output")
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        partial.unlink()
        yield partial
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class DuckDBEngine:
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, source: Source, *, threads: int | None = None):
        import duckdb

        self.source = source
        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._loaded = False
        self._sealed = False

    def close(self) -> None:
        self.con.close()

    def _seal(self, output: Path | None = None) -> None:
        """Before the first query: only the source's folders (and the output's) stay open."""
        if self._sealed:
            return
        folders = [p if p.is_dir() else p.parent for p in self.source.parquet.values()]
        folders += [p.parent for p in self.source.files]
        sandbox.seal(self.con, [*folders, *([output.parent] if output else [])])
        self._sealed = True

    def table(self, resource: str) -> str:
        if self.source.raw:
            self._load_files()
            return f"(SELECT resource FROM __input WHERE type = '{resource}')"
        path = self.source.parquet.get(resource)
        if path is None:
            return "(SELECT CAST(NULL AS VARCHAR) AS resource WHERE FALSE)"
        return layout.scan(path)

    def _load_files(self) -> None:
        if self._loaded:
            return
        parts = []
        ndjson = [p for p in self.source.files if is_ndjson(p)]
        documents = [p for p in self.source.files if not is_ndjson(p)]
        if ndjson:
            files = "[" + ", ".join(sql_path(p) for p in ndjson) + "]"
            parts.append(
                "SELECT CAST(json AS JSON) AS doc "
                f"FROM read_ndjson_objects({files}, maximum_object_size = 268435456)"
            )
        if documents:
            files = "[" + ", ".join(sql_path(p) for p in documents) + "]"
            parts.append(
                "SELECT unnest(CASE WHEN json_extract_string(json, '$.resourceType') = 'Bundle' "
                "THEN json_extract(json, '$.entry[*].resource') ELSE [CAST(json AS JSON)] END) "
                f"AS doc FROM read_json_objects({files}, maximum_object_size = 268435456)"
            )
        query = (
            "CREATE TEMP TABLE __input AS SELECT json_extract_string(doc, '$.resourceType') "
            "AS type, json_extract_string(doc, '$.id') AS id, CAST(doc AS VARCHAR) AS resource "
            f"FROM ({' UNION ALL '.join(parts)})"
        )
        try:
            self.con.execute(query)
        except Exception as error:
            raise BadRequest(
                f"could not read the FHIR input: {str(error).splitlines()[0]}",
                code="bad_input",
                where="input",
            ) from None
        untyped = self.con.execute("SELECT count(*) FROM __input WHERE type IS NULL").fetchall()[0]
        if untyped[0]:
            raise BadRequest(
                f"{untyped[0]} item(s) of the input have no resourceType: give FHIR resources",
                code="bad_input",
                where="input",
            )
        self._loaded = True

    def _output_sql(self, compiled: CompiledView, fmt: str) -> str:
        if fmt != "csv" or not any(c.collection for c in compiled.columns):
            return compiled.sql
        columns = ", ".join(
            f'CAST(to_json("{c.name}") AS VARCHAR) AS "{c.name}"' if c.collection else f'"{c.name}"'
            for c in compiled.columns
        )
        return f"SELECT {columns} FROM ({compiled.sql})"

    def write(self, compiled: CompiledView, fmt: str, output: Path) -> int:
        """Run and write to `output` atomically; returns the number of rows."""
        if fmt == "csv":  # through Arrow, so that formulas are neutralised (campus.exports)
            with atomic_output(output) as partial, partial.open("wb") as handle:
                return self.stream(compiled, fmt, handle)
        options = {
            "parquet": "FORMAT parquet",
            "ndjson": "FORMAT json",
        }[fmt]
        sql = self._output_sql(compiled, fmt)
        with atomic_output(output) as partial:
            self._seal(partial)
            try:
                count = self.con.execute(
                    f"COPY ({sql}) TO {sql_path(partial)} ({options})"
                ).fetchall()[0]
            except BadRequest:
                raise
            except Exception as error:
                raise engine_error(error) from None
        return int(count[0]) if count else 0

    def batches(self, compiled: CompiledView, fmt: str = "ndjson") -> Iterator[Any]:
        """The result as Arrow record batches, never held whole."""
        self._seal()
        try:
            reader = self.con.sql(self._output_sql(compiled, fmt)).to_arrow_reader(BATCH_ROWS)
            yield from reader
        except BadRequest:
            raise
        except Exception as error:
            raise engine_error(error) from None

    def rows(self, compiled: CompiledView, limit: int | None = None) -> list[dict[str, Any]]:
        sql = (
            compiled.sql if limit is None else f"SELECT * FROM ({compiled.sql}) LIMIT {int(limit)}"
        )
        self._seal()
        try:
            cursor = self.con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except Exception as error:
            raise engine_error(error) from None

    def stream(self, compiled: CompiledView, fmt: str, out: IO[bytes]) -> int:
        """Write csv or ndjson to a byte stream batch by batch; returns the number of rows."""
        import pyarrow.csv as pacsv

        count = 0
        writer = None
        for batch in self.batches(compiled, fmt):
            count += batch.num_rows
            if fmt == "csv":
                if writer is None:
                    writer = pacsv.CSVWriter(out, batch.schema)
                writer.write_batch(exports.safe_batch(batch))
            else:
                for row in batch.to_pylist():
                    out.write(orjson.dumps(row, default=_json_default) + b"\n")
        if writer is not None:
            writer.close()
        return count


_SPARK: Any = None
# The driver's own log lines (log4j) are not shown: every Spark failure reaches Campus as an
# exception, reported as one line. A cluster's spark-defaults.conf that sets
# spark.driver.extraJavaOptions keeps its own logging.
_QUIET_LOG = """rootLogger.level = off
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = off
"""


def spark_session(url: str | None = None) -> Any:
    """One SparkSession per process: local mode by default, a cluster by URL in production.

    Cluster settings (executor memory, object store credentials for s3a:// or abfss://
    paths) come from Spark's own spark-defaults.conf, in SPARK_CONF_DIR. A session that
    cannot start raises BadRequest with Spark's reason on one line.
    """
    global _SPARK
    if _SPARK is not None:
        return _SPARK
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BadRequest(
            "the Spark engine needs PySpark: pip install 'campus[spark]'", code="no_spark"
        ) from None
    master = url or os.environ.get(SPARK_URL_VARIABLE) or "local[2]"
    builder = SparkSession.builder.master(master).appName("campus")
    for key, value in session_defaults().items():
        builder = builder.config(key, value)
    if not _configured("spark.driver.extraJavaOptions"):
        with tempfile.NamedTemporaryFile(
            "w", prefix="campus-spark-log4j2-", suffix=".properties", delete=False
        ) as config:
            config.write(_QUIET_LOG)
        uri = Path(config.name).as_uri()
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={uri}"
        )
    try:
        session = builder.getOrCreate()
    except Exception as error:
        raise BadRequest(
            f"Spark could not start on {master}: {spark_reason(error)}", code="spark_unavailable"
        ) from None
    session.sparkContext.setLogLevel("OFF")
    # PySpark logs each failed query with its whole plan; the caller reports the error itself.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    _SPARK = session
    return session


# Campus's settings of a Spark session; the shuffle's partitions suit local mode and tests,
# and a cluster's spark-defaults.conf overrides them.
SESSION_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.analyzer.maxIterations": "1000",
    "spark.sql.session.timeZone": "UTC",
}
OVERRIDABLE = frozenset({"spark.sql.shuffle.partitions"})


def session_defaults() -> dict[str, str]:
    """SESSION_DEFAULTS without the overridable keys that spark-defaults.conf sets."""
    return {
        key: value
        for key, value in SESSION_DEFAULTS.items()
        if key not in OVERRIDABLE or not _configured(key)
    }


def _configured(key: str) -> bool:
    """Whether Spark's spark-defaults.conf (SPARK_CONF_DIR, else SPARK_HOME/conf) sets `key`."""
    folder = os.environ.get("SPARK_CONF_DIR") or (
        os.environ.get("SPARK_HOME") and os.path.join(os.environ["SPARK_HOME"], "conf")
    )
    if not folder:
        return False
    defaults = Path(folder) / "spark-defaults.conf"
    try:
        lines = defaults.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return any(line.split(None, 1)[:1] == [key] for line in lines)


def spark_reason(error: Exception) -> str:
    """Spark's reason for a failure, on one line: the message of the deepest Java exception
    named in a Py4J error, without its class names and stack."""
    text = str(error).strip()
    found = re.findall(r"(?:^|\n|: )(?:[a-z]+\.)+[A-Za-z]*(?:Exception|Error): (.+)", text)
    line = found[-1] if found else (text.splitlines() or [type(error).__name__])[0]
    line = re.sub(r"^\[[A-Z_.]+\]\s*", "", line)  # Spark's error class
    line = re.split(r"\s+SQLSTATE", line)[0].strip()
    return line[:500] or type(error).__name__


class SparkEngine:
    name = "spark"
    dialect = "spark"

    def __init__(self, source: Source, *, url: str | None = None, session: Any = None):
        self.source = source
        self.spark = session or spark_session(url)
        self._view = f"campus_input_{id(self)}"
        self._loaded = False

    def close(self) -> None:
        if self._loaded:
            self.spark.catalog.dropTempView(self._view)
            self._frame.unpersist()

    def table(self, resource: str) -> str:
        if self.source.raw:
            self._load_files()
            return f"(SELECT resource FROM {self._view} WHERE type = '{resource}')"
        path = self.source.parquet.get(resource)
        if path is None:
            return "(SELECT CAST(NULL AS STRING) AS resource WHERE FALSE)"
        return f"parquet.`{str(path).replace('`', '``')}`"

    def _load_files(self) -> None:
        if self._loaded:
            return
        from pyspark.sql import functions as F

        frames = []
        ndjson = [str(p) for p in self.source.files if is_ndjson(p)]
        documents = [str(p) for p in self.source.files if not is_ndjson(p)]
        if ndjson:
            frames.append(self.spark.read.text(ndjson).select(F.col("value").alias("doc")))
        if documents:
            whole = self.spark.read.text(documents, wholetext=True)
            frames.append(
                whole.selectExpr(
                    "explode(CASE WHEN variant_get(parse_json(value), '$.resourceType', 'string') "
                    "= 'Bundle' THEN transform(variant_get(parse_json(value), '$.entry', "
                    "'array<variant>'), e -> to_json(variant_get(e, '$.resource'))) "
                    "ELSE array(value) END) AS doc"
                )
            )
        frame = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
        frame = frame.where("trim(doc) <> ''").selectExpr(
            "variant_get(parse_json(doc), '$.resourceType', 'string') AS type", "doc AS resource"
        )
        # Raw files serve development runs: read them once, not once per query.
        self._frame = frame.cache()
        self._frame.createOrReplaceTempView(self._view)
        self._loaded = True

    def frame(self, compiled: CompiledView) -> Any:
        try:
            return self.spark.sql(compiled.sql)
        except Exception as error:
            raise engine_error(error) from None

    def rows(self, compiled: CompiledView, limit: int | None = None) -> list[dict[str, Any]]:
        frame = self.frame(compiled)
        if limit is not None:
            frame = frame.limit(limit)
        try:
            return [row.asDict(recursive=True) for row in frame.collect()]
        except Exception as error:
            raise engine_error(error) from None

    def _iterate(self, compiled: CompiledView) -> Iterator[dict[str, Any]]:
        try:
            for row in self.frame(compiled).toLocalIterator():
                yield row.asDict(recursive=True)
        except BadRequest:
            raise
        except Exception as error:
            raise engine_error(error) from None

    def stream(self, compiled: CompiledView, fmt: str, out: IO[bytes]) -> int:
        import io

        count = 0
        names = [c.name for c in compiled.columns]
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = exports.writer(text) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(names)
        for row in self._iterate(compiled):
            count += 1
            if writer is not None:
                writer.writerow(
                    [
                        orjson.dumps(row[n]).decode() if isinstance(row[n], list) else row[n]
                        for n in names
                    ]
                )
            else:
                text.write(orjson.dumps(row, default=_json_default).decode() + "\n")
        text.flush()
        text.detach()
        return count

    def write(self, compiled: CompiledView, fmt: str, output: Path) -> int:
        with atomic_output(output) as partial:
            if fmt != "parquet":
                with partial.open("wb") as handle:
                    return self.stream(compiled, fmt, handle)
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = arrow_schema(compiled)
            count = 0
            with pq.ParquetWriter(partial, schema) as writer:
                chunk: list[dict[str, Any]] = []
                for row in self._iterate(compiled):
                    chunk.append(row)
                    if len(chunk) >= BATCH_ROWS:
                        writer.write_table(pa.Table.from_pylist(chunk, schema))
                        count += len(chunk)
                        chunk = []
                if chunk or count == 0:
                    writer.write_table(pa.Table.from_pylist(chunk, schema))
                    count += len(chunk)
            return count


def arrow_schema(compiled: CompiledView) -> Any:
    import pyarrow as pa

    base = {
        "string": pa.string(),
        "date": pa.string(),
        "dateTime": pa.string(),
        "time": pa.string(),
        "integer": pa.int64(),
        "decimal": pa.float64(),
        "boolean": pa.bool_(),
    }
    return pa.schema(
        [
            (c.name, pa.list_(base[c.type]) if c.collection else base[c.type])
            for c in compiled.columns
        ]
    )
