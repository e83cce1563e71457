"""Build warehouse-shaped dataset versions (Parquet, `resource` JSON text) from raw FHIR files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from campus.views.engines import DuckDBEngine
from campus.views.sources import file_source, sql_path


def build_version(files: list[Path], warehouse: Path, dataset: str, version: str = "v0001") -> Path:
    """Write `<warehouse>/<dataset>/versions/<version>/{real,dummy}/<Type>.parquet`."""
    folder = warehouse / dataset / "versions" / version
    engine = DuckDBEngine(file_source(files))
    try:
        engine.table("Patient")  # loads the files
        con: duckdb.DuckDBPyConnection = engine.con
        types = [row[0] for row in con.execute("SELECT DISTINCT type FROM __input").fetchall()]
        for kind in ("real", "dummy"):
            (folder / kind).mkdir(parents=True, exist_ok=True)
            for resource_type in types:
                target = folder / kind / f"{resource_type}.parquet"
                con.execute(
                    "COPY (SELECT id, regexp_extract(coalesce("
                    "json_extract_string(resource, '$.subject.reference'), "
                    "json_extract_string(resource, '$.patient.reference')), '[^/:]+$') AS patient, "
                    "CAST(NULL AS VARCHAR) AS effective, CAST(NULL AS VARCHAR) AS code, resource "
                    f"FROM __input WHERE type = '{resource_type}') TO {sql_path(target)} "
                    "(FORMAT parquet)"
                ).fetchall()
    finally:
        engine.close()
    (folder / "manifest.json").write_text(json.dumps({"dataset": dataset, "version": version}))
    return folder
