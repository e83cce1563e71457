"""Hostile input to events: calendar injection, one-line titles, tickets, CSV formulas."""

import datetime as dt

import pytest
from sqlalchemy import select

from campus.auth.models import OutboxMail
from campus.db.base import utcnow
from campus.ecosystem.events import ics, service, stats
from campus.ecosystem.events.models import Event
from campus.errors import BadRequest, Conflict
from tests.helpers import make_account
from tests.integration.ecosystem.events_helpers import (
    actor_of,
    event_input,
    member,
    published_event,
    staff,
)

INJECTION = "Atelier\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:faux\r\nEND:VEVENT\nX-EVIL:1"


def _calendar(db, event_id) -> str:
    with db.session() as session:
        event = session.get(Event, event_id)
        return ics.calendar([event], base_url="https://campus.example", stamp=utcnow())


def _unfolded(text: str) -> list[str]:
    assert text.endswith("\r\n")
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_line_breaks_in_title_room_or_description_inject_nothing_into_the_calendar(db, settings):
    admin = staff(db)
    event_id = published_event(
        db, admin, title=INJECTION, room="Salle 1\r\nLOCATION:ailleurs", description=INJECTION
    )
    text = _calendar(db, event_id)
    assert "\r" not in text.replace("\r\n", "") and "\n" not in text.replace("\r\n", "")
    lines = _unfolded(text)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in lines]
    assert not [n for n in names if n.startswith("X-EVIL")]
    assert names.count("SUMMARY") == 1 and names.count("LOCATION") == 1
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_a_title_or_room_is_one_line(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, title="Atelier\r\nBcc: x@evil", room="A\nB")
    with db.session() as session:
        event = session.get(Event, event_id)
        assert event.title == "Atelier Bcc: x@evil" and event.room == "A B"


def test_a_cancellation_mail_subject_is_one_line_whatever_the_title(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, title="Atelier\u2028Bcc: x@evil\u0085y")
    ana = member(db, "ana@example.org")
    with db.session() as session:
        service.register(session, settings, ana, event_id)
    with db.session() as session:
        service.cancel_event(session, settings, admin, event_id)
    with db.session() as session:
        subjects = session.scalars(select(OutboxMail.subject)).all()
    assert subjects and all(not set(s) & set("\r\n\u2028\u2029\u0085\x0b\x0c") for s in subjects)


@pytest.mark.parametrize("field", ["title", "room", "description"])
def test_line_and_paragraph_separators_do_not_survive(db, settings, field):
    admin = staff(db)
    event_id = published_event(db, admin, **{field: "a\u2028b\u2029c\u0085d"})
    with db.session() as session:
        value = getattr(session.get(Event, event_id), field)
    assert not set(value) & set("\u2028\u2029\u0085")


def test_a_ticket_of_a_cancelled_registration_is_refused_and_nothing_is_checked_in(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin)
    ana = member(db, "ana@example.org")
    with db.session() as session:
        registration = service.register(session, settings, ana, event_id)
        ticket = service.ticket_for(settings, registration)
    with db.session() as session:
        service.cancel_registration(session, settings, ana, event_id)
    with db.session() as session, pytest.raises(Conflict) as refused:
        service.check_in(session, settings, admin, event_id, ticket)
    assert refused.value.code == "no_seat"


def test_a_ticket_of_another_event_is_refused_even_naming_a_real_registration(db, settings):
    admin = staff(db)
    first = published_event(db, admin)
    second = published_event(db, admin, title="Autre")
    ana = member(db, "ana@example.org")
    with db.session() as session:
        registration = service.register(session, settings, ana, first)
    from campus.ecosystem.events import tickets

    # A ticket signed for the second event but naming the first event's registration.
    token = tickets.ticket_token(
        settings, event_id=second, registration_id=registration.id, queued_at=registration.queued_at
    )
    with db.session() as session, pytest.raises(Exception) as refused:
        service.check_in(session, settings, admin, second, token)
    assert refused.value.code == "not_registered"
    with db.session() as session:
        assert service.seats(session.get(Event, first)).checked_in == 0


def _ticketed(db, settings):
    """Staff, a published event, and a member registered to it with their ticket."""
    admin = staff(db)
    event_id = published_event(db, admin)
    ana = member(db, "ana@example.org")
    with db.session() as session:
        ticket = service.ticket_for(settings, service.register(session, settings, ana, event_id))
    return admin, event_id, ana, ticket


def test_a_replayed_ticket_is_refused_after_check_in(db, settings):
    admin, event_id, ana, ticket = _ticketed(db, settings)
    with db.session() as session:
        first = service.check_in(session, settings, admin, event_id, ticket).checked_in_at
    with db.session() as session, pytest.raises(Conflict) as refused:
        service.check_in(session, settings, admin, event_id, " " + ticket + "\n")
    assert refused.value.code == "already_checked_in"
    with db.session() as session:
        assert service.registration_of(session, event_id, ana.account_id).checked_in_at == first


def test_a_ticket_from_before_a_cancellation_does_not_check_in_the_new_registration(db, settings):
    admin, event_id, ana, old = _ticketed(db, settings)
    with db.session() as session:
        service.cancel_registration(session, settings, ana, event_id)
    with db.session() as session:
        new = service.ticket_for(settings, service.register(session, settings, ana, event_id))
    assert new != old
    with db.session() as session, pytest.raises(Conflict) as refused:
        service.check_in(session, settings, admin, event_id, old)
    assert refused.value.code == "replaced_ticket" and refused.value.where == "token"
    with db.session() as session:
        assert service.check_in(session, settings, admin, event_id, new).checked_in_at


@pytest.mark.parametrize("start", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1"])
def test_every_formula_lead_of_a_name_is_neutralised_in_the_csv(db, settings, start):
    admin = staff(db)
    event_id = published_event(db, admin)
    account = make_account(db, "ana@example.org", "member", name=start + "x")
    with db.session() as session:
        service.register(session, settings, actor_of(db, account), event_id)
    with db.session() as session:
        body = stats.attendees_csv(session, admin, event_id)
    row = body.split("\r\n", 1)[1]
    cell = row[1:] if row.startswith('"') else row
    assert cell.startswith("'"), row


@pytest.mark.parametrize(
    ("changes", "where", "code"),
    [
        ({"capacity": -1}, "capacity", "negative_capacity"),
        ({"capacity": "1e3"}, "capacity", "invalid_type"),
        ({"starts_at": "2027-02-30T10:00"}, "starts_at", "invalid_date"),
        ({"ends_at": "demain"}, "ends_at", "invalid_date"),
        ({"description": "x" * 5001}, "description", "too_long"),
        ({"room": "x" * 201}, "room", "too_long"),
        ({"online_url": "javascript:alert(1)", "room": ""}, "online_url", "invalid_url"),
        ({"online_url": "https://a.example/\r\nX-EVIL:1"}, "online_url", "invalid_url"),
        ({"title": " \t "}, "title", "required"),
        ({"audience": "everyone"}, "audience", "invalid_audience"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_created(db, settings, changes, where, code):
    admin = staff(db)
    with db.session() as session, pytest.raises(BadRequest) as refused:
        service.create_event(session, admin, event_input(**changes))
    assert (refused.value.where, refused.value.code) == (where, code)
    with db.session() as session:
        assert session.scalar(select(Event.id)) is None


def test_a_start_in_the_past_and_an_end_before_the_start_are_refused(db, settings):
    admin = staff(db)
    past = utcnow() - dt.timedelta(hours=1)
    for changes, where in [
        ({"starts_at": past, "ends_at": past + dt.timedelta(hours=2)}, "starts_at"),
        ({"ends_at": utcnow() + dt.timedelta(days=6)}, "ends_at"),
    ]:
        with db.session() as session, pytest.raises(BadRequest) as refused:
            service.create_event(session, admin, event_input(**changes))
        assert refused.value.where == where


def test_tickets_of_a_cancelled_event_or_a_waitlisted_holder_are_refused(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, capacity=1)
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        service.register(session, settings, ana, event_id)
        waitlisted = service.register(session, settings, bob, event_id)
        bob_ticket = service.ticket_for(settings, waitlisted)
    with db.session() as session, pytest.raises(Conflict) as refused:
        service.check_in(session, settings, admin, event_id, bob_ticket)
    assert refused.value.code == "no_seat"
    with db.session() as session:
        ana_ticket = service.ticket_for(
            settings, service.registration_of(session, event_id, ana.account_id)
        )
        service.cancel_event(session, settings, admin, event_id)
    with db.session() as session, pytest.raises(Conflict) as refused:
        service.check_in(session, settings, admin, event_id, ana_ticket)
    assert refused.value.code == "not_published"
    with db.session() as session:
        assert service.seats(session.get(Event, event_id)).checked_in == 0
