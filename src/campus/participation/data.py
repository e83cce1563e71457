"""What the consultation pages and their JSON twins show: one data function each."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.participation import charter, service, votes
from campus.participation.schemas import SupportsOut


def supports_out(session: Session, consultation, actor: Actor) -> SupportsOut:
    mine = votes.my_supports(session, consultation, actor.account_id)
    limit = consultation.supports_per_person
    return SupportsOut(supports=mine, limit=limit, left=max(0, limit - len(mine)))


def consultation_detail(session: Session, actor: Actor, consultation_id: str) -> dict:
    """The data of a consultation page: the consultation, proposals and the actor's supports."""
    consultation = service.get_consultation(session, consultation_id)
    return {
        "consultation": service.consultation_view(consultation),
        "proposals": service.proposals_view(session, actor, consultation),
        "my_supports": supports_out(session, consultation, actor).model_dump()
        if actor.authenticated
        else None,
        "charter_accepted": charter.has_accepted(session, actor.account_id),
    }


def consultations(session: Session) -> list[dict]:
    """Consultations, newest first."""
    return [service.consultation_view(c) for c in service.list_consultations(session)]


def charter_status(session: Session, actor: Actor) -> dict:
    """The participation charter and whether the actor accepted its current version."""
    return {
        "version": charter.VERSION,
        "articles": charter.articles(),
        "accepted": charter.has_accepted(session, actor.account_id),
    }
