"""The audit event table: one row an action, chained by SHA-256 hashes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, JSONType


class AuditEvent(Base):
    __tablename__ = "audit_events"

    # seq is the position in the chain; unique, so two writers can never fork it.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str] = mapped_column(String(100), default="")
    object_id: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PendingAuditEvent(Base):
    """An event recorded by a transaction that has not been sealed into the chain yet.

    Writers only insert here, in their own transaction and without any shared lock; after
    their commit, `service.seal` moves pending events into `audit_events` in id order, under
    the chain's lock (at once in a quiet process, within `SEAL_INTERVAL` in a busy one).
    """

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(100), default="")
    object_id: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
