"""JSON routes of matchmaking: suggestions and introduction requests."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.matchmaking import service
from campus.web.deps import allow, db_session

router = APIRouter(tags=["matchmaking"])


class IntroductionIn(BaseModel):
    source_type: str
    source_id: str = Field(max_length=32)
    target_type: str
    target_id: str = Field(max_length=32)
    message: str = Field(default="", max_length=service.MESSAGE_MAX)


@router.post("/introductions", status_code=201, summary="Ask to be introduced to a partner")
def request_introduction(
    body: IntroductionIn,
    request: Request,
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
):
    intro = service.request_introduction(
        session, request.app.state.settings, actor, **body.model_dump()
    )
    return service.introduction_view(session, intro)


@router.post("/introductions/{intro_id}/accept", summary="Accept an introduction (other side)")
def accept(
    intro_id: str,
    request: Request,
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
):
    intro = service.decide(session, request.app.state.settings, actor, intro_id, accept=True)
    return service.introduction_view(session, intro)


@router.post("/introductions/{intro_id}/decline", summary="Decline an introduction (other side)")
def decline(
    intro_id: str,
    request: Request,
    actor: Actor = allow("matchmaking.use"),
    session: Session = db_session,
):
    intro = service.decide(session, request.app.state.settings, actor, intro_id, accept=False)
    return service.introduction_view(session, intro)
