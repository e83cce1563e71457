"""Reading events: the list with its filters, one event with the reader's registration, seats,
waitlist places, one's registrations; the locked read every change starts from.

The seats are counts kept on the event row (`registered_count`, `waitlisted_count`,
`checked_in_count`) by each change of a registration, in the same transaction: reading them
costs the same with 10 or 10,000 registrations. `recount_seats` rebuilds them from the
registrations (after a bulk load, or a repair).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.engine import read, write
from campus.ecosystem.events import statements as sql
from campus.ecosystem.events.models import (
    KINDS,
    THEMES,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from campus.ecosystem.events.rules import EventFields, Seats, can_manage, visible_to
from campus.errors import BadRequest, NotFound
from campus.i18n import N_
from campus.text import PARIS, clean_text, parse_when

SEAT_FIELDS = ["registered_count", "waitlisted_count", "checked_in_count", "queue_tail"]


@dataclass(frozen=True)
class EventFilters:
    """What the events page narrows the list to; every field optional."""

    theme: str = ""
    kind: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    free: bool = False
    organiser: str = ""
    text: str = ""


def parse_filters(
    *,
    theme: str = "",
    kind: str = "",
    start: str = "",
    end: str = "",
    free: bool = False,
    organiser: str = "",
    q: str = "",
) -> EventFilters:
    """Filters as typed in the page's form or the API's query; a wrong one is a 400 naming it.
    A date range's end is a day: events starting on it are included."""
    if theme and theme not in THEMES:
        raise BadRequest(N_("unknown theme"), code="invalid_theme", where="theme")
    if kind and kind not in KINDS:
        raise BadRequest(N_("unknown kind of event"), code="invalid_kind", where="kind")
    lower = parse_when(start, "start") if start else None
    upper = parse_when(end, "end") if end else None
    if upper is not None and len(end.strip()) <= 10:  # a day: up to its end
        upper += dt.timedelta(days=1)
    if lower is not None and upper is not None and upper <= lower:
        raise BadRequest(
            N_("the end must come after the start"), code="end_before_start", where="end"
        )
    return EventFilters(
        theme=theme,
        kind=kind,
        start=lower,
        end=upper,
        free=free,
        organiser=clean_text(organiser, "organiser", max_length=200, one_line=True),
        text=clean_text(q, "q", max_length=200, one_line=True),
    )


def month_bounds(month: str) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The first day of a month written YYYY-MM, and its bounds in UTC (Paris time)."""
    try:
        first = dt.date.fromisoformat(month.strip() + "-01")
    except ValueError:
        raise BadRequest(
            N_("the month is not valid: use YYYY-MM"), code="invalid_month", where="month"
        ) from None
    if not 1900 <= first.year <= 2200:
        raise BadRequest(
            N_("this date is out of range: years 1900 to 2200"),
            code="date_out_of_range",
            where="month",
        )
    after = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    start = dt.datetime.combine(first, dt.time(), PARIS).astimezone(dt.UTC)
    end = dt.datetime.combine(after, dt.time(), PARIS).astimezone(dt.UTC)
    return first, start, end


def get_event(session: Session, actor: Actor, event_id: str) -> Event:
    event = session.get(Event, event_id)
    if event is None or not visible_to(actor, event):
        raise NotFound(N_("no such event"), code="not_found", where=event_id)
    return event


def list_events(
    session: Session,
    actor: Actor,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    include_drafts: bool = False,
    training_id: str | None = None,
    audience: str | None = None,
    filters: EventFilters | None = None,
    limit: int = 200,
) -> list[Event]:
    """Published and cancelled events by start time (members-only ones are listed to all, only
    members may register); drafts only for staff who ask. `start`/`end` keep the events under
    way in the period; `filters` narrow further (their dates on the start time)."""
    query = select(Event).order_by(Event.starts_at, Event.id)
    statuses = [EventStatus.PUBLISHED, EventStatus.CANCELLED]
    if include_drafts and can_manage(actor):
        statuses.append(EventStatus.DRAFT)
    query = query.where(Event.status.in_(statuses))
    if audience is not None:
        query = query.where(Event.audience == audience)
    if start is not None:
        query = query.where(Event.ends_at >= start)
    if end is not None:
        query = query.where(Event.starts_at < end)
    if training_id is not None:
        query = query.where(Event.training_id == training_id)
    if filters is not None:
        query = _filtered(query, filters)
    return list(session.scalars(query.limit(max(1, min(limit, 1000)))))


def _filtered(query: Any, filters: EventFilters) -> Any:
    if filters.theme:
        query = query.where(Event.theme == filters.theme)
    if filters.kind:
        query = query.where(Event.kind == filters.kind)
    if filters.start is not None:
        query = query.where(Event.ends_at >= filters.start)
    if filters.end is not None:
        query = query.where(Event.starts_at < filters.end)
    if filters.free:
        query = query.where(
            Event.status == EventStatus.PUBLISHED,
            or_(Event.capacity.is_(None), Event.registered_count < Event.capacity),
        )
    if filters.organiser:
        query = query.where(func.lower(Event.organiser) == filters.organiser.lower())
    if filters.text:
        pattern = like_pattern(filters.text)
        query = query.where(
            or_(
                func.lower(Event.title).like(pattern),
                func.lower(Event.description).like(pattern),
                func.lower(Event.speakers).like(pattern),
                func.lower(Event.organiser).like(pattern),
            )
        )
    return query


def like_pattern(text: str) -> str:
    """A LIKE pattern finding `text` anywhere, lower case, its wildcards taken out."""
    return "%" + "".join(c for c in text.lower() if c not in "\\%_") + "%"


def organisers(session: Session) -> list[str]:
    """The organisers named by published events, for the filter's choices."""
    return sorted(
        o
        for o in session.scalars(
            select(Event.organiser).where(Event.status == EventStatus.PUBLISHED).distinct()
        )
        if o
    )


def seats(event: EventFields | Row | Event) -> Seats:
    """The event's seats, as its row holds them (read it locked to decide on them)."""
    return Seats(
        capacity=event.capacity,
        registered=event.registered_count,
        waitlisted=event.waitlisted_count,
        checked_in=event.checked_in_count,
    )


def seats_of(session: Session, event_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(registered, waitlisted) for many events in one query, for list pages."""
    if not event_ids:
        return {}
    rows = session.execute(
        select(sql.EVENT.id, sql.EVENT.registered_count, sql.EVENT.waitlisted_count).where(
            sql.EVENT.id.in_(list(event_ids))
        )
    ).all()
    found = {event_id: (registered, waitlisted) for event_id, registered, waitlisted in rows}
    return {event_id: found.get(event_id, (0, 0)) for event_id in event_ids}


@dataclass(frozen=True)
class EventView:
    """An event as its page shows it, read in one statement: the event's columns (a row
    read by attribute, like an `Event`), its seats, and the actor's registration."""

    event: Row
    seats: Seats
    mine: Registration | None


def view_event(session: Session, actor: Actor, event_id: str) -> EventView:
    """The event, its seats and the actor's registration (one round trip, then one more only
    when the actor holds a registration)."""
    row = read(
        session, sql.EVENT_VIEW, {"event_id": event_id, "account_id": actor.account_id or ""}
    ).first()
    if row is None or not visible_to(actor, row):
        raise NotFound(N_("no such event"), code="not_found", where=event_id)
    mine = session.get(Registration, row.mine_id) if row.mine_id else None
    return EventView(row, seats(row), mine)


def locked(session: Session, event_id: str) -> Event:
    """The event row, locked until the transaction ends (PostgreSQL); re-read from the base."""
    event = session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound(N_("no such event"), code="not_found", where=event_id)
    return event


def registration_of(session: Session, event_id: str, account_id: str | None) -> Registration | None:
    if not account_id:
        return None
    return session.scalar(
        select(Registration).where(
            Registration.event_id == event_id, Registration.account_id == account_id
        )
    )


def waitlist_position(session: Session, registration: Registration) -> int | None:
    """1 for the first in the queue; None when not waitlisted."""
    return waitlist_positions(session, [registration]).get(registration.id)


def waitlist_positions(session: Session, registrations: Sequence[Registration]) -> dict[str, int]:
    """The place in its event's queue (1 for the first) of each waitlisted registration given,
    by id, in one statement: the order is `queued_at`, then id."""
    waiting = sorted({r.id for r in registrations if r.status == RegistrationStatus.WAITLISTED})
    if not waiting:
        return {}
    rows = read(session, sql.places_in_queue(len(waiting)), sql.values("r", waiting))
    return {row.id: int(row.ahead or 0) + 1 for row in rows}


def my_registrations(session: Session, account_id: str) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .join(Event)
            .where(Registration.account_id == account_id)
            .order_by(Event.starts_at)
        )
    )


def recount_seats(session: Session, event_ids: Sequence[str] | None = None) -> int:
    """Rebuild the seat counts and the queue's end of events (all when `event_ids` is None)
    from their registrations; returns the number of events updated. For a bulk load that
    inserted registrations directly, or a repair after a change made outside the service."""
    registrations = Registration.__table__.alias("r")

    def counted(*where: Any) -> Any:
        return (
            select(func.count())
            .select_from(registrations)
            .where(registrations.c.event_id == sql.EVENT.id, *where)
            .scalar_subquery()
        )

    statement = update(Event.__table__).values(
        registered_count=counted(registrations.c.status == RegistrationStatus.REGISTERED),
        waitlisted_count=counted(registrations.c.status == RegistrationStatus.WAITLISTED),
        checked_in_count=counted(
            registrations.c.status == RegistrationStatus.REGISTERED,
            registrations.c.checked_in_at.is_not(None),
        ),
        queue_tail=select(func.max(registrations.c.queued_at))
        .where(registrations.c.event_id == sql.EVENT.id)
        .scalar_subquery(),
    )
    if event_ids is not None:
        statement = statement.where(sql.EVENT.id.in_(list(event_ids)))
    updated = write(session, statement).rowcount or 0
    for loaded in list(session.identity_map.values()):  # their counts reload when next read
        if isinstance(loaded, Event):
            session.expire(loaded, SEAT_FIELDS)
    return updated
