"""Dataset metadata: datasets (owner, policy, threshold) and their published versions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.db.base import Base, JSONType, new_id, utcnow


class Dataset(Base):
    __tablename__ = "warehouse_datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    owner_org: Mapped[str] = mapped_column(String(64), default="")
    policy: Mapped[dict] = mapped_column(JSONType)
    date_shift: Mapped[bool] = mapped_column(Boolean, default=True)
    threshold: Mapped[int] = mapped_column(Integer, default=10)
    # Resources an ingest may skip (errors) and still publish without `--on-error skip`.
    error_tolerance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The hospital's Bulk Data server (`campus pull`): base URL, client id, key reference.
    pull_source: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    versions: Mapped[list[DatasetVersionRow]] = relationship(
        back_populates="dataset",
        cascade="all, delete-orphan",
        order_by="DatasetVersionRow.number",
        lazy="selectin",
    )


class DatasetVersionRow(Base):
    """A published version: its manifest summary (the manifest file itself is the truth)."""

    __tablename__ = "warehouse_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("warehouse_datasets.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    resources: Mapped[int] = mapped_column(BigInteger, default=0)
    patients: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    policy_hash: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    dataset: Mapped[Dataset] = relationship(back_populates="versions")


class PullRun(Base):
    """A scheduled pull of a dataset, queued by the job worker when its schedule is due.

    One row per due time (`slot`): the unique constraint lets one worker enqueue it however
    many workers see it due; the partial unique index on the active rows keeps at most one
    queued or running pull per dataset. A worker claims a row by a conditional UPDATE and
    holds it under a lease that its progress renews; a worker that died leaves a lease that
    expires, and the row is claimed again (the pull resumes its export)."""

    __tablename__ = "warehouse_pull_runs"
    __table_args__ = (
        UniqueConstraint("dataset_id", "slot"),
        Index(
            "ix_warehouse_pull_runs_active",
            "dataset_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("warehouse_datasets.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(200), default="")
    lease_until: Mapped[dt.datetime | None]
    outcome: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
