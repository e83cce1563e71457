"""JSON routes of spaces: rooms and their rules, bookings with their .ics, occupancy. The GET
routes that a page shows too are its twins, mounted by `campus.spaces.pages`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events.ics import escape_text, fold
from campus.i18n import gettext as _
from campus.spaces import service
from campus.spaces.models import Booking, BookingStatus, Room
from campus.web.deps import allow, db_session

router = APIRouter(tags=["spaces"])

ICS_TYPE = "text/calendar; charset=utf-8"
Loose = str | int | float | bool | None


class BuildingIn(BaseModel):
    code: str
    name: str
    address: str = ""
    opens: str = "07:00"
    closes: str = "22:00"


class FloorIn(BaseModel):
    building: str
    level: Loose = 0
    name: str = ""


class RoomIn(BaseModel):
    floor_id: str
    code: str
    name: str
    kind: str
    capacity: Loose = 0
    equipment: list[str] = Field(default_factory=list)
    accessible: bool = True
    booking_roles: list[str] | None = None
    max_minutes: Loose = 240
    max_days_ahead: Loose = 90
    needs_approval: bool = False
    partner_price_cents: Loose = 0


class BookingIn(BaseModel):
    room: str
    title: str
    starts_at: str
    ends_at: str
    people: Loose = 1
    organisation_id: str | None = None
    note: str = ""
    repeat: str = "none"
    count: Loose = 1
    event_id: str | None = None


class DecisionIn(BaseModel):
    approve: bool


@router.post("/spaces/buildings", status_code=201, summary="Create a building (staff)")
def create_building(
    body: BuildingIn, actor: Actor = allow("spaces.manage"), session: Session = db_session
):
    building = service.create_building(session, actor, **body.model_dump())
    return {"id": building.id, "code": building.code}


@router.post("/spaces/floors", status_code=201, summary="Create a floor of a building (staff)")
def create_floor(
    body: FloorIn, actor: Actor = allow("spaces.manage"), session: Session = db_session
):
    floor = service.create_floor(session, actor, body.building, body.level, body.name)
    return {"id": floor.id, "level": floor.level}


@router.post("/spaces/rooms", status_code=201, summary="Create a room or equipment (staff)")
def create_room(body: RoomIn, actor: Actor = allow("spaces.manage"), session: Session = db_session):
    room = service.create_room(session, actor, service.RoomInput(**body.model_dump()))
    return service.room_view(session, room.id)


@router.put("/spaces/rooms/{code}", summary="Change a room's capacity, equipment and rules")
def update_room(
    code: str, body: RoomIn, actor: Actor = allow("spaces.manage"), session: Session = db_session
):
    room = service.update_room(session, actor, code, service.RoomInput(**body.model_dump()))
    return service.room_view(session, room.id)


@router.get("/spaces/rooms", summary="Rooms, with their capacity, equipment and rules")
def list_rooms(
    kind: str | None = None,
    bookable: bool = False,
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
):
    return service.list_rooms(session, kind=kind, bookable=bookable)


@router.post("/spaces/bookings", status_code=201, summary="Book a room for a slot or a series")
def book(body: BookingIn, actor: Actor = allow("spaces.book"), session: Session = db_session):
    """Naive times are Paris time. 409 `slot_taken` when the slot is already booked."""
    bookings = service.book(session, actor, service.BookingInput(**body.model_dump()))
    room = session.get(Room, bookings[0].room_id)
    return [service.booking_dict(b, room) for b in bookings]


@router.post(
    "/spaces/rooms/{code}/events/{event_id}",
    status_code=201,
    summary="Reserve a room for an event, through the room's rules (staff)",
)
def reserve_for_event(
    code: str, event_id: str, actor: Actor = allow("spaces.manage"), session: Session = db_session
):
    booking = service.reserve_for_event(session, actor, code, event_id)
    return service.booking_dict(booking, session.get(Room, booking.room_id))


def booking_detail(session: Session, actor: Actor, booking_id: str) -> dict[str, Any]:
    """A booking as its page and its twin show it."""
    booking = service.get_booking(session, actor, booking_id)
    room = session.get(Room, booking.room_id)
    return {
        **service.booking_dict(booking, room),
        "room_name": room.name if room else "",
        "can_cancel": booking.status in (BookingStatus.CONFIRMED, BookingStatus.PENDING)
        and (actor.is_staff or booking.account_id == actor.account_id),
        "can_decide": actor.is_staff and booking.status == BookingStatus.PENDING,
    }


@router.post("/spaces/bookings/{booking_id}/cancel", summary="Cancel a booking (or its series)")
def cancel(
    booking_id: str,
    series: bool = False,
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
):
    cancelled = service.cancel_booking(session, actor, booking_id, series=series)
    return [service.booking_dict(b) for b in cancelled]


@router.post("/spaces/bookings/{booking_id}/decision", summary="Approve or refuse (staff)")
def decide(
    booking_id: str,
    body: DecisionIn,
    actor: Actor = allow("spaces.manage"),
    session: Session = db_session,
):
    return service.booking_dict(service.decide_booking(session, actor, booking_id, body.approve))


# --- iCalendar ------------------------------------------------------------------------------


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _vevent(
    booking: Booking, room: Room, base_url: str, summary: str, stamp: dt.datetime
) -> list[str]:
    status = {"confirmed": "CONFIRMED", "pending": "TENTATIVE"}.get(booking.status, "CANCELLED")
    return [
        "BEGIN:VEVENT",
        f"UID:booking-{booking.id}@campus",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(booking.starts_at)}",
        f"DTEND:{_utc(booking.ends_at)}",
        f"SEQUENCE:{booking.sequence}",
        f"SUMMARY:{escape_text(summary)}",
        f"LOCATION:{escape_text(room.name + ' (' + room.code + ')')}",
        f"URL:{base_url.rstrip('/')}/spaces/bookings/{booking.id}",
        f"STATUS:{status}",
        "END:VEVENT",
    ]


def calendar(name: str, events: list[list[str]]) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Campus//Spaces//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-WR-TIMEZONE:Europe/Paris",
    ]
    for event in events:
        lines.extend(event)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


@router.get("/spaces/bookings/{booking_id}/calendar.ics", summary="A booking as an iCalendar file")
def booking_ics(
    booking_id: str,
    request: Request,
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
):
    booking = service.get_booking(session, actor, booking_id)
    room = session.get(Room, booking.room_id)
    assert room is not None
    base = request.app.state.settings.base_url
    text = calendar(room.name, [_vevent(booking, room, base, booking.title, utcnow())])
    return Response(
        text,
        media_type=ICS_TYPE,
        headers={"content-disposition": f'attachment; filename="booking-{booking.id}.ics"'},
    )


@router.get("/spaces/rooms/{code}/bookings.ics", summary="A room's feed of busy slots (iCalendar)")
def room_feed(
    code: str, request: Request, actor: Actor = allow("spaces.book"), session: Session = db_session
):
    """Busy slots from 30 days ago on; a title only on the caller's own bookings."""
    room, bookings = service.room_bookings(session, code, since=utcnow() - dt.timedelta(days=30))
    base = request.app.state.settings.base_url
    stamp = utcnow()
    events = [
        _vevent(
            b,
            room,
            base,
            b.title if service.sees_booking(session, actor, b) else _("Booked") + f" · {room.name}",
            stamp,
        )
        for b in bookings
    ]
    return Response(calendar(room.name, events), media_type=ICS_TYPE)


@router.get("/spaces/occupancy", summary="Desks allocated over desks available, by month")
def occupancy(
    year: int | None = None, actor: Actor = allow("spaces.manage"), session: Session = db_session
):
    return service.occupancy(session, year or utcnow().year)
