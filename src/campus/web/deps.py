"""Request dependencies: the database session, the current actor, and `allow`, the one
permission check that every route declares.

How a request runs. The dependencies are coroutines: they run on the worker's event loop,
with no thread hop. Opening the session costs no I/O (it connects on first use); the actor
comes from the worker's actor cache (campus.auth.cache), else from one indexed query; a
read-only session is closed, with nothing to commit. A
route written `def` runs on the thread pool (one hop a request), and a session that wrote
commits on the thread pool, since its commit waits for the disk. Every thread hop
costs about a quarter of a millisecond of CPU, which is most of a small page's budget; see
docs/ecosystem.md, Performance. So the busiest read-only pages (healthz, directory search,
an event) are written `async def` and run on the loop: a route may be `async def` only when
all it does is a few short indexed reads: no write, no lock, no heavy CPU. The busiest write
route (an event registration) is `async def` too: it hands its request to a batcher
(campus.web.batching), which runs the registrations waiting together in one transaction on
the thread pool.

Only reads run on the loop. PostgreSQL reads never wait for a lock, and SQLite's readers do
not wait in WAL mode; a write may wait for a lock held by another request of the same worker,
which needs the loop to reach its commit: a write on the loop would deadlock the worker.
Blocking reads on the loop are safe because the connection pool is larger than the number
of requests admitted at once (`ConcurrencyLimit`): a checkout never waits.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from campus.auth import policy
from campus.auth import service as auth
from campus.auth.actor import ANONYMOUS, Actor
from campus.db.base import utcnow
from campus.db.engine import has_writes
from campus.errors import Forbidden, NotAuthenticated
from campus.i18n import N_
from campus.settings import Settings

SESSION_COOKIE = "campus_session"
CSRF_COOKIE = "campus_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def _db_session(request: Request) -> AsyncIterator[Session]:
    """One session a request, committed when the route returns and before the response.

    A session that wrote nothing is only closed: there is nothing to commit, and closing ends
    its read transaction, if any, as a commit would (SQLAlchemy's commit costs about a tenth
    of a small page's CPU for nothing)."""
    session = request.app.state.db.sessions()
    try:
        yield session
        await end_session(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def end_session(session: Session) -> None:
    """End the request's session: commit what it wrote (on the thread pool: a commit waits
    for the disk), else only close it. For a route that is done with its session before it
    returns (a registration, which then waits for its batch holding no connection); the
    session dependency ends it again at no cost."""
    if has_writes(session):
        await run_in_threadpool(session.commit)
    session.close()


db_session = Depends(_db_session, scope="function")


async def _form(request: Request) -> FormData:
    """The submitted form, read on the loop (reading the body is I/O), for a `def` route."""
    return await request.form()


# A route that handles a form is written `def` and takes `form: FormData = form_data`: its
# writes then run on the thread pool, never on the loop.
form_data = Depends(_form)


async def current_actor(request: Request, session: Session) -> Actor:
    """The actor of a request: bearer token, else session cookie, else anonymous. Called by
    `allow`'s check, not declared as a dependency of its own: each dependency costs FastAPI
    tens of microseconds to solve, on every request."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    actor = ANONYMOUS
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        cache = request.app.state.actors
        read = auth.read_token(session, header[7:].strip(), cache)
        if read is None:
            raise NotAuthenticated(
                "the bearer token is invalid, expired or revoked", code="invalid_token"
            )
        if read.stale_use:
            # A write may wait for a row lock held by a request of this worker that needs the
            # loop to commit: writes never run on the loop.
            await run_in_threadpool(auth.record_token_use, session, read)
            cache.used(read.key, utcnow())
        actor = read.actor
    elif cookie := request.cookies.get(SESSION_COOKIE):
        actor = auth.resolve_session(session, cookie, request.app.state.actors) or ANONYMOUS
    request.state.actor = actor
    return actor


def bound_csrf(key: str, session_value: str) -> str:
    """The CSRF token of a session: an HMAC of its cookie's value. Bound to the session, it
    changes with each sign-in, and a token read or planted before (a cookie set by a sibling
    site, a token seen while signed out) is worthless after."""
    message = b"campus-csrf:" + session_value.encode()
    return hmac.new(key.encode(), message, "sha256").hexdigest()


def expected_csrf(key: str, cookies: dict[str, str]) -> str:
    """What a write must carry: the session's bound token, else (signed out) the client's
    random `campus_csrf` cookie (double submit)."""
    if session_value := cookies.get(SESSION_COOKIE):
        return bound_csrf(key, session_value)
    return cookies.get(CSRF_COOKIE, "")


def set_session_cookies(response: Response, settings: Settings, session_value: str) -> None:
    """Start a browser session: its cookie, and a CSRF token bound to it (rotated)."""
    response.set_cookie(
        SESSION_COOKIE,
        session_value,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_hours * 3600,
    )
    _set_csrf_cookie(response, settings, bound_csrf(settings.secret("secret_key"), session_value))


def clear_session_cookies(response: Response, settings: Settings) -> None:
    """End a browser session: its cookie goes, and a new signed-out CSRF token comes."""
    response.delete_cookie(SESSION_COOKIE)
    _set_csrf_cookie(response, settings, secrets.token_urlsafe(24))


def _set_csrf_cookie(response: Response, settings: Settings, value: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, value, httponly=True, samesite="lax", secure=settings.secure_cookies
    )


async def _check_csrf(request: Request, actor: Actor) -> None:
    if request.method in SAFE_METHODS or actor.via == "token":
        return
    expected = expected_csrf(request.app.state.settings.secret("secret_key"), request.cookies)
    given = request.headers.get(CSRF_HEADER, "")
    content_type = request.headers.get("content-type", "")
    if not given and (
        content_type.startswith("application/x-www-form-urlencoded")
        or content_type.startswith("multipart/form-data")
    ):
        form = await request.form()
        given = str(form.get(CSRF_FIELD, ""))
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise Forbidden(
            N_("the form's security token is missing or stale: reload the page and try again"),
            code="csrf_failed",
        )


# Where a scoped permission finds its scope's id: the name of a path parameter, or a function
# of the request, its session and the actor (for a path that names something other than its
# owner: a dataset by its name, owned by an organisation). A function runs on the loop: reads
# only.
ScopeId = str | Callable[[Request, Session, Actor], str]


def _scope_of(
    request: Request, session: Session, actor: Actor, scope: tuple[str, ScopeId] | None
) -> tuple[str, str]:
    if scope is None:
        return "", ""
    scope_type, source = scope
    if callable(source):
        return scope_type, source(request, session, actor)
    return scope_type, str(request.path_params.get(source, ""))


def allow(permission: str, *, scope: tuple[str, ScopeId] | None = None) -> Any:
    """Declare and check the permission a route needs; returns the actor.

    `scope=("organisation", "org_id")` checks a role scoped to the organisation whose id is
    the `org_id` path parameter (a global grant of the role also passes); the second element
    may instead be a function giving the id (`ScopeId`).
    """
    rule = policy.get(permission)

    async def check(request: Request, session: Session = db_session) -> Actor:
        actor = await current_actor(request, session)
        if actor.via == "token" and not _token_allows(actor, permission):
            raise Forbidden(
                N_("this API token's scopes do not cover {permission}"),
                code="token_scope",
                values={"permission": permission},
            )
        scope_type, scope_id = _scope_of(request, session, actor, scope)
        if not rule.allows(actor, scope_type, scope_id):
            if not actor.authenticated:
                raise NotAuthenticated(N_("sign in to continue"), code="not_authenticated")
            if rule.verified_email and not actor.email_verified:
                raise Forbidden(N_("verify your email address first"), code="email_not_verified")
            raise Forbidden(
                N_("your roles do not allow {permission}"),
                code="forbidden",
                values={"permission": permission},
            )
        await _check_csrf(request, actor)
        return actor

    check.campus_permission = permission  # type: ignore[attr-defined]
    return Depends(check)


def _token_allows(actor: Actor, permission: str) -> bool:
    if "*" in actor.token_scopes:
        return True
    area = permission.split(".", 1)[0]
    return permission in actor.token_scopes or area in actor.token_scopes


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
