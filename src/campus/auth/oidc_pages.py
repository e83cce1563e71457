"""Pages of the OpenID Connect sign-in: the redirect to the provider and its callback."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from campus.auth import oidc, service
from campus.auth.actor import Actor
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session, set_session_cookies
from campus.web.middleware import LANG_COOKIE
from campus.web.pages_registry import page
from campus.web.redirects import safe_next
from campus.web.templating import render

router = APIRouter()


def _refused(request: Request, error: service.AuthError, next_path: str = "/"):
    response = render(
        request,
        "auth/login.html",
        {"next": safe_next(next_path), "error": _(error.message)},
        status=error.status,
    )
    response.delete_cookie(oidc.FLOW_COOKIE, path=oidc.FLOW_COOKIE_PATH)
    return response


@page(router, "/login/oidc", no_twin="a redirect to the sign-in provider")
def oidc_start(
    request: Request,
    next: str = "/",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    try:
        url, cookie = oidc.start(settings, safe_next(next))
    except service.AuthError as error:
        if isinstance(error, oidc.OidcError) and error.code != "oidc_disabled":
            oidc.record_failure(session, error)
        return _refused(request, error, next)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        oidc.FLOW_COOKIE,
        cookie,
        max_age=oidc.FLOW_MAX_AGE,
        path=oidc.FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET navigation
        secure=settings.secure_cookies,
    )
    return response


@page(router, "/login/oidc/callback", no_twin="the sign-in provider's redirect back")
def oidc_callback(
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    params = {key: value for key, value in request.query_params.items() if len(value) <= 4096}
    try:
        opened, next_path = oidc.finish(
            session, settings, cookie=request.cookies.get(oidc.FLOW_COOKIE), params=params
        )
    except service.AuthError as error:
        session.rollback()  # nothing of a refused sign-in stays, except its audit record
        oidc.record_failure(session, error)
        return _refused(request, error)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.delete_cookie(oidc.FLOW_COOKIE, path=oidc.FLOW_COOKIE_PATH)
    set_session_cookies(response, settings, opened.cookie_value)
    response.set_cookie(
        LANG_COOKIE,
        opened.account.language,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=365 * 24 * 3600,
    )
    return response
