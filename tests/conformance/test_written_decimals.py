"""Decimal boundaries follow the precision of the number as written, on both engines.

Neither engine's JSON value keeps it (Spark's VARIANT stores 1.0 as 1, DuckDB re-writes 2.50
as 2.5), so the compiler reads it from the resource text. The resources below are written by
hand: `json.dumps` would itself drop the trailing zeros.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from campus.views import service
from campus.views.compiler import compile_view
from campus.views.engines import DuckDBEngine, SparkEngine
from campus.views.sources import file_source

LINES = [
    # Digits, colons, brackets, escaped quotes, a final escaped backslash and empty strings
    # must not be taken for numbers or change which text is inside a string.
    r'{"resourceType": "Observation", "id": "o1", "code": {"text": "a \"q\": 1.0, [2] \\"},'
    r' "valueQuantity": {"value": 1.0}, "component": [{"valueQuantity": {"value": 2.50}},'
    r' {"valueString": "7.50"}, {"valueQuantity": {"value": -0.125}}]}',
    r'{"resourceType": "Observation", "id": "o2", "code": {"text": ""},'
    r' "valueQuantity": {"value": 1.000e1},'
    r' "component": [{"valueQuantity": {"value": 3}}]}',
    r'{"resourceType": "Observation", "id": "o3", "valueQuantity": {"value": 12.5000}}',
    r'{"resourceType": "Observation", "id": "o4", "valueString": "1.0"}',
]

VIEW = {
    "resource": "Observation",
    "select": [
        {
            "column": [
                {"name": "id", "path": "id", "type": "id"},
                {"name": "code", "path": "code.text", "type": "string"},
                {
                    "name": "low",
                    "path": "value.ofType(Quantity).value.lowBoundary()",
                    "type": "decimal",
                },
                {"name": "high", "path": "valueQuantity.value.highBoundary()", "type": "decimal"},
            ]
        },
        {
            "forEachOrNull": "component",
            "column": [
                {
                    "name": "part_low",
                    "path": "value.ofType(Quantity).value.first().lowBoundary()",
                    "type": "decimal",
                },
                {
                    "name": "part_high",
                    "path": "valueQuantity.value.highBoundary()",
                    "type": "decimal",
                },
            ],
        },
    ],
}

CODE = 'a "q": 1.0, [2] \\'
EXPECTED = [
    ("o1", CODE, 0.95, 1.05, -0.1255, -0.1245),  # 1.0 and -0.125
    ("o1", CODE, 0.95, 1.05, 2.495, 2.505),  # 2.50
    ("o1", CODE, 0.95, 1.05, None, None),  # a string component
    ("o2", "", 9.995, 10.005, 2.5, 3.5),  # 1.000e1 is 10.00; 3 is an integer
    ("o3", None, 12.49995, 12.50005, None, None),  # 12.5000
    ("o4", None, None, None, None, None),
]


@pytest.fixture
def source(tmp_path: Path):
    path = tmp_path / "observations.ndjson"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return file_source([path])


def rows_on(engine, dialect: str) -> list[tuple]:
    definition = service.validate(VIEW)
    compiled = compile_view(definition, engine.table("Observation"), dialect)
    names = [c.name for c in compiled.columns]
    return sorted(
        (tuple(row[n] for n in names) for row in engine.rows(compiled)),
        key=lambda r: (r[0], r[4] is None, r[4] or 0),
    )


def check(rows: list[tuple]) -> None:
    assert len(rows) == len(EXPECTED)
    for got, want in zip(rows, EXPECTED, strict=True):
        assert got[:2] == want[:2]
        assert got[2:] == tuple(None if w is None else pytest.approx(w) for w in want[2:]), got


def test_decimal_boundaries_use_the_written_precision_on_duckdb(source):
    engine = DuckDBEngine(source)
    try:
        check(rows_on(engine, "duckdb"))
    finally:
        engine.close()


@pytest.mark.spark
def test_decimal_boundaries_use_the_written_precision_on_spark(source, spark):
    engine = SparkEngine(source, session=spark)
    try:
        check(rows_on(engine, "spark"))
    finally:
        engine.close()


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_only_views_with_a_decimal_boundary_read_the_written_numbers(dialect):
    plain = {"resource": "Observation", "select": [{"column": [{"name": "id", "path": "id"}]}]}
    assert "__w" not in service.compile_sql(plain, tables={"Observation": "t"}, dialect=dialect)
    sql = service.compile_sql(VIEW, tables={"Observation": "t"}, dialect=dialect)
    assert "AS __w" in sql
