"""Every GET page of the demo campus, as each demo role: the walk the page-wide checks share.

`demo_site` serves a fresh demo database (`campus.demo.load_demo`: the demo accounts and every
capability's demo data) from a real `uvicorn` process. `walk` signs in as one demo account
(or none) over HTTP and visits every page route: routes without parameters directly, routes
with parameters through the links the pages themselves show (up to `PER_ROUTE` addresses per
route), so a page is checked with ids the campus really has.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

import httpx

from campus.demo import DEMO_ACCOUNTS
from campus.demo_password import DEMO_PASSWORD
from campus.site import routes
from tests.e2e.conftest import start_server
from tests.helpers import free_port

PER_ROUTE = 2
# One account per distinct set of roles, and the anonymous visitor (None).
ACTORS: list[str | None] = [None] + [
    email
    for index, (email, _name, roles) in enumerate(DEMO_ACCOUNTS)
    if roles not in [r for _e, _n, r in DEMO_ACCOUNTS[:index]]
]
# Pages that are not documents to read: downloads, live streams and the sign-out.
SKIPPED = re.compile(r"(\.ics|\.csv|\.json|\.png|\.svg|/export|/download|/stream|/logout)(\?|$)")


@dataclass
class DemoSite:
    url: str
    var_dir: Path
    log: IO | None = None


def start_demo_site(var_dir: Path) -> tuple[DemoSite, subprocess.Popen]:
    """Load the demo into `var_dir` and serve it; the caller stops the returned process."""
    db_url = f"sqlite:///{var_dir / 'campus.db'}"
    port = free_port()
    env = {
        **os.environ,
        "CAMPUS_ENV": "test",
        "CAMPUS_VAR_DIR": str(var_dir),
        "CAMPUS_DATABASE_URL": db_url,
        "CAMPUS_BASE_URL": f"http://127.0.0.1:{port}",
        "CAMPUS_IN_PROCESS_WORKER": "false",
    }
    loader = (
        "from campus.settings import get_settings\n"
        "from campus.demo import load_demo\n"
        "load_demo(get_settings())\n"
    )
    subprocess.run(
        [sys.executable, "-c", loader], env=env, check=True, capture_output=True, timeout=600
    )
    process, log = start_server(env, port, var_dir / "server.log")
    url = f"http://127.0.0.1:{port}"
    return DemoSite(url=url, var_dir=var_dir, log=log), process


def page_routes() -> list[tuple[str, re.Pattern[str]]]:
    """(path template, compiled pattern) of every HTML GET page the app mounts."""
    found = []
    for path, route in routes.walk():
        if "GET" in route.methods and not route.include_in_schema and path != "/healthz":
            found.append((path, route.path_regex))
    return found


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def sign_in(client: httpx.Client, email: str) -> None:
    client.get("/healthz")
    token = client.cookies.get("campus_csrf") or ""
    response = client.post(
        "/api/v1/session",
        json={"email": email, "password": DEMO_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    response.raise_for_status()


@dataclass
class Visit:
    actor: str | None
    route: str
    url: str
    html: str


@dataclass
class Walk:
    actor: str | None
    visits: list[Visit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def walk(site: DemoSite, actor: str | None, language: str = "fr") -> Walk:
    """Every page `actor` can open (status 200, HTML), at most PER_ROUTE addresses a route."""
    templates = page_routes()
    result = Walk(actor)
    with httpx.Client(
        base_url=site.url,
        headers={"Accept-Language": language},
        cookies={"campus_lang": language},
        timeout=30,
    ) as client:
        if actor:
            sign_in(client, actor)
        queue: deque[str] = deque(["/"])
        queue.extend(path for path, _ in templates if "{" not in path)
        seen: set[str] = set()
        per_route: dict[str, int] = {}
        while queue:
            url = queue.popleft()
            if url in seen or SKIPPED.search(url):
                continue
            seen.add(url)
            path = urlsplit(url).path
            route = next((t for t, pattern in templates if pattern.match(path)), None)
            if route is None or per_route.get(route, 0) >= PER_ROUTE:
                continue
            response = client.get(url)
            if response.status_code >= 500:
                result.errors.append(f"{url}: {response.status_code}")
                continue
            if response.status_code != 200 or "text/html" not in response.headers.get(
                "content-type", ""
            ):
                continue
            per_route[route] = per_route.get(route, 0) + 1
            result.visits.append(Visit(actor, route, url, response.text))
            parser = _Links()
            parser.feed(response.text)
            for href in parser.hrefs:
                absolute = urljoin(site.url + url, href)
                parts = urlsplit(absolute)
                if absolute.startswith(site.url) and parts.path:
                    local = parts.path + (f"?{parts.query}" if parts.query else "")
                    if local not in seen:
                        queue.append(local)
    return result


def all_walks(site: DemoSite, language: str = "fr") -> Iterator[Walk]:
    for actor in ACTORS:
        yield walk(site, actor, language)
