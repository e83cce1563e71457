"""The opt-out registry's tables: keyed hashes of identifiers, receipts, withdrawals and the
form's throttle counters (never an identifier, never a client address)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, utcnow


class OptOut(Base):
    """One objection: the keyed hash of one identifier, never the identifier itself."""

    __tablename__ = "optout_entries"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    receipt: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class OptOutReceipt(Base):
    """One receipt a person was given. Filing the same objection again gives a new receipt,
    so that a receipt never tells whether somebody had already objected."""

    __tablename__ = "optout_receipts"

    receipt: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(ForeignKey("optout_entries.key", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OptOutWithdrawal(Base):
    """A receipt its holder withdrew: when it was filed and withdrawn, nothing of the
    identifier (its hash left with the receipt)."""

    __tablename__ = "optout_withdrawals"

    receipt: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    filed_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OptOutThrottle(Base):
    """Filings counted per window, for the whole form (`global`) and per client address
    (its keyed hash, never the address). A row is locked while it is counted, so any number
    of processes admit at most the limit."""

    __tablename__ = "optout_throttle"

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
