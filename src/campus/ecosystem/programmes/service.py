"""Programmes: calls, applications by organisations, reviews, decisions and the cohort.

Rules held here, whoever calls: only an organisation's admins apply for it, while the call is
open, once per call; a reviewer of an organisation's own application is refused (conflict of
interest); a reviewer sees other reviewers' scores only after submitting their own; staff
decide, and the organisation's admins are told by mail.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import i18n
from campus.audit import service as audit
from campus.auth import mail
from campus.auth.actor import Actor
from campus.auth.models import Account, RoleGrant
from campus.auth.roles import Role, ScopeType
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Membership, Organisation, Person
from campus.ecosystem.programmes import forms
from campus.ecosystem.programmes.models import (
    ApplicationStatus,
    Programme,
    ProgrammeApplication,
    ProgrammeCall,
    ProgrammeKind,
    ProgrammeReview,
)
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.settings import Settings
from campus.text import clean_text, parse_when

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")


def _staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden(N_("only campus staff manage programmes"), code="forbidden")


# --- programmes and calls ---------------------------------------------------------------------


@dataclass
class ProgrammeInput:
    slug: str
    kind: str
    title_fr: str
    title_en: str = ""
    summary_fr: str = ""
    summary_en: str = ""


def create_programme(session: Session, actor: Actor, data: ProgrammeInput) -> Programme:
    _staff_only(actor)
    slug = clean_text(data.slug, "slug", max_length=80, required=True, one_line=True).lower()
    if not SLUG.match(slug):
        raise BadRequest(
            N_("the short name may hold lowercase letters, digits and dashes only"),
            code="invalid_slug",
            where="slug",
        )
    if data.kind not in {k.value for k in ProgrammeKind}:
        raise BadRequest(
            N_("kind must be acceleration, research or training"), code="invalid_kind", where="kind"
        )
    if session.scalar(select(Programme.id).where(Programme.slug == slug)):
        raise Conflict(N_("this short name is already used"), code="slug_taken", where="slug")
    programme = Programme(
        slug=slug,
        kind=data.kind,
        title_fr=clean_text(
            data.title_fr, "title_fr", max_length=200, required=True, one_line=True
        ),
        title_en=clean_text(data.title_en, "title_en", max_length=200, one_line=True),
        summary_fr=clean_text(data.summary_fr, "summary_fr", max_length=5000),
        summary_en=clean_text(data.summary_en, "summary_en", max_length=5000),
        created_by=actor.label,
    )
    session.add(programme)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="programme.created",
        object_type="programme",
        object_id=programme.id,
        details={"kind": programme.kind},
    )
    return programme


def list_programmes(session: Session) -> list[Programme]:
    return list(session.scalars(select(Programme).order_by(Programme.title_fr)))


def get_programme(session: Session, key: str) -> Programme:
    programme = session.get(Programme, key) or session.scalar(
        select(Programme).where(Programme.slug == key)
    )
    if programme is None:
        raise NotFound(N_("no such programme"), code="not_found", where=key)
    return programme


@dataclass
class CallInput:
    title: str
    opens_at: dt.datetime | str
    closes_at: dt.datetime | str
    form_fields: Any
    criteria: Any


def create_call(
    session: Session,
    actor: Actor,
    programme_id: str,
    data: CallInput,
    *,
    now: dt.datetime | None = None,
) -> ProgrammeCall:
    """A call with its form and grid, checked whole before anything is written."""
    _staff_only(actor)
    now = now or utcnow()
    programme = get_programme(session, programme_id)
    title = clean_text(data.title, "title", max_length=200, required=True, one_line=True)
    opens_at = parse_when(data.opens_at, "opens_at")
    closes_at = parse_when(data.closes_at, "closes_at")
    if closes_at <= opens_at:
        raise BadRequest(
            N_("the call must close after it opens"), code="end_before_start", where="closes_at"
        )
    if closes_at <= now:
        raise BadRequest(N_("the closing date is in the past"), code="past_date", where="closes_at")
    call = ProgrammeCall(
        programme_id=programme.id,
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        form_fields=forms.clean_fields(data.form_fields),
        criteria=forms.clean_criteria(data.criteria),
    )
    session.add(call)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="programme.call_created",
        object_type="programme_call",
        object_id=call.id,
        details={"programme": programme.id, "fields": len(call.form_fields)},
    )
    return call


def get_call(session: Session, call_id: str) -> ProgrammeCall:
    call = session.get(ProgrammeCall, call_id)
    if call is None:
        raise NotFound(N_("no such call"), code="not_found", where=call_id)
    return call


def call_state(call: ProgrammeCall, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    if now < call.opens_at:
        return "upcoming"
    return "open" if now < call.closes_at else "closed"


# --- applications ------------------------------------------------------------------------------


def is_org_admin(actor: Actor, organisation_id: str) -> bool:
    return any(
        g.role == Role.ORG_ADMIN
        and g.scope_type == ScopeType.ORGANISATION
        and g.scope_id == organisation_id
        for g in actor.grants
    )


def apply(
    session: Session,
    actor: Actor,
    call_id: str,
    organisation_id: str,
    answers: Any,
    *,
    now: dt.datetime | None = None,
) -> ProgrammeApplication:
    """An organisation's application, by one of its admins, while the call is open."""
    if not is_org_admin(actor, organisation_id):
        raise Forbidden(
            N_("only an admin of this organisation may apply for it"), code="not_org_admin"
        )
    now = now or utcnow()
    call = get_call(session, call_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(N_("no such organisation"), code="not_found", where="organisation_id")
    state = call_state(call, now)
    if state != "open":
        raise Conflict(
            N_("this call is not open: applications are taken between its dates"),
            code=f"call_{state}",
        )
    cleaned = forms.clean_answers(call.form_fields, answers)
    exists = session.scalar(
        select(ProgrammeApplication.id).where(
            ProgrammeApplication.call_id == call.id,
            ProgrammeApplication.organisation_id == organisation.id,
        )
    )
    if exists:
        raise Conflict(
            N_("this organisation has already applied to this call"), code="already_applied"
        )
    application = ProgrammeApplication(
        call_id=call.id,
        organisation_id=organisation.id,
        submitted_by=actor.account_id,
        answers=cleaned,
        submitted_at=now,
    )
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="programme.applied",
        object_type="programme_application",
        object_id=application.id,
        details={"call": call.id, "organisation": organisation.id},
    )
    return application


def get_application(session: Session, application_id: str) -> ProgrammeApplication:
    application = session.get(ProgrammeApplication, application_id)
    if application is None:
        raise NotFound(N_("no such application"), code="not_found", where=application_id)
    return application


def applications_of_call(
    session: Session, actor: Actor, call_id: str
) -> list[ProgrammeApplication]:
    _staff_only(actor)
    get_call(session, call_id)
    return list(
        session.scalars(
            select(ProgrammeApplication)
            .where(ProgrammeApplication.call_id == call_id)
            .order_by(ProgrammeApplication.submitted_at)
        )
    )


def applications_of_actor(session: Session, actor: Actor) -> list[ProgrammeApplication]:
    """Applications of the organisations the actor administers."""
    organisations = actor.scope_ids(Role.ORG_ADMIN, ScopeType.ORGANISATION)
    if not organisations:
        return []
    return list(
        session.scalars(
            select(ProgrammeApplication)
            .where(ProgrammeApplication.organisation_id.in_(organisations))
            .order_by(ProgrammeApplication.submitted_at.desc())
        )
    )


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
    _staff_only(actor)
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
    _mail(
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


# --- decisions and the cohort -----------------------------------------------------------------


def decide(
    session: Session,
    settings: Settings,
    actor: Actor,
    application_id: str,
    decision: str,
    note: str = "",
) -> ProgrammeApplication:
    """Select or reject an application, and tell the organisation's admins by mail."""
    _staff_only(actor)
    if decision not in (ApplicationStatus.SELECTED, ApplicationStatus.REJECTED):
        raise BadRequest(
            N_("decision must be selected or rejected"), code="invalid_decision", where="decision"
        )
    application = lock(session, get_application(session, application_id))
    if application.status != ApplicationStatus.SUBMITTED:
        raise Conflict(N_("this application is already decided"), code="already_decided")
    application.status = decision
    application.decision_note = clean_text(note, "note", max_length=5000)
    application.decided_at = utcnow()
    application.decided_by = actor.label
    session.flush()
    recipients = set(
        session.scalars(
            select(RoleGrant.account_id).where(
                RoleGrant.role == Role.ORG_ADMIN,
                RoleGrant.scope_type == ScopeType.ORGANISATION,
                RoleGrant.scope_id == application.organisation_id,
            )
        )
    )
    if application.submitted_by:
        recipients.add(application.submitted_by)
    subject = (
        N_("Your application is selected")
        if decision == ApplicationStatus.SELECTED
        else N_("Your application is not selected")
    )
    body = (
        N_("Your organisation's application to {call} is selected. Welcome to the cohort!")
        if decision == ApplicationStatus.SELECTED
        else N_("Your organisation's application to {call} is not selected this time.")
    )
    for account_id in sorted(recipients):
        account = session.get(Account, account_id)
        if account is not None and account.active:
            _mail(
                session,
                settings,
                account,
                subject,
                body,
                call=application.call.title,
                link=f"/programmes/applications/{application.id}",
                note=application.decision_note,
            )
    audit.record(
        session,
        actor=actor.label,
        action=f"programme.application_{decision}",
        object_type="programme_application",
        object_id=application.id,
        details={"notified": len(recipients)},
    )
    return application


def cohort(session: Session, programme_id: str) -> list[dict]:
    """Organisations selected in any call of a programme, with the call that selected them."""
    rows = session.execute(
        select(Organisation, ProgrammeCall.title, ProgrammeApplication.decided_at)
        .join(ProgrammeApplication, ProgrammeApplication.organisation_id == Organisation.id)
        .join(ProgrammeCall, ProgrammeCall.id == ProgrammeApplication.call_id)
        .where(
            ProgrammeCall.programme_id == programme_id,
            ProgrammeApplication.status == ApplicationStatus.SELECTED,
        )
        .order_by(Organisation.name)
    ).all()
    return [
        {
            "organisation_id": org.id,
            "slug": org.slug,
            "name": org.name,
            "kind": org.kind,
            "city": org.city,
            "call": title,
            "selected_at": decided_at,
        }
        for org, title, decided_at in rows
    ]


def _mail(
    session: Session,
    settings: Settings,
    account: Account,
    subject: str,
    body: str,
    *,
    call: str,
    link: str,
    note: str = "",
) -> None:
    token = i18n.current_language.set(
        account.language if account.language in i18n.LANGUAGES else "fr"
    )
    try:
        text = i18n.gettext(body).format(call=call)
        if note:
            text += "\n\n" + note
        mail.queue(
            session,
            settings,
            to=account.email,
            subject=i18n.gettext(subject),
            body=text + "\n\n" + settings.base_url.rstrip("/") + link,
        )
    finally:
        i18n.current_language.reset(token)
