"""What events hold about an account: its registrations. Kept when the account is deleted
(an event's attendance counts), pointing to an account that no longer names anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.auth.personal_data import PersonalData, rows
from campus.ecosystem.events.models import Registration


def export(session: Session, account_id: str) -> list[dict[str, Any]]:
    return rows(session, Registration, Registration.account_id == account_id)


PART = PersonalData("events", export)
