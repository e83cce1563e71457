"""An invitation's token never reaches a log: the mail's link carries it in the URL fragment
and the page and the API take it in a POST body. Checked against a real server process with
uvicorn's access log on, as an operator or a reverse proxy would log requests."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from contextlib import closing

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from campus.auth.actor import SYSTEM
from campus.auth.models import Account
from campus.db.engine import Database
from campus.ecosystem.directory import service
from campus.ecosystem.directory.models import Membership, Person
from campus.settings import Settings
from tests.conftest import ROOT, TEST_SECRET
from tests.helpers import PASSWORD, free_port, make_account
from tests.integration.test_web_security import _server_env, _wait_up


def _invite(database: Database, settings: Settings, email: str) -> str:
    """An organisation's invitation of `email` (an existing account); the token of its link."""
    make_account(database, email)
    with database.session() as session:
        org = service.create_organisation(
            session, {"name": f"Org {email}", "kind": "startup"}, by=SYSTEM
        )
        _invitation, link = service.invite(session, settings, org, email=email, by=SYSTEM)
    path, token = link.split("#token=")
    assert path.endswith("/invitations")
    return token


def _signed_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    client.get("/healthz")
    signed = client.post(
        "/api/v1/session",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRF-Token": client.cookies["campus_csrf"]},
    )
    assert signed.status_code == 200, signed.text
    return client


@pytest.mark.slow  # a real server process
def test_no_request_line_of_a_real_server_carries_an_invitation_token(sqlite_template, tmp_path):
    path = tmp_path / "campus.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="test", var_dir=tmp_path / "var", database_url=url, base_url=base,
        secret_key=SecretStr(TEST_SECRET),
    ).resolve()  # fmt: skip
    database = Database(url)
    by_page = _invite(database, settings, "page@example.org")
    by_api = _invite(database, settings, "api@example.org")
    log_path = tmp_path / "server.log"
    launcher = (
        "from campus.web.serve import serve; "
        f"serve('campus.site.asgi:app', host='127.0.0.1', port={port}, workers=1, "
        "log_level='info', access_log=True, loop='asyncio')"
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", launcher],
            env=_server_env(url, tmp_path / "var", CAMPUS_BASE_URL=base),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_up(base, process)
        # The page, as the browser asks for it (the fragment is never sent), then its forms.
        with closing(_signed_in(base, "page@example.org")) as browser:
            assert browser.get("/invitations").status_code == 200
            csrf = browser.cookies["campus_csrf"]
            shown = browser.post("/invitations", data={"token": by_page, "csrf_token": csrf})
            assert "Org page@example.org" in shown.text
            accepted = browser.post(
                "/invitations/accept", data={"token": by_page, "csrf_token": csrf}
            )
            assert accepted.status_code == 303, accepted.text
        with closing(_signed_in(base, "api@example.org")) as api:
            answer = api.post(
                "/api/v1/invitations/accept",
                json={"token": by_api},
                headers={"X-CSRF-Token": api.cookies["campus_csrf"]},
            )
            assert answer.status_code == 200, answer.text
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    output = log_path.read_text()
    # The access log was on: the requests are there, their tokens are not.
    assert "POST /invitations/accept" in output and "POST /api/v1/invitations/accept" in output
    assert by_page not in output and by_api not in output
    with database.session() as session:
        joined = session.scalars(
            select(Account.email)
            .join(Person, Person.account_id == Account.id)
            .join(Membership, Membership.person_id == Person.id)
        )
        assert {"page@example.org", "api@example.org"} <= set(joined)
    database.dispose()
