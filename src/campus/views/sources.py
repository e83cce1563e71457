"""Where a view reads its resources: warehouse Parquet tables, or raw FHIR files.

Warehouse dataset versions are Parquet files with a `resource` JSON text column (see
`campus.warehouse.layout`). Raw FHIR files (Bulk Data NDJSON, or JSON files holding a Bundle
or one resource) are loaded by the engine itself into a table of the same shape, in memory,
for development and conformance work: nothing is pseudonymised and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from campus.errors import BadRequest, NotFound
from campus.warehouse import layout

NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
JSON_SUFFIXES = (".json", ".json.gz")


@dataclass(frozen=True)
class Source:
    """Resource tables: `parquet` maps a resource type to its Parquet file; `files` are raw FHIR."""

    parquet: dict[str, Path] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    label: str = ""

    @property
    def raw(self) -> bool:
        return bool(self.files)


def dataset_source(
    warehouse: Path, dataset: str, version: str | None = None, *, dummy: bool = False
) -> Source:
    """The tables of a published dataset version (or of its dummy twin)."""
    try:
        found = layout.resolve(warehouse, dataset, version)
    except ValueError as error:
        raise NotFound(str(error), code="dataset_not_found", where="dataset") from None
    kind = "dummy" if dummy else "real"
    return Source(parquet=found.tables(kind), label=f"{dataset}/{found.version}/{kind}")


def file_source(paths: list[Path]) -> Source:
    """Raw FHIR files, checked to exist and to have a known format."""
    if not paths:
        raise BadRequest("give at least one FHIR file with --input", where="input")
    checked = []
    for path in paths:
        if not path.is_file():
            raise NotFound(f"no such file: {path}", code="file_not_found", where=str(path))
        name = path.name.lower()
        if not name.endswith(NDJSON_SUFFIXES + JSON_SUFFIXES):
            raise BadRequest(
                f"{path.name}: give .ndjson (Bulk Data) or .json (a Bundle or one resource) files",
                code="unknown_format",
                where=str(path),
            )
        checked.append(path)
    return Source(files=tuple(checked), label=f"{len(checked)} file(s)")


def is_ndjson(path: Path) -> bool:
    return path.name.lower().endswith(NDJSON_SUFFIXES)


def sql_path(path: Path) -> str:
    """A file path as a SQL string literal (single quotes doubled)."""
    return "'" + str(path).replace("'", "''") + "'"
