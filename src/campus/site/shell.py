"""The shell's own routes: home, language switch, health check and the API index."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from campus import __version__, i18n
from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.db.engine import read
from campus.db.prepared import prepare
from campus.site.capabilities import CAPABILITIES
from campus.site.registry import load, targets
from campus.web.deps import allow, db_session
from campus.web.home import HomeSection
from campus.web.middleware import LANG_COOKIE
from campus.web.redirects import safe_next
from campus.web.twins import twin

api = APIRouter(tags=["platform"])
pages = APIRouter()


@api.get("/", summary="API index")
def api_index(actor: Actor = allow("public.read")) -> dict:
    return {
        "name": "Campus",
        "version": __version__,
        "language": i18n.current_language.get(),
        "signed_in": actor.authenticated,
        "openapi": "/api/v1/openapi.json",
    }


_PING = prepare(select(literal(1)))


@api.get("/healthz", summary="Health of the app and its database")
def api_health(actor: Actor = allow("public.read"), session: Session = db_session) -> dict:
    read(session, _PING).scalar()
    return {"status": "ok", "version": __version__}


@pages.get("/healthz", include_in_schema=False)
async def healthz(actor: Actor = allow("public.read"), session: Session = db_session) -> dict:
    read(session, _PING).scalar()
    return {"status": "ok"}


def home_sections(session: Session, actor: Actor) -> list[HomeSection]:
    """What each capability has waiting for a signed-in person, in the registry's order."""
    if not actor.authenticated:
        return []
    found = (load(target)(session, actor) for target in targets(CAPABILITIES, "home"))
    return [section for section in found if section is not None]


@twin(
    api,
    pages,
    "/",
    api_path="/home",
    template="home.html",
    summary="The home page: for a signed-in person, what awaits them on the campus",
)
def home(actor: Actor = allow("public.read"), session: Session = db_session) -> dict:
    return {
        "signed_in": actor.authenticated,
        "sections": [asdict(section) for section in home_sections(session, actor)],
    }


@pages.post("/language", include_in_schema=False)
def switch_language(
    request: Request,
    language: str = Form(...),
    next: str = Form("/"),
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    chosen = language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    if actor.authenticated:
        auth.set_language(session, actor.account_id or "", chosen)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        chosen,
        max_age=365 * 24 * 3600,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
    return response
