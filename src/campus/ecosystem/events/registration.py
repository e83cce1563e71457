"""Registrations: take a seat or a waitlist place, give it up, promote the waitlist.

No overbooking: a registration, a cancellation, a promotion, a check-in and a capacity change
lock the event row (`SELECT ... FOR UPDATE`; on SQLite, the database's write lock: see
db.engine) before reading its seats, so concurrent registrations queue on the lock and each
sees the seats the previous ones took.

Two paths decide a batch of registrations with the same rules (`rules`): the plain one here,
written with the ORM to be read, and the fast one (`fastpath.register_many`, prepared
statements), which `register` and the API use. A test runs both on the same requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import fastpath, mails, rules
from campus.ecosystem.events.models import Event, EventStatus, Registration, RegistrationStatus
from campus.ecosystem.events.reading import locked, registration_of, seats
from campus.ecosystem.events.rules import RegistrationRequest, can_manage
from campus.errors import (
    CampusError,
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
)
from campus.i18n import N_
from campus.settings import Settings


def register(
    session: Session,
    settings: Settings,
    actor: Actor,
    event_id: str,
    *,
    now: dt.datetime | None = None,
) -> Registration:
    """Take a seat, or a place on the waitlist when the event is full (the fast path); one
    who joins the waitlist is told their rank by mail soon after (`reminders.tell_waitlisted`,
    run by the worker, outside the event's lock)."""
    [outcome] = fastpath.register_many(
        session, [RegistrationRequest(actor, event_id, now or utcnow())]
    )
    if isinstance(outcome, CampusError):
        raise outcome
    return outcome


def register_many_plain(
    session: Session,
    requests: Sequence[RegistrationRequest],
    places: dict[str, int] | None = None,
) -> list[Registration | CampusError]:
    """What `fastpath.register_many` does, with the ORM, one request after the other: lock the
    events in id order, then for each request check it, decide its seat, write it."""
    asked = sorted({r.event_id for r in requests if r.actor.authenticated and r.actor.account_id})
    events = {
        event.id: event
        for event in session.scalars(
            select(Event)
            .where(Event.id.in_(asked))
            .order_by(Event.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    outcomes: list[Registration | CampusError] = []
    for request in requests:
        actor = request.actor
        if not (actor.authenticated and actor.account_id):
            outcomes.append(NotAuthenticated(N_("sign in to continue"), code="not_authenticated"))
            continue
        event = events.get(request.event_id)
        existing = registration_of(session, request.event_id, actor.account_id)
        try:
            rules.require_registrable(
                event, actor, request.event_id, existing.status if existing else None, request.at
            )
        except CampusError as refusal:
            outcomes.append(refusal)
            continue
        assert event is not None
        decision = rules.decide(
            event.capacity,
            event.registered_count,
            event.waitlisted_count,
            event.queue_tail,
            request.at,
        )
        if decision.status == RegistrationStatus.WAITLISTED:
            event.waitlisted_count += 1
        else:
            event.registered_count += 1
        event.queue_tail = decision.queued_at
        registration = existing or Registration(
            event_id=event.id, account_id=actor.account_id, created_at=request.at
        )
        registration.status = decision.status
        registration.queued_at = decision.queued_at
        registration.cancelled_at = None
        registration.promoted_at = None
        registration.waitlist_mailed_at = None
        session.add(registration)
        session.flush()
        if decision.place is not None and places is not None:
            places[registration.id] = decision.place
        audit.record(
            session,
            actor=actor.label,
            action="event.registered"
            if decision.status == RegistrationStatus.REGISTERED
            else "event.waitlisted",
            object_type="event",
            object_id=event.id,
            details={"registration": registration.id},
        )
        outcomes.append(registration)
    return outcomes


def cancel_registration(
    session: Session,
    settings: Settings,
    actor: Actor,
    event_id: str,
    *,
    account_id: str | None = None,
    now: dt.datetime | None = None,
) -> Registration:
    """Give up one's seat or waitlist place; the first waitlisted then takes a freed seat.

    Staff may cancel another account's registration by giving `account_id`.
    """
    if not actor.authenticated:
        raise NotAuthenticated(N_("sign in to continue"), code="not_authenticated")
    target = account_id or actor.account_id
    if target != actor.account_id and not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")
    now = now or utcnow()
    event = locked(session, event_id)
    registration = registration_of(session, event.id, target)
    if registration is None or registration.status == RegistrationStatus.CANCELLED:
        raise NotFound(N_("there is no registration to cancel"), code="not_registered")
    if event.ends_at <= now:
        raise Conflict(N_("this event has already ended"), code="event_ended")
    if registration.checked_in_at is not None:
        raise Conflict(N_("this attendee has already checked in"), code="already_checked_in")
    if registration.status == RegistrationStatus.REGISTERED:
        event.registered_count -= 1
    else:
        event.waitlisted_count -= 1
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    session.flush()
    promoted = 0 if event.status == EventStatus.CANCELLED else promote(session, settings, event)
    audit.record(
        session,
        actor=actor.label,
        action="event.registration_cancelled",
        object_type="event",
        object_id=event.id,
        details={"registration": registration.id, "promoted": promoted},
    )
    return registration


def promote(session: Session, settings: Settings, event: Event) -> int:
    """Move the first waitlisted into free seats (the event row is locked); tell them by mail."""
    if event.status != EventStatus.PUBLISHED:
        return 0
    free = seats(event).available
    queue = (
        select(Registration)
        .where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITLISTED
        )
        .order_by(Registration.queued_at, Registration.id)
    )
    if free is not None:
        queue = queue.limit(free)
    promoted = 0
    for registration in session.scalars(queue).all():
        registration.status = RegistrationStatus.REGISTERED
        registration.promoted_at = utcnow()
        event.waitlisted_count -= 1
        event.registered_count += 1
        mails.notify(session, settings, registration.account_id, mails.PROMOTED, event)
        promoted += 1
    session.flush()
    return promoted
