"""ASGI middleware: language and CSRF cookie per request, security headers, body size cap."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import threading
from collections.abc import Callable
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campus import i18n
from campus.db.engine import event_loop_thread
from campus.web.deps import CSRF_COOKIE, expected_csrf
from campus.web.errors import error_page
from campus.web.templating import format_number

LANG_COOKIE = "campus_lang"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def language_of(connection: HTTPConnection) -> str:
    """The switch's cookie, else the browser's Accept-Language, else French."""
    chosen = connection.cookies.get(LANG_COOKIE)
    if chosen in i18n.LANGUAGES:
        return chosen
    return i18n.negotiate(connection.headers.get("accept-language")) or i18n.DEFAULT_LANGUAGE


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(listed: str) -> tuple[Network, ...]:
    """The networks of `CAMPUS_TRUSTED_PROXIES` (comma-separated addresses or CIDRs)."""
    networks = []
    for item in filter(None, (part.strip() for part in listed.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"CAMPUS_TRUSTED_PROXIES: {item!r} is not an address or a network (10.0.0.5, "
                "10.0.0.0/24)"
            ) from None
    return tuple(networks)


class ForwardedFrom:
    """Believes `X-Forwarded-For` and `X-Forwarded-Proto` only from the reverse proxies of
    `CAMPUS_TRUSTED_PROXIES` (none by default): anyone else could change them to appear as
    another client, and escape the per-address login throttle. Walking the list from the
    right, the client is the first address that is not a trusted proxy."""

    def __init__(self, app: ASGIApp, *, trusted: tuple[Network, ...]):
        self.app = app
        self.trusted = trusted

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if (
            self.trusted
            and scope["type"] in ("http", "websocket")
            and client
            and self._is_trusted(client[0])
        ):
            headers = Headers(scope=scope)
            address = client[0]
            hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",")]
            for hop in reversed([h for h in hops if h]):
                try:
                    ipaddress.ip_address(hop)
                except ValueError:
                    break  # not an address: stop at the last one a proxy vouched for
                address = hop
                if not self._is_trusted(hop):
                    break
            scope["client"] = (address, 0)
            proto = headers.get("x-forwarded-proto", "")
            if proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)


class RequestContext:
    """Sets the request's language and makes sure the client holds a CSRF cookie."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool, production: bool, csrf_key: str):
        self.app = app
        self.secure = secure_cookies
        self.production = production
        self.csrf_key = csrf_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        language = language_of(connection)
        token = i18n.current_language.set(language)
        event_loop_thread.set(threading.get_ident())  # this request's task: reset with it
        # The token pages embed: bound to the session when there is one (campus.web.deps).
        held = connection.cookies.get(CSRF_COOKIE)
        csrf = expected_csrf(self.csrf_key, connection.cookies) or secrets.token_urlsafe(24)
        new_csrf = csrf if csrf != held else None
        scope.setdefault("state", {})["csrf"] = csrf

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", CSP)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("referrer-policy", "same-origin")
                headers.setdefault("permissions-policy", "camera=(self), geolocation=()")
                headers.setdefault("cross-origin-opener-policy", "same-origin")
                if "content-language" not in headers:
                    headers["content-language"] = language
                if self.production:
                    headers.setdefault(
                        "strict-transport-security", "max-age=31536000; includeSubDomains"
                    )
                already = any(
                    value.startswith(CSRF_COOKIE + "=") for value in headers.getlist("set-cookie")
                )
                if new_csrf and not already:  # a sign-in or sign-out sets its own
                    secure = "; Secure" if self.secure else ""
                    headers.append(
                        "set-cookie",
                        f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Lax{secure}",
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            i18n.current_language.reset(token)


class ConcurrencyLimit:
    """Admits at most `limit` requests into the app at once; the others wait in the event loop.

    FastAPI runs each synchronous step of a request (dependencies, endpoint) as a separate
    call on a 40-thread pool. Under a burst, a request holding a database lock or connection
    can wait for a thread between two steps while every thread waits on that lock: the
    worker stalls. Keeping in-flight requests below the pool size means a thread is always
    free for the request that holds the lock.
    """

    def __init__(self, app: ASGIApp, *, limit: int):
        self.app = app
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        semaphore = self._semaphore
        await semaphore.acquire()
        admitted = True

        def leave() -> None:
            nonlocal admitted
            if admitted:
                admitted = False
                semaphore.release()

        token = _leave.set(leave)
        try:
            await self.app(scope, receive, send)
        finally:
            _leave.reset(token)
            leave()


_leave: ContextVar[Callable[[], None] | None] = ContextVar("campus_leave_admission", default=None)


def leave_admission() -> None:
    """Give the request's place among those admitted at once (`ConcurrencyLimit`) to the next
    one waiting. For a request that from now on only waits for work done elsewhere (a batch of
    writes) and holds no thread and no database connection: while it waits, the next requests
    can be admitted, and their batch formed."""
    leave = _leave.get()
    if leave is not None:
        leave()


# A form that carries an upload holds a few small fields and the multipart framing besides the
# file: this much is allowed on top of the upload cap.
FORM_SLACK = 64 * 1024


class BodyLimit:
    """Refuses request bodies over a limit, from the first byte and before anything parses them.

    Routes that take uploads (`streaming_suffixes`) have the upload cap instead, read from the
    settings on each request (`upload_limit`), plus `FORM_SLACK` for an upload page's form. A
    page's form (CSRF token included) is parsed by Starlette, which spools files to disk: with
    no cap there, an upload page would spool a body of any size before refusing it. A refusal
    is JSON under /api and a page, in the visitor's language, elsewhere.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        streaming_suffixes: tuple[str, ...],
        upload_limit: Callable[[], int],
    ):
        self.app = app
        self.limit = limit
        self.streaming = streaming_suffixes
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].endswith(self.streaming):
            shown = self.upload_limit()
            limit, upload = shown + FORM_SLACK, True
        else:
            shown = limit = self.limit
            upload = False
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, shown, upload)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(scope, receive, send, shown, upload)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int, upload: bool) -> None:
    if scope["path"].startswith("/api/"):
        body = (
            '{"error":{"code":"too_large","message":"request body over ' + str(limit) + ' bytes"}}'
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    response = error_page(Request(scope, receive), 413, too_large_text(limit, upload=upload))
    await response(scope, receive, send)


def too_large_text(limit: int, *, upload: bool) -> str:
    """A page's refusal of a body over `limit` bytes, in the visitor's language: a file for
    an upload (the upload page says it too when the upload's own cap refuses it)."""
    if upload:
        text = i18n.gettext("The file exceeds {limit} bytes: split it into several files.")
    else:
        text = i18n.gettext("The request exceeds {limit} bytes.")
    return text.format(limit=format_number(limit))
