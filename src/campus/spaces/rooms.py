"""Reading the site: a building or a room by id or code, the rooms with their floor and
building, the staff's site page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.errors import NotFound
from campus.i18n import N_
from campus.spaces.models import BOOKABLE_KINDS, Building, Floor, Room


def get_building(session: Session, key: str) -> Building:
    building = session.get(Building, key) or session.scalar(
        select(Building).where(Building.code == key)
    )
    if building is None:
        raise NotFound(N_("no such building"), code="not_found", where=key)
    return building


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
