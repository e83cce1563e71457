"""Staff's work on events: create a draft, change it, publish it, cancel it (mailing everyone
registered or waitlisted)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import mails
from campus.ecosystem.events.models import Event, EventStatus, Registration, RegistrationStatus
from campus.ecosystem.events.reading import locked, seats
from campus.ecosystem.events.registration import promote
from campus.ecosystem.events.rules import require_manager
from campus.ecosystem.events.validation import CleanEvent, EventInput, clean_event
from campus.errors import BadRequest, Conflict
from campus.i18n import N_
from campus.settings import Settings
from campus.text import parse_when


def _check_training(session: Session, training_id: str | None) -> None:
    if training_id is None:
        return
    from campus.ecosystem.trainings.models import Training

    if session.get(Training, training_id) is None:
        raise BadRequest(N_("no such training"), code="not_found", where="training_id")


def _apply(event: Event, clean: CleanEvent) -> None:
    for name in CleanEvent.__dataclass_fields__:
        setattr(event, name, getattr(clean, name))


def create_event(
    session: Session, actor: Actor, data: EventInput, *, now: dt.datetime | None = None
) -> Event:
    """A draft event; staff publish it when ready."""
    require_manager(actor)
    clean = clean_event(data, now=now or utcnow())
    _check_training(session, clean.training_id)
    event = Event(status=EventStatus.DRAFT, created_by=actor.label, sequence=0)
    _apply(event, clean)
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="event.created",
        object_type="event",
        object_id=event.id,
        details={"capacity": event.capacity, "audience": event.audience},
    )
    return event


def update_event(
    session: Session,
    settings: Settings,
    actor: Actor,
    event_id: str,
    data: EventInput,
    *,
    now: dt.datetime | None = None,
) -> Event:
    """Change an event that has not ended; more seats promote the waitlist, fewer are refused
    below the seats already taken. An ended event is refused whole: its record stays as it
    happened, and nobody is promoted to (or mailed about) a seat in the past."""
    require_manager(actor)
    now = now or utcnow()
    event = locked(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise Conflict(N_("this event is cancelled"), code="event_cancelled")
    if event.ends_at <= now:
        raise Conflict(
            N_("this event has already ended: it can no longer be changed"), code="event_ended"
        )
    moved = parse_changed_start(event, data)
    clean = clean_event(data, now=now, check_future=moved)
    _check_training(session, clean.training_id)
    taken = seats(event).registered
    if clean.capacity is not None and clean.capacity < taken:
        raise Conflict(
            N_("capacity cannot go below the seats already taken"),
            code="capacity_below_registered",
            where="capacity",
        )
    _apply(event, clean)
    event.sequence += 1
    session.flush()
    promoted = promote(session, settings, event)
    audit.record(
        session,
        actor=actor.label,
        action="event.updated",
        object_type="event",
        object_id=event.id,
        details={"capacity": event.capacity, "promoted": promoted},
    )
    return event


def parse_changed_start(event: Event, data: EventInput) -> bool:
    """Whether the submitted start differs from the stored one (only then must it be future)."""
    try:
        return parse_when(data.starts_at, "starts_at") != event.starts_at
    except BadRequest:
        return True


def publish_event(session: Session, actor: Actor, event_id: str) -> Event:
    require_manager(actor)
    event = locked(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise Conflict(N_("this event is cancelled"), code="event_cancelled")
    if event.status == EventStatus.PUBLISHED:
        return event
    if event.ends_at <= utcnow():
        raise Conflict(N_("this event has already ended"), code="event_ended")
    event.status = EventStatus.PUBLISHED
    event.published_at = utcnow()
    audit.record(
        session,
        actor=actor.label,
        action="event.published",
        object_type="event",
        object_id=event.id,
    )
    return event


def cancel_event(session: Session, settings: Settings, actor: Actor, event_id: str) -> Event:
    """Cancel an event and tell everyone registered or waitlisted."""
    require_manager(actor)
    event = locked(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise Conflict(N_("this event is already cancelled"), code="event_cancelled")
    event.status = EventStatus.CANCELLED
    event.cancelled_at = utcnow()
    event.sequence += 1
    notified = 0
    for registration in session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED]),
        )
    ):
        mails.notify(session, settings, registration.account_id, mails.CANCELLED, event)
        notified += 1
    audit.record(
        session,
        actor=actor.label,
        action="event.cancelled",
        object_type="event",
        object_id=event.id,
        details={"notified": notified},
    )
    return event
