"""What governance holds about an account: the projects it belongs to or created, the access
requests it filed, its ethics reviews and review messages. Kept when the account is deleted
(a decision's record must stand), under an account that no longer names anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.auth.personal_data import PersonalData, rows
from campus.governance.models import (
    AccessRequest,
    DataProject,
    ProjectMember,
    Review,
    ReviewMessage,
)


def export(session: Session, account_id: str) -> dict[str, Any]:
    return {
        "projects_created": rows(session, DataProject, DataProject.created_by == account_id),
        "project_memberships": rows(session, ProjectMember, ProjectMember.account_id == account_id),
        "access_requests": rows(session, AccessRequest, AccessRequest.created_by == account_id),
        "reviews": rows(session, Review, Review.reviewer_id == account_id),
        "review_messages": rows(session, ReviewMessage, ReviewMessage.author_id == account_id),
    }


PART = PersonalData("governance", export)
