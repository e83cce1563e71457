"""HTML pages of matchmaking: suggestions for oneself and one's organisations, asking for an
introduction (from the directory, a profile or a suggestion), requests sent and received."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory import service as directory
from campus.ecosystem.matchmaking import api, service
from campus.errors import BadRequest, Forbidden
from campus.i18n import N_
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()


@twin(
    api.router,
    router,
    "/matchmaking",
    api_path="/me/suggestions",
    template="ecosystem/match_suggestions.html",
    summary="Partners suggested to the signed-in person",
    context=lambda data, actor, session: {
        "organisations": directory.organisations_of_account(session, actor.account_id or "")
    },
)
def my_suggestions(
    limit: int = 10, actor: Actor = allow("matchmaking.use"), session: Session = db_session
) -> dict[str, Any]:
    # Without a profile, no suggestion: opening this page does not create one (a profile is
    # listed in the directory; one decides to have it on /profile).
    person_id = service.own_person_id(session, actor)
    found = service.suggestions(session, "person", person_id, limit=limit) if person_id else []
    return {"source_type": "person", "source_id": person_id, "items": [s.as_json() for s in found]}


@twin(
    api.router,
    router,
    "/organisations/{org_id}/suggestions",
    template="ecosystem/match_organisation.html",
    summary="Partners suggested to an organisation",
    context=lambda session, org_id: {"org": directory.get_organisation(session, org_id)},
)
def organisation_suggestions(
    org_id: str,
    limit: int = 10,
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
) -> dict[str, Any]:
    if not service.member_of(session, actor, org_id):
        raise Forbidden(
            N_("only members of this organisation see its suggestions"), code="not_a_member"
        )
    found = service.suggestions(session, "organisation", org_id, limit=limit)
    return {
        "source_type": "organisation",
        "source_id": org_id,
        "items": [s.as_json() for s in found],
    }


class IntroductionForm(BaseModel):
    """The form's fields: the API's IntroductionIn, with the side one asks for in one choice
    ("person:<id>" or "organisation:<id>")."""

    source: str = Field(max_length=60)
    target_type: str = Field(max_length=20)
    target_id: str = Field(max_length=32)
    message: str = Field(default="", max_length=service.MESSAGE_MAX)

    def to_input(self) -> api.IntroductionIn:
        source_type, _, source_id = self.source.partition(":")
        return api.IntroductionIn(
            source_type=source_type,
            source_id=source_id,
            target_type=self.target_type,
            target_id=self.target_id,
            message=self.message,
        )


def _ask_context(
    session: Session, actor: Actor, target_type: str, target_id: str, source: str = ""
) -> dict[str, Any]:
    """Whom one asks to meet, and on whose behalf one may ask: one's organisations and
    oneself when one has a profile (the first organisation by default: a startup's member
    asks for it). With neither, the page asks to fill in the profile first."""
    target = service.party(session, target_type, target_id)
    person_id = service.own_person_id(session, actor)
    organisations = directory.organisations_of_account(session, actor.account_id or "")
    sources = [(f"organisation:{o.id}", o.name) for o in organisations if o.id != target.id]
    if person_id is not None and (target.type, target.id) != ("person", person_id):
        sources.append((f"person:{person_id}", ""))
    chosen = source or (sources[0][0] if sources else "")
    return {"target": target, "sources": sources, "source": chosen}


@page(router, "/introductions/new", no_twin="a form; its API twin is POST /api/v1/introductions")
def ask_introduction(
    request: Request,
    target_type: str,
    target_id: str,
    source: str = "",
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
):
    context = _ask_context(session, actor, target_type, target_id[:32], source[:60])
    return render(request, "ecosystem/match_ask.html", {**context, "values": {}})


@form_route(
    router,
    "/introductions",
    model=IntroductionForm,
    template="ecosystem/match_ask.html",
    context=lambda session, actor, values: _ask_context(
        session,
        actor,
        str(values.get("target_type", ""))[:20],
        str(values.get("target_id", ""))[:32],
        str(values.get("source", ""))[:60],
    ),
)
def request_introduction(
    request: Request,
    body: IntroductionForm,
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
) -> str:
    service.request_introduction(
        session, request.app.state.settings, actor, **body.to_input().model_dump()
    )
    return "/introductions?sent=1"


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
