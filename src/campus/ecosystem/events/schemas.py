"""API shapes of events, registrations, check-in and statistics."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
    kind: str = Field(default="conference", max_length=40)
    theme: str = Field(default="", max_length=80)
    organiser: str = Field(default="", max_length=1000)
    speakers: list[str] = Field(default_factory=list, max_length=100)


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
    kind: str
    theme: str
    organiser: str
    speakers: list[str]

    @field_validator("speakers", mode="before")
    @classmethod
    def _lines(cls, value: object) -> object:
        """Stored one a line; shown as a list."""
        return [line for line in value.splitlines() if line] if isinstance(value, str) else value


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
    code: str | None = None  # six characters for the door, beside the ticket


class EventBriefOut(BaseModel):
    id: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str


class MyRegistrationOut(RegistrationOut):
    event: EventBriefOut


class CheckInIn(BaseModel):
    """A signed ticket, or its six-character code."""

    token: str = Field(max_length=500)


class CheckInForm(BaseModel):
    """The door's form: a ticket or code typed, or a registration found by name."""

    token: str = Field(default="", max_length=500)
    registration: str = Field(default="", max_length=32)


class AttendeeOut(BaseModel):
    registration_id: str
    name: str
    checked_in_at: dt.datetime | None


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
