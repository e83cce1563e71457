"""Events' statistics and exports: events and attendance by month, an event's figures, the
attendee list as CSV (staff). Counts only: no name leaves but in the staff's attendee export."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from campus import exports
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.ecosystem.events.models import Event, EventStatus, Registration, RegistrationStatus
from campus.ecosystem.events.service import can_manage, seats
from campus.errors import BadRequest, Forbidden, NotFound
from campus.i18n import N_
from campus.text import PARIS


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    if not 1900 <= year <= 2200:
        raise BadRequest(
            N_("the year must be from 1900 to 2200"), code="invalid_year", where="year"
        )
    start = dt.datetime(year, 1, 1, tzinfo=PARIS).astimezone(dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=PARIS).astimezone(dt.UTC)
    return start, end


def _month(value: dt.datetime) -> int:
    return value.astimezone(PARIS).month


def events_by_month(session: Session, year: int) -> list[dict]:
    """Published events (not cancelled, not drafts) starting each month of a year, Paris time."""
    start, end = _year_bounds(year)
    counts: Counter[int] = Counter(
        _month(when)
        for when in session.scalars(
            select(Event.starts_at).where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at >= start,
                Event.starts_at < end,
            )
        )
    )
    return [{"month": m, "events": counts.get(m, 0)} for m in range(1, 13)]


def attendance_by_month(session: Session, year: int) -> list[dict]:
    """For each month of a year: events, seats taken, attendees checked in, and the attendance
    rate (checked in / registered) over the events that have ended."""
    start, end = _year_bounds(year)
    rows = session.execute(
        select(Event.id, Event.starts_at, Event.ends_at).where(
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at >= start,
            Event.starts_at < end,
        )
    ).all()
    now = utcnow()
    month_of = {event_id: _month(when) for event_id, when, _ends in rows}
    ended = {event_id for event_id, _when, ends in rows if ends <= now}
    events: Counter[int] = Counter(month_of.values())
    registered: Counter[int] = Counter()
    registered_ended: Counter[int] = Counter()
    attended: Counter[int] = Counter()
    if month_of:
        for event_id, n, checked in session.execute(
            select(Registration.event_id, func.count(), func.count(Registration.checked_in_at))
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.status == RegistrationStatus.REGISTERED,
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at >= start,
                Event.starts_at < end,
            )
            .group_by(Registration.event_id)
        ):
            registered[month_of[event_id]] += n
            attended[month_of[event_id]] += checked
            if event_id in ended:
                registered_ended[month_of[event_id]] += n
    return [
        {
            "month": m,
            "events": events.get(m, 0),
            "registered": registered.get(m, 0),
            "attended": attended.get(m, 0),
            "rate": round(attended[m] / registered_ended[m], 3)
            if registered_ended.get(m)
            else None,
        }
        for m in range(1, 13)
    ]


def event_stats(session: Session, event: Event | Row) -> dict:
    counted = seats(event)
    cancelled = session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CANCELLED,
        )
    )
    return {
        "capacity": counted.capacity,
        "registered": counted.registered,
        "waitlisted": counted.waitlisted,
        "cancelled": int(cancelled or 0),
        "checked_in": counted.checked_in,
        "rate": round(counted.checked_in / counted.registered, 3) if counted.registered else None,
    }


CSV_COLUMNS = ("name", "email", "status", "registered_at", "checked_in_at")


# What a spreadsheet may read as the start of a formula: = + - @ (and their full-width forms,
# which some locales accept), a leading tab, CR or LF, and these after leading spaces (some
# imports trim them).
def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in user-typed text (campus.exports)."""
    return exports.safe_cell(value)


def attendees_csv(session: Session, actor: Actor, event_id: str) -> str:
    """Attendees (registered and waitlisted) of an event, for staff only; audited."""
    if not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(N_("no such event"), code="not_found", where=event_id)
    buffer = io.StringIO()
    writer = exports.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = session.execute(
        select(Registration, Account.name, Account.email)
        .join(Account, Account.id == Registration.account_id)
        .where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Registration.status, Registration.queued_at, Registration.id)
    ).all()
    for registration, name, email in rows:
        writer.writerow(
            [
                _cell(name),
                _cell(email),
                registration.status,
                registration.queued_at.astimezone(PARIS).isoformat(timespec="minutes"),
                registration.checked_in_at.astimezone(PARIS).isoformat(timespec="minutes")
                if registration.checked_in_at
                else "",
            ]
        )
    audit.record(
        session,
        actor=actor.label,
        action="event.attendees_exported",
        object_type="event",
        object_id=event.id,
        details={"rows": len(rows)},
    )
    return buffer.getvalue()
