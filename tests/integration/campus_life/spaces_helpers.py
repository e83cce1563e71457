"""Helpers of the spaces and residency tests: a small site, a hosted organisation."""

from __future__ import annotations

import datetime as dt

from campus.db.engine import Database
from campus.spaces import service as spaces
from campus.spaces.validation import PARIS
from tests.integration.ecosystem.events_helpers import actor_of


def _account(db: Database, email: str, role: str):
    """An actor with a role and no password (no hashing: these tests never sign in)."""
    from campus.auth import service as auth

    with db.session() as session:
        account = auth.create_account(
            session, email=email, name=email.split("@")[0], password=None, email_verified=True
        )
        auth.grant_role(session, account, role)
        account_id = account.id
    return actor_of(db, account_id)


def member(db: Database, email: str):
    return _account(db, email, "member")


def staff(db: Database, email: str = "staff@campus.example"):
    return _account(db, email, "staff")


def site(db: Database, staff_actor, *, opens: str = "08:00", closes: str = "20:00") -> dict:
    """One building with two floors: offices, an open space, a meeting room, an auditorium."""
    with db.session() as session:
        building = spaces.create_building(
            session, staff_actor, code="A", name="Bâtiment A", opens=opens, closes=closes
        )
        first = spaces.create_floor(session, staff_actor, building.id, 1, "Premier")
        second = spaces.create_floor(session, staff_actor, building.id, 2, "Deuxième")
        rooms = {}
        for floor, code, kind, capacity, extra in [
            (first, "A101", "office", 4, {}),
            (first, "A102", "office", 6, {}),
            (first, "A1-OPEN", "open_space", 20, {}),
            (second, "A201", "meeting_room", 8, {"max_minutes": 180}),
            (second, "AUDI", "auditorium", 120, {"needs_approval": True,
                                                  "partner_price_cents": 20000}),
        ]:  # fmt: skip
            data = spaces.RoomInput(
                floor_id=floor.id, code=code, name=code, kind=kind, capacity=capacity, **extra
            )
            room = spaces.create_room(session, staff_actor, data)
            rooms[code] = room.id
        return {"building": building.id, "floors": [first.id, second.id], "rooms": rooms}


def paris(day: dt.date, hour: int, minute: int = 0) -> str:
    """A naive local time, as a form sends it."""
    return dt.datetime(day.year, day.month, day.day, hour, minute).isoformat()


def next_weekday(days_ahead: int = 3) -> dt.date:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=days_ahead)
    return day


__all__ = ["member", "next_weekday", "paris", "site", "staff"]
