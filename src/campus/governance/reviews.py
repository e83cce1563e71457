"""Ethics review of an access request: questions and answers, each assigned reviewer's
decision, and the outcome once all have decided (refused if one refused, sent back if one
asked for changes, else approved with an approval carrying the scope and an expiry)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.errors import BadRequest, Conflict, Forbidden
from campus.governance import fields
from campus.governance.models import AccessRequest, Approval, Review, ReviewMessage
from campus.governance.notify import notify
from campus.governance.projects import get_project, member_ids, require_independent
from campus.i18n import N_
from campus.settings import Settings

DECISIONS = ("approve", "refuse", "changes")


def reviews(session: Session, request_id: str) -> list[Review]:
    return list(
        session.scalars(select(Review).where(Review.request_id == request_id).order_by(Review.id))
    )


def messages(session: Session, request_id: str) -> list[ReviewMessage]:
    return list(
        session.scalars(
            select(ReviewMessage)
            .where(ReviewMessage.request_id == request_id)
            .order_by(ReviewMessage.id)
        )
    )


def _assigned(session: Session, request: AccessRequest, actor: Actor) -> Review:
    review = session.scalar(
        select(Review).where(
            Review.request_id == request.id, Review.reviewer_id == (actor.account_id or "")
        )
    )
    if review is None:
        raise Forbidden(
            N_("only the reviewers assigned to this request may do this"), code="not_assigned"
        )
    return review


def ask_or_answer(
    session: Session, settings: Settings, actor: Actor, request: AccessRequest, body: str
) -> ReviewMessage:
    """A reviewer asks a question, or the team answers; the other side is notified."""
    body = fields.text(body, "body", 5000)
    if request.status != "in_review":
        raise Conflict(N_("questions and answers happen while the request is in review"))
    project = get_project(session, request.project_id)
    team = member_ids(session, project.id)
    reviewer_ids = {r.reviewer_id for r in reviews(session, request.id)}
    if actor.account_id in reviewer_ids:
        require_independent(session, actor, project.id)
        kind, recipients = "question", team
    elif actor.account_id in team:
        kind, recipients = "answer", reviewer_ids
    else:
        raise Forbidden(N_("only the assigned reviewers and the project team may write here"))
    message = ReviewMessage(
        request_id=request.id, author_id=actor.account_id or "", kind=kind, body=body
    )
    session.add(message)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action=f"request.{kind}",
        object_type="access_request",
        object_id=request.id,
    )
    notify(
        session,
        settings,
        recipients,
        subject=f"New {kind} on an access request: {project.title}",
        body=f"A {kind} was posted on the access request.",
        link=f"/projects/{project.id}/requests/{request.id}",
    )
    return message


def decide(
    session: Session,
    settings: Settings,
    actor: Actor,
    request: AccessRequest,
    *,
    decision: str,
    comment: str,
    conditions: str = "",
) -> AccessRequest:
    """Record one reviewer's decision; when all have decided, settle the request."""
    if decision not in DECISIONS:
        raise BadRequest(N_("choose a decision of the list"), code="bad_decision", where="decision")
    # Locked: the last two reviewers deciding at once each see the other's decision, and one
    # reviewer's two tabs decide once.
    lock(session, request)
    if request.status != "in_review":
        raise Conflict(N_("this request is no longer in review"), code="not_in_review")
    review = _assigned(session, request, actor)
    require_independent(session, actor, request.project_id)
    if review.decision is not None:
        raise Conflict(N_("you have already decided on this request"), code="already_decided")
    review.decision = decision
    review.comment = fields.text(comment, "comment", 5000)
    review.conditions = fields.text(conditions, "conditions", 5000, required=False)
    review.decided_at = utcnow()
    audit.record(
        session,
        actor=actor.label,
        action="review.decided",
        object_type="access_request",
        object_id=request.id,
        details={"decision": decision},
    )
    all_reviews = reviews(session, request.id)
    if any(r.decision is None for r in all_reviews):
        session.flush()
        return request
    outcome = {r.decision for r in all_reviews}
    if "refuse" in outcome:
        _settle(session, settings, actor, request, "refused")
    elif "changes" in outcome:
        _settle(session, settings, actor, request, "changes_requested")
    else:
        _settle(session, settings, actor, request, "approved")
        # Each condition once, in the order the reviewers gave them: two reviewers asking for
        # the same thing make one condition, not a repeated line.
        conditions_text = "\n".join(
            dict.fromkeys(r.conditions for r in all_reviews if r.conditions)
        )
        approval = Approval(
            request_id=request.id,
            project_id=request.project_id,
            datasets=list(request.datasets),
            views=list(request.views),
            elements=list(request.elements),
            conditions=conditions_text,
            expires_at=utcnow() + dt.timedelta(days=request.duration_days),
        )
        session.add(approval)
        session.flush()
        audit.record(
            session,
            actor=actor.label,
            action="approval.granted",
            object_type="approval",
            object_id=approval.id,
            details={
                "project": request.project_id,
                "datasets": approval.datasets,
                "views": approval.views,
                "expires_at": approval.expires_at.isoformat(),
            },
        )
    return request


def _settle(
    session: Session, settings: Settings, actor: Actor, request: AccessRequest, status: str
) -> None:
    request.status = status
    request.decided_at = utcnow()
    request.decision_note = "\n".join(
        r.comment for r in reviews(session, request.id) if r.decision != "approve" or r.comment
    )
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action=f"request.{status}",
        object_type="access_request",
        object_id=request.id,
        details={"project": request.project_id},
    )
    project = get_project(session, request.project_id)
    notify(
        session,
        settings,
        member_ids(session, project.id) | {r.reviewer_id for r in reviews(session, request.id)},
        subject=f"Access request {status.replace('_', ' ')}: {project.title}",
        body=f"The ethics review settled the access request: {status.replace('_', ' ')}.",
        link=f"/projects/{project.id}/requests/{request.id}",
    )
