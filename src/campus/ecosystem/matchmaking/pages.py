"""HTML pages of matchmaking: suggestions for oneself and one's organisations, requests."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory import service as directory
from campus.ecosystem.matchmaking import api, service
from campus.errors import BadRequest, CampusError, Forbidden
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()


def _page(request: Request, session: Session, actor: Actor, error: str = "", status: int = 200):
    person_id = service.own_person_id(session, actor)
    mine = service.suggestions(session, "person", person_id) if person_id else []
    organisations = directory.organisations_of_account(session, actor.account_id or "")
    return render(
        request,
        "ecosystem/match_suggestions.html",
        {
            "person_id": person_id,
            "suggestions": mine,
            "organisations": organisations,
            "sent": request.query_params.get("sent") == "1",
            "error": error,
        },
        status=status,
    )


@page(router, "/matchmaking", twin="/api/v1/me/suggestions")
def suggestions_page(
    request: Request, actor: Actor = allow("matchmaking.use"), session: Session = db_session
):
    return _page(request, session, actor)


@page(
    router, "/organisations/{org_id}/suggestions", twin="/api/v1/organisations/{org_id}/suggestions"
)
def organisation_suggestions_page(
    request: Request,
    org_id: str,
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
):
    if not service.member_of(session, actor, org_id):
        raise Forbidden(
            N_("only members of this organisation see its suggestions"), code="not_a_member"
        )
    org = directory.get_organisation(session, org_id)
    return render(
        request,
        "ecosystem/match_organisation.html",
        {"org": org, "suggestions": service.suggestions(session, "organisation", org_id)},
    )


@router.post("/introductions", include_in_schema=False)
def request_introduction(
    request: Request,
    source_type: str = Form(...),
    source_id: str = Form(..., max_length=32),
    target_type: str = Form(...),
    target_id: str = Form(..., max_length=32),
    message: str = Form("", max_length=service.MESSAGE_MAX),
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
):
    try:
        service.request_introduction(
            session,
            request.app.state.settings,
            actor,
            source_type=source_type,
            source_id=source_id,
            target_type=target_type,
            target_id=target_id,
            message=message,
        )
    except CampusError as error:
        session.rollback()
        return _page(request, session, actor, _(error.message), error.status)
    return RedirectResponse("/introductions?sent=1", status_code=303)


@twin(
    api.router,
    router,
    "/introductions",
    template="ecosystem/match_introductions.html",
    summary="Introduction requests one sent and received",
    context=lambda data, request: {**data, "just_sent": request.query_params.get("sent") == "1"},
)
def introductions_page(
    actor: Actor = allow("matchmaking.use"), session: Session = db_session
) -> dict[str, list[dict]]:
    mine = service.introductions_of(session, actor)
    return {
        side: [service.introduction_view(session, i) for i in items] for side, items in mine.items()
    }


@router.post("/introductions/{intro_id}/{answer}", include_in_schema=False)
def answer_introduction(
    request: Request,
    intro_id: str,
    answer: str,
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
):
    if answer not in ("accept", "decline"):
        raise BadRequest(
            N_("unknown answer: accept or decline"), code="invalid_answer", where="answer"
        )
    service.decide(session, request.app.state.settings, actor, intro_id, accept=answer == "accept")
    return RedirectResponse("/introductions", status_code=303)
