"""Run the SQL on FHIR v2 conformance cases through Campus engines and compare as the spec says.

Each case goes through the function `campus view run` calls (`service.run_to_stream`, with the
CLI's defaults: element warnings, not strict), over the file's resources written to an NDJSON
file and read by the same `--input` loader users have, and its NDJSON output is read back:
rows compared as multisets of canonical JSON, lists in order, `expectColumns` checked in order,
`expectError` met by a validation or an execution error.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from campus.errors import CampusError
from campus.views import service
from campus.views.sources import Source, file_source


@dataclass(frozen=True)
class Case:
    file: str
    title: str
    tags: tuple[str, ...]
    view: Any
    expect: list[dict[str, Any]] | None
    expect_error: bool
    expect_columns: list[str] | None


def load_suite(folder: Path) -> dict[str, tuple[list[dict[str, Any]], list[Case]]]:
    suite = {}
    for path in sorted(folder.glob("*.json")):
        if path.name == "tests.schema.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        cases = [
            Case(
                path.name,
                t["title"],
                tuple(t.get("tags", ())),
                t["view"],
                t.get("expect"),
                bool(t.get("expectError")),
                t.get("expectColumns"),
            )
            for t in data["tests"]
        ]
        suite[path.name] = (data["resources"], cases)
    return suite


def write_resources(resources: list[dict[str, Any]], folder: Path) -> Path:
    path = folder / "resources.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(
        json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True) for row in rows
    )


ROWS: dict[tuple[str, str, str], list[str]] = {}


def run_case(case: Case, source: Source, engine: str) -> tuple[bool, str]:
    """(passed, reason) of one case run as `campus view run --format ndjson` runs it.

    The canonical rows are kept in ROWS[(engine, file, title)] for the cross-engine check.
    """
    out = io.BytesIO()
    try:
        result = service.run_to_stream(case.view, source, out, engine=engine, fmt="ndjson")
    except CampusError as error:
        if case.expect_error:
            return True, ""
        return False, f"error: {error.message}"
    if case.expect_error:
        return False, "expected an error, the view ran"
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    columns = result.columns
    ROWS[(engine, case.file, case.title)] = [json.dumps(columns), *canonical(rows)]
    if case.expect_columns is not None and columns != case.expect_columns:
        return False, f"columns {columns} instead of {case.expect_columns}"
    if canonical(rows) != canonical(case.expect or []):
        return False, f"rows {rows} instead of {case.expect}"
    return True, ""


def run_file(
    resources: list[dict[str, Any]], cases: list[Case], folder: Path, engine: str
) -> list[tuple[Case, bool, str]]:
    source = file_source([write_resources(resources, folder)])
    return [(case, *run_case(case, source, engine)) for case in cases]


def report(results: list[tuple[Case, bool, str]]) -> dict[str, Any]:
    """The implementation report shape: file -> {"tests": [{"name", "result": {...}}]}."""
    out: dict[str, Any] = {}
    for case, passed, reason in results:
        result: dict[str, Any] = {"passed": passed}
        if reason:
            result["reason"] = reason[:1000]
        out.setdefault(case.file, {"tests": []})["tests"].append(
            {"name": case.title, "tags": list(case.tags), "result": result}
        )
    return out
