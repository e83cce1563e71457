"""What the consultation pages and their JSON twins show: one data function each."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.errors import BadRequest
from campus.i18n import N_
from campus.participation import charter, service, votes
from campus.participation.results import STATUS_LABELS
from campus.participation.schemas import SupportsOut

# How a consultation's proposals may be ordered: newest first (the default), oldest first,
# the most discussed first (visible comments), or by title.
SORTS = ("newest", "oldest", "comments", "title")


def supports_out(session: Session, consultation, actor: Actor) -> SupportsOut:
    mine = votes.my_supports(session, consultation, actor.account_id)
    limit = consultation.supports_per_person
    return SupportsOut(supports=mine, limit=limit, left=max(0, limit - len(mine)))


def _ordered(proposals: list[dict], sort: str, status: str) -> list[dict]:
    """The proposals of one answer status (all when empty), in the order asked."""
    if sort not in SORTS:
        raise BadRequest(N_("unknown order"), code="invalid_sort", where="sort")
    if status and status not in STATUS_LABELS:
        raise BadRequest(N_("unknown status"), code="invalid_status", where="status")
    kept = [p for p in proposals if not status or p["status"] == status]
    if sort == "oldest":
        kept.reverse()  # the service lists the newest first
    elif sort == "comments":
        kept.sort(key=lambda p: -sum(p["comments"].values()))  # stable: newest first on ties
    elif sort == "title":
        kept.sort(key=lambda p: p["title"].casefold())
    return kept


def consultation_detail(
    session: Session, actor: Actor, consultation_id: str, sort: str = "newest", status: str = ""
) -> dict:
    """The data of a consultation page: the consultation, its proposals (of one answer status
    when asked, in the order asked) and the actor's supports."""
    consultation = service.get_consultation(session, consultation_id)
    proposals = service.proposals_view(session, actor, consultation)
    return {
        "consultation": service.consultation_view(consultation),
        "sort": sort,
        "status": status,
        "proposals": _ordered(proposals, sort, status),
        "my_supports": supports_out(session, consultation, actor).model_dump()
        if actor.authenticated
        else None,
        "charter_accepted": charter.has_accepted(session, actor.account_id),
    }


def proposal_detail(session: Session, actor: Actor, consultation_id: str, proposal_id: str) -> dict:
    """The data of a proposal page: the proposal and its comment threads, as the actor may see
    them (a hidden proposal is not found but by its author and moderators; a hidden comment
    keeps its place without its text or author)."""
    consultation = service.get_consultation(session, consultation_id)
    proposal = service.get_proposal(session, consultation, proposal_id)
    return service.proposal_view(session, actor, consultation, proposal)


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
