"""HTML pages: sign in and out, password reset, one's account and tokens, account admin."""

from __future__ import annotations

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth import api, personal_data, service
from campus.auth import data as auth_data
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.auth.passwords import MIN_PASSWORD_LENGTH
from campus.auth.roles import ROLE_LABELS, Role
from campus.auth.schemas import AccountOut, ResetIn
from campus.errors import BadRequest, NotFound
from campus.i18n import gettext as _
from campus.web.deps import (
    SESSION_COOKIE,
    allow,
    clear_session_cookies,
    client_address,
    db_session,
    set_session_cookies,
)
from campus.web.forms import form_route
from campus.web.middleware import LANG_COOKIE
from campus.web.pages_registry import page
from campus.web.redirects import safe_next
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()


@page(router, "/login", no_twin="a form; its API twin is POST /api/v1/session")
def login_form(request: Request, next: str = "/", actor: Actor = allow("public.read")):
    return render(request, "auth/login.html", {"next": safe_next(next)})


@router.post("/login", include_in_schema=False)
def login_submit(
    request: Request,
    email: str = Form(..., max_length=320),
    password: str = Form(..., max_length=1024),
    next: str = Form("/"),
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    try:
        opened = service.login(
            session, settings, email=email, password=password, address=client_address(request)
        )
    except service.AuthError as error:
        session.commit()  # keep the failure count for throttling
        return render(
            request,
            "auth/login.html",
            {"next": safe_next(next), "error": _(error.message), "email": email},
            status=error.status,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookies(response, settings, opened.cookie_value)
    response.set_cookie(
        LANG_COOKIE,
        opened.account.language,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=365 * 24 * 3600,
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, actor: Actor = allow("account.self"), session: Session = db_session):
    if cookie := request.cookies.get(SESSION_COOKIE):
        service.logout(session, cookie)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookies(response, request.app.state.settings)
    return response


@page(router, "/password/forgot", no_twin="a form that sends mail; nothing to read")
def forgot_form(request: Request, actor: Actor = allow("public.read")):
    return render(request, "auth/forgot.html")


@router.post("/password/forgot", include_in_schema=False)
def forgot_submit(
    request: Request,
    email: str = Form(..., max_length=320),
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    service.request_password_reset(session, request.app.state.settings, email)
    return render(request, "auth/forgot.html", {"sent": True})


@page(router, "/password/reset", no_twin="a form; its API twin is POST /api/v1/password/reset")
def reset_form(request: Request, actor: Actor = allow("public.read")):
    # The mail's link carries the token in its fragment (#token=...), which browsers never
    # send: the page's script copies it into the form, posted in the body. No log sees it.
    return render(request, "auth/reset.html")


@form_route(
    router,
    "/password/reset",
    model=ResetIn,
    template="auth/reset.html",
    context=lambda values: {"token": values.get("token", "")},
)
def reset_submit(
    body: ResetIn, actor: Actor = allow("public.read"), session: Session = db_session
) -> str:
    if len(body.password) < MIN_PASSWORD_LENGTH:  # said in the reader's language, before use
        raise BadRequest(
            _("the password must have at least 10 characters"),
            code="weak_password",
            where="password",
        )
    service.reset_password(session, body.token, body.password)
    return "/login"


def _account_extras(session: Session, actor: Actor, data: dict | None = None) -> dict:
    """The account page's extras: role labels (and its data again when a form re-renders it)."""
    shown = data if data is not None else auth_data.my_account(session, actor)
    return {**shown, "data": shown, "role_labels": ROLE_LABELS}


@twin(
    api.router,
    router,
    "/account",
    api_path="/me/account",
    template="auth/account.html",
    summary="One's own account and API tokens",
    response_model=auth_data.MyAccountOut,
    context=_account_extras,
)
def account_page(actor: Actor = allow("account.self"), session: Session = db_session) -> dict:
    return auth_data.my_account(session, actor)


@router.post("/account/delete", include_in_schema=False)
def account_delete(
    request: Request,
    confirm_email: str = Form("", max_length=320),
    actor: Actor = allow("account.self"),
    session: Session = db_session,
):
    account = session.get(Account, actor.account_id)
    assert account is not None
    if not personal_data.confirms(account, confirm_email):
        shown = {
            **_account_extras(session, actor),
            "delete_error": _("type your own email address to confirm the deletion"),
        }
        return render(request, "auth/account.html", shown, status=400)
    personal_data.delete_account(session, account.id, request.app.state.personal_data, by=actor)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookies(response, request.app.state.settings)
    return response


class TokenForm(BaseModel):
    """The account page's token form: a name and a validity, every scope."""

    name: str = Field(min_length=1, max_length=100)
    days: int = Field(default=90, ge=1, le=366)


@form_route(
    router,
    "/account/tokens",
    model=TokenForm,
    template="auth/account.html",
    context=lambda session, actor: _account_extras(session, actor),
)
def account_create_token(
    body: TokenForm,
    request: Request,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
):
    """The new token's value is shown once, on this answer (never in a URL)."""
    account = session.get(Account, actor.account_id)
    assert account is not None
    _token, value = service.create_token(session, account, name=body.name, days=body.days)
    shown = {**_account_extras(session, actor), "new_token": value}
    return render(request, "auth/account.html", shown)


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
def account_revoke_token(
    token_id: str, actor: Actor = allow("account.self"), session: Session = db_session
):
    if not service.revoke_token(session, actor.account_id or "", token_id):
        raise NotFound("no active token", code="not_found")
    return RedirectResponse("/account", status_code=303)


@twin(
    api.router,
    router,
    "/admin/accounts",
    api_path="/accounts",
    template="auth/admin_accounts.html",
    summary="All accounts (staff)",
    response_model=list[AccountOut],
    context=lambda data, q: {
        "accounts": data,
        "q": q,
        "roles": list(Role),
        "role_labels": ROLE_LABELS,
    },
)
def admin_accounts(
    q: str = Query("", max_length=320),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
    actor: Actor = allow("accounts.manage"),
    session: Session = db_session,
) -> list[dict]:
    return auth_data.accounts(session, q, limit, offset)


@router.post("/admin/accounts/{account_id}/roles", include_in_schema=False)
def admin_grant(
    account_id: str,
    role: str = Form(...),
    scope_type: str = Form(""),
    scope_id: str = Form(""),
    action: str = Form("grant"),
    actor: Actor = allow("accounts.manage"),
    session: Session = db_session,
):
    account = service.get_account(session, account_id)
    if account is None:
        raise NotFound("no such account", code="not_found")
    if action == "revoke":
        service.revoke_role(
            session, account, role, scope_type=scope_type, scope_id=scope_id, by=actor
        )
    else:
        service.grant_role(
            session, account, role, scope_type=scope_type, scope_id=scope_id, by=actor
        )
    return RedirectResponse("/admin/accounts", status_code=303)
