"""Spaces: buildings, floors and rooms; allocations of desks to residencies; bookings by slot.

Never a room given twice. A booking and a whole-room allocation are decided by the database
on PostgreSQL: the exclusion constraints `bookings_no_overlap` and
`space_allocations_no_overlap` (migration 0910_spaces) refuse a row whose time range overlaps
a live one of the same room, so two concurrent requests cannot both pass a check made before
either wrote. The service still checks first, to name the clash in its refusal, then inserts
in a savepoint and turns the constraint's refusal into the same 409. On SQLite, which has no
such constraint, the check runs after taking the database's write lock (`db.engine.lock` on
the room: BEGIN IMMEDIATE), so concurrent bookings are serialised and each sees the others.
Desks of an open space are counted under the room's lock on both engines.

Times are stored in UTC and read and shown in Europe/Paris: a booking lies within its
building's opening hours on one local day, and may not straddle a daylight-saving change.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role, ScopeType
from campus.db.base import new_id, utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Membership, Organisation, Person
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.spaces.models import (
    BOOKABLE_KINDS,
    DESK_KINDS,
    LIVE_STATUSES,
    WHOLE_KINDS,
    Allocation,
    Booking,
    BookingStatus,
    Building,
    Floor,
    Room,
    RoomKind,
)
from campus.spaces.validation import PARIS, clean_text, local_time, parse_date, whole_number

log = logging.getLogger("campus.spaces")

MAX_OCCURRENCES = 52
DEFAULT_BOOKING_ROLES = [Role.MEMBER.value, Role.ORG_ADMIN.value]
ROOM_KINDS = tuple(k.value for k in RoomKind)


def _staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden(N_("only campus staff manage spaces"), code="forbidden")


def organisations_of(session: Session, actor: Actor) -> set[str]:
    """The organisations the actor belongs to: memberships of their person, and organisations
    where they hold a scoped role."""
    scoped = {g.scope_id for g in actor.grants if g.scope_type == ScopeType.ORGANISATION}
    if not actor.account_id:
        return scoped
    return scoped | set(
        session.scalars(
            select(Membership.organisation_id)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.account_id == actor.account_id)
        )
    )


def organisation_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(id, name) of the actor's organisations, by name: whom a booking may be made for."""
    ids = organisations_of(session, actor)
    if not ids:
        return []
    return [
        (row.id, row.name)
        for row in session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(ids))
            .order_by(Organisation.name)
        )
    ]


# --- buildings, floors, rooms ---------------------------------------------------------------


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
    _staff_only(actor)
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
    _staff_only(actor)
    building = get_building(session, building_id)
    floor = Floor(
        building_id=building.id,
        level=whole_number(level, "level", minimum=-10, maximum=200),
        name=clean_text(name, "name", max_length=200, one_line=True),
    )
    session.add(floor)
    session.flush()
    return floor


def get_building(session: Session, key: str) -> Building:
    building = session.get(Building, key) or session.scalar(
        select(Building).where(Building.code == key)
    )
    if building is None:
        raise NotFound(N_("no such building"), code="not_found", where=key)
    return building


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
    _staff_only(actor)
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
    _staff_only(actor)
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
    if room.kind in DESK_KINDS and capacity < _desks_taken_from(session, room, now.date()):
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


def get_room(session: Session, key: str) -> Room:
    room = session.get(Room, key) or session.scalar(select(Room).where(Room.code == key))
    if room is None:
        raise NotFound(N_("no such room"), code="not_found", where=key)
    return room


def list_rooms(session: Session, *, kind: str | None = None, bookable: bool = False) -> list[dict]:
    """Rooms with their floor and building, by building, level and code."""
    query = (
        select(Room, Floor, Building)
        .join(Floor, Floor.id == Room.floor_id)
        .join(Building, Building.id == Floor.building_id)
        .where(Room.active.is_(True))
        .order_by(Building.code, Floor.level, Room.code)
    )
    if kind:
        query = query.where(Room.kind == kind)
    if bookable:
        query = query.where(Room.kind.in_([k.value for k in BOOKABLE_KINDS]))
    return [room_dict(room, floor, building) for room, floor, building in session.execute(query)]


def site_view(session: Session) -> dict:
    """Buildings with their hours and floors, and every room: the staff's spaces page."""
    buildings = list(session.scalars(select(Building).order_by(Building.code)))
    floors = list(session.scalars(select(Floor).order_by(Floor.level)))
    rooms = list_rooms(session)
    return {
        "buildings": [
            {
                "id": b.id,
                "code": b.code,
                "name": b.name,
                "opens": f"{b.opens_minute // 60:02d}:{b.opens_minute % 60:02d}",
                "closes": f"{b.closes_minute // 60:02d}:{b.closes_minute % 60:02d}",
                "floors": [
                    {"id": f.id, "level": f.level, "name": f.name}
                    for f in floors
                    if f.building_id == b.id
                ],
            }
            for b in buildings
        ],
        "rooms": rooms,
    }


def room_dict(room: Room, floor: Floor, building: Building) -> dict:
    return {
        "id": room.id,
        "code": room.code,
        "name": room.name,
        "kind": room.kind,
        "capacity": room.capacity,
        "equipment": list(room.equipment or []),
        "accessible": room.accessible,
        "building": building.code,
        "building_name": building.name,
        "floor_id": floor.id,
        "floor": floor.level,
        "floor_name": floor.name,
        "rules": {
            "booking_roles": list(room.booking_roles or []),
            "max_minutes": room.max_minutes,
            "max_days_ahead": room.max_days_ahead,
            "needs_approval": room.needs_approval,
            "partner_price_cents": room.partner_price_cents,
            "opens": f"{building.opens_minute // 60:02d}:{building.opens_minute % 60:02d}",
            "closes": f"{building.closes_minute // 60:02d}:{building.closes_minute % 60:02d}",
        },
    }


def room_view(session: Session, key: str) -> dict:
    room = get_room(session, key)
    floor = session.get(Floor, room.floor_id)
    building = session.get(Building, floor.building_id) if floor else None
    assert floor is not None and building is not None
    return room_dict(room, floor, building)


# --- allocations ----------------------------------------------------------------------------


def _overlapping_dates(start: dt.date, end: dt.date | None) -> Any:
    """Allocations whose [starts_on, ends_on) meets [start, end) (None: open-ended)."""
    clauses = [or_(Allocation.ends_on.is_(None), Allocation.ends_on > start)]
    if end is not None:
        clauses.append(Allocation.starts_on < end)
    return and_(*clauses)


def _desks_taken_from(session: Session, room: Room, day: dt.date) -> int:
    """The most desks of the room allocated on any day from `day` on (an upper bound: the
    sum of allocations still running or to come)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Allocation.desks), 0)).where(
                Allocation.room_id == room.id, _overlapping_dates(day, None)
            )
        )
        or 0
    )


def allocate(
    session: Session,
    actor: Actor,
    *,
    room_key: str,
    residency_id: str,
    organisation_id: str,
    starts_on: dt.date | str,
    ends_on: dt.date | str | None,
    desks: Any = None,
) -> Allocation:
    """Give a room (an office, a lab: whole) or desks of an open space to a residency for a
    period. Overlapping a whole room's allocation, or more desks than the open space holds
    on a day of the period, is refused (400, `where`)."""
    _staff_only(actor)
    room = get_room(session, room_key)
    if room.kind not in DESK_KINDS:
        raise BadRequest(
            N_("only offices, labs and open spaces are allocated"),
            code="not_allocatable",
            where="room",
        )
    start = parse_date(starts_on, "starts_on")
    end = parse_date(ends_on, "ends_on", required=False)
    assert start is not None
    if end is not None and end <= start:
        raise BadRequest(
            N_("the end must come after the start"), code="end_before_start", where="ends_on"
        )
    whole = room.kind in WHOLE_KINDS
    count = room.capacity if whole else whole_number(desks, "desks", minimum=1, maximum=5000)
    if count < 1:
        raise BadRequest(N_("this room has no desk"), code="no_desk", where="room")
    room = lock(session, room)  # concurrent allocations of the room queue here
    overlapping = list(
        session.scalars(
            select(Allocation).where(Allocation.room_id == room.id, _overlapping_dates(start, end))
        )
    )
    if whole and overlapping:
        raise BadRequest(
            N_("this room is already allocated for part of this period"),
            code="overlapping_allocation",
            where="starts_on",
        )
    if not whole:
        if any(a.whole_room for a in overlapping):
            raise BadRequest(
                N_("this room is already allocated for part of this period"),
                code="overlapping_allocation",
                where="starts_on",
            )
        if _peak_desks(overlapping, start, end) + count > room.capacity:
            raise BadRequest(
                N_("not enough free desks in this room for this period"),
                code="not_enough_desks",
                where="desks",
            )
    allocation = Allocation(
        room_id=room.id,
        residency_id=residency_id,
        organisation_id=organisation_id,
        desks=count,
        whole_room=whole,
        starts_on=start,
        ends_on=end,
        created_by=actor.label,
    )
    try:
        with session.begin_nested():
            session.add(allocation)
            session.flush()
    except IntegrityError as error:
        if "space_allocations_no_overlap" in str(error.orig):
            raise BadRequest(
                N_("this room is already allocated for part of this period"),
                code="overlapping_allocation",
                where="starts_on",
            ) from None
        raise
    audit.record(
        session,
        actor=actor.label,
        action="spaces.allocated",
        object_type="room",
        object_id=room.id,
        details={"residency": residency_id, "desks": count, "from": start.isoformat()},
    )
    return allocation


def _peak_desks(allocations: list[Allocation], start: dt.date, end: dt.date | None) -> int:
    """The most desks the allocations hold together on one day of [start, end)."""
    points = {start} | {a.starts_on for a in allocations if a.starts_on > start}
    return max(
        (
            sum(
                a.desks
                for a in allocations
                if a.starts_on <= day and (a.ends_on is None or a.ends_on > day)
            )
            for day in points
            if end is None or day < end
        ),
        default=0,
    )


def end_allocations(
    session: Session, actor: Actor, residency_id: str, on: dt.date
) -> list[Allocation]:
    """End the residency's allocations running after `on` (its exit): they end that day,
    and those that had not started are removed."""
    _staff_only(actor)
    ended = []
    for allocation in session.scalars(
        select(Allocation).where(Allocation.residency_id == residency_id)
    ):
        if allocation.starts_on >= on:
            session.delete(allocation)
        elif allocation.ends_on is None or allocation.ends_on > on:
            allocation.ends_on = on
            ended.append(allocation)
    session.flush()
    return ended


def allocations_of(session: Session, residency_ids: list[str]) -> dict[str, list[dict]]:
    """Each residency's allocations with their room."""
    found: dict[str, list[dict]] = defaultdict(list)
    if not residency_ids:
        return found
    rows = session.execute(
        select(Allocation, Room)
        .join(Room, Room.id == Allocation.room_id)
        .where(Allocation.residency_id.in_(residency_ids))
        .order_by(Allocation.starts_on)
    )
    for allocation, room in rows:
        found[allocation.residency_id].append(
            {
                "id": allocation.id,
                "room": room.code,
                "room_name": room.name,
                "kind": room.kind,
                "desks": allocation.desks,
                "starts_on": allocation.starts_on,
                "ends_on": allocation.ends_on,
            }
        )
    return found


def free_spaces(
    session: Session, starts_on: dt.date, ends_on: dt.date | None, desks: int
) -> list[dict]:
    """Rooms that could take `desks` people for the whole period: free offices and labs of
    at least that capacity, then open spaces with that many free desks. Smallest fit first."""
    fits: list[tuple[int, dict]] = []
    overlapping: dict[str, list[Allocation]] = defaultdict(list)
    for allocation in session.scalars(
        select(Allocation).where(_overlapping_dates(starts_on, ends_on))
    ):
        overlapping[allocation.room_id].append(allocation)
    for item in list_rooms(session):
        if item["kind"] not in DESK_KINDS:
            continue
        taken = overlapping.get(item["id"], [])
        if item["kind"] in WHOLE_KINDS:
            if not taken and item["capacity"] >= desks:
                fits.append((item["capacity"] - desks, {**item, "free_desks": item["capacity"]}))
        elif not any(a.whole_room for a in taken):
            free = item["capacity"] - _peak_desks(taken, starts_on, ends_on)
            if free >= desks:
                fits.append((free - desks + 1000, {**item, "free_desks": free}))
    return [item for _, item in sorted(fits, key=lambda pair: (pair[0], pair[1]["code"]))]


# --- bookings -------------------------------------------------------------------------------


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


def is_hosted(session: Session, organisation_id: str | None, day: dt.date) -> bool:
    """Whether the organisation holds an allocation on that day: a resident, not a partner."""
    if not organisation_id:
        return False
    return (
        session.scalar(
            select(Allocation.id)
            .where(
                Allocation.organisation_id == organisation_id,
                Allocation.starts_on <= day,
                _overlapping_dates(day, None),
            )
            .limit(1)
        )
        is not None
    )


def _occurrences(
    first_start: dt.datetime, first_end: dt.datetime, repeat: str, count: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The slots of a series: the first as given, the next ones stepped in Paris wall-clock
    time (a weekly 10:00 meeting stays at 10:00 after the clocks change; one that would land
    in the skipped or repeated hour is refused, naming its occurrence)."""
    slots = [(first_start, first_end)]
    step = {"none": None, "daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}[repeat]
    if step is None:
        return slots
    local_start = first_start.astimezone(PARIS).replace(tzinfo=None)
    local_end = first_end.astimezone(PARIS).replace(tzinfo=None)
    for index in range(1, count):
        where = f"occurrence {index + 1}"
        shift = step * index
        slots.append((local_time(local_start + shift, where), local_time(local_end + shift, where)))
    return slots


def _check_slot(
    room: Room, building: Building, start: dt.datetime, end: dt.datetime, now: dt.datetime,
    where: str,
) -> None:  # fmt: skip
    if end <= start:
        raise BadRequest(
            N_("the end must come after the start"), code="end_before_start", where="ends_at"
        )
    local_start, local_end = start.astimezone(PARIS), end.astimezone(PARIS)
    if local_start.utcoffset() != local_end.utcoffset():
        raise BadRequest(
            N_("this slot crosses a daylight-saving change: split it in two"),
            code="crosses_dst_change",
            where=where or "ends_at",
        )
    if start < now:
        raise BadRequest(
            N_("a booking cannot start in the past"), code="past_date", where=where or "starts_at"
        )
    if start > now + dt.timedelta(days=room.max_days_ahead):
        raise BadRequest(
            N_("this room cannot be booked that far ahead"),
            code="too_far_ahead",
            where=where or "starts_at",
        )
    if end - start > dt.timedelta(minutes=room.max_minutes):
        raise BadRequest(
            N_("this booking is longer than the room allows"),
            code="too_long",
            where=where or "ends_at",
        )
    midnight = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
    start_minute = (local_start - midnight).total_seconds() / 60
    end_minute = (local_end - midnight).total_seconds() / 60  # beyond 1440: the next day
    if start_minute < building.opens_minute or end_minute > building.closes_minute:
        raise BadRequest(
            N_("this slot is outside the building's opening hours"),
            code="outside_opening_hours",
            where=where or "starts_at",
        )


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
        _staff_only(actor)
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
    slots = _occurrences(start, end, repeat, count)
    for index, (slot_start, slot_end) in enumerate(slots):
        _check_slot(
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

    _staff_only(actor)
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
    _staff_only(actor)
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
    _staff_only(actor)
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


# --- occupancy ------------------------------------------------------------------------------


def occupancy(session: Session, year: int) -> dict:
    """Desks allocated / desks available, by floor and for the campus, month by month of
    `year`: desk-days allocated over desk-days of the month (offices, labs, open spaces)."""
    if not 1990 <= year <= 2200:
        raise BadRequest(N_("this year is out of range"), code="bad_year", where="year")
    rooms = session.execute(
        select(Room.id, Room.capacity, Floor.id, Floor.level, Floor.name, Building.code)
        .join(Floor, Floor.id == Room.floor_id)
        .join(Building, Building.id == Floor.building_id)
        .where(Room.kind.in_([k.value for k in DESK_KINDS]), Room.active.is_(True))
    ).all()
    floors: dict[str, dict] = {}
    room_floor: dict[str, str] = {}
    for room_id, capacity, floor_id, level, name, building in rooms:
        entry = floors.setdefault(
            floor_id,
            {"floor_id": floor_id, "building": building, "level": level, "name": name,
             "desks": 0},
        )  # fmt: skip
        entry["desks"] += capacity
        room_floor[room_id] = floor_id
    year_start, year_end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    allocations = session.execute(
        select(
            Allocation.room_id, Allocation.desks, Allocation.starts_on, Allocation.ends_on
        ).where(_overlapping_dates(year_start, year_end))
    ).all()
    months = []
    per_floor: dict[str, list[float | None]] = {f: [] for f in floors}
    for month in range(1, 13):
        first = dt.date(year, month, 1)
        last = dt.date(year + (month == 12), month % 12 + 1, 1)
        days = (last - first).days
        used: dict[str, int] = defaultdict(int)
        for room_id, desks, starts_on, ends_on in allocations:
            floor_id = room_floor.get(room_id)
            if floor_id is None:
                continue
            overlap = (min(last, ends_on or last) - max(first, starts_on)).days
            if overlap > 0:
                used[floor_id] += desks * overlap
        available = sum(f["desks"] for f in floors.values()) * days
        allocated = sum(used.values())
        for floor_id, floor in floors.items():
            capacity = floor["desks"] * days
            per_floor[floor_id].append(round(used[floor_id] / capacity, 4) if capacity else None)
        months.append(
            {
                "month": month,
                "desks_available": sum(f["desks"] for f in floors.values()),
                "desks_allocated": round(allocated / days, 1),
                "rate": round(allocated / available, 4) if available else None,
            }
        )
    ordered = sorted(floors.values(), key=lambda f: (f["building"], f["level"]))
    return {
        "year": year,
        "months": months,
        "floors": [{**f, "rates": per_floor[f["floor_id"]]} for f in ordered],
    }
