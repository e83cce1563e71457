"""Tables of events and of the registrations to them (with the waitlist and check-in)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.db.base import Base, new_id, utcnow


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Audience(StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


# The kinds (formats) of events and their themes, as the events page filters them; labels
# are translated where they are shown (pages.KIND_LABELS, pages.THEME_LABELS).
KINDS = ("conference", "workshop", "meetup", "webinar", "training")
THEMES = (
    "health_data",
    "ai",
    "interoperability",
    "regulation",
    "cybersecurity",
    "entrepreneurship",
    "clinical_research",
    "patients",
)


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Event(Base):
    """An event of the campus. Times are stored in UTC and shown in Europe/Paris.

    `capacity` is the number of seats (None: no limit); registrations beyond it go to the
    waitlist. An event linked to a training is one of its sessions.
    """

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime] = mapped_column(index=True)
    ends_at: Mapped[dt.datetime]
    room: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(20), default=Audience.PUBLIC)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.DRAFT, index=True)
    training_id: Mapped[str | None] = mapped_column(
        ForeignKey("trainings.id", ondelete="SET NULL"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # RFC 5545 SEQUENCE
    kind: Mapped[str] = mapped_column(String(20), default="conference", server_default="conference")
    theme: Mapped[str] = mapped_column(String(40), default="", server_default="")
    organiser: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # One speaker a line ("Name, role"), shown on the event's page.
    speakers: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The event's seats, kept by every change of a registration's status (its row locked):
    # a registration and the event's page read them instead of counting registrations, which
    # grew with the waitlist. `queue_tail` is the last `queued_at` given, the end of the
    # queue: a newcomer queues after it. `recount_seats` (the service) rebuilds them.
    registered_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waitlisted_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    checked_in_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    queue_tail: Mapped[dt.datetime | None]
    # Short codes typed at the door that matched no ticket, since `code_misses_since`: past a
    # budget, codes are refused for a while (checkin.CODE_MISSES), so that nobody can try
    # codes until one names an attendee.
    code_misses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    code_misses_since: Mapped[dt.datetime | None]

    registrations: Mapped[list[Registration]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )


class Registration(Base):
    """One account's place at an event: registered, waitlisted or cancelled.

    One row per (event, account): registering again after a cancellation reuses it and joins
    the end of the queue (`queued_at`).
    """

    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "account_id"),
        Index("ix_event_registrations_event_status", "event_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    checked_in_at: Mapped[dt.datetime | None]
    checked_in_by: Mapped[str] = mapped_column(String(200), default="")
    # When the mail telling a waitlisted registration its rank was queued (reminders.py, by
    # the worker, after the registration's transaction: the mail is not written under the
    # event's lock). Cleared when the registration joins a queue again.
    waitlist_mailed_at: Mapped[dt.datetime | None]

    event: Mapped[Event] = relationship(back_populates="registrations")


class Reminder(Base):
    """The reminder mailed for one registration the day before its event: the primary key
    on the registration makes it at most one, whoever sends it (the worker, `campus event
    remind`, two of them at once)."""

    __tablename__ = "event_reminders"

    registration_id: Mapped[str] = mapped_column(
        ForeignKey("event_registrations.id", ondelete="CASCADE"), primary_key=True
    )
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
