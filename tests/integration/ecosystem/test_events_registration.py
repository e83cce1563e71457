"""Registration to events: seats, waitlist, promotion on cancellation, refusals."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from campus.auth.models import OutboxMail
from campus.db.base import utcnow
from campus.ecosystem.events import reminders, service
from campus.ecosystem.events.models import Event, Registration
from campus.errors import BadRequest, Conflict, Forbidden
from tests.helpers import audit_events, make_account
from tests.integration.ecosystem.events_helpers import (
    actor_of,
    event_input,
    member,
    published_event,
    staff,
)


def _statuses(db, event_id):
    with db.session() as session:
        rows = session.execute(
            select(Registration.account_id, Registration.status).where(
                Registration.event_id == event_id
            )
        ).all()
    return dict(rows)


def test_a_full_event_waitlists_and_a_cancellation_promotes_the_first_waitlisted(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, capacity=2)
    people = [member(db, f"p{i}@example.org") for i in range(4)]
    with db.session() as session:
        results = [service.register(session, settings, p, event_id).status for p in people]
    assert results == ["registered", "registered", "waitlisted", "waitlisted"]
    with db.session() as session:  # the worker tells the waitlisted their rank
        assert reminders.tell_waitlisted(session, settings) == 2
        assert reminders.tell_waitlisted(session, settings) == 0  # once
    with db.session() as session:
        third = service.registration_of(session, event_id, people[3].account_id)
        assert service.waitlist_position(session, third) == 2
        service.cancel_registration(session, settings, people[0], event_id)
    statuses = _statuses(db, event_id)
    assert statuses[people[0].account_id] == "cancelled"
    assert statuses[people[2].account_id] == "registered"  # first in the queue
    assert statuses[people[3].account_id] == "waitlisted"
    with db.session() as session:
        mails = session.scalars(select(OutboxMail)).all()
        # Each waitlisted was told their rank; then the first of the queue got the seat.
        ranks = {m.to: m.body for m in mails if m.subject.startswith("Liste d")}
        assert sorted(ranks) == ["p2@example.org", "p3@example.org"]
        assert "rang 1" in ranks["p2@example.org"] and "rang 2" in ranks["p3@example.org"]
        promoted = [m for m in mails if not m.subject.startswith("Liste d")]
        assert [m.to for m in promoted] == ["p2@example.org"]
        assert "Atelier FHIR" in promoted[0].subject


def test_double_registration_is_refused_and_nothing_changes(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin)
    ana = member(db, "ana@example.org")
    with db.session() as session:
        service.register(session, settings, ana, event_id)
    with pytest.raises(Conflict) as refused, db.session() as session:
        service.register(session, settings, ana, event_id)
    assert refused.value.code == "already_registered"
    assert len(_statuses(db, event_id)) == 1


def test_registering_again_after_cancelling_joins_the_end_of_the_queue(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, capacity=1)
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        service.register(session, settings, ana, event_id)
        service.register(session, settings, bob, event_id)
        service.cancel_registration(session, settings, ana, event_id)
        again = service.register(session, settings, ana, event_id)
        assert again.status == "waitlisted"
    assert _statuses(db, event_id) == {bob.account_id: "registered", ana.account_id: "waitlisted"}


def test_registration_after_the_event_ended_is_refused(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin)
    ana = member(db, "ana@example.org")
    later = utcnow() + dt.timedelta(days=30)
    with pytest.raises(Conflict) as refused, db.session() as session:
        service.register(session, settings, ana, event_id, now=later)
    assert refused.value.code == "event_ended"
    assert _statuses(db, event_id) == {}


def test_drafts_cancelled_and_members_only_events_refuse_registration(db, settings):
    admin = staff(db)
    visitor = actor_of(db, make_account(db, "citizen@example.org"))
    members_only = published_event(db, admin, audience="members")
    with pytest.raises(Forbidden), db.session() as session:
        service.register(session, settings, visitor, members_only)
    with db.session() as session:
        draft = service.create_event(session, admin, event_input()).id
    with pytest.raises(Exception) as refused, db.session() as session:
        service.register(session, settings, visitor, draft)
    assert getattr(refused.value, "status", None) == 404  # drafts are invisible
    cancelled = published_event(db, admin)
    with db.session() as session:
        service.cancel_event(session, settings, admin, cancelled)
    with pytest.raises(Conflict), db.session() as session:
        service.register(session, settings, visitor, cancelled)


def test_cancelling_an_event_mails_registered_and_waitlisted(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, capacity=1)
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        service.register(session, settings, ana, event_id)
        service.register(session, settings, bob, event_id)
        service.cancel_event(session, settings, admin, event_id)
    with db.session() as session:
        cancelled = select(OutboxMail.to).where(OutboxMail.subject.startswith("Événement annulé"))
        assert sorted(session.scalars(cancelled)) == [
            "ana@example.org",
            "bob@example.org",
        ]
        assert session.get(Event, event_id).sequence == 1


def _one_seat_event_with(db, settings, people: int):
    """Staff, an event of one seat, and `people` members registered in turn (one waitlisted
    after the first)."""
    admin = staff(db)
    event_id = published_event(db, admin, capacity=1)
    members = [member(db, f"p{i}@example.org") for i in range(people)]
    with db.session() as session:
        for one in members:
            service.register(session, settings, one, event_id)
    return admin, event_id


def test_raising_capacity_promotes_the_waitlist_and_lowering_below_taken_is_refused(db, settings):
    admin, event_id = _one_seat_event_with(db, settings, 3)
    with db.session() as session:
        service.update_event(session, settings, admin, event_id, event_input(capacity=2))
    statuses = _statuses(db, event_id)
    assert sorted(statuses.values()) == ["registered", "registered", "waitlisted"]
    with pytest.raises(Conflict), db.session() as session:
        service.update_event(session, settings, admin, event_id, event_input(capacity=1))


def test_an_ended_event_cannot_be_changed_and_its_waitlist_is_not_promoted(db, settings):
    admin, event_id = _one_seat_event_with(db, settings, 2)
    with db.session() as session:
        event = session.get(Event, event_id)
        event.starts_at = utcnow() - dt.timedelta(days=1, hours=2)
        event.ends_at = utcnow() - dt.timedelta(days=1)
    with db.session() as session:
        stored = session.get(Event, event_id)
        before = (stored.title, stored.capacity, stored.sequence, stored.ends_at)
        same_start = stored.starts_at
    changes = event_input(capacity=5, title="Autre titre", starts_at=same_start)
    with pytest.raises(Conflict) as refused, db.session() as session:
        service.update_event(session, settings, admin, event_id, changes)
    assert refused.value.code == "event_ended"
    with db.session() as session:
        stored = session.get(Event, event_id)
        assert (stored.title, stored.capacity, stored.sequence, stored.ends_at) == before
        assert session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    assert sorted(_statuses(db, event_id).values()) == ["registered", "waitlisted"]


@pytest.mark.parametrize(
    "changes, where",
    [
        ({"capacity": -1}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"title": "   "}, "title"),
        ({"starts_at": utcnow() - dt.timedelta(days=1)}, "starts_at"),
        ({"ends_at": utcnow() + dt.timedelta(days=6)}, "ends_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"audience": "vip"}, "audience"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"room": "", "online_url": ""}, "room"),
    ],
)
def test_bad_event_input_is_refused_with_the_field_and_nothing_is_written(
    db, settings, changes, where
):
    admin = staff(db)
    with pytest.raises(BadRequest) as refused, db.session() as session:
        service.create_event(session, admin, event_input(**changes))
    assert str(refused.value.where).startswith(where)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_naive_times_are_read_as_paris_time_and_stored_in_utc(db, settings):
    admin = staff(db)
    year = utcnow().year + 1
    with db.session() as session:
        event = service.create_event(
            session,
            admin,
            event_input(starts_at=f"{year}-07-01T10:00", ends_at=f"{year}-07-01T12:00"),
        )
        event_id = event.id
    with db.session() as session:
        stored = session.get(Event, event_id)
        assert stored.starts_at == dt.datetime(year, 7, 1, 8, 0, tzinfo=dt.UTC)  # CEST = UTC+2


def test_only_staff_create_events(db, settings):
    ana = member(db, "ana@example.org")
    with pytest.raises(Forbidden), db.session() as session:
        service.create_event(session, ana, event_input())


def test_concurrent_registrations_never_overbook(db, settings):
    """210 accounts register at once for 50 seats: exactly 50 get a seat, the rest wait
    (PostgreSQL locks the event row; SQLite, the development database, its write lock)."""
    admin = staff(db)
    event_id = published_event(db, admin, capacity=50)
    with db.session() as session:
        from campus.auth.models import Account
        from campus.auth.passwords import hash_password

        digest = hash_password("not used in this test")
        accounts = [
            Account(email=f"c{i}@example.org", name=f"C {i}", password_hash=digest)
            for i in range(210)
        ]
        session.add_all(accounts)
        session.flush()
        ids = [a.id for a in accounts]
    from campus.auth.actor import Actor, Grant

    def attempt(account_id: str) -> str:
        actor = Actor(account_id=account_id, via="session", grants=frozenset({Grant("member")}))
        with db.session() as session:
            return service.register(session, settings, actor, event_id).status

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, ids))
    assert outcomes.count("registered") == 50
    assert outcomes.count("waitlisted") == 160
    statuses = _statuses(db, event_id)
    assert list(statuses.values()).count("registered") == 50
    with db.session() as session:
        first = session.scalars(
            select(Registration)
            .where(Registration.event_id == event_id, Registration.status == "waitlisted")
            .order_by(Registration.queued_at, Registration.id)
        ).first()
        first_id = first.account_id
        seated = next(a for a, s in statuses.items() if s == "registered")
        service.cancel_registration(
            session, settings, Actor(account_id=seated, via="session"), event_id
        )
    statuses = _statuses(db, event_id)
    assert statuses[first_id] == "registered"
    assert list(statuses.values()).count("registered") == 50


def test_a_batch_of_registrations_applies_the_rules_in_order_and_refuses_each_alone(db, settings):
    """One transaction for several requests: seats go in request order, the waitlist takes
    the rest, and each refusal concerns its own request (nothing written for it)."""
    from campus.auth.actor import ANONYMOUS
    from campus.errors import NotAuthenticated, NotFound

    admin = staff(db)
    small = published_event(db, admin, capacity=2)
    other = published_event(db, admin, capacity=None)
    members_only = published_event(db, admin, audience="members")
    people = [member(db, f"m{i}@example.org") for i in range(4)]
    visitor = actor_of(db, make_account(db, "visitor@example.org"))
    at = utcnow()

    def ask(actor, event_id, seconds):
        return service.RegistrationRequest(actor, event_id, at + dt.timedelta(seconds=seconds))

    requests = [
        ask(people[0], small, 0),
        ask(people[1], other, 1),
        ask(ANONYMOUS, small, 2),
        ask(people[1], small, 3),
        ask(people[0], small, 4),  # the same account again, in the same batch
        ask(people[2], "no-such-event", 5),
        ask(people[2], small, 6),  # the third seat of two: waitlisted
        ask(visitor, members_only, 7),
        ask(people[3], small, 8),
    ]
    with db.session() as session:
        outcomes = service.register_many(session, requests)
    kinds = [
        o.status if isinstance(o, Registration) else (type(o).__name__, o.code) for o in outcomes
    ]
    assert kinds == [
        "registered",
        "registered",
        ("NotAuthenticated", "not_authenticated"),
        "registered",
        ("Conflict", "already_registered"),
        ("NotFound", "not_found"),
        "waitlisted",
        ("Forbidden", "members_only"),
        "waitlisted",
    ]
    assert isinstance(outcomes[2], NotAuthenticated) and isinstance(outcomes[5], NotFound)
    statuses = _statuses(db, small)
    assert sorted(statuses.values()) == ["registered", "registered", "waitlisted", "waitlisted"]
    assert _statuses(db, members_only) == {}
    with db.session() as session:
        waiting = session.scalars(
            select(Registration)
            .where(Registration.event_id == small, Registration.status == "waitlisted")
            .order_by(Registration.queued_at)
        ).all()
        assert [r.account_id for r in waiting] == [people[2].account_id, people[3].account_id]
        assert service.waitlist_positions(session, waiting) == {
            waiting[0].id: 1,
            waiting[1].id: 2,
        }
    registered_events = [e for e in audit_events(db) if e.action == "event.registered"]
    assert len(registered_events) == 3


def test_a_batch_reuses_a_cancelled_registration_and_puts_it_at_the_end_of_the_queue(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, capacity=1)
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        first = service.register(session, settings, ana, event_id)
    with db.session() as session:
        service.register(session, settings, bob, event_id)  # waitlisted
    with db.session() as session:
        service.cancel_registration(session, settings, ana, event_id)  # bob is promoted
    at = utcnow()
    with db.session() as session:
        [again] = service.register_many(session, [service.RegistrationRequest(ana, event_id, at)])
    assert again.id == first.id and again.status == "waitlisted" and again.queued_at == at
    assert _statuses(db, event_id) == {ana.account_id: "waitlisted", bob.account_id: "registered"}
