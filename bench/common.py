"""Helpers shared by the benchmarks: a scratch PostgreSQL database, percentiles, and copies of
a warehouse version with fresh ids (the analysis, Spark and federation benches)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
from sqlalchemy import create_engine, text

from campus.warehouse import layout

PG_ADMIN_URL = os.environ.get(
    "CAMPUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin(statements: list[str]) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    admin.dispose()


def create_database(name: str) -> str:
    """A fresh, empty PostgreSQL database (dropped first if left over); returns its URL."""
    _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'])
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def sql_path(path: Path) -> str:
    """A path as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def scan(table: Path) -> str:
    """DuckDB's read of a table, a Parquet file or a folder of part files."""
    return "read_parquet([" + ", ".join(sql_path(p) for p in layout.files(table)) + "])"


def replicate(
    source: layout.DatasetVersion, root: Path, name: str, start: int, stop: int
) -> tuple[Path, int]:
    """Copies start..stop-1 of a version as dataset `name` v0001, ids suffixed `-r<k>` and
    references to patients rewritten so joins hold; returns its folder and resource count.

    Real tables are written one file a type; the dummy twin is copied as it is. Kept between
    runs (a marker names the copies)."""
    folder = root / name / "versions" / "v0001"
    marker = folder / f".copies-{start}-{stop}"
    # Bounded memory: at 50M resources an unbounded COPY that keeps the rows' order held
    # 19 GB before the system killed it; the copies' order does not matter.
    con = duckdb.connect(
        config={"threads": 2, "memory_limit": "3GB", "preserve_insertion_order": False}
    )
    if not marker.exists():
        shutil.rmtree(root / name, ignore_errors=True)
        for kind in ("real", "dummy"):
            (folder / kind).mkdir(parents=True, exist_ok=True)
        own = """replace(resource, '"' || id || '"', '"' || id || '-r' || k || '"')"""
        ref = "'Patient/' || patient || '\"'"
        new_ref = "'Patient/' || patient || '-r' || k || '\"'"
        for table, path in source.tables("real").items():
            con.execute(
                f"""COPY (SELECT id || '-r' || k AS id,
                    CASE WHEN patient IS NULL THEN NULL ELSE patient || '-r' || k END AS patient,
                    effective, code,
                    CASE WHEN patient IS NULL THEN {own}
                      ELSE replace({own}, {ref}, {new_ref}) END AS resource
                  FROM {scan(path)}, range({start}, {stop}) t(k))
                  TO {sql_path(folder / "real" / (table + ".parquet"))}
                  (FORMAT parquet, COMPRESSION zstd)"""
            )
            dummy = source.tables("dummy").get(table)
            if dummy is not None:
                con.execute(
                    f"COPY (SELECT * FROM {scan(dummy)}) "
                    f"TO {sql_path(folder / 'dummy' / (table + '.parquet'))} (FORMAT parquet)"
                )
        con.execute(
            f"""COPY (SELECT optout_key || '-r' || k AS optout_key, patient || '-r' || k AS patient
                FROM {scan(source.optout_keys)}, range({start}, {stop}) t(k))
                TO {sql_path(folder / "optout_keys.parquet")} (FORMAT parquet)"""
        )
        (folder / "manifest.json").write_text(json.dumps({"dataset": name, "version": "v0001"}))
        marker.touch()
    tables = layout.tables_in(folder / "real").values()
    total = con.execute(
        "SELECT count(*) FROM read_parquet([" + ", ".join(sql_path(p) for p in tables) + "])"
    ).fetchone()[0]
    con.close()
    return folder, int(total)


def resources_per_copy(source: layout.DatasetVersion) -> int:
    """How many resources one copy of a version's real tables holds."""
    return sum(layout.rows(path) for path in source.tables("real").values())
