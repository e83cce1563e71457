"""Dataset metadata: datasets (owner, policy, threshold) and their published versions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
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
