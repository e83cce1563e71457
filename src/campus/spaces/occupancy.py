"""The staff's occupancy figures: desk-days allocated over desk-days available, by floor and
for the campus, month by month of a year."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.errors import BadRequest
from campus.i18n import N_
from campus.spaces.allocations import overlapping_dates
from campus.spaces.models import DESK_KINDS, Allocation, Building, Floor, Room


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
        ).where(overlapping_dates(year_start, year_end))
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
