"""Test helpers: a client that knows the CSRF token, and account factories."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import select

from campus.audit import service as audit
from campus.audit.models import AuditEvent
from campus.auth import service as auth
from campus.db.engine import Database

PASSWORD = "correct horse battery"
T = TypeVar("T")


class CampusClient(TestClient):
    """A TestClient that sends the CSRF token on writes, as the pages and campus.js do."""

    def csrf(self) -> str:
        if "campus_csrf" not in self.cookies:
            self.get("/healthz")
        return self.cookies["campus_csrf"]

    def request(self, method, url, *args, **kwargs):
        if method.upper() not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            if "authorization" not in {k.lower() for k in headers}:
                headers.setdefault("X-CSRF-Token", self.csrf())
            kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/api/v1/session", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return response


def make_account(
    db: Database,
    email: str,
    *roles: str,
    name: str = "Test Person",
    scope: tuple[str, str] = ("", ""),
    verified: bool = True,
) -> str:
    with db.session() as session:
        account = auth.create_account(
            session, email=email, name=name, password=PASSWORD, email_verified=verified
        )
        for role in roles:
            auth.grant_role(session, account, role, scope_type=scope[0], scope_id=scope[1])
        return account.id


def run_cli(monkeypatch, settings, *args: str):
    """Run a `campus` command against the test's database and var folder."""
    from typer.testing import CliRunner

    from campus.cli import app as cli
    from campus.settings import get_settings

    monkeypatch.setenv("CAMPUS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("CAMPUS_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()


def audit_events(db: Database) -> list[AuditEvent]:
    """The audit chain in order, once the events still waiting for their seal are sealed,
    as every reader of the chain does (a busy process seals once an interval)."""
    with db.session() as session:
        audit.seal_pending(session)
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def forge(token: str) -> str:
    """The token with one signature character changed. Not the last characters: base64's
    final character carries padding bits a decoder ignores, so swapping it for another can
    decode to the very same signature (about one run in a thousand)."""
    i = len(token) - 6
    swapped = "A" if token[i] != "A" else "B"
    return token[:i] + swapped + token[i + 1 :]


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    """An ASGI HTTP scope, for tests that call the app directly (their own receive and send)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a new event loop in a thread of its own: a test run may
    have left a loop running in the test's thread (Playwright's sync API does), and
    `asyncio.run` refuses to nest."""
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(coroutine))
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    if errors:
        raise errors[0]
    assert results, "the coroutine did not finish in 120 s"
    return results[0]


def free_port() -> int:
    """A loopback port free at the moment of asking, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """The mail the console delivered during a test (no SMTP in tests): once sent, the outbox
    keeps no link, so a test reads the links a person would have received from here."""

    def __init__(self, caplog):
        self.caplog = caplog

    def messages(self) -> list[tuple[str, str, str]]:
        """(to, subject, body) of each message, oldest first."""
        return [
            (getattr(record, "mail_to", record.args[0]), *record.args[1:])
            for record in self.caplog.records
            if record.name == "campus.mail" and isinstance(record.args, tuple)
        ]

    def link(self, marker: str, to: str | None = None) -> str:
        """The last link holding `marker` (a path such as "/signup/verify/"), from the
        mail to `to` when given."""
        import re

        for address, _subject, body in reversed(self.messages()):
            if to is not None and address != to:
                continue
            for url in reversed(re.findall(r"https?://\S+", body)):
                if marker in url:
                    return url
        raise AssertionError(f"no mail with a link holding {marker!r}")
