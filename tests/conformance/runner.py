"""Run the SQL on FHIR v2 conformance cases through Campus engines and compare as the spec says.

One context per test file (its resources loaded once, from an NDJSON file through the same
`--input` loader users have); rows compared as multisets of canonical JSON, lists in order,
`expectColumns` checked in order, `expectError` met by a validation or an execution error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from campus.errors import CampusError
from campus.views import service
from campus.views.compiler import compile_view
from campus.views.sources import file_source


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


def run_case(case: Case, engine: Any) -> tuple[bool, str]:
    """(passed, reason) of one case on an engine that has the file's resources loaded.

    The canonical rows are kept in ROWS[(engine, file, title)] for the cross-engine check.
    """
    dialect = "spark" if engine.name == "spark" else "duckdb"
    try:
        # The suite reads elements its resources lack and expects empty rows (repeat.json,
        # 'empty expression'): run it with the specification's runtime semantics.
        definition = service.validate(case.view, check_elements=False)
        compiled = compile_view(definition, engine.table(definition.resource), dialect)
        rows = engine.rows(compiled)
    except CampusError as error:
        if case.expect_error:
            return True, ""
        return False, f"error: {error.message}"
    if case.expect_error:
        return False, "expected an error, the view ran"
    columns = [c.name for c in compiled.columns]
    ROWS[(engine.name, case.file, case.title)] = [json.dumps(columns), *canonical(rows)]
    if case.expect_columns is not None and columns != case.expect_columns:
        return False, f"columns {columns} instead of {case.expect_columns}"
    if canonical(rows) != canonical(case.expect or []):
        return False, f"rows {rows} instead of {case.expect}"
    return True, ""


def run_file(
    resources: list[dict[str, Any]], cases: list[Case], folder: Path, make_engine: Any
) -> list[tuple[Case, bool, str]]:
    engine = make_engine(file_source([write_resources(resources, folder)]))
    try:
        return [(case, *run_case(case, engine)) for case in cases]
    finally:
        engine.close()


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
