"""What programmes hold about an account: the applications it submitted and the reviews it
wrote. Kept when the account is deleted (an application is its organisation's; a review's
score counts in a decision), pointing to an account that no longer names anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.auth.personal_data import PersonalData, rows
from campus.ecosystem.programmes.models import ProgrammeApplication, ProgrammeReview


def export(session: Session, account_id: str) -> dict[str, Any]:
    return {
        "applications": rows(
            session, ProgrammeApplication, ProgrammeApplication.submitted_by == account_id
        ),
        "reviews": rows(session, ProgrammeReview, ProgrammeReview.reviewer_id == account_id),
    }


PART = PersonalData("programmes", export)
