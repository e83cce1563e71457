"""What analysis holds about an account: the jobs it submitted (their definitions, not their
outputs). Kept when the account is deleted (the public register lists every job), under an
account that no longer names anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.analysis.models import Job
from campus.auth.personal_data import PersonalData, rows


def export(session: Session, account_id: str) -> list[dict[str, Any]]:
    return rows(session, Job, Job.author_id == account_id)


PART = PersonalData("analysis", export)
