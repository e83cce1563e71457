"""Booking a room by slot, alone or as a daily or weekly series (all or none), for oneself,
one's organisation or an event; cancelling; staff's approval of rooms that ask for it.

Never a room given twice. On PostgreSQL the exclusion constraint `bookings_no_overlap`
(migration 0910_spaces) refuses a row whose time range overlaps a live one of the same room,
so two concurrent requests cannot both pass a check made before either wrote. The check
still runs first, to name the clash in its refusal, then the rows are inserted in a
savepoint and the constraint's refusal becomes the same 409. On SQLite, which has no such
constraint, the check runs after taking the database's write lock (`db.engine.lock` on the
room: BEGIN IMMEDIATE), so concurrent bookings are serialised and each sees the others."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import new_id, utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Organisation
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.spaces.access import organisations_of, staff_only
from campus.spaces.allocations import is_hosted
from campus.spaces.models import (
    BOOKABLE_KINDS,
    LIVE_STATUSES,
    Booking,
    BookingStatus,
    Building,
    Floor,
    Room,
)
from campus.spaces.rooms import get_room
from campus.spaces.schedules import get_booking
from campus.spaces.slots import MAX_OCCURRENCES, check_slot, occurrences
from campus.spaces.validation import PARIS, clean_text, local_time, whole_number


@dataclass
class BookingInput:
    room: str
    title: str
    starts_at: dt.datetime | str
    ends_at: dt.datetime | str
    people: Any = 1
    organisation_id: str | None = None
    note: str = ""
    repeat: str = "none"  # none | daily | weekly
    count: Any = 1
    event_id: str | None = None


def may_book(actor: Actor, room: Room) -> bool:
    if actor.is_staff:
        return True
    return any(actor.has_any_grant_of(role) for role in (room.booking_roles or []))


def _clash(session: Session, room_id: str, start: dt.datetime, end: dt.datetime) -> Booking | None:
    return session.scalar(
        select(Booking)
        .where(
            Booking.room_id == room_id,
            Booking.status.in_(LIVE_STATUSES),
            Booking.starts_at < end,
            Booking.ends_at > start,
        )
        .limit(1)
    )


def _taken(where: str) -> Conflict:
    return Conflict(
        N_("this slot is already booked: choose another time or room"),
        code="slot_taken",
        where=where,
    )


def book(
    session: Session, actor: Actor, data: BookingInput, *, now: dt.datetime | None = None
) -> list[Booking]:
    """Book a room for a slot, or for each slot of a daily or weekly series (all or none).
    Every rule of the room applies; a slot already taken is refused (409)."""
    now = now or utcnow()
    room = get_room(session, data.room)
    if not room.active or room.kind not in BOOKABLE_KINDS:
        raise BadRequest(N_("this room is not booked by slot"), code="not_bookable", where="room")
    if not may_book(actor, room):
        raise Forbidden(N_("your roles do not allow booking this room"), code="not_allowed")
    floor = session.get(Floor, room.floor_id)
    building = session.get(Building, floor.building_id) if floor else None
    assert building is not None
    title = clean_text(data.title, "title", max_length=200, required=True, one_line=True)
    note = clean_text(data.note, "note", max_length=2000)
    people = whole_number(data.people, "people", minimum=1, maximum=5000)
    if people > room.capacity:
        raise BadRequest(
            N_("more people than the room holds"), code="over_capacity", where="people"
        )
    organisation_id = data.organisation_id or None
    if (
        organisation_id is not None
        and not actor.is_staff
        and organisation_id not in organisations_of(session, actor)
    ):
        raise Forbidden(
            N_("you may book only for an organisation you belong to"),
            code="not_your_organisation",
        )
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise NotFound(N_("no such organisation"), code="not_found", where="organisation_id")
    event_id = data.event_id or None
    if event_id is not None:
        staff_only(actor)
    repeat = data.repeat or "none"
    if repeat not in ("none", "daily", "weekly"):
        raise BadRequest(N_("repeat must be none, daily or weekly"), where="repeat")
    count = whole_number(data.count or 1, "count", minimum=1, maximum=MAX_OCCURRENCES)
    start = local_time(data.starts_at, "starts_at")
    end = local_time(data.ends_at, "ends_at")
    if end <= start:
        raise BadRequest(
            N_("the end must come after the start"), code="end_before_start", where="ends_at"
        )
    slots = occurrences(start, end, repeat, count)
    for index, (slot_start, slot_end) in enumerate(slots):
        check_slot(
            room,
            building,
            slot_start,
            slot_end,
            now,
            "" if index == 0 else f"occurrence {index + 1}",
        )
    hosted = is_hosted(session, organisation_id, start.astimezone(PARIS).date())
    status = (
        BookingStatus.PENDING
        if room.needs_approval and not actor.is_staff
        else BookingStatus.CONFIRMED
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres:
        room = lock(session, room)  # SQLite: the database's write lock decides
    series_id = new_id() if len(slots) > 1 else None
    bookings = []
    for index, (slot_start, slot_end) in enumerate(slots):
        where = "starts_at" if index == 0 else f"occurrence {index + 1}"
        if _clash(session, room.id, slot_start, slot_end) is not None:
            raise _taken(where)
        minutes = (slot_end - slot_start).total_seconds() / 60
        bookings.append(
            Booking(
                room_id=room.id,
                account_id=None if actor.via == "cli" else actor.account_id,  # console: no account
                organisation_id=organisation_id,
                event_id=event_id,
                title=title,
                note=note,
                starts_at=slot_start,
                ends_at=slot_end,
                people=people,
                status=status,
                series_id=series_id,
                price_cents=0 if hosted else round(room.partner_price_cents * minutes / 60),
            )
        )
    try:
        with session.begin_nested():
            session.add_all(bookings)
            session.flush()
    except IntegrityError as error:
        if "bookings_no_overlap" in str(error.orig):
            raise _taken("starts_at") from None
        raise
    audit.record(
        session,
        actor=actor.label,
        action="spaces.booked",
        object_type="room",
        object_id=room.id,
        details={"bookings": [b.id for b in bookings], "status": status},
    )
    return bookings


def reserve_for_event(session: Session, actor: Actor, room_key: str, event_id: str) -> Booking:
    """Staff reserve a room for an event of the events capability, through the room's rules:
    the event's title and times, as many people as its seats (at least one)."""
    from campus.ecosystem.events.models import Event, EventStatus

    staff_only(actor)
    event = session.get(Event, event_id)
    if event is None or event.status == EventStatus.CANCELLED:
        raise NotFound(N_("no such event"), code="not_found", where="event_id")
    data = BookingInput(
        room=room_key,
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        people=max(1, event.capacity or 1),
        event_id=event.id,
    )
    return book(session, actor, data)[0]


def cancel_booking(
    session: Session, actor: Actor, booking_id: str, *, series: bool = False
) -> list[Booking]:
    """Cancel a booking (or every occurrence to come of its series) by its booker or staff;
    its slot is free at once."""
    booking = get_booking(session, actor, booking_id)
    if not (actor.is_staff or booking.account_id == actor.account_id):
        raise Forbidden(N_("only its booker or staff may cancel a booking"), code="forbidden")
    targets = [booking]
    if series and booking.series_id:
        targets = list(
            session.scalars(
                select(Booking).where(
                    Booking.series_id == booking.series_id, Booking.starts_at >= booking.starts_at
                )
            )
        )
    now = utcnow()
    changed = []
    for target in targets:
        if target.status not in LIVE_STATUSES:
            continue
        target.status = BookingStatus.CANCELLED
        target.cancelled_at = now
        target.sequence += 1
        changed.append(target)
    if not changed:
        raise Conflict(N_("this booking is already cancelled"), code="already_cancelled")
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="spaces.booking_cancelled",
        object_type="booking",
        object_id=booking.id,
        details={"cancelled": len(changed)},
    )
    return changed


def decide_booking(session: Session, actor: Actor, booking_id: str, approve: bool) -> Booking:
    """Staff approve a pending booking (of the auditorium) or refuse it, freeing its slot."""
    staff_only(actor)
    booking = lock(session, get_booking(session, actor, booking_id))
    if booking.status != BookingStatus.PENDING:
        raise Conflict(N_("this booking does not wait for approval"), code="not_pending")
    booking.status = BookingStatus.CONFIRMED if approve else BookingStatus.REFUSED
    booking.decided_by = actor.label
    booking.sequence += 1
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="spaces.booking_" + ("approved" if approve else "refused"),
        object_type="booking",
        object_id=booking.id,
    )
    return booking
