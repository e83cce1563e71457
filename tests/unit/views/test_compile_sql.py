"""The contract the analysis engine relies on: compile_sql gives one SELECT usable as a CTE."""

import json

import duckdb
import pytest

from campus.errors import BadRequest
from campus.views import service

PATIENTS = [
    {
        "resourceType": "Patient",
        "id": "p1",
        "gender": "female",
        "birthDate": "1970-02-03",
        "name": [{"family": "A", "given": ["x", "y"]}],
    },
    {"resourceType": "Patient", "id": "p2", "gender": "male"},
]
VIEW = {
    "resource": "Patient",
    "select": [
        {
            "column": [
                {"name": "patient_id", "path": "getResourceKey()", "type": "id"},
                {"name": "gender", "path": "gender", "type": "code"},
                {"name": "given", "path": "name.given", "type": "string", "collection": True},
            ]
        },
        {"forEachOrNull": "name", "column": [{"name": "family", "path": "family"}]},
    ],
}


@pytest.fixture
def parquet(tmp_path):
    path = tmp_path / "Patient.parquet"
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id VARCHAR, resource VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(p["id"], json.dumps(p)) for p in PATIENTS])
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    return path


def test_compiled_sql_wraps_as_a_cte_over_parquet(parquet):
    sql = service.compile_sql(VIEW, tables={"Patient": f"read_parquet('{parquet}')"})
    con = duckdb.connect()
    wrapped = f"WITH v AS ({sql}) SELECT gender, count(*) AS n FROM v GROUP BY gender ORDER BY 1"
    assert con.execute(wrapped).fetchall() == [("female", 1), ("male", 1)]
    cursor = con.execute(sql)
    assert [d[0] for d in cursor.description] == ["patient_id", "gender", "given", "family"]
    rows = sorted(cursor.fetchall(), key=lambda r: r[0])
    assert rows == [("p1", "female", ["x", "y"], "A"), ("p2", "male", [], None)]


def test_compile_sql_for_spark_is_spark_sql():
    sql = service.compile_sql(VIEW, tables={"Patient": "patients"}, dialect="spark")
    assert "parse_json(resource)" in sql and "named_struct" in sql and "lambda" not in sql


def test_compile_sql_needs_the_table_of_the_view_resource():
    with pytest.raises(BadRequest) as caught:
        service.compile_sql(VIEW, tables={"Observation": "obs"})
    assert caught.value.where == "$.resource"


def test_a_runtime_cardinality_error_names_the_column(parquet):
    bad = {"resource": "Patient", "select": [{"column": [{"name": "g", "path": "name.given"}]}]}
    sql = service.compile_sql(bad, tables={"Patient": f"read_parquet('{parquet}')"})
    with pytest.raises(duckdb.Error, match="column 'g'"):
        duckdb.connect().execute(sql).fetchall()
