"""Opt-out without an oracle: nobody learns from the public form whether someone objected
(a repeat filing answers as a first one), nobody can file for a list of chosen identifiers
(the form is throttled per client address and as a whole, across processes), and the
stewards who load data never see how many patients were left out (the DPO alone does)."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from campus.errors import TooManyRequests
from campus.optout import service as optout
from tests.helpers import CampusClient, audit_events, make_account
from tests.unit.warehouse.samples import small_bundle

PATIENT_MRN = "urn:oid:1.2.250.1.71.4.2.7|MRN-0001"  # the small bundle's patient


def _file(client, value: str, kind: str = "system"):
    return client.post("/api/v1/optout", json={"kind": kind, "value": value})


def _from(app, address: str) -> CampusClient:
    return CampusClient(app, client=(address, 40000))


# --- throttle -----------------------------------------------------------------------------------


def test_one_address_files_at_most_its_limit_then_gets_a_french_429(app, monkeypatch):
    monkeypatch.setenv("CAMPUS_OPTOUT_PER_ADDRESS", "3")
    attacker = _from(app, "203.0.113.7")
    answers = [_file(attacker, f"urn:oid:1.2.3|{i}").status_code for i in range(3)]
    assert answers == [201, 201, 201]
    refused = _file(attacker, "urn:oid:1.2.3|99")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "optout_throttled"
    page = attacker.post("/opposition", data={"kind": "system", "value": "urn:oid:1.2.3|98"})
    assert page.status_code == 429
    assert "trop d'oppositions ont été déposées depuis cette adresse" in page.text.replace(
        "&#39;", "'"
    )
    # Another address is not concerned, and the refused filings were not registered.
    assert _file(_from(app, "198.51.100.2"), "urn:oid:1.2.3|99").status_code == 201
    assert _file(_from(app, "198.51.100.3"), "urn:oid:1.2.3|98").status_code == 201


def test_the_form_as_a_whole_is_throttled_whatever_the_addresses(app, monkeypatch):
    monkeypatch.setenv("CAMPUS_OPTOUT_PER_WINDOW", "4")
    answers = [
        _file(_from(app, f"192.0.2.{i}"), f"urn:oid:1.2.3|{i}").status_code for i in range(6)
    ]
    assert answers == [201, 201, 201, 201, 429, 429]


def test_refused_or_malformed_filings_count_nothing(app, monkeypatch):
    monkeypatch.setenv("CAMPUS_OPTOUT_PER_ADDRESS", "2")
    visitor = _from(app, "203.0.113.9")
    for _ in range(5):
        assert _file(visitor, "2 84 05 75 123 456 99", kind="nir").status_code == 400
    assert _file(visitor, "urn:oid:1.2.3|1").status_code == 201
    assert _file(visitor, "urn:oid:1.2.3|2").status_code == 201
    assert _file(visitor, "urn:oid:1.2.3|3").status_code == 429


def test_concurrent_filings_from_one_address_never_pass_the_limit(db, settings, monkeypatch):
    """Each filing is decided under its bucket's row lock, in its own transaction and
    connection as separate server processes would: 12 at once, 5 admitted."""
    monkeypatch.setenv("CAMPUS_OPTOUT_PER_ADDRESS", "5")
    attempts = 12
    barrier = threading.Barrier(attempts)

    def attempt(index: int) -> str:
        barrier.wait()
        try:
            with db.session() as session:
                optout.admit(session, settings, "203.0.113.50")
                optout.add(session, settings, "system", f"urn:oid:1.2.3|{index}", "anonymous")
        except TooManyRequests:
            return "refused"
        return "filed"

    with ThreadPoolExecutor(attempts) as pool:
        answers = list(pool.map(attempt, range(attempts)))
    assert sorted(answers) == ["filed"] * 5 + ["refused"] * 7, answers
    with db.session() as session:
        assert optout.count(session) == 5


# --- a repeat filing reveals nothing ------------------------------------------------------------


def test_filing_a_known_identifier_answers_exactly_as_a_first_filing(client, db):
    def answer(value: str) -> tuple[int, list[str], str]:
        api = _file(client, value)
        page = client.post("/opposition", data={"kind": "system", "value": value})
        shown = re.sub(r"OPT-[0-9A-F]{16}", "OPT-X", page.text)
        return api.status_code, sorted(api.json()), f"{page.status_code} {shown}"

    known = "urn:oid:1.2.3|known"
    _file(client, known)  # somebody objected earlier
    assert answer(known) == answer("urn:oid:1.2.3|never-filed")
    # The audit log, which staff read, tells a repeat from a first filing no better.
    actions = [e.action for e in audit_events(db) if e.object_type == "optout"]
    assert set(actions) == {"optout.add"}


# --- the stewards who load data never see the count ---------------------------------------------


def test_an_ingest_after_an_objection_shows_stewards_no_opted_out_count(client, db):
    assert _file(client, PATIENT_MRN).status_code == 201
    make_account(db, "steward@example.org", "data_steward")
    client.login("steward@example.org")
    upload = client.post(
        "/api/v1/datasets/hopital/upload",
        params={"on_error": "skip"},
        content=json.dumps(small_bundle()).encode(),
        headers={"content-type": "application/octet-stream", "x-filename": quote("b.json")},
    )
    body = upload.json()
    report = body.get("report", body)
    assert "dropped_optout" not in report and report["landed"].get("Patient", 0) == 0
    page = client.post(
        "/datasets/upload",
        data={"dataset": "hopital2", "on_error": "skip", "csrf_token": client.csrf()},
        files={"file": ("b.json", json.dumps(small_bundle()).encode(), "application/json")},
    )
    facts = page.text.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    assert "<dd>" in facts and "opposition" not in facts.lower() and "opt-out" not in facts
    assert "Écartées (opposition)" not in page.text
    for url in ("/api/v1/datasets", "/api/v1/datasets/hopital"):
        assert "dropped_optout" not in client.get(url).text, url
    versions = client.get("/api/v1/datasets/hopital").json()["versions"]
    for version in versions:
        manifest = client.get(f"/api/v1/datasets/hopital/versions/{version['version']}")
        assert "dropped_optout" not in manifest.text
    assert "dropped_optout" not in client.get("/datasets").text


def test_the_registry_size_is_the_dpos_alone(client, db):
    _file(client, PATIENT_MRN)
    make_account(db, "researcher@example.org", "researcher", "member")
    make_account(db, "steward@example.org", "data_steward")
    make_account(db, "dpo@example.org", "dpo")
    for email in ("researcher@example.org", "steward@example.org"):
        client.delete("/api/v1/session")
        client.login(email)
        assert client.get("/api/v1/optout/stats").status_code == 403, email
    client.delete("/api/v1/session")
    client.login("dpo@example.org")
    assert client.get("/api/v1/optout/stats").json() == {"entries": 1}


@pytest.mark.parametrize("value", ["urn:oid:1.2.3|a", "urn:oid:1.2.3|b"])
def test_a_receipt_is_fresh_on_every_filing(client, value):
    first, again = _file(client, value).json(), _file(client, value).json()
    assert first["receipt"] != again["receipt"] and first.keys() == again.keys()
