"""Staff build the site: buildings with their opening hours, floors, rooms and equipment with
their booking rules. A room's capacity never drops below what is booked or allocated in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.errors import BadRequest, Conflict, NotFound
from campus.i18n import N_
from campus.spaces.access import staff_only
from campus.spaces.allocations import desks_taken_from
from campus.spaces.models import DESK_KINDS, LIVE_STATUSES, Booking, Building, Floor, Room, RoomKind
from campus.spaces.rooms import get_building, get_room
from campus.spaces.validation import clean_text, whole_number

DEFAULT_BOOKING_ROLES = [Role.MEMBER.value, Role.ORG_ADMIN.value]
ROOM_KINDS = tuple(k.value for k in RoomKind)


def _hhmm(value: str | int, field_name: str) -> int:
    if isinstance(value, int):
        minutes = value
    else:
        try:
            hours, minutes_part = str(value).strip().split(":")
            minutes = int(hours) * 60 + int(minutes_part)
        except ValueError:
            raise BadRequest(
                N_("give the time as HH:MM"), code="invalid_time", where=field_name
            ) from None
    if not 0 <= minutes <= 24 * 60:
        raise BadRequest(N_("give the time as HH:MM"), code="invalid_time", where=field_name)
    return minutes


def create_building(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    address: str = "",
    opens: str | int = "07:00",
    closes: str | int = "22:00",
) -> Building:
    staff_only(actor)
    code = clean_text(code, "code", max_length=40, required=True, one_line=True)
    opens_minute, closes_minute = _hhmm(opens, "opens"), _hhmm(closes, "closes")
    if closes_minute <= opens_minute:
        raise BadRequest(
            N_("the building must close after it opens"), code="bad_hours", where="closes"
        )
    if session.scalar(select(Building.id).where(Building.code == code)):
        raise Conflict(N_("this code is already used"), code="code_taken", where="code")
    building = Building(
        code=code,
        name=clean_text(name, "name", max_length=200, required=True, one_line=True),
        address=clean_text(address, "address", max_length=300, one_line=True),
        opens_minute=opens_minute,
        closes_minute=closes_minute,
    )
    session.add(building)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="spaces.building_created",
        object_type="building",
        object_id=building.id,
    )
    return building


def create_floor(
    session: Session, actor: Actor, building_id: str, level: Any, name: str = ""
) -> Floor:
    staff_only(actor)
    building = get_building(session, building_id)
    floor = Floor(
        building_id=building.id,
        level=whole_number(level, "level", minimum=-10, maximum=200),
        name=clean_text(name, "name", max_length=200, one_line=True),
    )
    session.add(floor)
    session.flush()
    return floor


@dataclass
class RoomInput:
    floor_id: str
    code: str
    name: str
    kind: str
    capacity: Any
    equipment: list[str] = field(default_factory=list)
    accessible: bool = True
    booking_roles: list[str] | None = None
    max_minutes: Any = 240
    max_days_ahead: Any = 90
    needs_approval: bool = False
    partner_price_cents: Any = 0


def _room_rules(data: RoomInput) -> dict[str, Any]:
    roles = DEFAULT_BOOKING_ROLES if data.booking_roles is None else list(data.booking_roles)
    known = {r.value for r in Role}
    for role in roles:
        if role not in known:
            raise BadRequest(N_("unknown role"), code="invalid_role", where="booking_roles")
    equipment = [
        clean_text(item, "equipment", max_length=80, required=True, one_line=True)
        for item in (data.equipment or [])
    ]
    return {
        "capacity": whole_number(data.capacity, "capacity", minimum=0, maximum=5000),
        "equipment": equipment[:50],
        "accessible": bool(data.accessible),
        "booking_roles": roles,
        "max_minutes": whole_number(data.max_minutes, "max_minutes", minimum=15, maximum=24 * 60),
        "max_days_ahead": whole_number(data.max_days_ahead, "max_days_ahead", maximum=730),
        "needs_approval": bool(data.needs_approval),
        "partner_price_cents": whole_number(
            data.partner_price_cents, "partner_price_cents", maximum=10_000_000
        ),
    }


def create_room(session: Session, actor: Actor, data: RoomInput) -> Room:
    staff_only(actor)
    floor = session.get(Floor, data.floor_id)
    if floor is None:
        raise NotFound(N_("no such floor"), code="not_found", where="floor_id")
    if data.kind not in ROOM_KINDS:
        raise BadRequest(N_("unknown kind of room"), code="invalid_kind", where="kind")
    code = clean_text(data.code, "code", max_length=40, required=True, one_line=True)
    if session.scalar(select(Room.id).where(Room.code == code)):
        raise Conflict(N_("this code is already used"), code="code_taken", where="code")
    room = Room(
        floor_id=floor.id,
        code=code,
        name=clean_text(data.name, "name", max_length=200, required=True, one_line=True),
        kind=data.kind,
        **_room_rules(data),
    )
    session.add(room)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="spaces.room_created",
        object_type="room",
        object_id=room.id,
        details={"kind": room.kind, "capacity": room.capacity},
    )
    return room


def update_room(session: Session, actor: Actor, room_key: str, data: RoomInput) -> Room:
    """Change a room's capacity, equipment and rules. A capacity below the people of a
    booking to come, or below the desks allocated from today on, is refused."""
    staff_only(actor)
    room = lock(session, get_room(session, room_key))
    rules = _room_rules(data)
    capacity = rules["capacity"]
    now = utcnow()
    most_people = session.scalar(
        select(func.max(Booking.people)).where(
            Booking.room_id == room.id,
            Booking.status.in_(LIVE_STATUSES),
            Booking.ends_at > now,
        )
    )
    if most_people is not None and capacity < most_people:
        raise BadRequest(
            N_("the capacity is below the people of a booking to come"),
            code="capacity_below_bookings",
            where="capacity",
        )
    if room.kind in DESK_KINDS and capacity < desks_taken_from(session, room, now.date()):
        raise BadRequest(
            N_("the capacity is below the desks allocated in this room"),
            code="capacity_below_allocations",
            where="capacity",
        )
    for name, value in rules.items():
        setattr(room, name, value)
    room.name = clean_text(data.name, "name", max_length=200, required=True, one_line=True)
    session.flush()
    audit.record(
        session, actor=actor.label, action="spaces.room_changed", object_type="room",
        object_id=room.id, details={"capacity": capacity},
    )  # fmt: skip
    return room
