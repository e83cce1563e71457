"""The seat counts kept on each event row: every change of a registration's status keeps them
equal to what counting the registrations gives, and the queue follows the decisions."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from campus.db.base import utcnow
from campus.ecosystem.events import service
from campus.ecosystem.events.models import Event, Registration
from campus.errors import CampusError
from tests.integration.ecosystem.events_helpers import event_input, member, published_event, staff


def _kept(db, event_id: str) -> tuple[int, int, int]:
    with db.session() as session:
        event = session.get(Event, event_id)
        return event.registered_count, event.waitlisted_count, event.checked_in_count


def _counted(db, event_id: str) -> tuple[int, int, int]:
    with db.session() as session:
        rows = session.execute(
            select(Registration.status, func.count(), func.count(Registration.checked_in_at))
            .where(Registration.event_id == event_id)
            .group_by(Registration.status)
        ).all()
    found = {status: (n, checked) for status, n, checked in rows}
    registered, checked_in = found.get("registered", (0, 0))
    return registered, found.get("waitlisted", (0, 0))[0], checked_in


def test_the_counts_follow_every_change_of_a_registration(db, settings):
    """Registrations in batches and one by one, cancellations (with promotions), capacity
    changes, check-ins and registering again, in a random order: after each step the event's
    counts equal the counted registrations, and the places given equal the queue's."""
    admin = staff(db)
    event_id = published_event(db, admin, capacity=3)
    people = [member(db, f"p{i}@example.org") for i in range(12)]
    rng = random.Random(20261205)
    capacity = 3
    for step in range(60):
        action = rng.choice(["batch", "one", "cancel", "cancel", "capacity", "check_in"])
        with db.session() as session:
            if action == "batch":
                asking = rng.sample(people, 4)
                places: dict[str, int] = {}
                requests = [service.RegistrationRequest(p, event_id, utcnow()) for p in asking]
                outcomes = service.register_many(session, requests, places)
                session.flush()
                waiting = [o for o in outcomes if not isinstance(o, CampusError)]
                assert places == service.waitlist_positions(session, waiting), step
            elif action == "one":
                try:
                    service.register(session, settings, rng.choice(people), event_id)
                except CampusError:
                    session.rollback()
            elif action == "cancel":
                try:
                    service.cancel_registration(session, settings, rng.choice(people), event_id)
                except CampusError:
                    session.rollback()
            elif action == "capacity":
                capacity = max(capacity, _kept(db, event_id)[0]) + rng.choice([0, 1])
                service.update_event(
                    session, settings, admin, event_id, event_input(capacity=capacity)
                )
            else:
                seated = session.scalars(
                    select(Registration).where(
                        Registration.event_id == event_id,
                        Registration.status == "registered",
                        Registration.checked_in_at.is_(None),
                    )
                ).first()
                if seated is not None:
                    token = service.ticket_for(settings, seated)
                    service.check_in(session, settings, admin, event_id, token)
        assert _kept(db, event_id) == _counted(db, event_id), (step, action)


def test_a_request_decided_after_another_queues_behind_it_even_if_it_asked_first(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, capacity=1)
    ana, bob, cleo = (member(db, f"{n}@example.org") for n in ("ana", "bob", "cleo"))
    now = utcnow()
    with db.session() as session:
        service.register(session, settings, ana, event_id)  # the seat
    with db.session() as session:
        places: dict[str, int] = {}
        [late] = service.register_many(
            session, [service.RegistrationRequest(bob, event_id, now + dt.timedelta(seconds=5))]
        )
    with db.session() as session:
        # Asked before bob, decided after him (another worker's batch took the lock later).
        [early] = service.register_many(
            session, [service.RegistrationRequest(cleo, event_id, now)], places
        )
    assert places == {early.id: 2}
    assert early.queued_at > late.queued_at
    with db.session() as session:
        assert service.waitlist_positions(session, [late, early]) == {late.id: 1, early.id: 2}


def test_recounting_rebuilds_counts_lost_to_a_change_made_outside_the_service(db, settings):
    admin = staff(db)
    event_id = published_event(db, admin, capacity=1)
    for name in ("ana", "bob"):
        with db.session() as session:
            service.register(session, settings, member(db, f"{name}@example.org"), event_id)
    with db.session() as session:
        session.get(Event, event_id).waitlisted_count = 0  # what a raw UPDATE could leave
    assert _kept(db, event_id) == (1, 0, 0)
    with db.session() as session:
        assert service.recount_seats(session, [event_id]) == 1
    assert _kept(db, event_id) == (1, 1, 0) == _counted(db, event_id)
