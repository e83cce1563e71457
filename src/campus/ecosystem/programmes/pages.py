"""HTML pages of programmes: catalogue, programme with its cohort, call with its application
form, application with reviews and decision, and one's reviews and applications."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.roles import Role, ScopeType
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes import api, service
from campus.ecosystem.programmes.models import ProgrammeKind
from campus.errors import BadRequest, CampusError, NotFound
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session, form_data
from campus.web.pages_registry import page
from campus.web.templating import render
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


def _error_where(error: CampusError) -> str:
    return str(error.where or "")


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
    return [
        api.ProgrammeOut.model_validate(p).model_dump() for p in service.list_programmes(session)
    ]


@router.post("/programmes", include_in_schema=False)
def programme_create(
    request: Request,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
    form: FormData = form_data,
):
    values = {k: str(form.get(k, ""))[:20000] for k in api.ProgrammeIn.model_fields}
    try:
        programme = service.create_programme(session, actor, service.ProgrammeInput(**values))
    except CampusError as error:
        session.rollback()
        return render(
            request,
            "ecosystem/programme_list.html",
            {
                "programmes": service.list_programmes(session),
                "values": values,
                "error": _(error.message),
                "where": _error_where(error),
                **LABELS,
            },
            status=error.status,
        )
    return RedirectResponse(f"/programmes/{programme.id}", status_code=303)


def _programme_page(
    request: Request,
    session: Session,
    programme,
    *,
    values: dict | None = None,
    error: str = "",
    where: str = "",
    status: int = 200,
) -> Response:
    values = values or {
        "form_fields": json.dumps(EXAMPLE_FIELDS, ensure_ascii=False, indent=2),
        "criteria": json.dumps(EXAMPLE_CRITERIA, ensure_ascii=False, indent=2),
    }
    return render(
        request,
        "ecosystem/programme_detail.html",
        {
            "programme": programme,
            "detail": api.programme_detail(session, programme),
            "values": values,
            "error": error,
            "where": where,
            **LABELS,
        },
        status=status,
    )


@page(router, "/programmes/{programme_id}", twin="/api/v1/programmes/{programme_id}")
def programme_page(
    request: Request,
    programme_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return _programme_page(request, session, service.get_programme(session, programme_id))


def _json_field(text: str, where: str):
    try:
        return json.loads(text or "[]")
    except json.JSONDecodeError as error:
        raise BadRequest(
            N_("this is not valid JSON"),
            code="invalid_json",
            where=f"{where} (line {error.lineno})",
        ) from None


@router.post("/programmes/{programme_id}/calls", include_in_schema=False)
def call_create(
    request: Request,
    programme_id: str,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
    form: FormData = form_data,
):
    programme = service.get_programme(session, programme_id)
    values = {k: str(form.get(k, ""))[:50000] for k in api.CallIn.model_fields}
    try:
        call = service.create_call(
            session,
            actor,
            programme.id,
            service.CallInput(
                title=values["title"],
                opens_at=values["opens_at"],
                closes_at=values["closes_at"],
                form_fields=_json_field(values["form_fields"], "form_fields"),
                criteria=_json_field(values["criteria"], "criteria"),
            ),
        )
    except CampusError as error:
        session.rollback()
        programme = service.get_programme(session, programme_id)
        return _programme_page(
            request,
            session,
            programme,
            values=values,
            error=_(error.message),
            where=_error_where(error),
            status=error.status,
        )
    return RedirectResponse(f"/programmes/calls/{call.id}", status_code=303)


def _admin_organisations(session: Session, actor: Actor) -> list[Organisation]:
    ids = actor.scope_ids(Role.ORG_ADMIN, ScopeType.ORGANISATION)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
        )
    )


def _call_page(
    request: Request,
    session: Session,
    actor: Actor,
    call,
    *,
    answers: dict | None = None,
    error: str = "",
    where: str = "",
    status: int = 200,
) -> Response:
    applications = (
        api.summaries(session, actor, service.applications_of_call(session, actor, call.id))
        if actor.is_staff
        else []
    )
    organisations = {
        o.id: o.name
        for o in session.scalars(
            select(Organisation).where(
                Organisation.id.in_([a["organisation_id"] for a in applications] or [""])
            )
        )
    }
    return render(
        request,
        "ecosystem/programme_call.html",
        {
            "call": call,
            "state": service.call_state(call),
            "programme": call.programme,
            "my_organisations": _admin_organisations(session, actor),
            "applications": applications,
            "organisations": organisations,
            "answers": answers or {},
            "error": error,
            "where": where,
            **LABELS,
        },
        status=status,
    )


@page(router, "/programmes/calls/{call_id}", twin="/api/v1/programmes/calls/{call_id}")
def call_page(
    request: Request,
    call_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return _call_page(request, session, actor, service.get_call(session, call_id))


@router.post("/programmes/calls/{call_id}/apply", include_in_schema=False)
def call_apply(
    request: Request,
    call_id: str,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
    form: FormData = form_data,
):
    """The form names the organisation; the service checks the actor administers it."""
    call = service.get_call(session, call_id)
    organisation_id = str(form.get("organisation_id", ""))[:32]
    answers = {f["key"]: str(form.get(f"answer_{f['key']}", ""))[:20000] for f in call.form_fields}
    try:
        application = service.apply(session, actor, call.id, organisation_id, answers)
    except CampusError as error:
        session.rollback()
        call = service.get_call(session, call_id)
        return _call_page(
            request,
            session,
            actor,
            call,
            answers=answers,
            error=_(error.message),
            where=_error_where(error),
            status=error.status,
        )
    return RedirectResponse(f"/programmes/applications/{application.id}", status_code=303)


def _application_page(
    request: Request,
    session: Session,
    actor: Actor,
    application_id: str,
    *,
    error: str = "",
    where: str = "",
    status: int = 200,
) -> Response:
    view = service.application_view(session, actor, application_id)
    return render(
        request,
        "ecosystem/programme_application.html",
        {"view": view, "error": error, "where": where, **LABELS},
        status=status,
    )


@page(
    router,
    "/programmes/applications/{application_id}",
    twin="/api/v1/programmes/applications/{application_id}",
)
def application_page(
    request: Request,
    application_id: str,
    actor: Actor = allow("programmes.review"),
    session: Session = db_session,
):
    return _application_page(request, session, actor, application_id)


def _application_action(
    request: Request, session: Session, actor: Actor, application_id: str, action, form: FormData
):
    try:
        action(form)
    except CampusError as error:
        session.rollback()
        return _application_page(
            request,
            session,
            actor,
            application_id,
            error=_(error.message),
            where=_error_where(error),
            status=error.status,
        )
    return RedirectResponse(f"/programmes/applications/{application_id}", status_code=303)


@router.post("/programmes/applications/{application_id}/review", include_in_schema=False)
def review_submit(
    request: Request,
    application_id: str,
    actor: Actor = allow("programmes.review"),
    session: Session = db_session,
    form: FormData = form_data,
):
    def action(form):
        application = service.get_application(session, application_id)
        scores = {
            c["key"]: str(form.get(f"score_{c['key']}", ""))[:5] for c in application.call.criteria
        }
        service.submit_review(
            session, actor, application_id, scores, str(form.get("comment", ""))[:20000]
        )

    return _application_action(request, session, actor, application_id, action, form)


@router.post("/programmes/applications/{application_id}/reviewers", include_in_schema=False)
def reviewer_assign(
    request: Request,
    application_id: str,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
    form: FormData = form_data,
):
    def action(form):
        email = str(form.get("email", ""))[:320]
        account = auth.find_account(session, email.strip().lower())
        if account is None:
            raise NotFound(N_("no account with this email address"), where="email")
        service.assign_reviewer(
            session, request.app.state.settings, actor, application_id, account.id
        )

    return _application_action(request, session, actor, application_id, action, form)


@router.post("/programmes/applications/{application_id}/decision", include_in_schema=False)
def decision_submit(
    request: Request,
    application_id: str,
    actor: Actor = allow("programmes.manage"),
    session: Session = db_session,
    form: FormData = form_data,
):
    def action(form):
        service.decide(
            session,
            request.app.state.settings,
            actor,
            application_id,
            str(form.get("decision", ""))[:20],
            str(form.get("note", ""))[:20000],
        )

    return _application_action(request, session, actor, application_id, action, form)


@page(router, "/me/reviews", twin="/api/v1/me/reviews")
def my_reviews_page(
    request: Request, actor: Actor = allow("programmes.review"), session: Session = db_session
):
    applications = service.applications_of_actor(session, actor)
    names = {
        o.id: o.name
        for o in session.scalars(
            select(Organisation).where(
                Organisation.id.in_([a.organisation_id for a in applications] or [""])
            )
        )
    }
    return render(
        request,
        "ecosystem/programme_mine.html",
        {
            "reviews": service.reviews_of_actor(session, actor),
            "applications": applications,
            "names": names,
            **LABELS,
        },
    )
