"""End-to-end harness: a real `uvicorn` server on a free port and headless Debian Chromium.

`live_server` serves a fresh SQLite database (migrated, no demo data) from a subprocess;
tests seed what they need through `live_server.db` (the same database file) or the API.
`page` is a Playwright page in a new browser context (French by default).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from campus.db.engine import Database
from campus.db.migrate import upgrade
from tests.helpers import free_port

CHROMIUM = os.environ.get("CAMPUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass
class LiveServer:
    url: str
    db: Database
    var_dir: Path
    env: dict[str, str]


def start_server(env: dict[str, str], port: int, log_path: Path) -> tuple[subprocess.Popen, IO]:
    """Run `uvicorn` on the app with `env` until /healthz answers; the caller stops it."""
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "campus.site.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return process, log
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            raise RuntimeError("the server did not start:\n" + log_path.read_text())
        time.sleep(0.2)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    var_dir = tmp_path_factory.mktemp("live") / "var"
    var_dir.mkdir()
    db_url = f"sqlite:///{var_dir / 'campus.db'}"
    upgrade(db_url)
    port = free_port()
    env = {
        **os.environ,
        "CAMPUS_ENV": "test",
        "CAMPUS_VAR_DIR": str(var_dir),
        "CAMPUS_DATABASE_URL": db_url,
        "CAMPUS_BASE_URL": f"http://127.0.0.1:{port}",
    }
    url = f"http://127.0.0.1:{port}"
    process, log = start_server(env, port, var_dir / "server.log")
    database = Database(db_url)
    try:
        yield LiveServer(url=url, db=database, var_dir=var_dir, env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        database.dispose()
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, email: str, password: str) -> None:
    """Sign in through the real login form."""
    page.goto("/login")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
