"""What consultations hold about an account: proposals, comments, supports (votes),
reports, participation and charter acceptances. Kept when the account is deleted (a
consultation's contributions and counts), shown under an account that no longer names
anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.auth.personal_data import PersonalData, rows
from campus.participation.models import (
    CharterAcceptance,
    Comment,
    Participant,
    Proposal,
    Report,
    Support,
)


def export(session: Session, account_id: str) -> dict[str, Any]:
    return {
        "proposals": rows(session, Proposal, Proposal.author_id == account_id),
        "comments": rows(session, Comment, Comment.author_id == account_id),
        "supports": rows(session, Support, Support.account_id == account_id),
        "reports": rows(session, Report, Report.reporter_id == account_id),
        "participations": rows(session, Participant, Participant.account_id == account_id),
        "charter_acceptances": rows(
            session, CharterAcceptance, CharterAcceptance.account_id == account_id
        ),
    }


PART = PersonalData("participation", export)
