"""The catalogue and datasets pages render the data their JSON twins return, and what they
show passes disclosure control: no count under the threshold, in the JSON or on the page."""

from __future__ import annotations

import re

import pytest

from campus.web import twins
from tests.helpers import make_account
from tests.integration.test_twins import as_json
from tests.integration.warehouse.helpers import publish

THRESHOLD = 10
PAGES = ("/catalogue", "/catalogue/hopital", "/datasets")


@pytest.fixture
def published(client, db):
    publish(client, db)
    make_account(db, "member@example.org", "member")
    return client


def test_each_warehouse_page_renders_its_twins_data(published, monkeypatch):
    client = published
    captured: list = []
    original = twins.render

    def capture(request, template, context=None, status=200):
        captured.append(context["data"])
        return original(request, template, context, status)

    monkeypatch.setattr(twins, "render", capture)
    compared = set()
    for reader in ("steward@example.org", "member@example.org", None):
        client.delete("/api/v1/session")
        if reader:
            client.login(reader)
        for path in PAGES:
            captured.clear()
            page = client.get(path, follow_redirects=False)
            twin = client.get("/api/v1" + path)
            if twin.status_code in (401, 403):  # both refuse
                assert page.status_code in (303, 403), path
                continue
            assert (page.status_code, twin.status_code) == (200, 200), (reader, path)
            assert as_json(path.replace("hopital", "{name}"), captured[0]) == twin.json(), path
            compared.add((reader, path))
    assert ("steward@example.org", "/datasets") in compared and (None, "/catalogue") in compared
    assert ("member@example.org", "/catalogue/hopital") in compared


def _counts(value, key=""):
    """Every (key, count) of a catalogue: counts of types, patients, codes and samples."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _counts(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _counts(v, key)
    elif key in ("count", "patients", "completeness_sample") and not isinstance(value, bool):
        yield key, value


def test_no_catalogue_shows_a_count_under_the_threshold(published):
    """The attack: three Encounters in a dataset, read by a visitor and by a member; neither the
    JSON nor the page may give their number, only `<10`."""
    client = published
    client.login("member@example.org")
    detail = client.get("/api/v1/catalogue/hopital").json()
    client.delete("/api/v1/session")
    public = client.get("/api/v1/catalogue").json()
    for catalogue in (public[0], detail):
        shown = list(_counts(catalogue))
        assert shown, catalogue
        small = [(k, v) for k, v in shown if isinstance(v, int) and 0 < v < THRESHOLD]
        assert not small, small
        assert catalogue["types"]["Encounter"]["count"] == f"<{THRESHOLD}"
    page = client.get("/catalogue").text
    row = re.search(r'<th scope="row">Encounter</th><td>([^<]*)</td>', page)
    assert row is not None and row.group(1) == f"&lt;{THRESHOLD}", page
