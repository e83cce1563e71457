"""An admissions round through the API: apply, review under the programmes' rules, decide,
admit with spaces (overlaps refused with `where`), see occupancy and entries; a resident's
booking and its .ics; a sponsorship's meeting log."""

from __future__ import annotations

import datetime as dt

import pytest

from campus.db.base import utcnow
from campus.errors import CampusError
from campus.spaces.validation import PARIS
from tests.helpers import make_account
from tests.integration.campus_life.spaces_helpers import paris, site
from tests.integration.ecosystem.events_helpers import actor_of
from tests.integration.ecosystem.programmes_helpers import member_of, organisation

ANSWERS = {"project": "Télésuivi", "team_size": 4, "desks": 4, "requested_start": "2027-01-04",
           "axis": "data"}  # fmt: skip


def _login(client, email):
    client.cookies.clear()
    client.login(email)


def test_staff_admits_a_selected_structure_and_sees_it_in_the_figures(db, client):
    make_account(db, "staff@example.org", "staff")
    staff = actor_of(db, make_account(db, "staff2@example.org", "staff"))
    site(db, staff)
    org_id, _admin = organisation(db, "telesante", "admin@telesante.example")
    member_of(db, org_id, "insider@telesante.example")
    reviewer = make_account(db, "reviewer@example.org", "member")
    insider = make_account(db, "insider2@example.org", "member")
    now = utcnow()
    _login(client, "staff@example.org")
    opened = client.post("/api/v1/residency/rounds", json={
        "title": "Admissions", "opens_at": (now - dt.timedelta(days=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=9)).isoformat()})  # fmt: skip
    assert opened.status_code == 201, opened.text
    call_id = opened.json()["id"]

    _login(client, "admin@telesante.example")
    applied = client.post(
        f"/api/v1/programmes/calls/{call_id}/organisations/{org_id}/application",
        json={"answers": ANSWERS},
    )
    assert applied.status_code == 201, applied.text
    application_id = applied.json()["id"]

    _login(client, "staff@example.org")
    url = f"/api/v1/programmes/applications/{application_id}"
    # Conflict of interest: a member of the applying structure may not review it.
    with db.session() as session:
        from campus.auth import service as auth

        auth.grant_role(session, auth.get_account(session, insider), "org_admin",
                        scope_type="organisation", scope_id=org_id)  # fmt: skip
    assert client.post(url + "/reviewers", json={"reviewer_id": insider}).status_code == 403
    assert client.post(url + "/reviewers", json={"reviewer_id": reviewer}).status_code == 201
    early = client.post(f"/api/v1/residency/applications/{application_id}/admit", json={
        "starts_on": "2027-01-04", "ends_on": "2029-01-04", "contract_ref": "C-1",
        "monthly_fee": 900, "spaces": [{"room": "A101"}]})  # fmt: skip
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_selected"

    _login(client, "reviewer@example.org")
    scores = {"health_impact": 5, "fit": 4, "team": 4, "maturity": 3}
    assert client.put(url + "/review", json={"scores": scores}).status_code == 200

    _login(client, "staff@example.org")
    assert client.post(url + "/decision", json={"decision": "selected"}).status_code == 200
    admit = f"/api/v1/residency/applications/{application_id}/admit"
    backwards = client.post(admit, json={
        "starts_on": "2027-01-04", "ends_on": "2026-01-04", "contract_ref": "C-1",
        "monthly_fee": 900, "spaces": [{"room": "A101"}]})  # fmt: skip
    assert backwards.status_code == 400 and backwards.json()["error"]["where"] == "ends_on"
    too_many = client.post(admit, json={
        "starts_on": "2027-01-04", "ends_on": "2029-01-04", "contract_ref": "C-1",
        "monthly_fee": 900,
        "spaces": [{"room": "A101"}, {"room": "A1-OPEN", "desks": 21}]})  # fmt: skip
    assert too_many.status_code == 400
    assert too_many.json()["error"]["where"] == "spaces[1].desks"
    admitted = client.post(admit, json={
        "starts_on": "2027-01-04", "ends_on": "2029-01-04", "contract_ref": "C-1",
        "monthly_fee": "900,50", "spaces": [{"room": "A101"}]})  # fmt: skip
    assert admitted.status_code == 201, admitted.text
    residency = admitted.json()
    assert residency["monthly_fee_cents"] == 90050 and residency["spaces"][0]["room"] == "A101"
    # Nothing half-written: the refused admissions left no residency or allocation behind.
    assert len(client.get("/api/v1/residencies").json()) == 1
    # A second residency may not take the same office over the same period.
    from campus.residency import service

    other, _ = organisation(db, "autre", "admin@autre.example")
    with pytest.raises(CampusError) as caught, db.session() as session:
        service.register_residency(session, staff, other, service.AdmissionInput(
            starts_on="2028-01-01", ends_on="2030-01-01", contract_ref="C-2",
            monthly_fee=0, spaces=[{"room": "A101"}]))  # fmt: skip
    refused = caught.value
    assert refused.status == 400 and refused.where == "spaces[0].starts_on"

    figures = client.get("/api/v1/residency/dashboard?year=2027").json()
    assert figures["entries_exits"] == [{"year": 2027, "entries": 1, "exits": 0}]
    january = figures["occupancy"]["months"][0]
    assert january["desks_available"] == 30 and 0 < january["rate"] < 1
    assert client.get("/api/v1/residency/dashboard.csv?year=2027").text.startswith("section,")
    assert client.get("/residency/dashboard?year=2027").status_code == 200

    exit_url = f"/api/v1/residencies/{residency['id']}/exit"
    bad_exit = client.post(exit_url, json={"exited_on": "2027-06-30", "reason": "bored"})
    assert bad_exit.status_code == 400 and bad_exit.json()["error"]["where"] == "reason"
    left = client.post(exit_url, json={"exited_on": "2027-06-30", "reason": "growth"})
    assert left.json()["status"] == "ended" and left.json()["spaces"][0]["ends_on"] == "2027-06-30"
    # The public list never shows contracts or fees.
    client.cookies.clear()
    for item in client.get("/api/v1/residency/hosted").json():
        assert set(item) == {"slug", "name", "kind", "since"}


def test_a_resident_books_a_room_and_gets_the_ics_others_see_a_busy_slot(db, client):
    staff = actor_of(db, make_account(db, "staff@example.org", "staff"))
    site(db, staff)
    make_account(db, "alice@example.org", "member")
    make_account(db, "bob@example.org", "member")
    day = utcnow().astimezone(PARIS).date() + dt.timedelta(days=3)
    _login(client, "alice@example.org")
    booked = client.post("/api/v1/spaces/bookings", json={
        "room": "A201", "title": "Comité produit", "starts_at": paris(day, 10),
        "ends_at": paris(day, 11), "people": 5})  # fmt: skip
    assert booked.status_code == 201, booked.text
    booking = booked.json()[0]
    ics = client.get(booking["ics"])
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Comité produit" in ics.text and "DTSTART:" in ics.text
    clash = client.post("/api/v1/spaces/bookings", json={
        "room": "A201", "title": "x", "starts_at": paris(day, 10, 30),
        "ends_at": paris(day, 11, 30)})  # fmt: skip
    assert clash.status_code == 409 and clash.json()["error"]["where"] == "starts_at"
    outside = client.post("/api/v1/spaces/bookings", json={
        "room": "A201", "title": "x", "starts_at": paris(day, 21),
        "ends_at": paris(day, 22)})  # fmt: skip
    assert outside.status_code == 400 and outside.json()["error"]["where"] == "starts_at"

    _login(client, "bob@example.org")
    assert client.get(f"/api/v1/spaces/bookings/{booking['id']}").status_code == 404
    week = client.get(f"/api/v1/spaces/rooms/A201/schedule?date={day}&view=week").json()
    busy = [b for d in week["days"] for b in d["bookings"]]
    assert busy == [{**busy[0], "id": None}] and "title" not in busy[0]
    feed = client.get("/api/v1/spaces/rooms/A201/bookings.ics").text
    assert "Comité produit" not in feed and "Réservé" in feed


def test_a_sponsor_and_a_startup_log_meetings_and_outsiders_see_nothing(db, client):
    staff = actor_of(db, make_account(db, "staff@example.org", "staff"))
    startup, _ = organisation(db, "jeune-pousse", "ceo@pousse.example")
    with db.session() as session:
        from campus.ecosystem.directory.models import Organisation

        sponsor = Organisation(slug="grand-groupe", name="Grand Groupe", kind="company")
        session.add(sponsor)
        session.flush()
        sponsor_id = sponsor.id
    mentor = member_of(db, sponsor_id, "mentor@groupe.example")
    make_account(db, "outsider@example.org", "member")
    with db.session() as session:
        from campus.residency import service

        pair = service.create_sponsorship(
            session, staff, startup_id=startup, sponsor_id=sponsor_id,
            mentor_account_id=mentor.account_id, objectives=["Pilote hospitalier"],
        ).id  # fmt: skip
    today = utcnow().astimezone(PARIS).date().isoformat()
    for email in ("mentor@groupe.example", "ceo@pousse.example"):
        _login(client, email)
        logged = client.post(f"/api/v1/sponsorships/{pair}/meetings",
                             json={"held_on": today, "topics": f"Point de {email}"})  # fmt: skip
        assert logged.status_code == 201, logged.text
    assert [m["side"] for m in logged.json()["meetings"]] == ["startup", "sponsor"] or [
        m["side"] for m in logged.json()["meetings"]
    ] == ["sponsor", "startup"]
    future = client.post(f"/api/v1/sponsorships/{pair}/meetings",
                         json={"held_on": "2100-01-01", "topics": "x"})  # fmt: skip
    assert future.status_code == 400 and future.json()["error"]["where"] == "held_on"
    _login(client, "outsider@example.org")
    assert client.get(f"/api/v1/sponsorships/{pair}").status_code == 404
    assert client.get("/api/v1/sponsorships").json() == []
