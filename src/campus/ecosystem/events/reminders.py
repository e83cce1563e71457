"""Mails sent after the fact by the job worker when idle (and by `campus event remind`):

- the reminder the day before, to everyone holding a seat at a published event that starts
  within the next 24 hours; the table `event_reminders`, keyed by the registration, makes it
  at most one per registration, whoever sends it and however often (a second sender's insert
  fails on the key and sends nothing);
- the rank of each registration that joined a waiting list. Written in the registration's
  own transaction, that mail (two reads, an insert and a flush each) held the event's lock
  and halved the registrations a second a full event takes (bench/events.py: 75 to 89 a
  second against 162 to 196). Here a conditional update of `waitlist_mailed_at` claims each
  one, so it is told once, its rank as it stands when the mail leaves.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.db.base import utcnow
from campus.db.engine import Database
from campus.ecosystem.events import mails
from campus.ecosystem.events.models import (
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    Reminder,
)
from campus.ecosystem.events.reading import waitlist_position
from campus.settings import Settings

log = logging.getLogger("campus.events")

AHEAD = dt.timedelta(hours=24)


def due(session: Session, now: dt.datetime) -> list[tuple[Registration, Event]]:
    """Seated registrations to events starting within `AHEAD`, not reminded yet."""
    return list(
        session.execute(
            select(Registration, Event)
            .join(Event, Event.id == Registration.event_id)
            .outerjoin(Reminder, Reminder.registration_id == Registration.id)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + AHEAD,
                Registration.status == RegistrationStatus.REGISTERED,
                Reminder.registration_id.is_(None),
            )
            .order_by(Event.starts_at, Registration.id)
            .limit(1000)
        )
    )


def send_due(session: Session, settings: Settings, *, now: dt.datetime | None = None) -> int:
    """Queue the reminders due now; the number queued. Each reminder is recorded before its
    mail, in a savepoint: a registration reminded meanwhile by another sender is skipped."""
    now = now or utcnow()
    sent = 0
    for registration, event in due(session, now):
        try:
            with session.begin_nested():
                session.add(Reminder(registration_id=registration.id, sent_at=now))
                session.flush()
        except IntegrityError:
            continue  # reminded already: the key decided
        if mails.notify(session, settings, registration.account_id, mails.REMINDER, event):
            sent += 1
    return sent


def untold(session: Session) -> list[Registration]:
    """Waitlisted registrations whose rank was not mailed yet, first in the queue first."""
    return list(
        session.scalars(
            select(Registration)
            .where(
                Registration.status == RegistrationStatus.WAITLISTED,
                Registration.waitlist_mailed_at.is_(None),
            )
            .order_by(Registration.queued_at, Registration.id)
            .limit(1000)
        )
    )


def tell_waitlisted(
    session: Session,
    settings: Settings,
    registrations: list[Registration] | None = None,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Mail each of `registrations` (by default, those `untold`) its rank; the number of mails
    queued. Each is claimed first by a conditional update: one another sender claimed, or
    that no longer waits, is skipped."""
    now = now or utcnow()
    told = 0
    for registration in untold(session) if registrations is None else registrations:
        claimed = session.execute(
            update(Registration)
            .where(
                Registration.id == registration.id,
                Registration.status == RegistrationStatus.WAITLISTED,
                Registration.waitlist_mailed_at.is_(None),
            )
            .values(waitlist_mailed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue  # told by another sender, or no longer waiting
        rank = waitlist_position(session, registration)
        event = session.get(Event, registration.event_id)
        if rank is None or event is None:
            continue
        told += mails.notify(
            session, settings, registration.account_id, mails.WAITLISTED, event, rank=rank
        )
    return told


def send_due_in(db: Database, settings: Settings) -> int:
    """One round in its own transaction (the worker's idle step, the CLI): the waiting
    lists' ranks, then the reminders due; the number of reminders queued."""
    with db.session() as session:
        tell_waitlisted(session, settings)
        return send_due(session, settings)
