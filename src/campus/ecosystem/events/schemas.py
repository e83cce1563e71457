"""API shapes of events, registrations, check-in and statistics."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class EventIn(BaseModel):
    """Times are ISO 8601; without an offset they are read as Europe/Paris local time."""

    title: str = Field(max_length=1000)
    starts_at: str = Field(max_length=40)
    ends_at: str = Field(max_length=40)
    description: str = Field(default="", max_length=20000)
    room: str = Field(default="", max_length=1000)
    online_url: str = Field(default="", max_length=2000)
    capacity: int | None = None
    audience: str = "public"
    training_id: str | None = None


class SeatsOut(BaseModel):
    capacity: int | None
    registered: int
    waitlisted: int
    available: int | None
    full: bool


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str = "Europe/Paris"
    room: str
    online_url: str
    capacity: int | None
    audience: str
    status: str
    training_id: str | None


class CalendarEventOut(EventOut):
    seats: SeatsOut


class EventDetailOut(EventOut):
    seats: SeatsOut
    my_registration: RegistrationOut | None = None


class RegistrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event_id: str
    status: str
    queued_at: dt.datetime
    promoted_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    waitlist_position: int | None = None
    ticket: str | None = None


class CheckInIn(BaseModel):
    token: str = Field(max_length=500)


class CheckInOut(BaseModel):
    registration_id: str
    name: str
    checked_in_at: dt.datetime


class EventStatsOut(BaseModel):
    capacity: int | None
    registered: int
    waitlisted: int
    cancelled: int
    checked_in: int
    rate: float | None


class MonthOut(BaseModel):
    month: int
    events: int
    registered: int
    attended: int
    rate: float | None


EventDetailOut.model_rebuild()
