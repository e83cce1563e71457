"""What people look for on events: filters and the month calendar, speakers and organiser, the
waiting list's rank (on the page and by mail), the promotion mail, reminders the day before,
check-in by name and by the short code under the QR, and the budget that stops anyone from
guessing codes until one names an attendee."""

from __future__ import annotations

import datetime as dt
import threading

from campus.db.base import utcnow
from campus.ecosystem.events import checkin, reminders, service, tickets
from campus.ecosystem.events.models import Event, Reminder
from campus.errors import CampusError
from campus.text import PARIS
from tests.helpers import CampusClient, audit_events, make_account
from tests.integration.ecosystem.events_helpers import created_event as _create
from tests.integration.ecosystem.events_helpers import (
    member,
    published_event,
    staff,
)
from tests.integration.ecosystem.events_helpers import staff_client as _staff_client
from tests.integration.ecosystem.events_helpers import when as _when


def _member_client(app, db, email: str, name: str) -> CampusClient:
    make_account(db, email, "member", name=name)
    client = CampusClient(app)
    client.login(email)
    return client


def test_filters_month_calendar_speakers_and_organiser(app, db, client):
    staff_client = _staff_client(app, db)
    fhir = _create(
        staff_client,
        title="Atelier FHIR",
        kind="workshop",
        theme="interoperability",
        organiser="Club interopérabilité",
        speakers=["Karim Benali, architecte FHIR", "Claire Martin, cardiologue"],
        capacity=1,
    )
    ai = _create(
        staff_client,
        title="Conférence IA",
        kind="conference",
        theme="ai",
        starts_at=_when(40),
        ends_at=_when(40, 2),
    )

    def listed(query: str) -> list[str]:
        return [e["title"] for e in client.get(f"/api/v1/events/calendar?{query}").json()]

    assert listed("") == ["Atelier FHIR", "Conférence IA"]
    assert listed("theme=ai") == ["Conférence IA"]
    assert listed("kind=workshop") == ["Atelier FHIR"]
    assert listed("q=fhir") == ["Atelier FHIR"]
    assert listed("organiser=club%20interop%C3%A9rabilit%C3%A9") == ["Atelier FHIR"]
    # A bare date is a day in Paris (after 23:00 UTC the event's Paris day is the next one).
    day = (utcnow() + dt.timedelta(days=40)).astimezone(PARIS).date().isoformat()
    assert listed(f"start={day}&end={day}") == ["Conférence IA"]
    # A full event leaves the "seats left" filter.
    _member_client(app, db, "ana@example.org", "Ana").post(
        f"/api/v1/events/{fhir['id']}/registration"
    )
    assert listed("free=true") == ["Conférence IA"]
    # A wrong filter is a 400 naming it, on the API and the page.
    for query, where in (
        ("theme=astrology", "theme"),
        ("kind=party", "kind"),
        ("month=13", "month"),
    ):
        answer = client.get(f"/api/v1/events/calendar?{query}")
        assert answer.status_code == 400 and answer.json()["error"]["where"] == where, query
    assert client.get("/events?theme=astrology").status_code == 400

    # The month calendar shows the month's events on their day, in French.
    month = (utcnow() + dt.timedelta(days=40)).strftime("%Y-%m")
    page = client.get(f"/events?view=month&month={month}")
    assert page.status_code == 200 and "Conférence IA" in page.text
    assert "Atelier FHIR" not in page.text or month == utcnow().strftime("%Y-%m")
    assert "Mois suivant" in page.text and "lun." in page.text
    # Page and twin show the same events (one data function).
    assert [
        e["id"] for e in client.get(f"/api/v1/events/calendar?view=month&month={month}").json()
    ] == [ai["id"]]

    detail = client.get(f"/events/{fhir['id']}")
    assert "Intervenants" in detail.text and "Karim Benali, architecte FHIR" in detail.text
    assert "Club interopérabilité" in detail.text and "Atelier" in detail.text
    assert client.get(f"/api/v1/events/{fhir['id']}").json()["speakers"] == [
        "Karim Benali, architecte FHIR",
        "Claire Martin, cardiologue",
    ]
    # The staff form keeps the speakers one a line and saves them back.
    form = staff_client.get(f"/events/{fhir['id']}/edit")
    assert "Karim Benali, architecte FHIR\nClaire Martin, cardiologue" in form.text


def test_the_waiting_list_tells_its_rank_on_the_page_and_by_mail_then_promotes(
    app, db, client, mailbox, settings
):
    staff_client = _staff_client(app, db)
    event = _create(staff_client, title="Atelier complet", capacity=1)
    first = _member_client(app, db, "ana@example.org", "Ana")
    second = _member_client(app, db, "bob@example.org", "Bob")
    third = _member_client(app, db, "eve@example.org", "Eve")
    assert first.post(f"/api/v1/events/{event['id']}/registration").json()["status"] == (
        "registered"
    )
    # The page's form: the second joins the waiting list at rank 1, the third at rank 2.
    page = second.post(f"/events/{event['id']}/register", follow_redirects=True)
    assert "liste d'attente, rang 1" in page.text
    third_answer = third.post(f"/api/v1/events/{event['id']}/registration").json()
    assert third_answer["status"] == "waitlisted" and third_answer["waitlist_position"] == 2
    assert "rang 2" in third.get("/me/events").text

    # The page tells the rank at once; the mail is queued by the worker's next round, outside
    # the event's lock (reminders.tell_waitlisted), once.
    assert [m for m in mailbox.messages() if m[0] == "bob@example.org"] == []
    with db.session() as session:
        assert reminders.tell_waitlisted(session, settings) == 2
    assert reminders.send_due_in(db, settings) == 0  # told already; no reminder due
    mails = {to: (subject, body) for to, subject, body in mailbox.messages()}
    assert "ana@example.org" not in mails  # a seat: the page says it, no mail
    subject, body = mails["bob@example.org"]
    assert "Liste d'attente" in subject and "rang 1" in body and "Atelier complet" in body
    assert "rang 2" in mails["eve@example.org"][1]

    # The seat frees up: the first waiting is promoted and told by mail; the rank moves.
    assert first.delete(f"/api/v1/events/{event['id']}/registration").status_code == 200
    assert second.get(f"/api/v1/events/{event['id']}/registration").json()["status"] == (
        "registered"
    )
    assert third.get(f"/api/v1/events/{event['id']}/registration").json()["waitlist_position"] == 1
    promoted = [m for m in mailbox.messages() if m[0] == "bob@example.org"][-1]
    assert "Atelier complet" in promoted[1] and "inscrit" in promoted[2]
    # Cancelled and waitlisted again, one is told the new rank.
    assert third.delete(f"/api/v1/events/{event['id']}/registration").status_code == 200
    assert third.post(f"/api/v1/events/{event['id']}/registration").json()["status"] == (
        "waitlisted"
    )
    with db.session() as session:
        assert reminders.tell_waitlisted(session, settings) == 1
    assert "rang 1" in [m for m in mailbox.messages() if m[0] == "eve@example.org"][-1][2]


def test_two_workers_tell_a_rank_once(db, settings, mailbox):
    """The claim is a conditional update: a sender that read the waitlist before another
    told it finds the registration claimed and sends nothing."""
    admin = staff(db)
    event_id = published_event(db, admin, capacity=1, title="Complet")
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        service.register(session, settings, ana, event_id)
        service.register(session, settings, bob, event_id)
    with db.session() as late:
        stale = reminders.untold(late)  # read before the other sender told them
        assert len(stale) == 1
        late.commit()
        with db.session() as early:
            assert reminders.tell_waitlisted(early, settings) == 1
        assert reminders.tell_waitlisted(late, settings, stale) == 0
    assert [m[0] for m in mailbox.messages() if m[1].startswith("Liste")] == ["bob@example.org"]


def test_reminders_go_once_to_seats_of_events_starting_within_a_day(db, settings, mailbox):
    admin = staff(db)
    soon = published_event(
        db,
        admin,
        capacity=1,
        title="Demain",
        starts_at=utcnow() + dt.timedelta(hours=20),
        ends_at=utcnow() + dt.timedelta(hours=22),
    )
    later = published_event(db, admin, capacity=5, title="Plus tard")
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        service.register(session, settings, ana, soon)
        service.register(session, settings, bob, soon)  # waitlisted: no reminder
        service.register(session, settings, ana, later)  # a week ahead: not yet
    assert reminders.send_due_in(db, settings) == 1
    assert reminders.send_due_in(db, settings) == 0  # at most one a registration
    sent = [m for m in mailbox.messages() if m[1].startswith("Rappel")]
    assert [(to, subject.replace("\u00a0", " ")) for to, subject, _ in sent] == [
        ("ana@example.org", "Rappel : Demain demain")
    ]
    assert f"/events/{soon}" in sent[0][2]
    # A week later, the later event's day has come.
    with db.session() as session:
        assert reminders.send_due(session, settings, now=utcnow() + dt.timedelta(days=6.5)) == 1

    # Two senders at once: the one that decided late finds the key taken and sends nothing.
    third = published_event(
        db,
        admin,
        title="Bientôt",
        starts_at=utcnow() + dt.timedelta(hours=5),
        ends_at=utcnow() + dt.timedelta(hours=6),
    )
    with db.session() as session:
        service.register(session, settings, bob, third)
    with db.session() as late:
        stale = reminders.due(late, utcnow())
        assert len(stale) == 1
        late.commit()  # its read is done; the other sender now writes
        assert reminders.send_due_in(db, settings) == 1
        original = reminders.due
        reminders.due = lambda session, now: stale
        try:
            assert reminders.send_due(late, settings) == 0
        finally:
            reminders.due = original
    with db.session() as session:
        assert session.query(Reminder).count() == 3
    assert len([m for m in mailbox.messages() if m[1].startswith("Rappel")]) == 3


def test_check_in_by_short_code_and_by_name(app, db, client):
    staff_client = _staff_client(app, db)
    event = _create(staff_client, title="Porte")
    ana = _member_client(app, db, "ana@example.org", "Anaïs Durand")
    mine = ana.post(f"/api/v1/events/{event['id']}/registration").json()
    code = mine["code"]
    assert len(code) == tickets.CODE_LENGTH and set(code) <= set(tickets.CODE_ALPHABET)
    assert code in ana.get(f"/events/{event['id']}").text  # printed under the QR code
    # Only staff check in, by code (typed loosely: lower case, a dash).
    typed = f"{code[:3].lower()}-{code[3:]}"
    assert (
        ana.post(f"/api/v1/events/{event['id']}/checkin", json={"token": typed}).status_code == 403
    )
    done = staff_client.post(f"/api/v1/events/{event['id']}/checkin", json={"token": typed})
    assert done.status_code == 200 and done.json()["name"] == "Anaïs Durand"
    again = staff_client.post(f"/api/v1/events/{event['id']}/checkin", json={"token": code})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_checked_in"

    # By name, at the door's page: the search lists the seated, a click checks in.
    bob = _member_client(app, db, "bob@example.org", "Robert Martin")
    bob_registration = bob.post(f"/api/v1/events/{event['id']}/registration").json()
    found = staff_client.get(f"/api/v1/events/{event['id']}/attendees?q=mart").json()
    assert [(a["name"], a["checked_in_at"]) for a in found] == [("Robert Martin", None)]
    assert staff_client.get(f"/api/v1/events/{event['id']}/attendees?q=m").status_code == 400
    page = staff_client.get(f"/events/{event['id']}/checkin?q=mart")
    assert "Robert Martin" in page.text
    posted = staff_client.post(
        f"/events/{event['id']}/checkin",
        data={"registration": bob_registration["id"]},
        follow_redirects=True,
    )
    assert posted.status_code == 200 and "Robert Martin" in posted.text
    stats = staff_client.get(f"/api/v1/events/{event['id']}/stats").json()
    assert stats["checked_in"] == 2
    assert client.get(f"/api/v1/events/{event['id']}/attendees?q=mart").status_code == 401


def test_guessing_short_codes_is_stopped_before_it_can_find_an_attendee(app, db, settings):
    """The attack: a staff session (stolen, or curious) types codes until one names someone.
    Each miss counts on the event; past the budget every code is refused, the right one too,
    so the guesser learns nothing more, until the window ends."""
    staff_client = _staff_client(app, db)
    event = _create(staff_client, title="Cible")
    ana = _member_client(app, db, "ana@example.org", "Anaïs Durand")
    code = ana.post(f"/api/v1/events/{event['id']}/registration").json()["code"]
    wrong = [c for c in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE") if c != code]
    answers = []
    for n in range(checkin.CODE_MISSES):
        guess = wrong[n % len(wrong)]
        answers.append(
            staff_client.post(f"/api/v1/events/{event['id']}/checkin", json={"token": guess})
        )
    assert {(a.status_code, a.json()["error"]["code"]) for a in answers} == {(404, "unknown_code")}
    # The budget is spent: even the right code is refused, through the API and the page.
    refused = staff_client.post(f"/api/v1/events/{event['id']}/checkin", json={"token": code})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    page = staff_client.post(f"/events/{event['id']}/checkin", data={"token": code})
    assert page.status_code == 429 and "trop de codes" in page.text
    # Nobody was checked in, every miss is in the audit log; the signed ticket still works.
    assert staff_client.get(f"/api/v1/events/{event['id']}/stats").json()["checked_in"] == 0
    missed = [e for e in audit_events(db) if e.action == "event.checkin_code_missed"]
    assert len(missed) == checkin.CODE_MISSES
    # Shorter or longer strings are not codes: they are read as signed tickets and refused.
    for typed in ("AAAAA", "AAAAAAA", "%", "A_A_A_"):
        answer = staff_client.post(f"/api/v1/events/{event['id']}/checkin", json={"token": typed})
        assert answer.status_code == 400, typed
    # After the window, codes are taken again.
    admin = staff(db, "door@campus.example")
    with db.session() as session:
        later = utcnow() + checkin.CODE_WINDOW + dt.timedelta(seconds=1)
        found = service.check_in(session, settings, admin, event["id"], code, now=later)
        assert service.attendee_name(session, found.id) == "Anaïs Durand"


def _code(n: int) -> str:
    """The n-th code of the alphabet (none belongs to a ticket: the event has none)."""
    letters = tickets.CODE_ALPHABET
    return "".join(letters[(n // len(letters) ** i) % len(letters)] for i in range(6))


def test_concurrent_guesses_cannot_overrun_the_budget(db, settings):
    """Many wrong codes at once: the misses are counted under the event's lock, so exactly the
    budget is answered 'unknown' and the rest 'throttled'."""
    admin = staff(db)
    event_id = published_event(db, admin, capacity=5, title="Course")
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        with db.session() as session:
            try:
                service.check_in(session, settings, admin, event_id, _code(n))
                result = "checked"
            except CampusError as refusal:
                session.rollback()
                result = refusal.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(checkin.CODE_MISSES + 8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("unknown_code") == checkin.CODE_MISSES, outcomes
    assert outcomes.count("throttled") == 8, outcomes
    with db.session() as session:
        assert session.get(Event, event_id).code_misses == checkin.CODE_MISSES
