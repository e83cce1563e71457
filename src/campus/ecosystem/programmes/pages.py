"""HTML pages of programmes: catalogue, programme with its cohort, call with its application
form, application with reviews and decision, and one's reviews and applications."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.roles import Role, ScopeType
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes import api, service
from campus.ecosystem.programmes.models import ProgrammeKind
from campus.errors import BadRequest, NotFound
from campus.i18n import N_
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.twins import twin

router = APIRouter()

KIND_LABELS = {
    ProgrammeKind.ACCELERATION: N_("Acceleration"),
    ProgrammeKind.RESEARCH: N_("Research"),
    ProgrammeKind.TRAINING: N_("Training"),
}
STATE_LABELS = {"upcoming": N_("Upcoming"), "open": N_("Open"), "closed": N_("Closed")}
STATUS_LABELS = {
    "submitted": N_("Submitted"),
    "selected": N_("Selected"),
    "rejected": N_("Not selected"),
}
EXAMPLE_FIELDS = [
    {"key": "pitch", "label": "Projet en quelques lignes", "type": "long_text", "required": True},
    {"key": "team", "label": "Taille de l'équipe", "type": "number", "min": 1},
    {"key": "stage", "label": "Stade", "type": "choice", "choices": ["amorçage", "série A"]},
]
EXAMPLE_CRITERIA = [
    {"key": "impact", "label": "Impact en santé", "weight": 2},
    {"key": "team", "label": "Équipe", "weight": 1},
]
LABELS = {"kinds": KIND_LABELS, "states": STATE_LABELS, "statuses": STATUS_LABELS}


class CallForm(BaseModel):
    """The new call's form: its definitions typed as JSON text (the API takes them as lists)."""

    title: str = Field(max_length=1000)
    opens_at: str = Field(max_length=40)
    closes_at: str = Field(max_length=40)
    form_fields: str = Field(default="[]", max_length=50000)
    criteria: str = Field(default="[]", max_length=50000)


class ApplyForm(BaseModel):
    """The application form: the organisation, then one answer per question of the call, in
    the call's order (every question's input is sent, empty or not)."""

    organisation_id: str = Field(max_length=32)
    answers: list[str] = Field(default_factory=list, max_length=100)


class ReviewForm(BaseModel):
    """A review typed on the page: one score per criterion of the grid, in its order."""

    scores: list[str] = Field(default_factory=list, max_length=100)
    comment: str = Field(default="", max_length=20000)


class ReviewerEmailIn(BaseModel):
    email: str = Field(max_length=320)


class NoFields(BaseModel):
    """A form that only carries its CSRF token."""


def by_position(keys: list[str], typed: list[str], where: str) -> dict[str, str]:
    """What a form sent for each of `keys`, in their order; a count that differs is refused."""
    if len(typed) != len(keys):
        raise BadRequest(N_("the form does not match this call's questions"), where=where)
    return dict(zip(keys, typed, strict=True))


def _typed_list(values: dict[str, Any], name: str) -> list[str]:
    found = values.get(name, [])
    return [found] if isinstance(found, str) else list(found)


# --- programmes ---------------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/programmes",
    template="ecosystem/programme_list.html",
    summary="Programmes",
    response_model=list[api.ProgrammeOut],
    context=lambda data: {"programmes": data, "values": {}, **LABELS},
)
def programmes_page(actor: Actor = allow("public.read"), session: Session = db_session) -> list:
    return programme_list(session)


def programme_list(session: Session) -> list[dict]:
    return [
        api.ProgrammeOut.model_validate(p).model_dump() for p in service.list_programmes(session)
    ]


def _programmes_again(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    shown = programme_list(session)
    return {"data": shown, "programmes": shown, "values": values, **LABELS}


@form_route(
    router,
    "/programmes",
    model=api.ProgrammeIn,
    template="ecosystem/programme_list.html",
    context=_programmes_again,
)
def programme_create(
    body: api.ProgrammeIn, actor: Actor = allow("programmes.manage"), session: Session = db_session
) -> str:
    programme = service.create_programme(
        session, actor, service.ProgrammeInput(**body.model_dump())
    )
    return f"/programmes/{programme.id}"


EXAMPLE_VALUES = {
    "form_fields": json.dumps(EXAMPLE_FIELDS, ensure_ascii=False, indent=2),
    "criteria": json.dumps(EXAMPLE_CRITERIA, ensure_ascii=False, indent=2),
}


@twin(
    api.router,
    router,
    "/programmes/{programme_id}",
    template="ecosystem/programme_detail.html",
    summary="A programme, its calls and its selected cohort",
    response_model=api.ProgrammeDetailOut,
    context=lambda: {"values": EXAMPLE_VALUES, **LABELS},
)
def programme_page(
    programme_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict:
    return api.programme_detail(session, service.get_programme(session, programme_id))


def _json_field(text: str, where: str):
    try:
        return json.loads(text or "[]")
    except json.JSONDecodeError as error:
        raise BadRequest(
            N_("this is not valid JSON"),
            code="invalid_json",
            where=f"{where} (line {error.lineno})",
        ) from None


def _programme_again(session: Session, programme_id: str, values: dict) -> dict[str, Any]:
    shown = api.programme_detail(session, service.get_programme(session, programme_id))
    return {"data": shown, "values": values, **LABELS}


@form_route(
    router,
    "/programmes/{programme_id}/calls",
    model=CallForm,
    template="ecosystem/programme_detail.html",
    context=_programme_again,
)
def call_create(
    body: CallForm,
    programme_id: str,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
) -> str:
    programme = service.get_programme(session, programme_id)
    call = service.create_call(
        session,
        actor,
        programme.id,
        service.CallInput(
            title=body.title,
            opens_at=body.opens_at,
            closes_at=body.closes_at,
            form_fields=_json_field(body.form_fields, "form_fields"),
            criteria=_json_field(body.criteria, "criteria"),
        ),
    )
    return f"/programmes/calls/{call.id}"


# --- calls and applications ---------------------------------------------------------------


def _admin_organisations(session: Session, actor: Actor) -> list[Organisation]:
    ids = actor.scope_ids(Role.ORG_ADMIN, ScopeType.ORGANISATION)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
        )
    )


def _call_context(session: Session, actor: Actor, answers: dict | None = None) -> dict:
    """What the reader may do on a call's page: apply for the organisations they administer."""
    return {"my_organisations": _admin_organisations(session, actor), "answers": answers or {}}


@twin(
    api.router,
    router,
    "/programmes/calls/{call_id}",
    template="ecosystem/programme_call.html",
    summary="A call, its form and grid, its programme; for staff its applications with their "
    "review progress",
    response_model=api.CallDetailOut,
    context=lambda session, actor: _call_context(session, actor) | LABELS,
)
def call_page(call_id: str, actor: Actor = allow("public.read"), session: Session = db_session):
    return api.call_detail(session, actor, service.get_call(session, call_id))


def _call_again(session: Session, actor: Actor, call_id: str, values: dict) -> dict[str, Any]:
    call = service.get_call(session, call_id)
    keys = [f["key"] for f in call.form_fields]
    answers = dict(zip(keys, _typed_list(values, "answers"), strict=False))
    shown = api.call_detail(session, actor, call)
    return {"data": shown, **_call_context(session, actor, answers), **LABELS}


@form_route(
    router,
    "/programmes/calls/{call_id}/apply",
    model=ApplyForm,
    template="ecosystem/programme_call.html",
    context=_call_again,
)
def call_apply(
    body: ApplyForm,
    call_id: str,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
) -> str:
    """The form names the organisation; the service checks the actor administers it."""
    call = service.get_call(session, call_id)
    keys = [f["key"] for f in call.form_fields]
    answers = by_position(keys, body.answers, "answers")
    application = service.apply(session, actor, call.id, body.organisation_id, answers)
    return f"/programmes/applications/{application.id}"


@twin(
    api.router,
    router,
    "/programmes/applications/{application_id}",
    template="ecosystem/programme_application.html",
    summary="An application as the caller may see it (staff, reviewer or applicant)",
    context=lambda data: {"view": data, **LABELS},
)
def application_page(
    application_id: str, actor: Actor = allow("programmes.review"), session: Session = db_session
) -> dict:
    return service.application_view(session, actor, application_id)


def _application_again(session: Session, actor: Actor, application_id: str) -> dict[str, Any]:
    shown = service.application_view(session, actor, application_id)
    return {"data": shown, "view": shown, **LABELS}


def _application_form(path: str, model: type[BaseModel]):
    return form_route(
        router,
        "/programmes/applications/{application_id}/" + path,
        model=model,
        template="ecosystem/programme_application.html",
        context=_application_again,
    )


@_application_form("review", ReviewForm)
def review_submit(
    body: ReviewForm,
    application_id: str,
    actor: Actor = allow("programmes.review"),
    session: Session = db_session,
) -> str:
    application = service.get_application(session, application_id)
    keys = [c["key"] for c in application.call.criteria]
    scores = by_position(keys, body.scores, "scores")
    service.submit_review(session, actor, application_id, scores, body.comment)
    return f"/programmes/applications/{application_id}"


@_application_form("reviewers", ReviewerEmailIn)
def reviewer_assign(
    body: ReviewerEmailIn,
    request: Request,
    application_id: str,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
) -> str:
    account = auth.find_account(session, body.email.strip().lower())
    if account is None:
        raise NotFound(N_("no account with this email address"), where="email")
    settings = request.app.state.settings
    service.assign_reviewer(session, settings, actor, application_id, account.id)
    return f"/programmes/applications/{application_id}"


@_application_form("decision", api.DecisionIn)
def decision_submit(
    body: api.DecisionIn,
    request: Request,
    application_id: str,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
) -> str:
    settings = request.app.state.settings
    service.decide(session, settings, actor, application_id, body.decision, body.note)
    return f"/programmes/applications/{application_id}"


@twin(
    api.router,
    router,
    "/me/reviews",
    api_path="/me/programmes",
    template="ecosystem/programme_mine.html",
    summary="Applications I am asked to review, and those of the organisations I administer",
    response_model=api.MyProgrammesOut,
    context=lambda: LABELS,
)
def my_reviews_page(
    actor: Actor = allow("programmes.review"), session: Session = db_session
) -> dict:
    return {
        "reviews": api.my_reviews_of(session, actor),
        "applications": api.my_applications_of(session, actor),
    }
