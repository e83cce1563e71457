"""What evaluation holds about an account: the benchmarks it defined, the models it
submitted and the output checks it made. Kept when the account is deleted (the public
record of what was evaluated), under an account that no longer names anyone.

A submission is exported as its submitter sees it (`service.view`): before release, no
real-data status, error or metric reaches the export either (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth.personal_data import PersonalData, rows
from campus.evaluation import service
from campus.evaluation.models import Benchmark, Submission, SubmissionCheck


def export(session: Session, account_id: str) -> dict[str, Any]:
    submissions = session.scalars(select(Submission).where(Submission.submitter_id == account_id))
    return {
        "benchmarks": rows(session, Benchmark, Benchmark.author_id == account_id),
        "submissions": [service.view(session, s, "submitter") for s in submissions],
        "checks": rows(session, SubmissionCheck, SubmissionCheck.checker_id == account_id),
    }


PART = PersonalData("evaluation", export)
