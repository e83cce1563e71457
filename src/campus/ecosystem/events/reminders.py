"""Reminders: a mail the day before, to everyone holding a seat at a published event that
starts within the next 24 hours. Sent by the job worker when idle and by `campus event
remind`; the table `event_reminders`, keyed by the registration, makes it at most one per
registration, whoever sends it and however often (a second sender's insert fails on the key
and sends nothing)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
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
        ).tuples()
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


def send_due_in(db: Database, settings: Settings) -> int:
    """One round in its own transaction (the worker's idle step, the CLI)."""
    with db.session() as session:
        return send_due(session, settings)
