"""Saved custom views: a researcher's ViewDefinition kept under a name, never changed.

A saved view's key ends with a digest of its definition, so a key names one definition for
ever: an access request that names it asks for exactly what its reviewers read, and an
analysis that carries the definition with the key is checked against it (see
`campus.views.service.saved_key`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, JSONType, new_id, utcnow


class SavedView(Base):
    __tablename__ = "views_saved"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    resource: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict] = mapped_column(JSONType)
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
