"""The web kit's app builder: settings, database, middleware and error handlers around the
routers it is given. It imports no capability: the site (`campus.site.app`) passes them."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

from campus import __version__
from campus.auth.cache import ActorCache
from campus.db.engine import Database
from campus.errors import BadRequest, CampusError, Conflict
from campus.i18n import current_language
from campus.i18n import gettext as _
from campus.settings import Settings, get_settings
from campus.web import dispatch, validation
from campus.web.errors import (
    CONCURRENT_CHANGE,
    ERROR_TITLES,
    UNSTORABLE,
    error_page,
)
from campus.web.errors import is_unique_violation as _is_unique_violation
from campus.web.errors import wants_json as _wants_json
from campus.web.middleware import (
    BodyLimit,
    ConcurrencyLimit,
    ForwardedFrom,
    RequestContext,
    language_of,
    trusted_networks,
)

log = logging.getLogger("campus.web")
STATIC = Path(__file__).parent / "static"
MAX_BODY = 10 * 1024 * 1024
STREAMING_SUFFIXES = ("/upload",)


API_PREFIX = "/api/v1"


def build_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    api_routers: Sequence[APIRouter] = (),
    page_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The app with the web kit's middleware and error handlers around the given routers
    (the site's app factory, `campus.site.app.create_app`, passes every capability's)."""
    settings = settings or get_settings()
    settings.check_production()
    app = FastAPI(
        title="Campus API",
        version=__version__,
        description=(
            "JSON API of Campus, the platform of a digital-health innovation campus. "
            "Every page has a JSON twin here. Authenticate with a session cookie (and the "
            "X-CSRF-Token header on writes) or a bearer token."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database or Database(settings.db_url)
    app.state.actors = ActorCache(app.state.db.engine, settings.auth_cache_seconds)
    app.add_middleware(
        BodyLimit,
        limit=MAX_BODY,
        streaming_suffixes=STREAMING_SUFFIXES,
        upload_limit=lambda: settings.max_upload_bytes,
    )
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrent_requests)
    app.add_middleware(
        RequestContext,
        secure_cookies=settings.secure_cookies,
        production=settings.is_production,
        csrf_key=settings.secret("secret_key"),
    )
    # Outermost: every layer (request logs, the login throttle) sees the real client.
    app.add_middleware(ForwardedFrom, trusted=trusted_networks(settings.trusted_proxies))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in api_routers:
        app.include_router(router, prefix=API_PREFIX)
    for router in page_routers:
        app.include_router(router)
    _install_error_handlers(app)
    dispatch.install(app.router)
    _swallow_reraised_errors(app)
    return app


def _swallow_reraised_errors(app: FastAPI) -> None:
    """Starlette's outermost layer answers an unexpected error with our handler below, then
    raises it again so that the server logs it: uvicorn would write its full traceback, with
    the exception's message (user values, compiled SQL). This layer wraps that one and drops
    the re-raised error (the handler has logged its type and frames); when no answer has been
    sent yet, it sends the generic 500 itself."""
    build = app.build_middleware_stack

    def build_with_catch() -> Any:
        inner = build()

        async def catch(scope: Scope, receive: Receive, send: Send) -> None:
            started = False

            async def tracked(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            try:
                await inner(scope, receive, tracked)
            except Exception as exc:
                if scope["type"] != "http" or started:
                    return
                _log_unexpected(Request(scope), exc)
                await _internal_error(Request(scope))(scope, receive, send)

        return catch

    app.build_middleware_stack = build_with_catch  # type: ignore[method-assign]


def _route_template(request: Request) -> str:
    """The matched route's template (`/password/reset`), never the filled-in path, which may
    hold a token or a name."""
    known = request.scope.get("state", {}).get("route_template")  # with its router's prefix
    if known:
        return known
    route = request.scope.get("route")
    return getattr(route, "path", None) or "(no route)"


def _log_unexpected(request: Request, exc: BaseException) -> None:
    # The exception type only: messages may carry data that must not reach logs.
    # Frames as file:line only: source lines and messages could carry data.
    frames = "\n".join(
        f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__)
    )
    log.error(
        "unexpected %s on %s %s (request %s)\n%s",
        type(exc).__name__,
        request.method,
        _route_template(request),
        request.scope.get("state", {}).get("request_id", "-"),
        frames,
    )


def _internal_error(request: Request) -> Response:
    response = _internal_error_answer(request)
    # Outside the request layers too: the id the request's log line has (campus.ops.requests).
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        response.headers["x-request-id"] = request_id
    return response


def _internal_error_answer(request: Request) -> Response:
    if _wants_json(request):
        return JSONResponse(
            {"error": {"code": "internal", "message": "unexpected error; it was logged"}},
            status_code=500,
        )
    # This runs outside the request middleware: choose the language again.
    token = current_language.set(language_of(request))
    try:
        return error_page(request, 500, _("An unexpected error happened. It was logged."))
    finally:
        current_language.reset(token)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CampusError)
    async def campus_error(request: Request, exc: CampusError) -> Response:
        if _wants_json(request):
            return JSONResponse(exc.as_json(), status_code=exc.status)
        if exc.status == 401:
            target = quote(
                str(request.url.path) + ("?" + request.url.query if request.url.query else "")
            )
            return RedirectResponse(f"/login?next={target}", status_code=303)
        return error_page(request, exc.status, exc.translated(), exc.where)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {
                    "error": {
                        "code": "invalid_request",
                        "message": "the request is not valid",
                        "where": validation.problems(exc.errors(), str),
                    }
                },
                status_code=422,
            )
        found = validation.problems(exc.errors(), _)
        details = "; ".join(f"{p['where']}: {p['message']}" for p in found)
        return error_page(request, 422, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = (
            exc.detail
            if isinstance(exc.detail, str)
            else ERROR_TITLES.get(exc.status_code, "Error")
        )
        if _wants_json(request):
            return JSONResponse(
                {"error": {"code": f"http_{exc.status_code}", "message": message}},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return error_page(request, exc.status_code, _(message))

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # A unique constraint hit by the second of two identical requests at once (a double
        # click, two tabs): it lost the race, and its transaction was rolled back. Any other
        # integrity error is a bug. The message of either may hold data: never shown or logged.
        if not _is_unique_violation(exc):
            return await unexpected(request, exc)
        return await campus_error(request, Conflict(CONCURRENT_CHANGE, code="concurrent_change"))

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # A value the database refuses to store or compare: a NUL character in a text (from
        # a path, a query or a body; PostgreSQL refuses them), a number out of its range.
        # Bad input, not a bug; the message may hold the value: not shown, not logged.
        return await campus_error(request, BadRequest(UNSTORABLE, code="bad_value"))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        _log_unexpected(request, exc)
        return _internal_error(request)
