"""What the audit log holds about an account: the events it did and the events about it.

Nothing is erased: the chain must keep verifying, and its events name accounts by id only
(never an email or a name), an id that designates nobody once the account is deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.audit.models import AuditEvent
from campus.auth.personal_data import PersonalData


def export(session: Session, account_id: str) -> list[dict[str, Any]]:
    audit.seal_pending(session)
    events = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.actor == f"account:{account_id}",
                (AuditEvent.object_type == "account") & (AuditEvent.object_id == account_id),
            )
        )
        .order_by(AuditEvent.seq)
    )
    return [audit.as_dict(event) for event in events]


PART = PersonalData("audit", export)
