"""JSON routes of programmes: calls, applications, reviews, decisions and cohorts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes import service
from campus.ecosystem.programmes.models import ProgrammeApplication
from campus.web.deps import allow, db_session

router = APIRouter(tags=["programmes"])


class ProgrammeIn(BaseModel):
    slug: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    title_fr: str = Field(max_length=1000)
    title_en: str = Field(default="", max_length=1000)
    summary_fr: str = Field(default="", max_length=20000)
    summary_en: str = Field(default="", max_length=20000)


class CallIn(BaseModel):
    title: str = Field(max_length=1000)
    opens_at: str = Field(max_length=40)
    closes_at: str = Field(max_length=40)
    form_fields: list[Any] = Field(default_factory=list, max_length=100)
    criteria: list[Any] = Field(default_factory=list, max_length=100)


class CallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    programme_id: str
    title: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    form_fields: list[dict]
    criteria: list[dict]
    state: str = ""


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    kind: str
    title_fr: str
    title_en: str
    summary_fr: str
    summary_en: str


class CohortMember(BaseModel):
    organisation_id: str
    slug: str
    name: str
    kind: str
    city: str
    call: str
    selected_at: dt.datetime | None


class ProgrammeDetailOut(ProgrammeOut):
    calls: list[CallOut]
    cohort: list[CohortMember]


class ApplicationIn(BaseModel):
    answers: dict[str, Any] = Field(default_factory=dict)


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    call_id: str
    organisation_id: str
    status: str
    submitted_at: dt.datetime
    decided_at: dt.datetime | None


class ApplicationSummaryOut(ApplicationOut):
    reviews_assigned: int
    reviews_submitted: int | None  # None while the caller has their own review to submit
    average: float | None


class ApplicationRowOut(ApplicationSummaryOut):
    organisation_name: str


class CallDetailOut(CallOut):
    programme_title_fr: str
    programme_title_en: str
    applications: list[ApplicationRowOut]  # staff only; empty for everyone else


class MyReviewOut(BaseModel):
    application_id: str
    call_id: str
    call_title: str
    organisation_name: str  # the applicant, whom the reviewer's application page names too
    assigned_at: dt.datetime
    submitted_at: dt.datetime | None


class MyApplicationOut(ApplicationOut):
    call_title: str
    organisation_name: str


class MyProgrammesOut(BaseModel):
    reviews: list[MyReviewOut]
    applications: list[MyApplicationOut]


class ReviewerIn(BaseModel):
    reviewer_id: str = Field(max_length=32)


class ReviewIn(BaseModel):
    scores: dict[str, Any]
    comment: str = Field(default="", max_length=20000)


class DecisionIn(BaseModel):
    decision: str = Field(max_length=20)
    note: str = Field(default="", max_length=20000)


def call_out(call) -> dict:
    return {**CallOut.model_validate(call).model_dump(), "state": service.call_state(call)}


def programme_detail(session: Session, programme) -> dict:
    return {
        **ProgrammeOut.model_validate(programme).model_dump(),
        "calls": [call_out(c) for c in programme.calls],
        "cohort": service.cohort(session, programme.id),
    }


def summaries(
    session: Session, actor: Actor, applications: list[ProgrammeApplication]
) -> list[dict]:
    scores = service.average_scores(session, actor, applications)
    return [
        {
            **ApplicationOut.model_validate(a).model_dump(),
            "reviews_assigned": scores[a.id]["assigned"],
            "reviews_submitted": scores[a.id]["submitted"],
            "average": scores[a.id]["average"],
        }
        for a in applications
    ]


def _names(session: Session, organisation_ids: list[str]) -> dict[str, str]:
    return dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_(organisation_ids or [""])
            )
        ).all()
    )


def call_detail(session: Session, actor: Actor, call) -> dict:
    """A call with its programme's title; for staff, its applications with their review
    progress (as the blind-review rule lets them see it) and the applicants' names."""
    applications = (
        summaries(session, actor, service.applications_of_call(session, actor, call.id))
        if actor.is_staff
        else []
    )
    names = _names(session, [a["organisation_id"] for a in applications])
    return {
        **call_out(call),
        "programme_title_fr": call.programme.title_fr,
        "programme_title_en": call.programme.title_en,
        "applications": [
            a | {"organisation_name": names.get(a["organisation_id"], "")} for a in applications
        ],
    }


def my_reviews_of(session: Session, actor: Actor) -> list[dict]:
    """The applications the actor is asked to review (their own assignments only)."""
    found = service.reviews_of_actor(session, actor)
    names = _names(session, [application.organisation_id for _review, application in found])
    return [
        {
            "application_id": application.id,
            "call_id": application.call_id,
            "call_title": application.call.title,
            "organisation_name": names.get(application.organisation_id, ""),
            "assigned_at": review.assigned_at,
            "submitted_at": review.submitted_at,
        }
        for review, application in found
    ]


def my_applications_of(session: Session, actor: Actor) -> list[dict]:
    """Applications of the organisations the actor administers, with call and name."""
    applications = service.applications_of_actor(session, actor)
    names = _names(session, [a.organisation_id for a in applications])
    return [
        {
            **ApplicationOut.model_validate(a).model_dump(),
            "call_title": a.call.title,
            "organisation_name": names.get(a.organisation_id, ""),
        }
        for a in applications
    ]


@router.post(
    "/programmes", response_model=ProgrammeOut, status_code=201, summary="Create a programme"
)
def create_programme(
    body: ProgrammeIn, actor: Actor = allow("programmes.manage"), session: Session = db_session
):
    return service.create_programme(session, actor, service.ProgrammeInput(**body.model_dump()))


@router.post(
    "/programmes/{programme_id}/calls",
    response_model=CallOut,
    status_code=201,
    summary="Open a call with its form and scoring grid",
)
def create_call(
    programme_id: str,
    body: CallIn,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
):
    call = service.create_call(session, actor, programme_id, service.CallInput(**body.model_dump()))
    return call_out(call)


@router.post(
    "/programmes/calls/{call_id}/organisations/{org_id}/application",
    response_model=ApplicationOut,
    status_code=201,
    summary="Apply to a call for one's organisation (its admins)",
)
def apply(
    call_id: str,
    org_id: str,
    body: ApplicationIn,
    actor: Actor = allow("programmes.apply", scope=("organisation", "org_id")),
    session: Session = db_session,
):
    return service.apply(session, actor, call_id, org_id, body.answers)


@router.get(
    "/programmes/calls/{call_id}/applications",
    response_model=list[ApplicationSummaryOut],
    summary="Applications to a call with their review progress (staff)",
)
def call_applications(
    call_id: str, actor: Actor = allow("programmes.manage"), session: Session = db_session
):
    return summaries(session, actor, service.applications_of_call(session, actor, call_id))


@router.post(
    "/programmes/applications/{application_id}/reviewers",
    status_code=201,
    summary="Assign a reviewer (conflicts of interest are refused)",
)
def assign_reviewer(
    application_id: str,
    body: ReviewerIn,
    request: Request,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
) -> dict:
    review = service.assign_reviewer(
        session, request.app.state.settings, actor, application_id, body.reviewer_id
    )
    return {"application_id": review.application_id, "reviewer_id": review.reviewer_id}


@router.put(
    "/programmes/applications/{application_id}/review",
    summary="Submit my scores and comment (once)",
)
def submit_review(
    application_id: str,
    body: ReviewIn,
    actor: Actor = allow("programmes.review"),
    session: Session = db_session,
) -> dict:
    service.submit_review(session, actor, application_id, body.scores, body.comment)
    return service.application_view(session, actor, application_id)


@router.post(
    "/programmes/applications/{application_id}/decision",
    response_model=ApplicationOut,
    summary="Select or reject an application (mails the organisation)",
)
def decide(
    application_id: str,
    body: DecisionIn,
    request: Request,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
):
    return service.decide(
        session, request.app.state.settings, actor, application_id, body.decision, body.note
    )


@router.get(
    "/me/reviews", response_model=list[MyReviewOut], summary="Applications I am asked to review"
)
def my_reviews(actor: Actor = allow("programmes.review"), session: Session = db_session):
    return my_reviews_of(session, actor)


@router.get(
    "/me/applications",
    response_model=list[MyApplicationOut],
    summary="Applications of the organisations I administer",
)
def my_applications(actor: Actor = allow("account.self"), session: Session = db_session):
    return my_applications_of(session, actor)
