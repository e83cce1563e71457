"""Campus-life pages and their JSON twins, as each role reads them: the page's data equals
the twin's JSON, and neither shows a resident's contract, fee or booking to someone else."""

from __future__ import annotations

import datetime as dt
import re

from campus.db.base import utcnow
from campus.text import PARIS
from campus.web import twins
from tests.helpers import make_account
from tests.integration.campus_life.twin_seeds import campus_life
from tests.integration.ecosystem.programmes_helpers import organisation
from tests.integration.test_twins import SAMPLES, _fill, as_json

PAGES = [
    "/campus/hosted",
    "/residency/admissions",
    "/residency/rounds/{call_id}",
    "/residencies",
    "/residencies/{residency_id}",
    "/residency/dashboard",
    "/sponsorships",
    "/sponsorships/{pair_id}",
    "/spaces",
    "/spaces/rooms/{code}",
    "/spaces/bookings/{booking_id}",
    "/spaces/mine",
    "/spaces/pending",
    "/spaces/site",
]
STAFF_ONLY = {"/residency/admissions", "/residency/rounds/{call_id}", "/residency/dashboard",
              "/spaces/pending", "/spaces/site"}  # fmt: skip
# What the resident's own pages show that nobody outside the structure (and staff) may see.
SECRETS = ("CH-2025-7", "1250", "Revue de sprint", "Premier pilote", "Anne Morel")


def _seed(db) -> dict[str, str]:
    org_id, _admin = organisation(db, "cardiolab", "resident@cardiolab.example")
    ids = campus_life(db, org_id, "resident@cardiolab.example")
    make_account(db, "outsider@campus.example", "member")
    return ids


def _read(client, page_path: str, ids: dict, query: dict):
    values = {name: ids[key] for name, key in _params(page_path).items()}
    page = client.get(_fill(page_path, values), params=query, follow_redirects=False)
    twin = client.get(_fill(twins.TWIN_PAGES[page_path], values), params=query)
    return page, twin


def _params(page_path: str) -> dict[str, str]:
    return SAMPLES[page_path][0][0]


def test_every_campus_life_page_is_a_twin_with_the_data_of_its_json(client, db, monkeypatch):
    ids = _seed(db)
    captured: list = []
    original = twins.render

    def capture(request, template, context=None, status=200):
        captured.append(context["data"])
        return original(request, template, context, status)

    monkeypatch.setattr(twins, "render", capture)
    assert set(PAGES) <= set(twins.TWIN_PAGES)
    readers = ("life-staff@campus.example", "resident@cardiolab.example", "outsider@campus.example")
    seen: dict[str, set[int]] = {}
    for reader in (None, *readers):
        client.cookies.clear()
        if reader:
            client.login(reader)
        for page_path in PAGES:
            for _path_ids, query in SAMPLES[page_path]:
                captured.clear()
                page, twin = _read(client, page_path, ids, query)
                seen.setdefault(page_path, set()).add(twin.status_code)
                if twin.status_code == 401:
                    assert page.headers["location"].startswith("/login"), page_path
                    continue
                if twin.status_code in (403, 404):  # both refuse alike
                    assert page.status_code == twin.status_code, (reader, page_path)
                    continue
                assert (page.status_code, twin.status_code) == (200, 200), (reader, page_path)
                assert captured, f"{page_path} did not render through its twin"
                assert as_json(page_path, captured[0]) == twin.json(), (reader, page_path)
                if reader == "outsider@campus.example" or reader is None:
                    shown = page.text + twin.text
                    leaked = [s for s in SECRETS if s in shown]
                    assert not leaked, (reader, page_path, leaked)
    assert all(200 in codes for codes in seen.values()), seen  # each page was read by someone


def test_an_outsider_sees_a_residents_booking_as_a_busy_slot_and_nothing_of_its_residency(
    client, db
):
    ids = _seed(db)
    client.login("outsider@campus.example")
    for path in ("/residencies/{residency_id}", "/spaces/bookings/{booking_id}",
                 "/sponsorships/{pair_id}"):  # fmt: skip
        page, twin = _read(client, path, ids, {})
        assert (page.status_code, twin.status_code) == (404, 404), path
    for path in STAFF_ONLY:
        page, twin = _read(client, path, ids, {})
        assert (page.status_code, twin.status_code) == (403, 403), path
    page, twin = _read(client, "/spaces/rooms/{code}", ids, {"date": ids["day"]})
    busy = [b for day in twin.json()["days"] for b in day["bookings"]]
    assert len(busy) == 1 and "title" not in busy[0] and busy[0]["id"] is None
    assert "Revue de sprint" not in page.text and "Revue de sprint" not in twin.text
    assert client.get("/api/v1/residencies").json() == []
    assert client.get("/api/v1/sponsorships").json() == []
    client.cookies.clear()
    client.login("resident@cardiolab.example")
    page, twin = _read(client, "/spaces/rooms/{code}", ids, {"date": ids["day"]})
    assert "Revue de sprint" in page.text and "Revue de sprint" in twin.text
    residency = client.get(f"/residencies/{ids['residency_id']}").text
    assert "CH-2025-7" in residency and "1\u202f250,5" in residency


def test_campus_life_pages_read_as_french_to_each_role(client, db):
    """What the demo walk found: a staff instruction shown to residents, 'Résidence de
    Agence…', ambiguous months ('jui', 'jui'), percentages with two decimals, a meeting
    signed with an account id, an ISO date."""
    ids = _seed(db)
    with db.session() as session:
        from campus.residency.models import Residency

        session.get(Residency, ids["residency_id"]).ends_on = dt.date(2025, 6, 1)  # overdue
    client.login("resident@cardiolab.example")
    today = utcnow().astimezone(PARIS).date().isoformat()
    logged = client.post(f"/sponsorships/{ids['pair_id']}/meetings", data={
        "csrf_token": client.csrf(), "held_on": today, "topics": "Pilote"},
        follow_redirects=False)  # fmt: skip
    assert logged.status_code == 303
    listed = client.get("/residencies").text
    assert "contrat terminé" in listed and "renouvelez" not in listed
    residency = client.get(f"/residencies/{ids['residency_id']}").text
    assert "Résidence\u00a0: Cardiolab" in residency and "contrat terminé" in residency
    pair = client.get(f"/sponsorships/{ids['pair_id']}").text
    assert "(start-up)" in pair and "account:" not in pair
    client.cookies.clear()
    client.login("life-staff@campus.example")
    assert "renouvelez" in client.get("/residencies").text
    board = client.get("/residency/dashboard?year=2025").text
    assert ">juin</abbr>" in board and ">juil.</abbr>" in board
    cells = re.findall(r'<td class="num">(\d+,\d+)</td>', board)
    assert cells and all(len(c.split(",")[1]) == 1 for c in cells)
