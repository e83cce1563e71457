"""Web security seen from outside: what a real server process logs for an unexpected error,
and whom it believes about a client's address."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Request
from sqlalchemy import text

from tests.conftest import ROOT, TEST_SECRET
from tests.helpers import free_port

MARKER = "zq-marker-4417-patient-secret"


def boom_app():
    """The real app with two routes that fail with the request's values in the exception's
    message: a plain error and a database error (whose message holds the SQL and its
    parameters). Served by a real server process in the test below."""
    from campus.site.app import create_app
    from campus.web.deps import allow, db_session

    app = create_app()
    router = APIRouter()

    @router.get("/api/v1/boom", include_in_schema=False)
    def boom(request: Request, actor=allow("public.read")):
        raise RuntimeError(f"cannot handle {request.headers.get('x-note')}")

    @router.get("/boom-sql", include_in_schema=False)
    def boom_sql(request: Request, actor=allow("public.read"), session=db_session):
        session.execute(
            text("SELECT no_such_column WHERE :note"), {"note": request.headers["x-note"]}
        )

    app.include_router(router)
    return app


def _server_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "CAMPUS_ENV": "test",
        "CAMPUS_DATABASE_URL": database_url,
        "CAMPUS_VAR_DIR": str(var_dir),
        "CAMPUS_SECRET_KEY": TEST_SECRET,
        "CAMPUS_PSEUDONYM_KEY": TEST_SECRET + "p",
        "CAMPUS_OPTOUT_KEY": TEST_SECRET + "o",
        **extra,
    }


def _wait_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("the server stopped at start-up")
        try:
            if httpx.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not start")


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "campus.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.mark.slow  # a real server process
def test_an_unexpected_error_logs_no_value_of_the_request_in_a_real_server(sqlite_url, tmp_path):
    """The server's whole output (uvicorn's error and access logs included) never shows a
    value that reached an exception's message: type and file:line frames only."""
    port = free_port()
    log_path = tmp_path / "server.log"
    launcher = (
        "from campus.web.serve import serve; "
        f"serve('tests.integration.test_web_security:boom_app', host='127.0.0.1', port={port}, "
        "workers=1, factory=True, log_level='info', loop='asyncio')"
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", launcher],
            env=_server_env(sqlite_url, tmp_path / "var"),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, process)
        api = httpx.get(base + "/api/v1/boom", headers={"x-note": MARKER}, timeout=10)
        page = httpx.get(base + "/boom-sql", headers={"x-note": MARKER}, timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    output = log_path.read_text()
    assert api.status_code == 500 and api.json()["error"]["code"] == "internal"
    assert page.status_code == 500 and MARKER not in page.text
    assert MARKER not in api.text
    assert "unexpected RuntimeError on GET /api/v1/boom" in output
    assert "unexpected OperationalError on GET /boom-sql" in output
    assert MARKER not in output
    assert "Traceback" not in output and "no_such_column" not in output
