"""Malformed analysis and view definitions answer 400 with a `where`, never 500 (finding 7).

Each case used to crash somewhere past validation (DuckDB on `width: Infinity` or a NaN
edge, Python's integer conversion limit on a 4,300-digit number, the recursion limit on deep
nesting, a mixed list compared as text): sent through the API as a researcher would.
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.helpers import make_account
from tests.integration.analysis import warehouse

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@pytest.fixture
def researcher(client, db):
    make_account(db, "chercheuse@example.org", "member")
    client.login("chercheuse@example.org")
    return client


DEEP = 100_000
BASE = {
    "title": "bad",
    "dataset": warehouse.DATASET,
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": {"view": "patients"},
    "outputs": [{"type": "counts", "name": "by_sex", "group_by": ["gender"]}],
}
YAML_HEAD = (
    f"title: bad\ndataset: {warehouse.DATASET}\n"
    "views: {patients: {library: patient_demographics}}\n"
)


def _with(path: str, value) -> dict:
    data = copy.deepcopy(BASE)
    if path == "width":
        data["outputs"] = [
            {"type": "counts", "name": "x", "group_by": [{"column": "birth_date", "width": value}]}
        ]
    elif path == "edges":
        data["outputs"] = [
            {
                "type": "distribution",
                "name": "x",
                "column": "birth_date",
                "quantiles": [],
                "histogram": {"edges": value},
            }
        ]
    elif path == "in":
        data["cohort"]["include"] = [{"column": "gender", "op": "in", "value": value}]
    return data


# Text sent as the definition (JSON keeps NaN and Infinity, YAML has .inf and .nan).
TEXT_CASES = {
    "width: Infinity (JSON)": (
        json.dumps(_with("width", float("inf"))),
        "outputs[0].group_by[0].width",
    ),
    "width: .inf (YAML)": (
        YAML_HEAD + "cohort: {view: patients}\n"
        "outputs: [{type: counts, name: x, group_by: [{column: birth_date, width: .inf}]}]",
        "outputs[0].group_by[0].width",
    ),
    "NaN bin edge": (json.dumps(_with("edges", [0, float("nan"), 10])), "outputs[0].histogram"),
    "Infinite bin edge": (json.dumps(_with("edges", [0, float("inf")])), "outputs[0].histogram"),
    "mixed-type in list": (json.dumps(_with("in", ["female", 1, True])), "cohort.include[0]"),
    "4,300-digit YAML integer": (
        YAML_HEAD
        + "cohort: {view: patients, include: [{column: gender, value: "
        + "9" * 4400
        + "}]}\noutputs: [{type: counts, name: x, group_by: [gender]}]",
        "analysis",
    ),
    "huge integer (JSON)": (
        json.dumps(_with("in", [10**30, 1])),
        "cohort.include[0].value",
    ),
    "100k-deep JSON": ('{"title": ' + "[" * DEEP + "]" * DEEP + "}", "analysis"),
    "100k-deep YAML": ("title: " + "[" * DEEP + "]" * DEEP, "analysis"),
}


@pytest.mark.parametrize("case", list(TEXT_CASES))
def test_bad_analysis_definitions_answer_400_with_where(researcher, case):
    text, where = TEXT_CASES[case]
    response = researcher.post("/api/v1/analyses/dummy", json={"definition": text})
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert error["where"] and error["where"].startswith(where), error


def test_a_deeply_nested_request_body_is_refused_not_crashed(researcher):
    body = '{"definition": ' + "[" * DEEP + "]" * DEEP + "}"
    response = researcher.post(
        "/api/v1/analyses/dummy", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text[:300]


VIEW = {"resourceType": "ViewDefinition", "resource": "Patient", "select": [{"column": []}]}
VIEW_CASES = {
    "NaN constant": (
        '{"resourceType": "ViewDefinition", "resource": "Patient", '
        '"constant": [{"name": "c", "valueDecimal": NaN}], '
        '"select": [{"column": [{"name": "id", "path": "id"}]}]}',
        "$.constant[0].valueDecimal",
    ),
    "huge integer constant": (
        '{"resourceType": "ViewDefinition", "resource": "Patient", '
        '"constant": [{"name": "c", "valueInteger": 1' + "0" * 40 + "}], "
        '"select": [{"column": [{"name": "id", "path": "id"}]}]}',
        "$.constant[0].valueInteger",
    ),
    "4,300-digit integer": ('{"resource": ' + "9" * 4400 + "}", "$"),
    "100k-deep JSON": ('{"select": ' + "[" * DEEP + "]" * DEEP + "}", "$"),
}


@pytest.mark.parametrize("case", list(VIEW_CASES))
def test_bad_view_definitions_answer_400_with_where(researcher, case):
    text, where = VIEW_CASES[case]
    response = researcher.post(
        "/api/v1/views/validate", content=text, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"]["where"].startswith(where)
