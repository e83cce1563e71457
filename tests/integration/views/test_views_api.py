"""The views API and the view editor page: validate, compile, preview on the dummy twin."""

import pytest

from campus.views import service
from tests.helpers import make_account
from tests.integration.views.helpers import build_version


@pytest.fixture
def researcher(client, db):
    make_account(db, "rita@example.org", "researcher")
    client.login("rita@example.org")
    return client


@pytest.fixture
def dataset(settings, hospital_bundles):
    files = [f for f in hospital_bundles if "Information" not in f.name][:2]
    build_version(files, settings.warehouse_path, "synthea")
    return "synthea"


def test_views_need_a_signed_in_researcher_or_member(client):
    view = service.library()["conditions"]
    assert client.post("/api/v1/views/validate", json=view).status_code == 401
    assert client.get("/views", follow_redirects=False).status_code in (401, 302, 303, 307)


def test_validate_and_compile_return_columns_and_sql(researcher):
    view = service.library()["encounters"]
    body = researcher.post("/api/v1/views/validate", json=view).json()
    assert body["valid"] and body["resource"] == "Encounter"
    assert body["columns"][0] == {"name": "encounter_id", "type": "id", "collection": False}
    compiled = researcher.post("/api/v1/views/compile?dialect=spark", json=view).json()
    assert compiled["dialect"] == "spark" and "parse_json" in compiled["sql"]


def test_unknown_elements_come_back_as_warnings_unless_strict(researcher, dataset):
    view = {"resource": "Patient", "select": [{"column": [{"name": "f", "path": "name.famly"}]}]}
    warning = {
        "code": "unknown_element",
        "where": "$.select[0].column[0].path",
        "message": "HumanName has no element 'famly'; did you mean 'family'? (in 'name.famly')",
    }
    body = researcher.post("/api/v1/views/validate", json=view).json()
    assert body["valid"] and body["warnings"] == [warning]
    assert researcher.post("/api/v1/views/compile", json=view).json()["warnings"] == [warning]
    preview = researcher.post("/api/v1/views/preview", json={"view": view, "dataset": dataset})
    assert preview.status_code == 200 and preview.json()["warnings"] == [warning]
    for route in ("validate", "compile"):
        refused = researcher.post(f"/api/v1/views/{route}?strict=true", json=view)
        assert refused.status_code == 400
        assert refused.json()["error"]["where"] == warning["where"]
    refused = researcher.post(
        "/api/v1/views/preview?strict=true", json={"view": view, "dataset": dataset}
    )
    assert refused.status_code == 400 and "did you mean 'family'" in refused.text


def test_bad_views_get_a_400_with_the_json_path(researcher):
    bad = {"resource": "Patient", "select": [{"column": [{"name": "x", "path": "name.first("}]}]}
    response = researcher.post("/api/v1/views/validate", json=bad)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["where"] == "$.select[0].column[0].path" and "syntax error" in error["message"]
    response = researcher.post(
        "/api/v1/views/validate", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


def test_preview_runs_on_the_dummy_twin(researcher, dataset):
    view = service.library()["patient_demographics"]
    response = researcher.post(
        "/api/v1/views/preview", json={"view": view, "dataset": dataset, "limit": 5}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dataset"].endswith("/dummy") and len(body["rows"]) == 2
    assert [c["name"] for c in body["columns"]][:2] == ["patient_id", "gender"]
    missing = researcher.post("/api/v1/views/preview", json={"view": view, "dataset": "nope"})
    assert missing.status_code == 404


def test_the_library_lists_the_example_views(researcher):
    names = {v["name"] for v in researcher.get("/api/v1/views/library").json()}
    assert "observations" in names
    assert researcher.get("/api/v1/views/library/observations").json()["resource"] == "Observation"
    assert researcher.get("/api/v1/views/library/nope").status_code == 404


def test_the_editor_page_validates_shows_sql_and_previews(researcher, dataset):
    page = researcher.get("/views?example=conditions")
    assert page.status_code == 200 and "Condition" in page.text
    view = service.library()["patient_demographics"]
    import json

    shown = researcher.post(
        "/views",
        data={
            "view": json.dumps(view),
            "dataset": dataset,
            "action": "preview",
            "csrf_token": researcher.csrf(),
        },
    )
    assert shown.status_code == 200
    assert 'data-testid="view-sql"' in shown.text and 'data-testid="view-preview"' in shown.text
    broken = researcher.post(
        "/views", data={"view": "{", "action": "validate", "csrf_token": researcher.csrf()}
    )
    assert broken.status_code == 400 and 'data-testid="view-error"' in broken.text
    typo = {"resource": "Patient", "select": [{"column": [{"name": "f", "path": "name.famly"}]}]}
    warned = researcher.post(
        "/views",
        data={"view": json.dumps(typo), "action": "validate", "csrf_token": researcher.csrf()},
    )
    assert warned.status_code == 200 and 'data-testid="view-warnings"' in warned.text
    assert "did you mean &#39;family&#39;?" in warned.text
