"""The warehouse through the API and pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from urllib.parse import quote

from sqlalchemy import select

from campus.optout import service as optout
from tests.helpers import audit_events, make_account
from tests.unit.warehouse.samples import NIR, observation, small_bundle


def _steward(client, db, email="steward@example.org", *roles):
    make_account(db, email, "data_steward", *roles)
    client.login(email)


def _upload(client, data: bytes, filename="bundle.json", name="hopital", **params):
    return client.post(
        f"/api/v1/datasets/{name}/upload",
        params=params,
        content=data,
        headers={"content-type": "application/octet-stream", "x-filename": quote(filename)},
    )


def _dataset(db, name: str, owner_org: str) -> None:
    from campus.auth.actor import SYSTEM
    from campus.warehouse import service

    with db.session() as session:
        service.create_dataset(session, SYSTEM, name, owner_org=owner_org)


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
    # 2 Observations: their code is rare, so it is not listed (as in the dummy twin).
    assert detail["types"]["Observation"]["top_codes"] == {}
    # 2 Observations: neither their number nor a share of them shows.
    observations = detail["types"]["Observation"]
    assert observations["completeness_sample"] == "<10"
    assert observations["completeness"] == {} and observations["with_patient"] is None
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
    _dataset(db, "other", "org-b")
    response = _upload(client, json.dumps(small_bundle()).encode(), name="other")
    assert response.status_code == 403


def test_a_steward_scoped_to_the_owner_organisation_ingests_reads_and_drops_its_dataset(client, db):
    make_account(db, "a@example.org", "data_steward", scope=("organisation", "org-a"))
    _dataset(db, "mine", "org-a")
    client.login("a@example.org")
    uploaded = _upload(client, json.dumps(small_bundle()).encode(), name="mine")
    assert uploaded.status_code == 201, uploaded.text
    assert [d["name"] for d in client.get("/api/v1/datasets").json()] == ["mine"]
    assert client.get("/api/v1/datasets/mine").json()["owner_org"] == "org-a"
    assert client.get("/api/v1/datasets/mine/versions/v0001").status_code == 200
    assert client.get("/datasets").status_code == 200
    assert client.get("/datasets/upload").status_code == 200
    page = client.post(
        "/datasets/upload",
        data={"dataset": "mine", "csrf_token": client.csrf()},
        files={"file": ("bundle.json", json.dumps(small_bundle()).encode(), "application/json")},
    )
    assert page.status_code == 201, page.text
    assert client.delete("/api/v1/datasets/mine/versions/v0001").status_code == 204
    dropped = client.post("/datasets/mine/versions/v0002/drop", follow_redirects=False)
    assert dropped.status_code == 303


def test_a_scoped_steward_is_refused_every_route_of_another_organisations_dataset(client, db):
    make_account(db, "a@example.org", "data_steward", scope=("organisation", "org-a"))
    make_account(db, "b@example.org", "data_steward", scope=("organisation", "org-b"))
    _dataset(db, "theirs", "org-b")
    client.login("b@example.org")
    assert _upload(client, json.dumps(small_bundle()).encode(), name="theirs").status_code == 201
    client.login("a@example.org")
    assert _upload(client, json.dumps(small_bundle()).encode(), name="theirs").status_code == 403
    assert client.get("/api/v1/datasets/theirs").status_code == 403
    assert client.get("/api/v1/datasets/theirs/versions/v0001").status_code == 403
    assert client.delete("/api/v1/datasets/theirs/versions/v0001").status_code == 403
    dropped = client.post("/datasets/theirs/versions/v0001/drop", follow_redirects=False)
    assert dropped.status_code == 403
    page = client.post(
        "/datasets/upload",
        data={"dataset": "theirs", "csrf_token": client.csrf()},
        files={"file": ("bundle.json", json.dumps(small_bundle()).encode(), "application/json")},
    )
    assert page.status_code == 403
    # A dataset with no owner organisation is for global stewards only, as in the service.
    assert _upload(client, json.dumps(small_bundle()).encode(), name="new").status_code == 403
    client.login("b@example.org")
    assert [v["version"] for v in client.get("/api/v1/datasets/theirs").json()["versions"]] == [
        "v0001"
    ]


def test_the_upload_takes_its_file_name_from_a_header_never_from_the_url(client, db, settings):
    """File names can hold patient names (Synthea's do), and URLs reach access logs."""
    _steward(client, db)
    secret_name = "Aleta_Wintheiser_58c297c4.json"
    in_url = client.post(
        "/api/v1/datasets/hopital/upload",
        params={"filename": secret_name},
        content=json.dumps(small_bundle()).encode(),
        headers={"content-type": "application/octet-stream"},
    )
    assert in_url.status_code == 400
    assert in_url.json()["error"]["where"] == "X-Filename"
    accented = _upload(client, b'{"resourceType": "Nope"}\n', "Zoé_Müller.ndjson", on_error="abort")
    assert accented.status_code == 422
    assert accented.json()["report"]["problems"][0]["file"] == "Zo__M_ller.ndjson"
    operation = client.get("/api/v1/openapi.json").json()["paths"][
        "/api/v1/datasets/{name}/upload"
    ]["post"]
    names = {(p["in"], p["name"].lower()) for p in operation["parameters"]}
    assert ("header", "x-filename") in names
    assert not {n for where, n in names if where == "query"} & {"filename", "file", "name"}


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
    assert "dropped_optout" not in report.json()["report"]  # opted-out counts are the DPO's


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
    assert detail.status_code == 200 and "Patient" in detail.text
    assert "http://loinc.org" not in detail.text  # a rare code is not listed
    assert "échantillon de" not in detail.text
    dropped = client.post("/datasets/hopital/versions/v0001/drop", follow_redirects=False)
    assert dropped.status_code == 303
    assert "v0001" not in client.get("/datasets").text
    bad = client.post(
        "/datasets/upload",
        data={"dataset": "hopital", "csrf_token": client.csrf()},
        files={"file": ("bundle.txt", b"{}", "text/plain")},
    )
    assert bad.status_code == 400 and "alert" in bad.text


# --- the permission matrix (docs/warehouse.md, campus.auth.policy) ---------------------------

_READS = {
    "public catalogue": "/api/v1/catalogue",
    "public catalogue page": "/catalogue",
    "catalogue detail": "/api/v1/catalogue/open",
    "catalogue detail page": "/catalogue/open",
    "dummy twin": "/api/v1/datasets/open/dummy/Patient",
    "dataset list": "/api/v1/datasets",
    "dataset list page": "/datasets",
    "upload form": "/datasets/upload",
    "dataset": "/api/v1/datasets/open",
    "manifest": "/api/v1/datasets/open/versions/v0001",
    "org-a dataset": "/api/v1/datasets/mine",
}
_EVERYONE = {"public catalogue", "public catalogue page"}
_READERS = _EVERYONE | {"catalogue detail", "catalogue detail page"}
_STEWARD_PAGES = {"dataset list", "dataset list page", "upload form"}
# Who may read what: visitors the public summary; members, researchers (of any project) and
# data stewards the catalogue detail; members and researchers the dummy twin (`dummy.use`);
# data stewards their own datasets only; staff everything.
_MATRIX = {
    None: _EVERYONE,
    "nobody@example.org": _EVERYONE,
    "member@example.org": _READERS | {"dummy twin"},
    "project-researcher@example.org": _READERS | {"dummy twin"},
    "researcher@example.org": _READERS | {"dummy twin"},
    "org-a-steward@example.org": _READERS | _STEWARD_PAGES | {"org-a dataset"},
    "steward@example.org": set(_READS) - {"dummy twin"},
    "staff@example.org": set(_READS),
}


def test_every_warehouse_route_follows_the_permission_matrix(client, db):
    make_account(db, "steward@example.org", "data_steward")
    client.login("steward@example.org")
    assert _upload(client, json.dumps(small_bundle()).encode(), name="open").status_code == 201
    _dataset(db, "mine", "org-a")
    make_account(db, "nobody@example.org")
    make_account(db, "member@example.org", "member")
    make_account(db, "project-researcher@example.org", "researcher", scope=("project", "p-1"))
    make_account(db, "researcher@example.org", "researcher")
    make_account(db, "org-a-steward@example.org", "data_steward", scope=("organisation", "org-a"))
    make_account(db, "staff@example.org", "staff")
    wrong = []
    for who, allowed in _MATRIX.items():
        client.cookies.clear()
        if who:
            client.login(who)
        for what, url in _READS.items():
            status = client.get(url, follow_redirects=False).status_code
            if (status == 200) != (what in allowed):
                wrong.append((who, what, status))
    assert wrong == []


def test_a_researcher_of_one_project_reads_the_dummy_twin_and_the_catalogue_detail(client, db):
    """Researchers hold their role per project; the dummy twin is open to every researcher."""
    _steward(client, db)
    assert _upload(client, json.dumps(small_bundle()).encode()).status_code == 201
    make_account(db, "r@example.org", "researcher", scope=("project", "p-1"))
    client.login("r@example.org")
    dummy = client.get("/api/v1/datasets/hopital/dummy/Patient")
    assert dummy.status_code == 200 and dummy.json()["total"] == 1
    assert client.get("/api/v1/catalogue/hopital").status_code == 200
    assert client.get("/catalogue/hopital").status_code == 200
    assert client.get("/api/v1/datasets").status_code == 403


def test_a_scoped_steward_lists_only_its_organisations_datasets_on_the_page_and_its_twin(
    client, db
):
    make_account(db, "b@example.org", "data_steward", scope=("organisation", "org-b"))
    make_account(db, "a@example.org", "data_steward", scope=("organisation", "org-a"))
    _dataset(db, "theirs", "org-b")
    _dataset(db, "mine", "org-a")
    client.login("b@example.org")
    assert _upload(client, json.dumps(small_bundle()).encode(), name="theirs").status_code == 201
    client.login("a@example.org")
    assert [d["name"] for d in client.get("/api/v1/datasets").json()] == ["mine"]
    page = client.get("/datasets").text
    assert "mine" in page and "theirs" not in page


def test_a_bad_dataset_name_is_refused_before_the_body_is_read(client, db, settings):
    _steward(client, db)
    settings.max_upload_bytes = 100
    body = iter([b" " * 60, b" " * 60])  # streamed: no content-length to refuse it early
    response = client.post(
        "/api/v1/datasets/Mon%20Jeu/upload",
        content=body,
        headers={"content-type": "application/octet-stream", "x-filename": "bundle.json"},
    )
    assert response.status_code == 400 and response.json()["error"]["where"] == "dataset"


def test_two_first_uploads_into_one_new_dataset_both_land(client, db, monkeypatch):
    """The other upload creates the dataset between this one's look-up and its creation."""
    from campus.auth.actor import SYSTEM
    from campus.warehouse import service

    _steward(client, db)
    original = service.create_dataset

    def beaten_by_another_upload(session, actor, name, **options):
        monkeypatch.setattr(service, "create_dataset", original)
        with db.session() as other:
            original(other, SYSTEM, name)
        return original(session, actor, name, **options)

    monkeypatch.setattr(service, "create_dataset", beaten_by_another_upload)
    response = _upload(client, json.dumps(small_bundle()).encode())
    assert response.status_code == 201, response.text
    assert [v["version"] for v in client.get("/api/v1/datasets/hopital").json()["versions"]] == [
        "v0001"
    ]


def test_only_stewards_write_visitors_members_and_researchers_are_refused(client, db):
    _steward(client, db)
    assert _upload(client, json.dumps(small_bundle()).encode()).status_code == 201
    make_account(db, "m@example.org", "member", "researcher")
    for who, refused, page_refused in ((None, 401, 303), ("m@example.org", 403, 403)):
        client.cookies.clear()
        if who:
            client.login(who)
        assert _upload(client, json.dumps(small_bundle()).encode()).status_code == refused
        assert client.delete("/api/v1/datasets/hopital/versions/v0001").status_code == refused
        drop = client.post("/datasets/hopital/versions/v0001/drop", follow_redirects=False)
        page = client.post(
            "/datasets/upload",
            data={"dataset": "hopital"},
            files={"file": ("b.json", b"{}", "application/json")},
            follow_redirects=False,
        )
        assert drop.status_code == page.status_code == page_refused
        if who is None:  # to the sign-in page, not to the dataset list
            assert drop.headers["location"].startswith("/login?next=")
    client.login("steward@example.org")
    assert [v["version"] for v in client.get("/api/v1/datasets/hopital").json()["versions"]] == [
        "v0001"
    ]


def test_an_incremental_upload_builds_on_the_latest_version_and_is_refused_without_one(client, db):
    _steward(client, db)
    refused = _upload(client, json.dumps(small_bundle()).encode(), incremental="true")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["where"] == "incremental"
    assert client.get("/api/v1/datasets").json() == []  # refused before anything is made
    assert _upload(client, json.dumps(small_bundle()).encode()).status_code == 201
    change = json.dumps(observation("obs-9", "Patient/p")).encode()
    built = _upload(client, change, "Observation.ndjson", incremental="true")
    assert built.status_code == 201, built.text
    assert built.json()["version"] == "v0002" and built.json()["base_version"] == "v0001"
    manifest = client.get("/api/v1/datasets/hopital/versions/v0002").json()
    assert manifest["counts"]["Observation"] == 3 and manifest["counts"]["Patient"] == 1


def test_the_upload_page_builds_on_the_latest_version_when_told_and_says_why_it_cannot(client, db):
    _steward(client, db)

    def send(data: bytes, filename: str, **fields):
        return client.post(
            "/datasets/upload",
            data={"dataset": "hopital", "csrf_token": client.csrf(), **fields},
            files={"file": (filename, data, "application/octet-stream")},
        )

    refused = send(json.dumps(small_bundle()).encode(), "bundle.json", incremental="on")
    assert refused.status_code == 400
    assert "aucune version sur laquelle construire" in refused.text
    assert send(json.dumps(small_bundle()).encode(), "bundle.json").status_code == 201
    change = json.dumps(observation("obs-9", "Patient/p")).encode()
    assert send(change, "Observation.ndjson", incremental="on").status_code == 201
    manifest = client.get("/api/v1/datasets/hopital/versions/v0002").json()
    assert manifest["base_version"] == "v0001" and manifest["counts"]["Observation"] == 3
