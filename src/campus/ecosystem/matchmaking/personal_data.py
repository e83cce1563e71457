"""What matchmaking holds about an account: the introductions it asked for or decided.
Kept when the account is deleted (the other side's record), under an account that no
longer names anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from campus.auth.personal_data import PersonalData, rows
from campus.ecosystem.matchmaking.models import Introduction


def export(session: Session, account_id: str) -> list[dict[str, Any]]:
    return rows(
        session,
        Introduction,
        or_(Introduction.requested_by == account_id, Introduction.decided_by == account_id),
    )


PART = PersonalData("matchmaking", export)
