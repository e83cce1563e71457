"""A refused form posted from a twin's page shows that page again from the page's own data
function (`form_route(..., page=...)`): the data it renders equals the twin's JSON, with the
page's extras, the refusal and what was typed."""

from __future__ import annotations

import datetime as dt

from campus.db.base import utcnow
from campus.text import PARIS
from campus.web import forms, twins
from tests.helpers import make_account
from tests.integration.campus_life.spaces_helpers import paris
from tests.integration.campus_life.twin_seeds import campus_life
from tests.integration.ecosystem.events_helpers import created_event, staff_client
from tests.integration.ecosystem.programmes_helpers import organisation
from tests.integration.test_twins import as_json


def _capture(monkeypatch) -> list[dict]:
    shown: list[dict] = []
    original = forms.render

    def capture(request, template, context=None, status=200):
        shown.append(context)
        return original(request, template, context, status)

    monkeypatch.setattr(forms, "render", capture)
    return shown


def _post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": client.csrf()}, follow_redirects=False)


def test_each_refused_campus_life_form_shows_its_page_with_the_data_of_its_twin(
    client, db, monkeypatch
):
    org_id, _admin = organisation(db, "cardiolab", "resident@cardiolab.example")
    ids = campus_life(db, org_id, "resident@cardiolab.example")
    refusals = [  # (form, what is typed, the page shown again, an extra of that page)
        ("/residency/admissions", {"title": ""}, "/residency/admissions", "values"),
        ("/residency/rounds/{call_id}/admit", {"application_id": "none"},
         "/residency/rounds/{call_id}", "rooms"),
        ("/residency/rounds/{call_id}/waitlist", {"application_id": "none"},
         "/residency/rounds/{call_id}", "rooms"),
        ("/residencies/{residency_id}/renewal", {"ends_on": "2026-01-01"},
         "/residencies/{residency_id}", "reasons"),
        ("/residencies/{residency_id}/exit", {"exited_on": "2026-06-01", "reason": "x"},
         "/residencies/{residency_id}", "reasons"),
        ("/sponsorships", {"startup_id": org_id}, "/sponsorships", "choices"),
        ("/sponsorships/{pair_id}/meetings", {"held_on": "demain", "topics": "Pilote"},
         "/sponsorships/{pair_id}", "today"),
        ("/spaces/site/floors", {"building": "A", "level": "rez"}, "/spaces/site", "kinds"),
    ]  # fmt: skip
    shown = _capture(monkeypatch)
    client.login("life-staff@campus.example")
    for form, typed, page_path, extra in refusals:
        assert forms.FORM_PAGES[form] == page_path
        shown.clear()
        refused = _post(client, form.format(**ids), typed)
        assert refused.status_code in (400, 404, 409, 422), (form, refused.status_code)
        assert len(shown) == 1, form
        twin = client.get(twins.TWIN_PAGES[page_path].format(**ids))
        assert as_json(page_path, shown[0]["data"]) == twin.json(), form
        assert extra in shown[0] and shown[0]["error"], form
        assert shown[0]["values"] == typed, form


def test_a_refused_booking_shows_the_room_on_the_day_typed_or_today_when_that_is_no_day(
    client, db, monkeypatch
):
    org_id, _admin = organisation(db, "cardiolab", "resident@cardiolab.example")
    campus_life(db, org_id, "resident@cardiolab.example")
    shown = _capture(monkeypatch)
    client.login("resident@cardiolab.example")
    day = utcnow().astimezone(PARIS).date() + dt.timedelta(days=5)
    too_many = {"title": "Revue", "people": "500", "starts_at": paris(day, 14),
                "ends_at": paris(day, 15)}  # fmt: skip
    assert _post(client, "/spaces/rooms/A201/book", too_many).status_code == 400
    assert shown[-1]["data"]["date"] == day and shown[-1]["data"]["view"] == "day"
    assert shown[-1]["where"] == "people" and "organisations" in shown[-1]
    no_day = {**too_many, "starts_at": "demain 14h"}
    assert _post(client, "/spaces/rooms/A201/book", no_day).status_code == 400
    assert shown[-1]["data"]["date"] == utcnow().astimezone(PARIS).date()
    twin = client.get("/api/v1/spaces/rooms/A201/schedule").json()
    assert as_json("/spaces/rooms/{code}", shown[-1]["data"]) == twin


def test_a_refused_action_on_an_event_shows_its_page_from_the_async_data_function(
    app, db, client, monkeypatch
):
    event = created_event(staff_client(app, db), title="Atelier", capacity=5)
    make_account(db, "ana@example.org", "member")
    client.login("ana@example.org")
    assert _post(client, f"/events/{event['id']}/register", {}).status_code == 303
    shown = _capture(monkeypatch)
    again = _post(client, f"/events/{event['id']}/register", {})
    assert again.status_code == 409 and "déjà inscrit" in again.text
    twin = client.get(f"/api/v1/events/{event['id']}").json()
    assert as_json("/events/{event_id}", shown[0]["data"]) == twin
    assert shown[0]["can_register"] is True and shown[0]["qr"].startswith("<svg")


def test_a_refused_check_in_at_the_door_shows_the_door_page_with_the_event_figures(
    app, db, monkeypatch
):
    staff = staff_client(app, db)
    event = created_event(staff, title="Atelier", capacity=5)
    shown = _capture(monkeypatch)
    refused = _post(staff, f"/events/{event['id']}/checkin", {"token": "FAUX-CODE"})
    assert refused.status_code in (400, 403, 404, 409, 422)
    assert shown[0]["data"] == [] and shown[0]["stats"] is not None
    assert shown[0]["values"] == {"token": "FAUX-CODE"} and shown[0]["error"]
