"""The FastAPI app factory: settings, database, middleware, error handlers and routers."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from campus import __version__
from campus.auth.cache import ActorCache
from campus.db.engine import Database
from campus.errors import BadRequest, CampusError, Conflict
from campus.i18n import N_, current_language
from campus.i18n import gettext as _
from campus.settings import Settings, get_settings
from campus.web import dispatch, routes, validation
from campus.web.middleware import BodyLimit, ConcurrencyLimit, RequestContext, language_of
from campus.web.templating import render

log = logging.getLogger("campus.web")
STATIC = Path(__file__).parent / "static"
MAX_BODY = 10 * 1024 * 1024
STREAMING_SUFFIXES = ("/upload",)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
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
        RequestContext, secure_cookies=settings.secure_cookies, production=settings.is_production
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in routes.api_routers():
        app.include_router(router, prefix=routes.API_PREFIX)
    for router in routes.page_routers():
        app.include_router(router)
    _install_error_handlers(app)
    dispatch.install(app.router)
    return app


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


ERROR_TITLES = {
    400: N_("The request is not valid"),
    401: N_("Sign in to continue"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("The request is not valid"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
}


CONCURRENT_CHANGE = N_("this was just done by another request: reload the page to see it")
UNSTORABLE = N_("a value cannot be stored: a NUL character, or a number out of range")


def _is_unique_violation(error: IntegrityError) -> bool:
    """A unique or primary key violation (PostgreSQL SQLSTATE 23505, SQLite's message)."""
    if getattr(error.orig, "sqlstate", None) == "23505":
        return True
    return "UNIQUE constraint failed" in str(error.orig)


def error_page(request: Request, status: int, message: str, where: str | None = None) -> Response:
    """The HTML twin of an error: its message and, when known, where it is (a field, an id)."""
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": _(ERROR_TITLES.get(status, "Error")),
            "message": message,
            "where": where,
        },
        status=status,
    )


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
        return error_page(request, exc.status, _(exc.message), exc.where)

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
        # The exception type only: messages may carry data that must not reach logs.
        # Frames as file:line only: source lines and messages could carry data.
        frames = "\n".join(
            f"  {f.filename}:{f.lineno} in {f.name}"
            for f in traceback.extract_tb(exc.__traceback__)
        )
        log.error(
            "unexpected %s on %s %s\n%s",
            type(exc).__name__,
            request.method,
            request.url.path,
            frames,
        )
        if _wants_json(request):
            return JSONResponse(
                {"error": {"code": "internal", "message": "unexpected error; it was logged"}},
                status_code=500,
            )
        # This handler runs outside the request middleware: choose the language again.
        token = current_language.set(language_of(request))
        try:
            return error_page(request, 500, _("An unexpected error happened. It was logged."))
        finally:
            current_language.reset(token)
