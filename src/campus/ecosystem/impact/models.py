"""Impact records entered by organisations and validated by campus staff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, JSONType, new_id, utcnow


class ImpactKind(StrEnum):
    FUNDRAISING = "fundraising"
    CONTRACT = "contract"
    ACQUISITION = "acquisition"
    PARTNERSHIP = "partnership"
    PRODUCT_LAUNCH = "product_launch"


class ImpactStatus(StrEnum):
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    REJECTED = "rejected"


class ImpactRecord(Base):
    __tablename__ = "impact_records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30), index=True)
    title: Mapped[str] = mapped_column(String(200))
    occurred_on: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3), default="")
    round: Mapped[str] = mapped_column(String(40), default="")
    investors: Mapped[list] = mapped_column(JSONType, default=list)
    counterpart: Mapped[str] = mapped_column(String(200), default="")
    counterpart_kind: Mapped[str] = mapped_column(String(30), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ImpactStatus.SUBMITTED, index=True)
    submitted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str] = mapped_column(String(500), default="")
