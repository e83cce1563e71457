"""Reviews of applications: a reviewer of an organisation's own application is refused
(conflict of interest); a reviewer sees other reviewers' scores only after submitting their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account, RoleGrant
from campus.auth.roles import Role, ScopeType
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Membership, Organisation, Person
from campus.ecosystem.programmes import forms
from campus.ecosystem.programmes.applications import get_application, is_org_admin
from campus.ecosystem.programmes.calls import mail_account, staff_only
from campus.ecosystem.programmes.models import (
    ApplicationStatus,
    ProgrammeApplication,
    ProgrammeReview,
)
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.settings import Settings
from campus.text import clean_text

# --- reviewers ---------------------------------------------------------------------------------


def has_conflict(session: Session, account_id: str, organisation_id: str) -> bool:
    """A reviewer in the applying organisation: a member of it, or holding a role scoped to it."""
    member = session.scalar(
        select(Membership.id)
        .join(Person, Person.id == Membership.person_id)
        .where(Person.account_id == account_id, Membership.organisation_id == organisation_id)
    )
    if member is not None:
        return True
    scoped = session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.account_id == account_id,
            RoleGrant.scope_type == ScopeType.ORGANISATION,
            RoleGrant.scope_id == organisation_id,
        )
    )
    return scoped is not None


def assign_reviewer(
    session: Session,
    settings: Settings,
    actor: Actor,
    application_id: str,
    reviewer_id: str,
) -> ProgrammeReview:
    staff_only(actor)
    application = lock(session, get_application(session, application_id))
    reviewer = session.get(Account, reviewer_id)
    if reviewer is None or not reviewer.active:
        raise NotFound(N_("no such account"), code="not_found", where="reviewer_id")
    if not any(g.role in (Role.MEMBER, Role.STAFF) and not g.scope_type for g in reviewer.grants):
        raise BadRequest(
            N_("a reviewer must be a campus member"), code="not_a_member", where="reviewer_id"
        )
    if has_conflict(session, reviewer.id, application.organisation_id):
        raise Forbidden(
            N_("conflict of interest: this reviewer belongs to the applying organisation"),
            code="conflict_of_interest",
            where="reviewer_id",
        )
    if application.status != ApplicationStatus.SUBMITTED:
        raise Conflict(N_("this application is already decided"), code="already_decided")
    exists = session.scalar(
        select(ProgrammeReview.id).where(
            ProgrammeReview.application_id == application.id,
            ProgrammeReview.reviewer_id == reviewer.id,
        )
    )
    if exists:
        raise Conflict(
            N_("this reviewer is already assigned to this application"), code="already_assigned"
        )
    review = ProgrammeReview(
        application_id=application.id, reviewer_id=reviewer.id, assigned_by=actor.label
    )
    session.add(review)
    session.flush()
    mail_account(
        session,
        settings,
        reviewer,
        N_("An application to review"),
        N_("You are asked to review an application to the call {call}."),
        call=application.call.title,
        link=f"/programmes/applications/{application.id}",
    )
    audit.record(
        session,
        actor=actor.label,
        action="programme.reviewer_assigned",
        object_type="programme_application",
        object_id=application.id,
        details={"reviewer": reviewer.id},
    )
    return review


def review_of(
    session: Session, application_id: str, reviewer_id: str | None
) -> ProgrammeReview | None:
    if not reviewer_id:
        return None
    return session.scalar(
        select(ProgrammeReview).where(
            ProgrammeReview.application_id == application_id,
            ProgrammeReview.reviewer_id == reviewer_id,
        )
    )


def submit_review(
    session: Session,
    actor: Actor,
    application_id: str,
    scores: Any,
    comment: str = "",
) -> ProgrammeReview:
    """Scores for every criterion and a comment, once, by an assigned reviewer."""
    # Locked: a double submit scores once, and no review lands after the decision.
    application = lock(session, get_application(session, application_id))
    review = review_of(session, application.id, actor.account_id)
    if review is None:
        raise Forbidden(N_("you are not a reviewer of this application"), code="not_assigned")
    if review.submitted_at is not None:
        raise Conflict(N_("your review is already submitted"), code="already_submitted")
    if application.status != ApplicationStatus.SUBMITTED:
        raise Conflict(N_("this application is already decided"), code="already_decided")
    if has_conflict(session, review.reviewer_id, application.organisation_id):
        raise Forbidden(
            N_("conflict of interest: this reviewer belongs to the applying organisation"),
            code="conflict_of_interest",
        )
    review.scores = forms.clean_scores(application.call.criteria, scores)
    review.comment = clean_text(comment, "comment", max_length=5000)
    review.submitted_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="programme.review_submitted",
        object_type="programme_application",
        object_id=application.id,
    )
    return review


def _review_dict(application: ProgrammeApplication, review: ProgrammeReview, names: dict) -> dict:
    return {
        "reviewer_id": review.reviewer_id,
        "reviewer": names.get(review.reviewer_id, ""),
        "submitted": review.submitted_at is not None,
        "submitted_at": review.submitted_at,
        "scores": dict(review.scores or {}),
        "comment": review.comment,
        "weighted": forms.weighted(application.call.criteria, review.scores or {})
        if review.submitted_at
        else None,
    }


def application_view(session: Session, actor: Actor, application_id: str) -> dict:
    """What the actor may see of an application.

    Staff see everything. An assigned reviewer sees the answers and their own review, and the
    other reviews only once their own is submitted. The applying organisation's admins see
    their answers and the decision, never the scores.
    """
    application = get_application(session, application_id)
    mine = review_of(session, application.id, actor.account_id)
    applicant = is_org_admin(actor, application.organisation_id)
    if not (actor.is_staff or mine is not None or applicant):
        raise Forbidden(N_("you may not see this application"), code="forbidden")
    organisation = session.get(Organisation, application.organisation_id)
    call = application.call
    reviews = list(application.reviews)
    names = dict(
        session.execute(
            select(Account.id, Account.name).where(
                Account.id.in_([r.reviewer_id for r in reviews] or [""])
            )
        ).all()
    )
    see_others = sees_scores(actor, mine)
    visible: list[dict] = []
    if actor.is_staff or mine is not None:
        for review in reviews:
            if review is mine or see_others:
                item = _review_dict(application, review, names)
                if review is not mine and not review.submitted_at:
                    item["scores"], item["comment"] = {}, ""
                visible.append(item)
    submitted = [r for r in reviews if r.submitted_at]
    average = None
    if see_others and submitted:
        values = [forms.weighted(call.criteria, r.scores) or 0.0 for r in submitted]
        average = round(sum(values) / len(values), 2)
    return {
        "id": application.id,
        "call_id": call.id,
        "call_title": call.title,
        "programme_id": call.programme_id,
        "organisation_id": application.organisation_id,
        "organisation_name": organisation.name if organisation else "",
        "status": application.status,
        "submitted_at": application.submitted_at,
        "decided_at": application.decided_at,
        "decision_note": application.decision_note if application.decided_at else "",
        "form_fields": call.form_fields,
        "criteria": call.criteria,
        "answers": application.answers,
        "reviews": visible,
        "reviews_assigned": len(reviews) if (actor.is_staff or mine is not None) else None,
        "reviews_submitted": len(submitted) if see_others else None,
        "average": average,
        "my_review": _review_dict(application, mine, names) if mine is not None else None,
        "is_reviewer": mine is not None,
        "is_applicant": applicant,
    }


def reviews_of_actor(
    session: Session, actor: Actor
) -> list[tuple[ProgrammeReview, ProgrammeApplication]]:
    return list(
        session.execute(
            select(ProgrammeReview, ProgrammeApplication)
            .join(ProgrammeApplication, ProgrammeApplication.id == ProgrammeReview.application_id)
            .where(ProgrammeReview.reviewer_id == actor.account_id)
            .order_by(ProgrammeReview.assigned_at.desc())
        ).all()
    )


def sees_scores(actor: Actor, mine: ProgrammeReview | None) -> bool:
    """Whether the actor may see other reviewers' scores of an application, given their own
    review of it (None if they are not assigned). The blind-review rule, for staff too: an
    assigned reviewer sees the others only once their own review is submitted."""
    if mine is not None:
        return mine.submitted_at is not None
    return actor.is_staff


def average_scores(
    session: Session, actor: Actor, applications: list[ProgrammeApplication]
) -> dict[str, dict]:
    """For staff lists: reviews assigned, submitted and the mean weighted score of each; the
    last two are None on the applications the actor still has to review (`sees_scores`)."""
    result = {}
    for application in applications:
        mine = next((r for r in application.reviews if r.reviewer_id == actor.account_id), None)
        submitted = [r for r in application.reviews if r.submitted_at]
        values = [forms.weighted(application.call.criteria, r.scores) or 0.0 for r in submitted]
        blind = not sees_scores(actor, mine)
        result[application.id] = {
            "assigned": len(application.reviews),
            "submitted": None if blind else len(submitted),
            "average": None if blind or not values else round(sum(values) / len(values), 2),
        }
    return result
