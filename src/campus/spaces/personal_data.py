"""What spaces hold about an account: its room bookings. Kept when the account is deleted
(a room's occupancy), under an account that no longer names anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.auth.personal_data import PersonalData, rows
from campus.spaces.models import Booking


def export(session: Session, account_id: str) -> list[dict[str, Any]]:
    return rows(session, Booking, Booking.account_id == account_id)


PART = PersonalData("spaces", export)
