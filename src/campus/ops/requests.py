"""The request middleware of operations: a request id, one JSON log line, metrics, /metrics.

Every HTTP request gets an id (the proxy's `X-Request-Id` when it is a plain token, else a new
one), echoed in the response's `X-Request-Id` header and written in its log line:

    {"event": "request", "request_id": "...", "method": "GET",
     "route": "/api/v1/events/{event_id}", "status": 200, "duration_ms": 4.1}

The route is the template the request matched (`unmatched` when none did): never the path as
sent, which may hold tokens or ids, and never the query string, a header, the client's address
or the account.

`GET /metrics` is answered here, before routing and authentication: with the Prometheus text
when the request bears `Authorization: Bearer <CAMPUS_METRICS_TOKEN>`, 401 when it bears
another, 404 when no token is set (the figures are then only on `campus metrics`'s own address).
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campus.ops import metrics

log = logging.getLogger("campus.requests")
HEADER = "x-request-id"
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
METRICS_PATH = "/metrics"


def route_template(scope: Scope, full_paths: dict[int, str]) -> str:
    """The matched route's template with its router's prefix (`full_paths`: id of a route
    object, as mounted, to its full path), `unmatched` when no route matched."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    path = full_paths.get(id(route)) or getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class RequestLog:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics_token: Callable[[], str | None],
        engine,
        full_paths: dict[int, str],
    ) -> None:
        self.app = app
        self.full_paths = full_paths
        self.metrics_token = metrics_token
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH and scope["method"] in ("GET", "HEAD"):
            await self._metrics(scope, send)
            return
        given = _header(scope, HEADER)
        request_id = given if given and _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex
        # For whatever answers outside this layer (the error handler's 500): request.state.
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_template(scope, self.full_paths), scope["method"]
            scope["state"]["route_template"] = route  # for the error handler's log line
            metrics.REQUESTS.labels(route, method, status_class(status)).inc()
            metrics.LATENCY.labels(route, method).observe(seconds)
            if status >= 500:
                metrics.ERRORS.labels(route, method).inc()
            log.info(
                {
                    "event": "request",
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                }
            )

    async def _metrics(self, scope: Scope, send: Send) -> None:
        token = self.metrics_token()
        given = _header(scope, "authorization") or ""
        if not token:
            status, body, kind = 404, b"metrics are not served here\n", "text/plain"
        elif not (
            given.lower().startswith("bearer ")
            and hmac.compare_digest(given[7:].strip().encode(), token.encode())
        ):
            status, body, kind = 401, b"a bearer token is needed\n", "text/plain"
        else:
            from starlette.concurrency import run_in_threadpool

            body, kind = await run_in_threadpool(metrics.exposition, self.engine)
            status = 200
        headers = [(b"content-type", kind.encode()), (b"cache-control", b"no-store")]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="metrics"'))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", ()):
        if key == wanted:
            return value.decode("latin-1")
    return None
