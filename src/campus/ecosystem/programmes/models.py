"""Programmes, their calls (form fields and scoring grid), applications, reviews, decisions."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.db.base import Base, JSONType, new_id, utcnow


class ProgrammeKind(StrEnum):
    ACCELERATION = "acceleration"
    RESEARCH = "research"
    TRAINING = "training"


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    SELECTED = "selected"
    REJECTED = "rejected"


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    summary_fr: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    calls: Mapped[list[ProgrammeCall]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="ProgrammeCall.opens_at"
    )


class ProgrammeCall(Base):
    """A call for applications: open between two dates, with its own form and scoring grid.

    `form_fields`: [{key, label, type: text|long_text|number|choice, required, choices, max}]
    `criteria`: [{key, label, weight}]; each reviewer scores every criterion from 0 to 5.
    """

    __tablename__ = "programme_calls"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    programme_id: Mapped[str] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    form_fields: Mapped[list] = mapped_column(JSONType, default=list)
    criteria: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="calls")


class ProgrammeApplication(Base):
    """One organisation's application to a call, submitted by one of its admins."""

    __tablename__ = "programme_applications"
    __table_args__ = (UniqueConstraint("call_id", "organisation_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(
        ForeignKey("programme_calls.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.SUBMITTED)
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")

    call: Mapped[ProgrammeCall] = relationship()
    reviews: Mapped[list[ProgrammeReview]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )


class ProgrammeReview(Base):
    """A reviewer assigned to an application; `submitted_at` is set when the scores are in."""

    __tablename__ = "programme_reviews"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("programme_applications.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    assigned_by: Mapped[str] = mapped_column(String(200), default="")
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    scores: Mapped[dict] = mapped_column(JSONType, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime | None]

    application: Mapped[ProgrammeApplication] = relationship(back_populates="reviews")
