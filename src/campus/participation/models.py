"""Tables of citizen consultations: consultations, proposals, comments, supports, reports,
participants (the per-person lock row) and charter acceptances."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, new_id, utcnow

MODERATION_STATES = ("visible", "pending", "hidden")
PROPOSAL_STATUSES = ("open", "under_study", "accepted", "rejected")
STANCES = ("for", "against", "neutral")
SUBJECT_TYPES = ("data_project", "programme")


class Consultation(Base):
    """A consultation and its phase dates (UTC). The current phase derives from the dates."""

    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint(
            "opens_at <= contributions_at AND contributions_at <= voting_at "
            "AND voting_at < results_at",
            name="phase_order",
        ),
        CheckConstraint("supports_per_person >= 1", name="supports_positive"),
        CheckConstraint("report_threshold >= 1", name="threshold_positive"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    subject_type: Mapped[str] = mapped_column(String(20), default="")
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    subject_title: Mapped[str] = mapped_column(String(300), default="")
    opens_at: Mapped[dt.datetime]
    contributions_at: Mapped[dt.datetime]
    voting_at: Mapped[dt.datetime]
    results_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    supports_per_person: Mapped[int] = mapped_column(Integer, default=3)
    report_threshold: Mapped[int] = mapped_column(Integer, default=3)
    proposals_per_hour: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Proposal(Base):
    __tablename__ = "consultation_proposals"
    __table_args__ = (Index("ix_consultation_proposals_author_created", "author_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    consultation_id: Mapped[str] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[dt.datetime | None]
    moderation: Mapped[str] = mapped_column(String(10), default="visible")
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    moderated_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A comment on a proposal, threaded through `parent_id`, with a stance."""

    __tablename__ = "consultation_comments"
    __table_args__ = (Index("ix_consultation_comments_author_created", "author_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    proposal_id: Mapped[str] = mapped_column(
        ForeignKey("consultation_proposals.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("consultation_comments.id", ondelete="CASCADE")
    )
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    stance: Mapped[str] = mapped_column(String(10), default="neutral")
    moderation: Mapped[str] = mapped_column(String(10), default="visible")
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    moderated_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Support(Base):
    """One person's support of one proposal (a vote); at most one per proposal and person."""

    __tablename__ = "consultation_supports"
    __table_args__ = (UniqueConstraint("proposal_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[str] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[str] = mapped_column(
        ForeignKey("consultation_proposals.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Participant(Base):
    """A person in a consultation: the row locked while their supports change."""

    __tablename__ = "consultation_participants"

    consultation_id: Mapped[str] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    supports_used: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Report(Base):
    """A report of a proposal or comment; one per person and item, resolved by a decision."""

    __tablename__ = "consultation_reports"
    __table_args__ = (
        UniqueConstraint("target_type", "target_id", "reporter_id"),
        Index("ix_consultation_reports_reporter_created", "reporter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_type: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[str] = mapped_column(String(32))
    consultation_id: Mapped[str] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CharterAcceptance(Base):
    """The version of the participation charter a person accepted, and when."""

    __tablename__ = "consultation_charter_acceptances"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[str] = mapped_column(String(20))
    accepted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
