"""Events through HTTP: API twins, pages, permissions, calendar files, check-in, CSV export."""

import asyncio
import datetime as dt
import json
import re
from pathlib import Path

from sqlalchemy import select

import campus.web
from campus.db.base import utcnow
from campus.ecosystem.events.models import Registration
from tests.helpers import CampusClient, audit_events, forge, make_account
from tests.integration.ecosystem.events_helpers import created_event
from tests.integration.ecosystem.events_helpers import staff_client as _staff_client
from tests.integration.ecosystem.events_helpers import when as _when


def _create(client, **changes) -> dict:
    body = {"title": "Atelier <script>alert(1)</script>", "capacity": 1}
    return created_event(client, **{**body, **changes})


def test_staff_create_publish_and_members_register_then_waitlist(app, db, client):
    staff = _staff_client(app, db)
    event = _create(staff)
    make_account(db, "ana@example.org", "member")
    make_account(db, "bob@example.org", "member")
    client.login("ana@example.org")
    first = client.post(f"/api/v1/events/{event['id']}/registration")
    assert first.status_code == 201 and first.json()["status"] == "registered"
    assert first.json()["ticket"]
    again = client.post(f"/api/v1/events/{event['id']}/registration")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_registered"
    bob = CampusClient(app)
    bob.login("bob@example.org")
    second = bob.post(f"/api/v1/events/{event['id']}/registration").json()
    assert second["status"] == "waitlisted" and second["waitlist_position"] == 1
    assert second["ticket"] is None
    assert client.delete(f"/api/v1/events/{event['id']}/registration").status_code == 200
    promoted = bob.get(f"/api/v1/events/{event['id']}/registration").json()
    assert promoted["status"] == "registered" and promoted["ticket"]
    detail = bob.get(f"/api/v1/events/{event['id']}").json()
    assert detail["seats"] == {
        "capacity": 1,
        "registered": 1,
        "waitlisted": 0,
        "available": 0,
        "full": True,
    }


def test_members_cannot_create_events_and_visitors_cannot_register(app, db, client):
    make_account(db, "ana@example.org", "member")
    client.login("ana@example.org")
    response = client.post(
        "/api/v1/events",
        json={"title": "x", "starts_at": _when(1), "ends_at": _when(1, 1), "room": "A"},
    )
    assert response.status_code == 403
    visitor = CampusClient(app)
    staff = _staff_client(app, db)
    event = _create(staff)
    assert visitor.post(f"/api/v1/events/{event['id']}/registration").status_code == 401


def test_negative_capacity_and_end_before_start_say_where(app, db):
    staff = _staff_client(app, db)
    bad = staff.post(
        "/api/v1/events",
        json={"title": "x", "starts_at": _when(2), "ends_at": _when(1), "room": "A"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "ends_at"
    bad = staff.post(
        "/api/v1/events",
        json={
            "title": "x",
            "starts_at": _when(1),
            "ends_at": _when(1, 1),
            "room": "A",
            "capacity": -5,
        },
    )
    assert bad.json()["error"]["code"] == "negative_capacity"
    assert staff.get("/api/v1/events?drafts=1").json() == []


def test_event_page_escapes_html_and_shows_the_qr_ticket(app, db, client):
    staff = _staff_client(app, db)
    event = _create(staff)
    make_account(db, "ana@example.org", "member")
    client.login("ana@example.org")
    client.post(f"/api/v1/events/{event['id']}/registration")
    page = client.get(f"/events/{event['id']}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<svg" in page.text and 'data-status="registered"' in page.text
    assert "Vous êtes inscrit" in page.text


def test_a_second_registration_by_the_form_shows_a_clear_message(app, db, client):
    staff = _staff_client(app, db)
    event = _create(staff)
    make_account(db, "ana@example.org", "member")
    client.login("ana@example.org")
    response = client.post(f"/events/{event['id']}/register", follow_redirects=False)
    assert response.status_code == 303
    response = client.post(f"/events/{event['id']}/register")
    assert response.status_code == 409 and "déjà inscrit" in response.text


def test_check_in_with_the_signed_ticket_once_and_forged_tickets_are_refused(app, db, client):
    staff = _staff_client(app, db)
    event = _create(staff)
    other = _create(staff, title="Autre")
    make_account(db, "ana@example.org", "member", name="Ana Lima")
    client.login("ana@example.org")
    ticket = client.post(f"/api/v1/events/{event['id']}/registration").json()["ticket"]
    assert (
        client.post(f"/api/v1/events/{event['id']}/checkin", json={"token": ticket}).status_code
        == 403
    )
    wrong = staff.post(f"/api/v1/events/{other['id']}/checkin", json={"token": ticket})
    assert wrong.json()["error"]["code"] == "wrong_event"
    forged = staff.post(f"/api/v1/events/{event['id']}/checkin", json={"token": forge(ticket)})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_ticket"
    ok = staff.post(f"/events/{event['id']}/checkin", data={"token": ticket})
    assert ok.status_code == 200 and "Ana Lima" in ok.text
    twice = staff.post(f"/api/v1/events/{event['id']}/checkin", json={"token": ticket})
    assert twice.json()["error"]["code"] == "already_checked_in"
    stats = staff.get(f"/api/v1/events/{event['id']}/stats").json()
    assert stats["checked_in"] == 1 and stats["rate"] == 1.0
    with db.session() as session:
        assert session.scalar(select(Registration.checked_in_at)) is not None
    scan = staff.get(f"/events/{event['id']}/checkin")
    assert 'src="/static/js/checkin.js"' in scan.text and "<script>" not in scan.text


def test_attendees_csv_is_for_staff_only_and_neutralises_formulas(app, db, client):
    staff = _staff_client(app, db)
    event = _create(staff)
    make_account(db, "ana@example.org", "member", name="=HYPERLINK(1)")
    client.login("ana@example.org")
    client.post(f"/api/v1/events/{event['id']}/registration")
    assert client.get(f"/api/v1/events/{event['id']}/attendees.csv").status_code == 403
    csv = staff.get(f"/api/v1/events/{event['id']}/attendees.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "name,email,status,registered_at,checked_in_at"
    assert lines[1].startswith("'=HYPERLINK(1),ana@example.org,registered,")
    actions = {e.action for e in audit_events(db)}
    assert "event.attendees_exported" in actions


def test_calendar_files_are_rfc5545(app, db, client):
    staff = _staff_client(app, db)
    event = _create(staff, title="Données, santé; et IA", description="ligne 1\nligne 2 " * 10)
    _create(staff, title="Réservé", audience="members")
    one = client.get(f"/events/{event['id']}/calendar.ics")
    assert one.headers["content-type"].startswith("text/calendar")
    text = one.text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:Données\\, santé\\; et IA" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    feed = client.get("/events.ics").text
    assert feed.count("BEGIN:VEVENT") == 1  # the members-only event stays out of the public feed


def test_monthly_stats_are_for_staff(app, db, client):
    staff = _staff_client(app, db)
    _create(staff)
    year = (utcnow() + dt.timedelta(days=3)).year
    rows = staff.get(f"/api/v1/events/stats/monthly?year={year}").json()
    assert len(rows) == 12 and sum(r["events"] for r in rows) == 1
    assert client.get("/api/v1/events/stats/monthly").status_code == 401
    assert staff.get(f"/admin/events/stats?year={year}").status_code == 200


def test_event_form_keeps_input_and_names_the_error_and_creates_nothing(app, db):
    staff = _staff_client(app, db)
    assert staff.get("/events/new").status_code == 200
    start = (utcnow() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + dt.timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M")
    form = {"title": "Forum", "starts_at": start, "ends_at": end, "room": "A", "capacity": "-3"}
    response = staff.post("/events/new", data=form)
    assert response.status_code == 400
    assert (
        "la jauge ne peut pas être négative" in response.text and 'value="Forum"' in response.text
    )
    assert staff.get("/api/v1/events?drafts=1").json() == []
    created = staff.post("/events/new", data={**form, "capacity": "10"}, follow_redirects=False)
    assert created.status_code == 303
    event_id = created.headers["location"].rsplit("/", 1)[1]
    assert staff.get(f"/events/{event_id}/edit").status_code == 200
    assert staff.post(f"/events/{event_id}/publish").status_code == 200
    listing = staff.get("/events")
    assert "Forum" in listing.text and "0 / 10" in listing.text
    assert staff.get("/me/events").status_code == 200


def test_event_pages_speak_english_on_request(app, db, client):
    staff = _staff_client(app, db)
    event = _create(staff)
    english = client.get(f"/events/{event['id']}", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text and "Sign in to register" in english.text
    french = client.get("/events")
    assert "Événements à venir" in french.text or "Aucun événement" in french.text


def test_an_oversized_title_is_refused_and_says_which_field(app, db):
    staff = _staff_client(app, db)
    response = staff.post(
        "/api/v1/events",
        json={"title": "x" * 201, "starts_at": _when(1), "ends_at": _when(1, 1), "room": "A"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "too_long",
        "message": "this text is too long",
        "where": "title",
    }


def test_online_links_of_members_only_events_are_shown_only_to_members(app, db, client):
    staff = _staff_client(app, db)
    link = "https://visio.example/reserve-42"
    members_only = _create(staff, audience="members", online_url=link, room="")
    public = _create(staff, title="Ouvert", online_url="https://visio.example/ouvert", room="")
    event_id = members_only["id"]

    def links_seen(reader: CampusClient) -> dict:
        listed = {e["id"]: e["online_url"] for e in reader.get("/api/v1/events").json()}
        return {
            "detail": reader.get(f"/api/v1/events/{event_id}").json()["online_url"],
            "list": listed[event_id],
            "public": listed[public["id"]],
            "page": link in reader.get(f"/events/{event_id}").text,
            "ics": link in reader.get(f"/events/{event_id}/calendar.ics").text,
        }

    hidden = {
        "detail": "",
        "list": "",
        "public": "https://visio.example/ouvert",
        "page": False,
        "ics": False,
    }
    assert links_seen(client) == hidden  # an anonymous visitor
    make_account(db, "visitor@example.org")  # signed in, but no member role
    signed_in = CampusClient(app)
    signed_in.login("visitor@example.org")
    assert links_seen(signed_in) == hidden
    make_account(db, "ana@example.org", "member")
    member = CampusClient(app)
    member.login("ana@example.org")
    shown = {**hidden, "detail": link, "list": link, "page": True, "ics": True}
    assert links_seen(member) == shown
    assert links_seen(staff) == shown


def test_the_scan_page_carries_every_text_its_script_shows_in_the_page_language(app, db, client):
    staff = _staff_client(app, db)
    event = _create(staff)
    other = _create(staff, title="Autre")
    make_account(db, "ana@example.org", "member")
    client.login("ana@example.org")
    ticket = client.post(f"/api/v1/events/{event['id']}/registration").json()["ticket"]
    url = "/api/v1/events/{}/checkin"
    refusals = [
        staff.post(url.format(other["id"]), json={"token": ticket}),
        staff.post(url.format(event["id"]), json={"token": forge(ticket)}),
        staff.post(url.format("nope"), json={"token": ticket}),
    ]
    assert staff.post(url.format(event["id"]), json={"token": ticket}).status_code == 200
    refusals.append(staff.post(url.format(event["id"]), json={"token": ticket}))

    page = staff.get(f"/events/{event['id']}/checkin").text
    data = re.search(r'<script type="application/json" id="scan-messages">(.*?)</script>', page)
    messages = json.loads(data.group(1))
    for refusal in refusals:
        assert refusal.json()["error"]["message"] in messages, refusal.text
    assert messages["this ticket has already been checked in"] == "ce billet a déjà été enregistré"
    assert 'id="scan-msg-network" hidden>Le serveur est injoignable' in page
    assert "id=\"scan-msg-failed\" hidden>L'entrée n'a pas pu" in page
    english = staff.get(f"/events/{event['id']}/checkin", headers={"Accept-Language": "en"})
    assert 'id="scan-msg-network" hidden>The server could not be reached' in english.text

    script = (Path(campus.web.__file__).parent / "static/js/checkin.js").read_text()
    assert '"network error"' not in script and "statusText" not in script
    assert not re.search(r'show\("(ok|error)",\s*"', script)  # no text typed in the script
    elements = ("scan-msg-ok", "scan-msg-network", "scan-msg-failed", "scan-msg-camera")
    for element in (*elements, "scan-messages"):
        assert f'getElementById("{element}")' in script and f'id="{element}"' in page


def test_dates_beyond_the_calendar_are_a_400_naming_the_field_not_a_crash(app, db, client):
    staff = _staff_client(app, db)
    for start, end in [
        ("0001-01-01T00:00", _when(1)),
        (_when(1), "9999-12-31T23:59-05:00"),
        (_when(1), "9999-12-31T23:59"),
    ]:
        body = {"title": "Forum", "starts_at": start, "ends_at": end, "room": "A"}
        response = staff.post("/api/v1/events", json=body)
        assert response.status_code == 400, (start, end)
        error = response.json()["error"]
        assert error["code"] == "date_out_of_range"
        assert error["where"] == ("starts_at" if start.startswith("0001") else "ends_at")
    assert staff.get("/api/v1/events?drafts=1").json() == []
    for query, where in [
        ("start=0001-01-01T00:00", "start"),
        ("end=9999-12-31T23:59-05:00", "end"),
    ]:
        listed = client.get(f"/api/v1/events?{query}")
        assert listed.status_code == 400 and listed.json()["error"]["where"] == where


def _member_tokens(db, count: int) -> list[str]:
    """API tokens of `count` new members (one Argon2 hash for all: it is not used)."""
    from campus.auth import service as auth
    from campus.auth.models import Account
    from campus.auth.passwords import hash_password

    digest = hash_password("not used in this test")
    with db.session() as session:
        accounts = [
            Account(email=f"burst{n}@example.org", name=f"B {n}", password_hash=digest)
            for n in range(count)
        ]
        session.add_all(accounts)
        session.flush()
        tokens = []
        for account in accounts:
            auth.grant_role(session, account, "member")
            tokens.append(auth.create_token(session, account, name="burst", days=1)[1])
    return tokens


def _register_at_once(app, calls: list[tuple[str, str]]) -> list:
    """POST each (event id, token) registration at the same moment, through the ASGI app."""
    import httpx

    from tests.helpers import run_coroutine

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://campus.test") as http,
        ):
            return await asyncio.gather(
                *(
                    http.post(
                        f"/api/v1/events/{event_id}/registration",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    for event_id, token in calls
                )
            )

    return run_coroutine(burst())


def test_a_burst_of_registrations_through_the_api_is_batched_and_never_overbooks(app, db):
    """90 members register at once over HTTP for 30 seats: registrations that arrive together
    share a transaction, exactly 30 get a seat, and the waitlist places are 1 to 60."""
    staff = _staff_client(app, db)
    event = _create(staff, capacity=30)
    tokens = _member_tokens(db, 90)
    responses = _register_at_once(app, [(event["id"], token) for token in tokens])
    assert [r.status_code for r in responses] == [201] * 90
    bodies = [r.json() for r in responses]
    assert sum(b["status"] == "registered" for b in bodies) == 30
    assert all(b["ticket"] for b in bodies if b["status"] == "registered")
    places = sorted(b["waitlist_position"] for b in bodies if b["status"] == "waitlisted")
    assert places == list(range(1, 61))
    batcher = app.state.registrations
    assert batcher.items == 90 and batcher.batches < 90
    with db.session() as session:
        stored = session.scalars(
            select(Registration).where(Registration.event_id == event["id"])
        ).all()
    assert sum(r.status == "registered" for r in stored) == 30 and len(stored) == 90
    # Each token's first use is noted before the request waits for its batch, not dropped.
    assert sum(e.action == "token.used" for e in audit_events(db)) == 90


def test_a_bad_registration_in_a_burst_is_refused_alone_and_the_others_land(app, db):
    """A NUL character in an event id, among good registrations arriving at once: PostgreSQL
    refuses the value, so its batch fails as a whole and each request is run again alone. The
    bad one gets a clear error (400 on PostgreSQL; SQLite finds no such event: 404), the others
    their seats, and nothing of the bad one is written."""
    staff = _staff_client(app, db)
    event = _create(staff, capacity=5)
    tokens = _member_tokens(db, 8)
    calls = [(event["id"], token) for token in tokens]
    calls.insert(4, ("a%00b", tokens[0]))
    responses = _register_at_once(app, calls)
    bad = responses.pop(4)
    assert bad.status_code == (400 if db.is_postgresql else 404)
    assert bad.json()["error"]["code"] == ("bad_value" if db.is_postgresql else "not_found")
    assert [r.status_code for r in responses] == [201] * 8
    assert sorted(r.json()["status"] for r in responses) == ["registered"] * 5 + ["waitlisted"] * 3
    with db.session() as session:
        stored = session.scalars(select(Registration)).all()
    assert len(stored) == 8 and {r.event_id for r in stored} == {event["id"]}
