"""JSON routes of accounts, sessions, tokens and roles."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from campus.auth import personal_data, service
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.auth.schemas import (
    AccountIn,
    AccountOut,
    DeleteIn,
    ForgotIn,
    GrantIn,
    LanguageIn,
    LoginIn,
    PersonalDataOut,
    ResetIn,
    SentOut,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from campus.errors import BadRequest, NotFound
from campus.web.deps import (
    SESSION_COOKIE,
    allow,
    clear_session_cookies,
    client_address,
    db_session,
    set_session_cookies,
)

router = APIRouter(tags=["accounts"])


def _account(session: Session, account_id: str) -> Account:
    account = service.get_account(session, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}", code="not_found")
    return account


@router.post("/session", summary="Sign in (sets the session cookie)", response_model=AccountOut)
def api_login(
    body: LoginIn,
    request: Request,
    response: Response,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    try:
        opened = service.login(
            session,
            settings,
            email=body.email,
            password=body.password,
            address=client_address(request),
        )
    except service.AuthError:
        session.commit()  # keep the failure count for throttling
        raise
    set_session_cookies(response, settings, opened.cookie_value)
    return opened.account


@router.delete("/session", status_code=204, summary="Sign out")
def api_logout(
    request: Request, actor: Actor = allow("account.self"), session: Session = db_session
):
    if cookie := request.cookies.get(SESSION_COOKIE):
        service.logout(session, cookie)
    response = Response(status_code=204)
    clear_session_cookies(response, request.app.state.settings)
    return response


@router.post(
    "/password/forgot",
    status_code=202,
    response_model=SentOut,
    summary="Mail a password-reset link (the answer does not tell whether the account exists)",
)
def api_forgot(
    body: ForgotIn,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    service.request_password_reset(session, request.app.state.settings, body.email)
    return SentOut(status="sent if the account exists")


@router.post(
    "/password/reset",
    status_code=204,
    summary="Choose a new password with the token of a reset link (in the body, never a URL)",
)
def api_reset(body: ResetIn, actor: Actor = allow("public.read"), session: Session = db_session):
    try:
        service.reset_password(session, body.token, body.password)
    except ValueError as error:
        raise BadRequest(str(error), code="weak_password", where="password") from error
    return Response(status_code=204)


@router.get("/me", response_model=AccountOut, summary="The signed-in account")
def me(actor: Actor = allow("account.self"), session: Session = db_session):
    return _account(session, actor.account_id or "")


@router.get(
    "/me/data",
    summary="Everything Campus holds about the signed-in account, as a JSON download",
    response_model=PersonalDataOut,
)
def my_data(request: Request, actor: Actor = allow("account.self"), session: Session = db_session):
    data = personal_data.export(session, actor.account_id or "", request.app.state.personal_data)
    return JSONResponse(
        jsonable_encoder(data),
        headers={"Content-Disposition": 'attachment; filename="campus-my-data.json"'},
    )


@router.delete(
    "/me",
    status_code=204,
    summary="Delete the signed-in account (personal data erased, contributions kept unnamed)",
)
def delete_me(
    body: DeleteIn,
    request: Request,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
):
    account = _account(session, actor.account_id or "")
    if not personal_data.confirms(account, body.confirm_email):
        raise BadRequest(
            "type your own email address to confirm the deletion",
            code="not_confirmed",
            where="confirm_email",
        )
    personal_data.delete_account(session, account.id, request.app.state.personal_data, by=actor)
    response = Response(status_code=204)
    clear_session_cookies(response, request.app.state.settings)
    return response


@router.put("/me/language", status_code=204, summary="Set one's language")
def set_language(
    body: LanguageIn, actor: Actor = allow("account.self"), session: Session = db_session
):
    service.set_language(session, actor.account_id or "", body.language)
    return Response(status_code=204)


@router.get("/me/tokens", response_model=list[TokenOut], summary="One's API tokens")
def list_tokens(actor: Actor = allow("account.self"), session: Session = db_session):
    return service.list_tokens(session, actor.account_id or "")


@router.post(
    "/me/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="Create an API token (its value is shown once)",
)
def create_token(
    body: TokenIn, actor: Actor = allow("account.self"), session: Session = db_session
):
    account = _account(session, actor.account_id or "")
    token, value = service.create_token(
        session, account, name=body.name, scopes=body.scopes, days=body.days
    )
    return TokenCreated.model_validate(
        {**TokenOut.model_validate(token).model_dump(), "token": value}
    )


@router.delete("/me/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(
    token_id: str, actor: Actor = allow("account.self"), session: Session = db_session
):
    if not service.revoke_token(session, actor.account_id or "", token_id):
        raise NotFound(f"no active token {token_id}", code="not_found")
    return Response(status_code=204)


@router.post(
    "/accounts", response_model=AccountOut, status_code=201, summary="Create an account (staff)"
)
def create_account(
    body: AccountIn, actor: Actor = allow("accounts.manage"), session: Session = db_session
):
    return service.create_account(
        session,
        email=body.email,
        name=body.name,
        password=body.password,
        language=body.language,
        by=actor,
    )


@router.post(
    "/accounts/{account_id}/roles", response_model=AccountOut, summary="Grant a role (staff)"
)
def grant(
    account_id: str,
    body: GrantIn,
    actor: Actor = allow("accounts.manage"),
    session: Session = db_session,
):
    account = _account(session, account_id)
    service.grant_role(
        session, account, body.role, scope_type=body.scope_type, scope_id=body.scope_id, by=actor
    )
    return account


@router.delete(
    "/accounts/{account_id}/roles", response_model=AccountOut, summary="Revoke a role (staff)"
)
def revoke(
    account_id: str,
    body: GrantIn,
    actor: Actor = allow("accounts.manage"),
    session: Session = db_session,
):
    account = _account(session, account_id)
    if not service.revoke_role(
        session, account, body.role, scope_type=body.scope_type, scope_id=body.scope_id, by=actor
    ):
        raise NotFound("no such grant", code="not_found")
    return account
