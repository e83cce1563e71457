"""Untyped columns take the FHIR type of the element they select, through `campus view run`.

`value.ofType(Quantity).value` is a FHIR decimal: a number in NDJSON and a DOUBLE in Parquet
(as with `"type": "decimal"`), on DuckDB and on Spark, while the boundary functions keep the
precision of the number as written. ofType() is also checked deeper in paths and inside
forEach, where the element it applies to is a choice (`answer.value`) or not (`contact.name`).
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from campus.cli import app

# Written by hand: json.dumps would drop the trailing zeros the boundaries depend on.
OBSERVATIONS = [
    r'{"resourceType": "Observation", "id": "o1", "status": "final",'
    r' "valueQuantity": {"value": 75.4364412796852, "unit": "kg"},'
    r' "component": [{"valueQuantity": {"value": 2.50}}, {"valueString": "x"}],'
    r' "referenceRange": [{"low": {"value": 1.0}, "high": {"value": 3}}]}',
    r'{"resourceType": "Observation", "id": "o2", "status": "final",'
    r' "valueQuantity": {"value": 12.500}, "component": [{"valueInteger": 4}]}',
    r'{"resourceType": "Observation", "id": "o3", "status": "final", "valueString": "7.5"}',
]
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "birthDate": "1970-03-04",
    "multipleBirthInteger": 2,
    "active": True,
    "contact": [{"name": {"family": "Martin"}}, {"name": {"family": "Petit"}}, {}],
}
QUESTIONNAIRE = {
    "resourceType": "QuestionnaireResponse",
    "id": "q1",
    "status": "completed",
    "item": [
        {
            "linkId": "1",
            "answer": [{"valueDecimal": 1.50}, {"valueString": "no"}],
            "item": [{"linkId": "1.1", "answer": [{"valueInteger": 3}]}],
        }
    ],
}

VALUES = {
    "resource": "Observation",
    "select": [
        {
            "column": [
                {"name": "id", "path": "id"},
                {"name": "value", "path": "value.ofType(Quantity).value"},
                {"name": "typed", "path": "value.ofType(Quantity).value", "type": "decimal"},
                {"name": "low", "path": "value.ofType(Quantity).value.lowBoundary()"},
                {"name": "range_low", "path": "referenceRange.first().low.value"},
                {"name": "status", "path": "status"},
            ]
        },
        {
            "forEachOrNull": "component",
            "column": [
                {"name": "part", "path": "value.ofType(Quantity).value"},
                {"name": "part_int", "path": "value.ofType(integer)"},
            ],
        },
    ],
}
EXPECTED = [
    {
        "id": "o1",
        "value": 75.4364412796852,
        "typed": 75.4364412796852,
        "low": 75.43644127968515,
        "range_low": 1.0,
        "status": "final",
        "part": 2.5,
        "part_int": None,
    },
    {
        "id": "o1",
        "value": 75.4364412796852,
        "typed": 75.4364412796852,
        "low": 75.43644127968515,
        "range_low": 1.0,
        "status": "final",
        "part": None,
        "part_int": None,
    },
    {
        "id": "o2",
        "value": 12.5,
        "typed": 12.5,
        "low": 12.4995,
        "range_low": None,
        "status": "final",
        "part": None,
        "part_int": 4,
    },
    {
        "id": "o3",
        "value": None,
        "typed": None,
        "low": None,
        "range_low": None,
        "status": "final",
        "part": None,
        "part_int": None,
    },
]


@pytest.fixture
def inputs(tmp_path):
    path = tmp_path / "resources.ndjson"
    lines = [*OBSERVATIONS, json.dumps(PATIENT), json.dumps(QUESTIONNAIRE)]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def run(tmp_path, view, inputs, fmt, engine="duckdb"):
    view_file = tmp_path / "view.json"
    view_file.write_text(json.dumps(view), encoding="utf-8")
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            *("view", "run", str(view_file), "--input", str(inputs), "--format", fmt),
            *("--engine", engine, "--output", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def ndjson(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _check_values(tmp_path, inputs, engine):
    rows = ndjson(run(tmp_path, VALUES, inputs, "ndjson", engine))
    assert sorted(rows, key=lambda r: (r["id"], r["part"] is None)) == EXPECTED
    table = pq.read_table(run(tmp_path, VALUES, inputs, "parquet", engine))
    schema = table.schema
    for name in ("value", "typed", "low", "range_low", "part"):
        assert schema.field(name).type == pa.float64(), name
    assert schema.field("part_int").type == pa.int64()
    assert schema.field("status").type == pa.string()
    assert sorted(v for v in table.column("value").to_pylist() if v is not None) == [
        12.5,
        75.4364412796852,
        75.4364412796852,
    ]


def test_an_untyped_decimal_is_a_number_in_ndjson_and_a_double_in_parquet(tmp_path, inputs):
    _check_values(tmp_path, inputs, "duckdb")


@pytest.mark.spark
@pytest.mark.slow
def test_an_untyped_decimal_is_typed_the_same_on_spark(tmp_path, inputs):
    pytest.importorskip("pyspark")
    _check_values(tmp_path, inputs, "spark")


PATIENT_VIEW = {
    "resource": "Patient",
    "select": [
        {
            "column": [
                {"name": "born", "path": "birthDate"},
                {"name": "twins", "path": "multipleBirth.ofType(integer)"},
                {"name": "active", "path": "active"},
                {"name": "families", "path": "contact.name.ofType(HumanName).family"},
                {"name": "nothing", "path": "contact.name.ofType(Address).city"},
            ]
        },
        {
            "forEach": "contact",
            "column": [
                {"name": "family", "path": "name.ofType(HumanName).family"},
                {"name": "typed_as", "path": "name.ofType(HumanName).exists()"},
            ],
        },
    ],
}


def test_of_type_deeper_in_a_path_and_inside_for_each(tmp_path, inputs):
    view = json.loads(json.dumps(PATIENT_VIEW))
    view["select"][0]["column"][3]["collection"] = True
    view["select"][0]["column"][4]["collection"] = True
    rows = ndjson(run(tmp_path, view, inputs, "ndjson"))
    assert rows == [
        {
            "born": "1970-03-04",
            "twins": 2,
            "active": True,
            "families": ["Martin", "Petit"],
            "nothing": [],
            "family": family,
            "typed_as": family is not None,
        }
        for family in ("Martin", "Petit", None)
    ]


QUESTIONNAIRE_VIEW = {
    "resource": "QuestionnaireResponse",
    "select": [
        {
            "repeat": ["item"],
            "column": [{"name": "link", "path": "linkId"}],
            "select": [
                {
                    "forEachOrNull": "answer",
                    "column": [
                        {"name": "number", "path": "value.ofType(decimal)"},
                        {"name": "count", "path": "value.ofType(integer)"},
                        {"name": "text", "path": "value.ofType(string)"},
                    ],
                }
            ],
        }
    ],
}


def test_of_type_on_a_choice_inside_repeat_and_for_each(tmp_path, inputs):
    rows = ndjson(run(tmp_path, QUESTIONNAIRE_VIEW, inputs, "ndjson"))
    assert rows == [
        {"link": "1", "number": 1.5, "count": None, "text": None},
        {"link": "1", "number": None, "count": None, "text": "no"},
        {"link": "1.1", "number": None, "count": 3, "text": None},
    ]
    table = pq.read_table(run(tmp_path, QUESTIONNAIRE_VIEW, inputs, "parquet"))
    assert table.schema.field("number").type == pa.float64()
    assert table.schema.field("count").type == pa.int64()
