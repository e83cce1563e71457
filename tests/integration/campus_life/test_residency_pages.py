"""Pages: staff pair a startup and close the pair, each side rates it; staff approve an
auditorium booking; forms show a refusal next to its field."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from campus.db.base import utcnow
from campus.ecosystem.directory.models import Organisation
from campus.residency.models import Sponsorship
from campus.spaces.models import Booking
from campus.spaces.validation import PARIS
from tests.helpers import make_account
from tests.integration.campus_life.spaces_helpers import paris, site
from tests.integration.ecosystem.events_helpers import actor_of
from tests.integration.ecosystem.programmes_helpers import organisation


def _form(client, url, data):
    return client.post(url, data={**data, "csrf_token": client.csrf()}, follow_redirects=False)


def test_a_pair_is_created_closed_and_rated_through_the_pages(db, client):
    make_account(db, "staff@example.org", "staff")
    startup, _ = organisation(db, "pousse", "ceo@pousse.example")
    with db.session() as session:
        session.add(Organisation(slug="groupe", name="Groupe", kind="company"))
    client.login("staff@example.org")
    assert "pair-form" in client.get("/sponsorships").text
    with db.session() as session:
        sponsor = session.scalar(select(Organisation.id).where(Organisation.slug == "groupe"))
    missing = _form(client, "/sponsorships", {"startup_id": startup, "sponsor_id": sponsor})
    assert missing.status_code == 400 and "mentor_name" in missing.text
    created = _form(client, "/sponsorships", {"startup_id": startup, "sponsor_id": sponsor,
                                              "mentor_name": "Anne Morel",
                                              "objectives": "Pilote\nLevée"})  # fmt: skip
    assert created.status_code == 303
    pair = created.headers["location"].rsplit("/", 1)[1]
    today = utcnow().astimezone(PARIS).date().isoformat()
    end = {"ends_on": today, "introductions": "2", "contracts": "1"}
    same_day = _form(client, f"/sponsorships/{pair}/end", end)  # it started today
    assert same_day.status_code == 400 and "<code>ends_on</code>" in same_day.text
    with db.session() as session:
        session.get(Sponsorship, pair).starts_on = dt.date(2026, 1, 5)
    assert _form(client, f"/sponsorships/{pair}/end", end).status_code == 303
    client.cookies.clear()
    client.login("ceo@pousse.example")
    page = client.get(f"/sponsorships/{pair}").text
    assert "Pilote" in page and 'name="rating"' in page
    assert _form(client, f"/sponsorships/{pair}/rating", {"rating": "5"}).status_code == 303
    with db.session() as session:
        assert session.get(Sponsorship, pair).startup_rating == 5


def test_staff_approve_a_pending_auditorium_booking(db, client):
    staff = actor_of(db, make_account(db, "staff@example.org", "staff"))
    site(db, staff)
    make_account(db, "alice@example.org", "member")
    day = utcnow().astimezone(PARIS).date() + dt.timedelta(days=4)
    client.login("alice@example.org")
    refused = _form(client, "/spaces/rooms/AUDI/book", {"title": "Conférence", "people": "500",
                    "starts_at": paris(day, 14), "ends_at": paris(day, 16)})  # fmt: skip
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    booked = _form(client, "/spaces/rooms/AUDI/book", {"title": "Conférence", "people": "90",
                   "starts_at": paris(day, 14), "ends_at": paris(day, 16)})  # fmt: skip
    assert booked.status_code == 303
    client.cookies.clear()
    client.login("staff@example.org")
    assert "Conférence" in client.get("/spaces/pending").text
    with db.session() as session:
        booking_id = session.scalar(select(Booking.id))
    _form(client, f"/spaces/bookings/{booking_id}/decision", {"decision": "approve"})
    with db.session() as session:
        assert session.get(Booking, booking_id).status == "confirmed"
    assert "Conférence" not in client.get("/spaces/pending").text


def test_staff_create_a_room_on_the_site_page_and_a_bad_capacity_is_named(db, client):
    staff = actor_of(db, make_account(db, "staff@example.org", "staff"))
    ids = site(db, staff)
    client.login("staff@example.org")
    room = {"floor_id": ids["floors"][0], "code": "A110", "name": "Bureau 110",
            "kind": "office", "max_minutes": "240", "partner_price_cents": "0"}  # fmt: skip
    bad = _form(client, "/spaces/site/rooms", {**room, "capacity": "-1"})
    assert bad.status_code == 400 and "<code>capacity</code>" in bad.text
    assert _form(client, "/spaces/site/rooms", {**room, "capacity": "4"}).status_code == 303
    assert "A110" in client.get("/spaces/site").text
    assert any(r["code"] == "A110" for r in client.get("/api/v1/spaces/site").json()["rooms"])
