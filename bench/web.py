"""Web load benchmark: directory search, an event page and event registration.

Loads the demo campus into a fresh PostgreSQL database, starts `campus serve` in production
mode in its own process, and fires requests from this process over loopback with httpx
(async, `BENCH_WEB_CLIENTS` concurrent clients, 100 by default). Every scenario is bounded by
a request count and a time limit. The baseline is `/healthz` (no database, no template),
measured the same way in the same run: the ratios say what the application adds to the
framework's floor.

Requests authenticate with API tokens of demo members (production cookies are `Secure` and
would not travel over plain-HTTP loopback); each token is used once before measuring, so
the first-use audit event is not counted.

Environment: CAMPUS_TEST_PG_URL (admin URL, as for the tests), BENCH_WEB_CLIENTS,
BENCH_WEB_REQUESTS (per scenario), BENCH_WEB_SECONDS (per scenario), BENCH_WEB_WORKERS
(server processes).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import create_engine, select, text

PG_ADMIN_URL = os.environ.get(
    "CAMPUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DB_NAME = "campus_bench_web"
CLIENTS = int(os.environ.get("BENCH_WEB_CLIENTS", "100"))
REQUESTS = int(os.environ.get("BENCH_WEB_REQUESTS", "2000"))
SECONDS = float(os.environ.get("BENCH_WEB_SECONDS", "30"))
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
QUERIES = [
    "cardio",
    "hopital",
    "lyon",
    "intelligence artificielle",
    "epidemiologie",
    "startup paris",
    "essais cliniques",
    "genomique",
    "clinique",
    "data",
]


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    token: str
    expect: tuple[int, ...] = (200,)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME


def _drop_database() -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


def _prepare(settings, tokens_wanted: int) -> tuple[str, list[str]]:
    """Load the demo, create a bench event open to registration, and API tokens of members."""
    from campus.auth import service as auth
    from campus.auth.models import Account
    from campus.db.engine import Database
    from campus.demo import load_demo
    from campus.ecosystem.directory.models import Person
    from campus.ecosystem.events import service as events
    from campus.ecosystem.events.validation import EventInput

    started = time.perf_counter()
    load_demo(settings, reset=False)
    print(f"demo loaded on PostgreSQL in {time.perf_counter() - started:.1f} s", flush=True)
    db = Database(settings.db_url)
    with db.session() as session:
        staff = auth.actor_for(auth.find_account(session, "admin@campus.example"), "bench")
        start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
        event = events.create_event(
            session,
            staff,
            EventInput(
                title="Bench: journée de la santé numérique",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=3),
                room="Amphi A",
                capacity=300,
            ),
        )
        events.publish_event(session, staff, event.id)
        event_id = event.id
        accounts = session.scalars(
            select(Account)
            .join(Person, Person.account_id == Account.id)
            .order_by(Account.email)
            .limit(tokens_wanted)
        ).all()
        tokens = [
            auth.create_token(session, account, name="bench", days=1)[1] for account in accounts
        ]
    db.dispose()
    return event_id, tokens


async def _run(name: str, calls: Iterator[Call], base: str, limit: int) -> Result:
    result = Result(name)
    deadline = time.perf_counter() + SECONDS
    lock = asyncio.Lock()
    sent = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.perf_counter() < deadline:
            async with lock:
                if sent >= limit:
                    return
                call = next(calls, None)
                if call is None:
                    return
                sent += 1
            began = time.perf_counter()
            try:
                response = await http.request(
                    call.method, base + call.url, headers={"Authorization": f"Bearer {call.token}"}
                )
            except httpx.HTTPError:
                result.errors += 1
                continue
            result.latencies.append(time.perf_counter() - began)
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
            if response.status_code not in call.expect:
                result.errors += 1

    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
        result.seconds = time.perf_counter() - began
    return result


async def _warm(base: str, tokens: list[str]) -> None:
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        semaphore = asyncio.Semaphore(20)

        async def one(token: str) -> None:
            async with semaphore:
                response = await http.get(
                    base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                )
                response.raise_for_status()

        await asyncio.gather(*(one(t) for t in tokens))


def _wait_ready(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped with code {process.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("the server did not answer /healthz in time")


def _report(results: list[Result]) -> None:
    baseline = results[0]
    header = (
        f"{'scenario':<22}{'requests':>9}{'errors':>8}{'req/s':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p95/base':>10}"
    )
    print(header)
    for r in results:
        ratio = r.percentile(95) / baseline.percentile(95) if baseline.latencies else float("nan")
        print(
            f"{r.name:<22}{len(r.latencies):>9}{r.errors:>8}{r.throughput:>9.0f}"
            f"{r.percentile(50):>9.1f}{r.percentile(95):>9.1f}{r.percentile(99):>9.1f}"
            f"{ratio:>10.1f}"
        )
        if r.errors:
            print(f"  statuses: {r.statuses}")
    mean = statistics.mean(r.percentile(95) for r in results[1:]) if results[1:] else 0
    print(
        f"clients {CLIENTS}, server workers {WORKERS}, cores {os.cpu_count()}; "
        f"mean p95 of the application scenarios {mean:.1f} ms (goal: under 100 ms)"
    )


def main() -> None:
    from campus.settings import Settings

    url = _database_url()
    secret = {
        name: secrets.token_urlsafe(48) for name in ("secret_key", "pseudonym_key", "optout_key")
    }
    with tempfile.TemporaryDirectory(prefix="campus-bench-web-") as tmp:
        var_dir = Path(tmp) / "var"
        settings = Settings(
            env="development",
            var_dir=var_dir,
            database_url=url,
            **{k: SecretStr(v) for k, v in secret.items()},
        ).resolve()
        registrations = min(REQUESTS, 1000)
        event_id, tokens = _prepare(settings, tokens_wanted=max(registrations, 200))
        port = _free_port()
        env = {
            **os.environ,
            "CAMPUS_ENV": "production",
            "CAMPUS_DATABASE_URL": url,
            "CAMPUS_VAR_DIR": str(var_dir),
            "CAMPUS_BASE_URL": "https://campus.example",
            **{f"CAMPUS_{k.upper()}": v for k, v in secret.items()},
        }
        command = [
            str(Path(sys.executable).parent / "campus"), "serve",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS),
        ]  # fmt: skip
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, server)
            asyncio.run(_warm(base, tokens))
            cycle_tokens: Callable[[], Iterator[str]] = lambda: itertools.cycle(tokens)  # noqa: E731
            health = (Call("GET", "/healthz", t) for t in cycle_tokens())
            search = (
                Call("GET", f"/directory?q={q}", t)
                for q, t in zip(itertools.cycle(QUERIES), cycle_tokens(), strict=False)
            )
            event = (Call("GET", f"/events/{event_id}", t) for t in cycle_tokens())
            register = (
                Call("POST", f"/api/v1/events/{event_id}/registration", t, (201,))
                for t in tokens[:registrations]
            )
            results = [
                asyncio.run(_run("healthz (baseline)", health, base, REQUESTS)),
                asyncio.run(_run("directory search", search, base, REQUESTS)),
                asyncio.run(_run("event page", event, base, REQUESTS)),
                asyncio.run(_run("event registration", register, base, registrations)),
            ]
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    _drop_database()
    _report(results)


if __name__ == "__main__":
    main()
