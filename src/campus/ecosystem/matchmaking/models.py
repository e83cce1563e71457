"""Introduction requests between organisations or people."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, new_id, utcnow


class IntroductionStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Introduction(Base):
    """A member asks to be introduced to a suggested partner; the other side decides.

    `source_type`/`target_type` are "organisation" or "person"; the ids point at
    `organisations` or `people` accordingly.
    """

    __tablename__ = "introductions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(32), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(32), index=True)
    requested_by: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(20), default=IntroductionStatus.PENDING, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(32))
