"""Bad input through the upload API and page: a clear reported error (what and where), never a
500, nothing published, no upload left behind (issue 3, "Bad input")."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.helpers import http_scope, run_coroutine
from tests.integration.warehouse.test_web import _steward, _upload
from tests.unit.warehouse.samples import bundle, observation, patient, small_bundle

_DEEP = '{"resourceType":"Patient","id":"p","extension":' + '[{"extension":' * 3000 + "[]"
_DEEP += "}]" * 3000 + "}"
_OBSERVATIONS = b"\n".join(
    json.dumps(observation(f"o{i}", "Patient/p")).encode() for i in range(300)
)

# name -> (file name, bytes, words of the message, where: the fields the problem must name)
BAD = {
    "malformed JSON": ("a.json", b'{"resourceType": "Patient", "id": ', "not valid JSON", {}),
    "malformed NDJSON line": (
        "a.ndjson",
        b'\n{"resourceType": "Patient", "id": \n',
        "not valid JSON",
        {"line": 2},
    ),
    "truncated gzip": (
        "b.ndjson.gz",
        gzip.compress(_OBSERVATIONS)[:200],
        "gzip stream is truncated",
        {},
    ),
    "truncated gzip Bundle": (
        "b.json.gz",
        gzip.compress(json.dumps(small_bundle()).encode())[:-30],
        "gzip stream is truncated",
        {},
    ),
    "Bundle inside a Bundle": (
        "d.json",
        json.dumps(bundle([bundle([patient()])], "collection")).encode(),
        "Bundle inside a Bundle",
        {"entry": 0, "resource_type": "Bundle"},
    ),
    "50 MB string in NDJSON": (
        "e.ndjson",
        json.dumps({**patient(), "gender": "x" * (50 << 20)}).encode(),
        "line longer than",
        {"line": 1},
    ),
    "50 MB string in a Bundle": (
        "e.json",
        json.dumps(bundle([{**patient(), "gender": "x" * (50 << 20)}])).encode(),
        "over the 16777216 limit",
        {"entry": 0, "resource_type": "Patient", "resource_id": "pat-1"},
    ),
    "deeply nested object": ("f.ndjson", _DEEP.encode(), "depth limit", {"line": 1}),
    "wrong types": (
        "g.json",
        json.dumps({**patient(), "identifier": "x"}).encode(),
        "identifier must be a list",
        {"resource_type": "Patient", "resource_id": "pat-1", "path": "identifier"},
    ),
    "unknown resource type": (
        "h.ndjson",
        b'{"resourceType": "Foo", "id": "x"}\n',
        "unknown R4 resource type 'Foo'",
        {"line": 1, "path": "resourceType"},
    ),
    "a JSON array": ("j.json", b"[1, 2]", "one JSON object", {}),
}


@pytest.mark.parametrize("on_error", ["skip", "abort"])
@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_upload_is_reported_with_what_and_where_and_nothing_is_published(
    client, db, settings, case, on_error
):
    filename, data, words, where = BAD[case]
    _steward(client, db)
    response = _upload(client, data, filename, on_error=on_error)
    assert response.status_code == 422, response.text[:500]
    body = response.json()
    assert body["error"]["code"] in {"ingest_empty", "ingest_aborted"}
    problems = [p for p in body["report"]["problems"] if p["severity"] == "error"]
    assert len(problems) == 1 and words in problems[0]["message"]
    assert problems[0]["file"] == filename
    assert {k: problems[0].get(k) for k in where} == where
    assert client.get("/api/v1/datasets/hopital").json()["versions"] == []
    assert list((settings.var_dir / "uploads").iterdir()) == []
    assert not list((settings.warehouse_path / "hopital").glob("versions/*"))


def test_a_bad_line_among_good_ones_lands_nothing_by_default_and_the_good_ones_on_skip(client, db):
    _steward(client, db)
    data = _OBSERVATIONS + b'\n{"resourceType": "Observation", "id": "bad id"}\n'
    for aborted in (
        _upload(client, data, "Observation.ndjson"),
        _upload(client, data, "Observation.ndjson", on_error="abort"),
    ):
        assert aborted.status_code == 422 and aborted.json()["report"]["landed"] == {}
        assert "1 resource(s) failed" in aborted.json()["error"]["message"]
    assert client.get("/api/v1/datasets/hopital").json()["versions"] == []
    skipped = _upload(client, data, "Observation.ndjson", on_error="skip")
    assert skipped.status_code == 201 and skipped.json()["landed"] == {"Observation": 300}
    assert skipped.json()["problems"][0]["line"] == 301
    assert skipped.json()["skipped"] == 1
    assert skipped.json()["skipped_reasons"] == {"id must be 1-64 letters, digits, '-' or '.'": 1}
    version = client.get("/api/v1/datasets/hopital").json()["versions"][0]
    assert version["summary"]["skipped"] == 1
    page = client.get("/datasets").text  # in French by default
    assert "ressources écartées\u00a0:" in page or "ressources écartées :" in page
    assert "id doit compter de 1 à 64 lettres" in page


def test_duplicate_ids_with_different_content_are_upserted_and_reported(client, db):
    _steward(client, db)
    copies = [patient("p1"), {**patient("p1"), "gender": "male"}]
    data = b"\n".join(json.dumps(each).encode() for each in copies)
    response = _upload(client, data, "Patient.ndjson")
    assert response.status_code == 201
    report = response.json()
    assert report["landed"] == {"Patient": 1} and report["duplicates"] == 1
    (warning,) = report["problems"]
    assert warning["resource_type"] == "Patient" and "different content" in warning["message"]


def test_the_upload_page_reports_a_truncated_gzip_in_its_table(client, db, settings):
    _steward(client, db)
    page = client.post(
        "/datasets/upload",
        data={"dataset": "hopital", "csrf_token": client.csrf()},
        files={"file": ("b.ndjson.gz", gzip.compress(_OBSERVATIONS)[:200], "application/gzip")},
    )
    assert page.status_code == 422
    assert "Rien n&#39;a été publié." in page.text or "Rien n'a été publié." in page.text
    # The report page says it in the visitor's language, the parser's own words kept as given.
    assert (
        "b.ndjson.gz" in page.text and "le flux gzip est tronqué ou corrompu\u00a0: " in page.text
    )
    assert list((settings.var_dir / "uploads").iterdir()) == []


def test_the_upload_page_says_in_french_what_was_refused(client, db, settings):
    _steward(client, db)
    body = json.dumps(small_bundle()).encode()
    bad_name = client.post(
        "/datasets/upload",
        data={"dataset": "Mon Jeu", "csrf_token": client.csrf()},
        files={"file": ("bundle.json", body, "application/json")},
    )
    assert bad_name.status_code == 400 and "un nom de jeu de données compte" in bad_name.text
    bad_file = client.post(
        "/datasets/upload",
        data={"dataset": "hopital", "csrf_token": client.csrf()},
        files={"file": ("bundle.txt", body, "text/plain")},
    )
    assert bad_file.status_code == 400 and "nommez le fichier selon son format" in bad_file.text
    settings.max_upload_bytes = 100
    too_big = client.post(
        "/datasets/upload",
        data={"dataset": "hopital", "csrf_token": client.csrf()},
        files={"file": ("bundle.json", body, "application/json")},
    )
    assert too_big.status_code == 413 and "Le fichier dépasse 100 octets" in too_big.text
    assert not list((settings.var_dir / "uploads").glob("*"))


def test_a_long_file_name_is_shortened_but_keeps_its_format(client, db):
    _steward(client, db)
    response = _upload(client, b'{"resourceType": "Nope"}\n', "a" * 500 + ".ndjson.gz")
    assert response.status_code == 422, response.text
    (problem,) = response.json()["report"]["problems"]
    assert problem["file"].endswith("a.ndjson.gz") and len(problem["file"]) == 200
    assert "gzip" in problem["message"]


def test_wrong_types_are_reported_in_strict_mode_with_their_element(client, db):
    _steward(client, db)
    wrong = [
        observation("a", "Patient/p", status=3),
        {**patient("b"), "gender": ["x"]},
        observation("c", "Patient/p", valueQuantity={"value": "abc"}),
    ]
    data = b"\n".join(json.dumps(each).encode() for each in wrong)
    response = _upload(client, data, "x.ndjson", strict="true", on_error="abort")
    assert response.status_code == 422
    found = {(p["line"], p["path"]) for p in response.json()["report"]["problems"]}
    assert found == {(1, "status"), (2, "gender"), (3, "valueQuantity.value")}


def test_a_reference_given_as_a_string_is_reported_not_landed_with_the_source_id(client, db):
    _steward(client, db)
    resource = {**observation("o1", "Patient/p"), "subject": "Patient/source-id-42"}
    response = _upload(client, json.dumps(resource).encode() + b"\n", "x.ndjson")
    assert "source-id-42" not in response.text
    assert response.status_code == 422
    assert response.json()["report"]["problems"][0]["path"] == "subject"


def test_an_upload_page_body_over_the_cap_is_refused_before_a_byte_is_read(client, db, settings):
    """The page's form (its CSRF token too) is parsed by Starlette, which spools files to disk:
    the cap must hold before that, from the declared length or the bytes as they arrive."""
    _steward(client, db)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items()).encode()
    settings.max_upload_bytes = 1000
    read: list[int] = []
    head = (
        f'--xyz\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{client.csrf()}\r\n'
        '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.ndjson"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    async def call(headers: list[tuple[bytes, bytes]], chunks: int) -> tuple[int, str]:
        sent: list[dict] = []
        left = chunks

        async def receive() -> dict:
            nonlocal left
            left -= 1
            body = head if not read else b"x" * 16384  # a file part that never ends
            read.append(1)
            return {"type": "http.request", "body": body, "more_body": left > 0}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = http_scope(
            "POST",
            "/datasets/upload",
            [
                (b"content-type", b"multipart/form-data; boundary=xyz"),
                (b"cookie", cookie),
                *headers,
            ],
        )
        await client.app(scope, receive, send)
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return sent[0]["status"], body.decode()

    status, page = run_coroutine(call([(b"content-length", str(10 * 1024**3).encode())], 1))
    assert status == 413 and "Le fichier dépasse 1\u202f000 octets" in page
    assert read == []  # refused on the declared length
    # Chunked, 1.6 GB if read to the end: the steward's session lets it reach the CSRF check,
    # which parses the form.
    status, page = run_coroutine(call([], 100_000))
    assert status == 413 and "Le fichier dépasse 1\u202f000 octets" in page
    assert len(read) <= 1 + 65536 // 16384 + 1
    assert not list((settings.var_dir / "uploads").glob("*"))
