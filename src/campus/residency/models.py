"""Tables of residencies (with their renewals and exits), the waiting list and sponsorships
(parrainage) with their meetings.

A hosting application is an application to a call of the campus's hosting programme (the
programmes' tables and review: conflicts of interest, sealed scores); a residency names the
application that admitted it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, JSONType, new_id, utcnow


class ResidencyStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class ExitReason(StrEnum):
    END_OF_CONTRACT = "end_of_contract"
    GROWTH = "growth"  # outgrew the campus
    RELOCATION = "relocation"
    ACQUISITION = "acquisition"
    CLOSURE = "closure"
    OTHER = "other"


class WaitingStatus(StrEnum):
    WAITING = "waiting"
    PLACED = "placed"
    WITHDRAWN = "withdrawn"


class SponsorshipStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class Residency(Base):
    """An organisation hosted on the campus from `starts_on` to `ends_on` (exclusive), under
    a contract, for a monthly fee; `exited_on` and `exit_reason` once it has left."""

    __tablename__ = "residencies"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="dates"),
        CheckConstraint("monthly_fee_cents >= 0", name="fee"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[str | None] = mapped_column(
        ForeignKey("programme_applications.id", ondelete="SET NULL"), unique=True
    )
    starts_on: Mapped[dt.date] = mapped_column(Date, index=True)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    contract_ref: Mapped[str] = mapped_column(String(80))
    monthly_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default=ResidencyStatus.ACTIVE, index=True)
    exited_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    exit_reason: Mapped[str] = mapped_column(String(30), default="")
    exit_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Renewal(Base):
    """A residency's contract extended: its end date (and maybe fee and contract) before and
    after."""

    __tablename__ = "residency_renewals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    residency_id: Mapped[str] = mapped_column(
        ForeignKey("residencies.id", ondelete="CASCADE"), index=True
    )
    previous_ends_on: Mapped[dt.date] = mapped_column(Date)
    new_ends_on: Mapped[dt.date] = mapped_column(Date)
    monthly_fee_cents: Mapped[int] = mapped_column(Integer)
    contract_ref: Mapped[str] = mapped_column(String(80))
    renewed_by: Mapped[str] = mapped_column(String(200), default="")
    renewed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WaitingEntry(Base):
    """A selected hosting application waiting for space that fits it."""

    __tablename__ = "residency_waiting_list"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("programme_applications.id", ondelete="CASCADE"), unique=True
    )
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    desks_needed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=WaitingStatus.WAITING, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Sponsorship(Base):
    """A startup paired with a sponsor organisation and a named mentor (parrainage).

    `outcomes`: counts of introductions made and contracts signed through the pair, and the
    ids of fundraising impact records linked to it. Each side rates the sponsorship (1-5)
    once it has ended."""

    __tablename__ = "sponsorships"
    __table_args__ = (
        CheckConstraint("startup_id <> sponsor_id", name="two_sides"),
        CheckConstraint("startup_rating IS NULL OR startup_rating BETWEEN 1 AND 5", name="sr"),
        CheckConstraint("sponsor_rating IS NULL OR sponsor_rating BETWEEN 1 AND 5", name="pr"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    startup_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    sponsor_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    mentor_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    mentor_name: Mapped[str] = mapped_column(String(200))
    objectives: Mapped[list] = mapped_column(JSONType, default=list)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=SponsorshipStatus.ACTIVE, index=True)
    outcomes: Mapped[dict] = mapped_column(JSONType, default=dict)
    startup_rating: Mapped[int | None] = mapped_column(Integer)
    startup_comment: Mapped[str] = mapped_column(Text, default="")
    sponsor_rating: Mapped[int | None] = mapped_column(Integer)
    sponsor_comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SponsorshipMeeting(Base):
    __tablename__ = "sponsorship_meetings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sponsorship_id: Mapped[str] = mapped_column(
        ForeignKey("sponsorships.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[dt.date] = mapped_column(Date)
    topics: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str] = mapped_column(Text, default="")
    logged_by: Mapped[str] = mapped_column(String(200), default="")
    logged_side: Mapped[str] = mapped_column(String(20), default="")  # startup|sponsor|staff
    logged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
