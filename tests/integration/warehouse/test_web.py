"""The warehouse through the API and pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json

from sqlalchemy import select

from campus.governance import optout
from tests.helpers import audit_events, make_account
from tests.unit.warehouse.samples import NIR, observation, small_bundle


def _steward(client, db, email="steward@example.org", *roles):
    make_account(db, email, "data_steward", *roles)
    client.login(email)


def _upload(client, data: bytes, filename="bundle.json", name="hopital", **params):
    return client.post(
        f"/api/v1/datasets/{name}/upload",
        params={"filename": filename, **params},
        content=data,
        headers={"content-type": "application/octet-stream"},
    )


def test_a_steward_uploads_a_bundle_and_the_catalogue_shows_it(client, db):
    _steward(client, db, "steward@example.org", "member")
    response = _upload(client, json.dumps(small_bundle()).encode())
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["version"] == "v0001" and report["landed"]["Observation"] == 2
    listed = client.get("/api/v1/datasets").json()
    assert listed[0]["name"] == "hopital" and listed[0]["versions"][0]["resources"] == 4
    manifest = client.get("/api/v1/datasets/hopital/versions/v0001").json()
    assert manifest["counts"]["Patient"] == 1
    public = client.get("/api/v1/catalogue").json()
    assert public[0]["types"]["Observation"]["count"] == "<10"
    assert "top_codes" not in public[0]["types"]["Observation"]
    detail = client.get("/api/v1/catalogue/hopital").json()
    assert "http://loinc.org" in detail["types"]["Observation"]["top_codes"]
    dummy = client.get("/api/v1/datasets/hopital/dummy/Patient").json()
    assert dummy["total"] == 1 and set(dummy["rows"][0]) == {
        "id",
        "patient",
        "effective",
        "code",
        "resource",
    }
    actions = {e.action for e in audit_events(db)}
    assert {"dataset.create", "dataset.ingest"} <= actions


def test_gzip_ndjson_upload_and_drop_of_a_version(client, db):
    _steward(client, db)
    lines = b"\n".join(json.dumps(observation(f"o{i}", "Patient/p")).encode() for i in range(3))
    assert _upload(client, gzip.compress(lines), "Observation.ndjson.gz").status_code == 201
    assert _upload(client, lines, "Observation.ndjson").json()["version"] == "v0002"
    assert client.delete("/api/v1/datasets/hopital/versions/v0001").status_code == 204
    versions = client.get("/api/v1/datasets/hopital").json()["versions"]
    assert [v["version"] for v in versions] == ["v0002"]
    assert client.delete("/api/v1/datasets/hopital/versions/v0001").status_code == 404


def test_bad_uploads_get_clear_errors_and_publish_nothing(client, db, settings):
    _steward(client, db)
    wrong_name = _upload(client, b"{}", "notes.txt")
    assert wrong_name.status_code == 400
    assert wrong_name.json()["error"]["where"] == "filename"
    aborted = _upload(client, b'{"resourceType": "Nope"}\n', "x.ndjson", on_error="abort")
    assert aborted.status_code == 422
    assert aborted.json()["report"]["problems"][0]["line"] == 1
    settings.max_upload_bytes = 100
    too_big = _upload(client, b" " * 1000, "big.json")
    assert too_big.status_code == 413
    assert client.get("/api/v1/datasets/hopital").json()["versions"] == []
    assert list((settings.var_dir / "uploads").iterdir()) == []


def test_permissions_follow_the_roles(client, db):
    make_account(db, "member@example.org", "member")
    assert client.get("/api/v1/catalogue").status_code == 200
    assert client.get("/api/v1/catalogue/x").status_code == 401
    client.login("member@example.org")
    assert _upload(client, b"{}").status_code == 403
    assert client.get("/api/v1/datasets").status_code == 403


def test_a_steward_of_another_organisation_may_not_touch_a_dataset(client, db):
    make_account(db, "a@example.org", "data_steward", scope=("organisation", "org-a"))
    client.login("a@example.org")
    with db.session() as session:
        from campus.auth.actor import SYSTEM
        from campus.warehouse import service

        service.create_dataset(session, SYSTEM, "other", owner_org="org-b")
    response = _upload(client, json.dumps(small_bundle()).encode(), name="other")
    assert response.status_code == 403


def test_the_opt_out_registry_is_honoured_by_uploads(client, db, settings):
    with db.session() as session:
        receipt = optout.add(session, settings, "nir", NIR, "account:dpo")
        assert receipt.receipt.startswith("OPT-") and not receipt.already_registered
        assert optout.add(session, settings, "nir", NIR, "account:dpo").already_registered
        assert optout.is_registered(session, settings, "nir", NIR)
        stored = session.scalars(select(optout.OptOut)).all()
    assert len(stored) == 1 and NIR not in json.dumps([s.key for s in stored])
    _steward(client, db)
    report = _upload(client, json.dumps(small_bundle()).encode())
    assert report.status_code == 422
    assert report.json()["report"]["dropped_optout"] == 4


def test_pages_upload_list_and_show_the_catalogue(client, db):
    _steward(client, db, "s@example.org", "member")
    assert "Déposer des données FHIR" in client.get("/datasets/upload").text
    response = client.post(
        "/datasets/upload",
        data={"dataset": "hopital", "on_error": "skip", "csrf_token": client.csrf()},
        files={"file": ("bundle.json", json.dumps(small_bundle()).encode(), "application/json")},
    )
    assert response.status_code == 201 and "Version publiée" in response.text
    assert "v0001" in client.get("/datasets").text
    assert "Catalogue de données" in client.get("/catalogue").text
    detail = client.get("/catalogue/hopital")
    assert detail.status_code == 200 and "http://loinc.org" in detail.text
    dropped = client.post("/datasets/hopital/versions/v0001/drop", follow_redirects=False)
    assert dropped.status_code == 303
    assert "v0001" not in client.get("/datasets").text
    bad = client.post(
        "/datasets/upload",
        data={"dataset": "hopital", "csrf_token": client.csrf()},
        files={"file": ("bundle.txt", b"{}", "text/plain")},
    )
    assert bad.status_code == 400 and "alert" in bad.text
