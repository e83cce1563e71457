"""Tables of data projects, team members, access requests, reviews, messages, approvals and
the ledger of each project's privacy budget."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, JSONType, new_id, utcnow


class DataProject(Base):
    """A project that reuses health data for a stated purpose, in full public view."""

    __tablename__ = "gov_projects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    lead_org_id: Mapped[str] = mapped_column(String(64))
    lead_org_name: Mapped[str] = mapped_column(String(200))
    partners: Mapped[list] = mapped_column(JSONType, default=list)  # [{"id", "name"}]
    purpose: Mapped[str] = mapped_column(Text)
    summary_fr: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(String(300))  # a code of governance.legal
    expected_benefits: Mapped[str] = mapped_column(Text)
    # What the public register shows of the project's regulatory standing.
    data_controller: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    cesrees_number: Mapped[str] = mapped_column(String(40), default="")  # CESREES opinion
    cnil_number: Mapped[str] = mapped_column(String(40), default="")  # CNIL decision/receipt
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | closed
    privacy_budget: Mapped[float] = mapped_column(Float, default=3.0)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ProjectMember(Base):
    __tablename__ = "gov_project_members"
    __table_args__ = (UniqueConstraint("project_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("gov_projects.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))  # lead | researcher | analyst | ...
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AccessRequest(Base):
    """What a project asks for: datasets, views and elements, for how long and why."""

    __tablename__ = "gov_access_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("gov_projects.id", ondelete="CASCADE"), index=True
    )
    datasets: Mapped[list] = mapped_column(JSONType, default=list)
    views: Mapped[list] = mapped_column(JSONType, default=list)
    elements: Mapped[list] = mapped_column(JSONType, default=list)
    duration_days: Mapped[int] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")


class Review(Base):
    """One ethics reviewer's assignment on a request, and their decision."""

    __tablename__ = "gov_reviews"
    __table_args__ = (UniqueConstraint("request_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("gov_access_requests.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(20))  # approve | refuse | changes
    conditions: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None]


class ReviewMessage(Base):
    """A question from a reviewer or an answer from the project team."""

    __tablename__ = "gov_review_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("gov_access_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(10))  # question | answer
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Approval(Base):
    """The scope a decision grants: datasets, views, expiry; suspended or revoked at once."""

    __tablename__ = "gov_approvals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("gov_access_requests.id", ondelete="CASCADE"), unique=True
    )
    project_id: Mapped[str] = mapped_column(
        ForeignKey("gov_projects.id", ondelete="CASCADE"), index=True
    )
    datasets: Mapped[list] = mapped_column(JSONType, default=list)
    views: Mapped[list] = mapped_column(JSONType, default=list)
    elements: Mapped[list] = mapped_column(JSONType, default=list)
    conditions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    changed_at: Mapped[dt.datetime | None]
    change_reason: Mapped[str] = mapped_column(Text, default="")


class PrivacySpend(Base):
    """One charge of differential-privacy budget to a project, by a job (an analysis job or
    a federated one): the project owns its budget, the capabilities that run jobs charge it
    (campus.governance.budget). The table keeps the name it was created with (0800_analysis)."""

    __tablename__ = "analysis_privacy_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("gov_projects.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[str] = mapped_column(String(32), unique=True)
    epsilon: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
