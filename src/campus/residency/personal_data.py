"""What residency holds about an account: the sponsorships it mentors. Kept when the account
is deleted (a startup's follow-up), with the mentor's name, copied there, erased."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from campus.auth.personal_data import DELETED_NAME, PersonalData, rows
from campus.residency.models import Sponsorship


def export(session: Session, account_id: str) -> list[dict[str, Any]]:
    return rows(session, Sponsorship, Sponsorship.mentor_account_id == account_id)


def erase(session: Session, account_id: str) -> None:
    session.execute(
        update(Sponsorship)
        .where(Sponsorship.mentor_account_id == account_id)
        .values(mentor_name=DELETED_NAME)
    )


PART = PersonalData("residency", export, erase)
