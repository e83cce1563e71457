"""Reading bookings: one booking to those who may see it, a person's own, those waiting for
staff's approval, and a room's day or week where others' bookings are busy slots only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import BadRequest, NotFound
from campus.i18n import N_
from campus.spaces.access import organisations_of, staff_only
from campus.spaces.models import LIVE_STATUSES, Booking, BookingStatus, Room
from campus.spaces.rooms import get_room, room_view
from campus.spaces.validation import PARIS, parse_date


def get_booking(session: Session, actor: Actor, booking_id: str) -> Booking:
    """A booking, to its booker, to members of its organisation and to staff."""
    booking = session.get(Booking, booking_id)
    if booking is None or not sees_booking(session, actor, booking):
        raise NotFound(N_("no such booking"), code="not_found", where=booking_id)
    return booking


def sees_booking(session: Session, actor: Actor, booking: Booking) -> bool:
    if actor.is_staff or (actor.account_id and booking.account_id == actor.account_id):
        return True
    return bool(booking.organisation_id) and booking.organisation_id in organisations_of(
        session, actor
    )


def booking_dict(booking: Booking, room: Room | None = None, *, full: bool = True) -> dict:
    """A booking as the API shows it; `full=False` hides who booked and why (a room's
    schedule seen by other members shows busy slots only)."""
    item: dict[str, Any] = {
        "id": booking.id if full else None,
        "room": room.code if room else booking.room_id,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "status": booking.status,
    }
    if full:
        item.update(
            title=booking.title,
            note=booking.note,
            people=booking.people,
            organisation_id=booking.organisation_id,
            series_id=booking.series_id,
            price_cents=booking.price_cents,
            event_id=booking.event_id,
            ics=f"/api/v1/spaces/bookings/{booking.id}/calendar.ics",
        )
    return item


def my_bookings(session: Session, actor: Actor, *, upcoming: bool = True) -> list[dict]:
    if not actor.account_id:
        return []
    query = (
        select(Booking, Room)
        .join(Room, Room.id == Booking.room_id)
        .where(Booking.account_id == actor.account_id)
        .order_by(Booking.starts_at)
    )
    if upcoming:
        query = query.where(Booking.ends_at > utcnow())
    return [booking_dict(b, r) for b, r in session.execute(query.limit(500))]


def pending_bookings(session: Session, actor: Actor) -> list[dict]:
    staff_only(actor)
    rows = session.execute(
        select(Booking, Room)
        .join(Room, Room.id == Booking.room_id)
        .where(Booking.status == BookingStatus.PENDING)
        .order_by(Booking.starts_at)
    )
    return [booking_dict(b, r) for b, r in rows]


def schedule(
    session: Session, actor: Actor, room_key: str, day: dt.date | str | None, view: str = "day"
) -> dict:
    """A room's day or week (Monday to Sunday) in Paris time: its live bookings, the caller's
    own ones in full and the others as busy slots. The data of the room page and its twin."""
    room = get_room(session, room_key)
    first = parse_date(day, "date", required=False) or utcnow().astimezone(PARIS).date()
    if view not in ("day", "week"):
        raise BadRequest(N_("view must be day or week"), code="invalid_view", where="view")
    if view == "week":
        first = first - dt.timedelta(days=first.weekday())
    days = [first + dt.timedelta(days=i) for i in range(7 if view == "week" else 1)]
    start = dt.datetime.combine(days[0], dt.time(), PARIS).astimezone(dt.UTC)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
    bookings = list(
        session.scalars(
            select(Booking)
            .where(
                Booking.room_id == room.id,
                Booking.status.in_(LIVE_STATUSES),
                Booking.starts_at < end,
                Booking.ends_at > start,
            )
            .order_by(Booking.starts_at)
        )
    )
    by_day: dict[dt.date, list[dict]] = {d: [] for d in days}
    for booking in bookings:
        local_day = booking.starts_at.astimezone(PARIS).date()
        item = booking_dict(booking, room, full=sees_booking(session, actor, booking))
        item["local_start"] = booking.starts_at.astimezone(PARIS).strftime("%H:%M")
        item["local_end"] = booking.ends_at.astimezone(PARIS).strftime("%H:%M")
        by_day.setdefault(local_day, []).append(item)
    return {
        "room": room_view(session, room.id),
        "view": view,
        "date": first,
        "previous": first - dt.timedelta(days=7 if view == "week" else 1),
        "next": first + dt.timedelta(days=7 if view == "week" else 1),
        "days": [{"date": d, "bookings": by_day.get(d, [])} for d in days],
    }


def room_bookings(
    session: Session, room_key: str, *, since: dt.datetime
) -> tuple[Room, list[Booking]]:
    room = get_room(session, room_key)
    bookings = list(
        session.scalars(
            select(Booking)
            .where(
                Booking.room_id == room.id,
                Booking.status.in_(LIVE_STATUSES),
                Booking.ends_at > since,
            )
            .order_by(Booking.starts_at)
            .limit(2000)
        )
    )
    return room, bookings
