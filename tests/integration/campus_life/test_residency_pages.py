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


def _marked(page: str) -> str:
    """The name of the field a refused form marks invalid."""
    tag = page.split('aria-invalid="true"')[0].rsplit("<", 1)[-1]
    return tag.split('name="', 1)[1].split('"', 1)[0]


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
    assert same_day.status_code == 400 and _marked(same_day.text) == "ends_on"
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
    room = {"form": "rooms", "floor_id": ids["floors"][0], "code": "A110", "name": "Bureau 110",
            "kind": "office", "max_minutes": "240", "partner_price_cents": "0"}  # fmt: skip
    bad = _form(client, "/spaces/site/rooms", {**room, "capacity": "-1"})
    assert bad.status_code == 400 and _marked(bad.text) == "capacity"
    assert _form(client, "/spaces/site/rooms", {**room, "capacity": "4"}).status_code == 303
    assert "A110" in client.get("/spaces/site").text
    assert any(r["code"] == "A110" for r in client.get("/api/v1/spaces/site").json()["rooms"])


def _written(db) -> dict[str, int]:
    """Rows of every table a campus-life form writes."""
    from sqlalchemy import func

    from campus.ecosystem.programmes.models import ProgrammeCall
    from campus.residency.models import Renewal, Residency, SponsorshipMeeting
    from campus.spaces.models import Allocation, Building, Floor, Room

    tables = (ProgrammeCall, Renewal, Residency, SponsorshipMeeting, Allocation, Building,
              Floor, Room, Booking)  # fmt: skip
    with db.session() as session:
        counts = {t.__name__: session.scalar(select(func.count()).select_from(t)) for t in tables}
        pair = session.scalars(select(Sponsorship)).one()
        counts["objectives"] = len(pair.objectives)
        counts["ends_on"] = hash(session.scalars(select(Residency.ends_on)).one())
    return counts


def test_each_refused_form_is_shown_again_in_french_with_its_field_and_nothing_written(db, client):
    from tests.integration.campus_life.twin_seeds import campus_life
    from tests.integration.ecosystem.programmes_helpers import organisation

    org_id, _admin = organisation(db, "cardiolab", "resident@cardiolab.example")
    ids = campus_life(db, org_id, "resident@cardiolab.example")
    future = (utcnow().astimezone(PARIS).date() + dt.timedelta(days=3)).isoformat()
    day = dt.date.fromisoformat(ids["day"])
    refusals = [  # (who, url, form, field, the field's label and a word of the message)
        ("staff", "/residency/admissions",
         {"title": "Admissions", "opens_at": "demain", "closes_at": "2027-01-01T10:00"},
         "opens_at", "Ouverture"),
        ("staff", f"/residencies/{ids['residency_id']}/renewal",
         {"ends_on": "2026-01-01", "monthly_fee": "900"}, "ends_on", "Fin"),
        ("staff", f"/residencies/{ids['residency_id']}/exit",
         {"exited_on": "2026-06-01", "reason": "vacances"}, "reason", "Motif"),
        ("staff", f"/residencies/{ids['residency_id']}/spaces",
         {"room": "A1-OPEN", "desks": "500"}, "desks", "Postes"),
        ("resident", f"/sponsorships/{ids['pair_id']}/meetings",
         {"held_on": future, "topics": "Le pilote à l'hôpital"}, "held_on", "Date"),
        ("resident", f"/sponsorships/{ids['pair_id']}/objectives",
         {"objectives": "Pilote\n" + "x" * 400}, "objectives", "Objectifs"),
        ("resident", "/spaces/rooms/A201/book",
         {"title": "Revue", "people": "500", "starts_at": paris(day, 14),
          "ends_at": paris(day, 15)}, "people", "Personnes"),
        ("staff", "/spaces/site/buildings",
         {"form": "buildings", "code": "B", "name": "Bâtiment B", "opens": "25:00",
          "closes": "20:00"}, "opens", "Ouverture"),
        ("staff", "/spaces/site/floors",
         {"form": "floors", "building": "A", "level": "rez-de-chaussée"}, "level", "Niveau"),
    ]  # fmt: skip
    emails = {"staff": "life-staff@campus.example", "resident": "resident@cardiolab.example"}
    before = _written(db)
    signed_in = None
    for who, url, form, field_name, words in sorted(refusals, key=lambda r: r[0]):
        if who != signed_in:  # a sign-in hashes a password: once per person
            client.cookies.clear()
            client.login(emails[who])
            signed_in = who
        refused = _form(client, url, form)
        assert refused.status_code == 400, (url, refused.status_code)
        page = refused.text
        assert 'id="form-error"' in page and 'lang="fr"' in page, url
        assert _marked(page) == field_name, url
        assert words in page.split('data-testid="refused-field"')[1].split("</p>")[0], url
        assert _written(db) == before, url  # nothing of a refused form stays
    kept = _form(client, f"/sponsorships/{ids['pair_id']}/meetings",
                 {"held_on": future, "topics": "Le pilote à l'hôpital"}).text  # fmt: skip
    assert "Le pilote à l&#39;hôpital</textarea>" in kept  # what was typed is kept
