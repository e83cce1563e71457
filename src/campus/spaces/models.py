"""Tables of buildings, floors, rooms (with their booking rules), allocations and bookings.

Two guards keep a room from being given twice, both in the database on PostgreSQL:
`bookings_no_overlap` excludes two live bookings (confirmed or pending) of one room whose
time ranges overlap, and `space_allocations_no_overlap` excludes two allocations of a whole
room (an office, a lab) whose date ranges overlap (`btree_gist`, migration 0910_spaces). On
SQLite, which has no exclusion constraints, the service decides under the database's write
lock (campus.spaces.bookings and campus.spaces.allocations).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, JSONType, new_id, utcnow


class RoomKind(StrEnum):
    OFFICE = "office"
    OPEN_SPACE = "open_space"
    MEETING_ROOM = "meeting_room"
    AUDITORIUM = "auditorium"
    LAB = "lab"
    EQUIPMENT = "equipment"


# Rooms that hold desks given to residencies; an office or a lab goes whole to one residency,
# an open space desk by desk.
DESK_KINDS = (RoomKind.OFFICE, RoomKind.OPEN_SPACE, RoomKind.LAB)
WHOLE_KINDS = (RoomKind.OFFICE, RoomKind.LAB)
BOOKABLE_KINDS = (RoomKind.MEETING_ROOM, RoomKind.AUDITORIUM, RoomKind.EQUIPMENT)


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"  # waits for staff's approval; holds its slot meanwhile
    CANCELLED = "cancelled"
    REFUSED = "refused"


LIVE_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.PENDING)


class Building(Base):
    """A building; its opening hours (minutes after local midnight, Europe/Paris) bound
    bookings."""

    __tablename__ = "space_buildings"
    __table_args__ = (CheckConstraint("opens_minute < closes_minute", name="opening_hours"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    opens_minute: Mapped[int] = mapped_column(Integer, default=7 * 60)
    closes_minute: Mapped[int] = mapped_column(Integer, default=22 * 60)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Floor(Base):
    __tablename__ = "space_floors"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    building_id: Mapped[str] = mapped_column(
        ForeignKey("space_buildings.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")


class Room(Base):
    """A room or a shared piece of equipment, with its capacity (desks or seats) and, when it
    is booked by slot, its rules: who may book (roles), the longest booking, how far ahead,
    whether staff approve each booking, and the hourly price charged to partners (bookers
    whose organisation is not hosted)."""

    __tablename__ = "space_rooms"
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    floor_id: Mapped[str] = mapped_column(
        ForeignKey("space_floors.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    equipment: Mapped[list] = mapped_column(JSONType, default=list)
    accessible: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    booking_roles: Mapped[list] = mapped_column(JSONType, default=list)
    max_minutes: Mapped[int] = mapped_column(Integer, default=240)
    max_days_ahead: Mapped[int] = mapped_column(Integer, default=90)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    partner_price_cents: Mapped[int] = mapped_column(Integer, default=0)  # an hour
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Allocation(Base):
    """Desks of a room given to a residency from `starts_on` to `ends_on` (exclusive; None:
    open-ended). An office or a lab goes whole (`desks` = its capacity)."""

    __tablename__ = "space_allocations"
    __table_args__ = (
        CheckConstraint("desks > 0", name="desks"),
        CheckConstraint("ends_on IS NULL OR ends_on > starts_on", name="dates"),
        Index("ix_space_allocations_room_dates", "room_id", "starts_on"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("space_rooms.id", ondelete="CASCADE"))
    residency_id: Mapped[str] = mapped_column(
        ForeignKey("residencies.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    desks: Mapped[int] = mapped_column(Integer)
    whole_room: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Booking(Base):
    """A slot of a bookable room. Times are UTC, shown in Europe/Paris; `series_id` groups the
    occurrences of a recurring booking; `event_id` names the event that reserved the room."""

    __tablename__ = "space_bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="times"),
        CheckConstraint("people >= 1", name="people"),
        Index("ix_space_bookings_room_start", "room_id", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("space_rooms.id", ondelete="CASCADE"))
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[str | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    people: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default=BookingStatus.CONFIRMED)
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # RFC 5545 SEQUENCE
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    cancelled_at: Mapped[dt.datetime | None]
