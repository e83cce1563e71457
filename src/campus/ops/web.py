"""The web side of operations: `/readyz`, and `install`, which adds the request middleware."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campus.auth.actor import Actor
from campus.ops import files, health, logs
from campus.ops.requests import RequestLog
from campus.settings import ConfigurationError, Settings
from campus.web.deps import allow
from campus.web.pages_registry import NO_TWIN

router = APIRouter(tags=["platform"])


# For load balancers and probes, at the root as /healthz: JSON, not a page, and outside the
# API's schema (every documented path is under /api/v1).
NO_TWIN["/readyz"] = "a probe's JSON answer, not a page"


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request, actor: Actor = allow("public.read")) -> JSONResponse:
    settings, engine = request.app.state.settings, request.app.state.db.engine
    checks = await run_in_threadpool(health.readiness, settings, engine)
    status, body = health.summary(checks)
    return JSONResponse(body, status_code=status, headers={"cache-control": "no-store"})


class StartupCheck:
    """The server's start (the ASGI lifespan) checks var/'s file modes as `campus serve`
    does, for a server started without the CLI (`uvicorn campus.site.asgi:app`, or
    `campus.site.app:create_app --factory`): loose modes are a warning, and in production a
    refusal. A refusal fails the start with its message alone (`lifespan.startup.failed`:
    the server prints it and exits), not a traceback."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        first = await receive()
        if first["type"] == "lifespan.startup":
            try:
                await run_in_threadpool(files.check_at_start, self.settings)
            except ConfigurationError as error:
                await send({"type": "lifespan.startup.failed", "message": str(error)})
                return
        given = False

        async def receive_again() -> Message:
            nonlocal given
            if not given:
                given = True
                return first
            return await receive()

        await self.app(scope, receive_again, send)


def install(app: FastAPI, routes: Iterable[tuple[str, APIRoute]]) -> None:
    """Request ids, JSON request logs and metrics around the whole app; `/metrics`.

    `routes` are the mounted routes with their full paths (the site's `routes.walk()`): a
    route object knows only its path within its router, the log and labels want the prefix."""
    settings = app.state.settings
    logs.configure()
    logs.observe_jobs()  # job steps written here too: submissions, the in-process worker
    if settings.warehouse_dir is None:  # the default, under var/: made here, owner-only
        settings.warehouse_path.mkdir(mode=0o700, parents=True, exist_ok=True)

    def token() -> str | None:
        secret = settings.metrics_token
        return secret.get_secret_value() if secret else None

    app.add_middleware(StartupCheck, settings=settings)
    app.add_middleware(
        RequestLog,
        metrics_token=token,
        engine=app.state.db.engine,
        full_paths={id(route): path for path, route in routes},
    )
