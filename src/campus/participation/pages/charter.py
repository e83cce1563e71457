"""The participation charter and citizen sign-up with its e-mail check."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.i18n import current_language
from campus.participation import api, charter, data, signup
from campus.participation.pages._shared import (
    proposal_url,
    router,
)
from campus.participation.schemas import (
    VerifyIn,
)
from campus.web.deps import SESSION_COOKIE, allow, db_session, set_session_cookies
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.redirects import safe_next
from campus.web.templating import render
from campus.web.twins import twin

# --- charter --------------------------------------------------------------------------------


def _charter_context(data: dict, request: Request) -> dict:
    next_path = request.query_params.get("next", "")
    return {**data, "next": safe_next(next_path) if next_path else ""}


@twin(
    api.router,
    router,
    "/participation/charter",
    template="participation/charter.html",
    summary="The participation charter",
    context=_charter_context,
)
def charter_page(actor: Actor = allow("public.read"), session: Session = db_session) -> dict:
    return data.charter_status(session, actor)


class CharterForm(BaseModel):
    """Accepting the charter; a comment typed before it travels with it (see comment_create)."""

    next: str = Field("", max_length=2000)
    body: str = Field("", max_length=8000)


@form_route(
    router,
    "/participation/charter",
    model=CharterForm,
    template="participation/charter.html",
    context=lambda session, actor, values: {
        **data.charter_status(session, actor),
        "next": safe_next(str(values.get("next", "")), ""),
    },
)
def charter_accept(
    body: CharterForm,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    charter.accept(session, actor)
    target = safe_next(body.next) if body.next else "/consultations"
    parts = urlsplit(target).path.strip("/").split("/")
    if body.body and len(parts) == 4 and parts[0::2] == ["consultations", "proposals"]:
        # The kept comment is posted again, body and all (307 keeps the method), to the one
        # route that publishes comments: the acceptance is committed with this answer, so a
        # refused comment there leaves it standing.
        return RedirectResponse(proposal_url(parts[1], parts[3]) + "/comments", 307)
    return target


# --- citizen sign-up ------------------------------------------------------------------------


@page(router, "/signup", no_twin="a form; its API twin is POST /api/v1/signup")
def signup_form(request: Request, actor: Actor = allow("public.read")):
    return render(request, "participation/signup.html", {"form": {}})


class SignupForm(BaseModel):
    """The sign-up form: the API's fields, the language being the page's."""

    email: str = Field("", max_length=320)
    name: str = Field("", max_length=200)
    password: str = Field("", max_length=1024)


@form_route(
    router,
    "/signup",
    model=SignupForm,
    template="participation/signup.html",
    context=lambda values: {"form": {k: values.get(k, "") for k in ("email", "name")}},
)
def signup_submit(
    body: SignupForm,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> HTMLResponse:
    settings = request.app.state.settings
    signup.sign_up(
        session,
        settings,
        email=body.email,
        name=body.name,
        password=body.password,
        language=current_language.get(),
    )
    response = render(request, "participation/signup.html", {"sent": True, "form": {}})
    # Whatever the outcome (a new account or not): this browser may be signed in by the link.
    earlier = request.cookies.get(signup.BROWSER_COOKIE)
    response.set_cookie(
        signup.BROWSER_COOKIE,
        signup.browser_mark(settings, body.email, earlier),
        max_age=settings.signup_link_hours * 3600,
        path="/signup",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


@page(
    router,
    "/signup/verify",
    no_twin="a form reached from a mail's link; API: POST /api/v1/signup/verify",
)
def signup_verify_form(request: Request, actor: Actor = allow("public.read")):
    # The mail's link carries the token in its fragment (#token=...), which browsers never
    # send: the page's script copies it into the form, posted in the body. No log sees it.
    return render(request, "participation/verified.html", {"confirm": True})


@form_route(router, "/signup/verify", model=VerifyIn, template="participation/verified.html")
def signup_verify(
    body: VerifyIn,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> HTMLResponse:
    settings = request.app.state.settings
    browser = request.cookies.get(signup.BROWSER_COOKIE)
    account, opened = signup.verify_and_sign_in(session, settings, body.token, browser)
    if opened is None:
        return render(request, "participation/verified.html", {"verified": True})
    if earlier := request.cookies.get(SESSION_COOKIE):
        auth.logout(session, earlier)  # whoever was signed in here is no longer
    shown = {"verified": True, "signed_in": account.email}
    response = render(request, "participation/verified.html", shown)
    set_session_cookies(response, settings, opened.cookie_value)
    response.delete_cookie(signup.BROWSER_COOKIE, path="/signup")
    return response
