"""Web load benchmark: directory search, an event page and event registration.

Loads the demo campus into a fresh PostgreSQL database, starts `campus serve` in production
mode in its own process, and fires requests over loopback from a second process: `wrk`
(C, with a Lua script) when installed (`apt-get install wrk`), else httpx async from this
process. `BENCH_WEB_CLIENTS` concurrent connections (100 by default); every scenario is
bounded in time (`BENCH_WEB_SECONDS`) and, with httpx, in count (`BENCH_WEB_REQUESTS`).
Registrations go to one of `BENCH_WEB_EVENTS` events (capacity 100 each, so later ones join
the waitlist), each account once per event. The baseline is `/healthz` (the actor check and
one query, no template), measured the same way in the same run: the ratios say what the
application adds to the framework's floor. Each scenario is also charged the CPU that the web
workers and PostgreSQL spent during it (from /proc), per request: on a shared, noisy machine
that figure moves less than latency does.

Requests authenticate with API tokens of demo members (production cookies are `Secure` and
would not travel over plain-HTTP loopback); each token is used once before measuring, so
the first-use audit event is not counted.

Environment: CAMPUS_TEST_PG_URL (admin URL, as for the tests), BENCH_WEB_CLIENTS,
BENCH_WEB_REQUESTS (per scenario), BENCH_WEB_SECONDS (per scenario), BENCH_WEB_WORKERS
(server processes), BENCH_WEB_EVENTS, BENCH_WEB_DRIVER (wrk or httpx).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from bench.common import create_database, drop_database
from campus.web.serve import worker_pids

DB_NAME = "campus_bench_web"
CLIENTS = int(os.environ.get("BENCH_WEB_CLIENTS", "100"))
REQUESTS = int(os.environ.get("BENCH_WEB_REQUESTS", "2000"))
SECONDS = float(os.environ.get("BENCH_WEB_SECONDS", "30"))
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
EVENTS = int(os.environ.get("BENCH_WEB_EVENTS", "80"))
REGISTRATION_CLIENTS = int(os.environ.get("BENCH_WEB_REGISTRATION_CLIENTS", str(CLIENTS)))
DRIVER = os.environ.get("BENCH_WEB_DRIVER", "wrk" if shutil.which("wrk") else "httpx")
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


@dataclass
class Summary:
    """One scenario's figures, whichever driver measured them (milliseconds)."""

    name: str
    requests: int
    errors: int
    seconds: float
    p50: float
    p95: float
    p99: float
    note: str = ""
    server_us: float = float("nan")  # CPU of the web workers per request, microseconds
    database_us: float = float("nan")  # CPU of PostgreSQL's processes per request

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def of(cls, result: Result) -> Summary:
        note = "" if not result.errors else f"statuses {result.statuses}"
        return cls(
            result.name,
            len(result.latencies),
            result.errors,
            result.seconds,
            result.percentile(50),
            result.percentile(95),
            result.percentile(99),
            note,
        )


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
    return create_database(DB_NAME)


def _drop_database() -> None:
    drop_database(DB_NAME)


def _prepare(settings, tokens_wanted: int) -> tuple[list[str], list[str]]:
    """Load the demo campus (directory, people, impact, then the events demo), create bench
    events open to registration, and API tokens of members. The data capabilities' demo
    (warehouse, analysis) is not loaded: none of the measured pages reads it."""
    from campus.auth import service as auth
    from campus.auth.models import Account
    from campus.auth.roles import Role
    from campus.db.engine import Database
    from campus.db.migrate import upgrade
    from campus.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
    from campus.ecosystem import demo_data
    from campus.ecosystem.directory.models import Person
    from campus.ecosystem.events import demo as events_demo
    from campus.ecosystem.events import service as events
    from campus.ecosystem.events.validation import EventInput

    started = time.perf_counter()
    upgrade(settings.db_url)
    db = Database(settings.db_url)
    with db.session() as session:
        for email, name, roles in DEMO_ACCOUNTS:
            account = auth.create_account(
                session, email=email, name=name, password=DEMO_PASSWORD, email_verified=True
            )
            for role in roles:
                auth.grant_role(session, account, role)
        demo_data.generate(session, demo_password=DEMO_PASSWORD)
    events_demo.load(settings, db)
    print(f"demo loaded on PostgreSQL in {time.perf_counter() - started:.1f} s", flush=True)
    with db.session() as session:
        admin = auth.find_account(session, "admin@campus.example")
        assert admin is not None and any(g.role == Role.STAFF for g in admin.grants)
        staff = auth.actor_for(admin, "bench")
        start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
        event_ids = []
        for n in range(EVENTS):
            event = events.create_event(
                session,
                staff,
                EventInput(
                    title=f"Bench {n}: journée de la santé numérique",
                    starts_at=start + dt.timedelta(days=n),
                    ends_at=start + dt.timedelta(days=n, hours=3),
                    room="Amphi A",
                    capacity=100,
                ),
            )
            events.publish_event(session, staff, event.id)
            event_ids.append(event.id)
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
    return event_ids, tokens


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


def _report(results: list[Summary]) -> None:
    baseline = results[0]
    header = (
        f"{'scenario':<30}{'requests':>9}{'errors':>8}{'req/s':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p95/base':>10}"
        f"{'web µs':>9}{'db µs':>8}{'CPU/base':>10}"
    )
    print(header)
    base_cpu = baseline.server_us + baseline.database_us
    for r in results:
        ratio = r.p95 / baseline.p95 if baseline.p95 else float("nan")
        cpu = (r.server_us + r.database_us) / base_cpu if base_cpu else float("nan")
        print(
            f"{r.name:<30}{r.requests:>9}{r.errors:>8}{r.throughput:>9.0f}"
            f"{r.p50:>9.1f}{r.p95:>9.1f}{r.p99:>9.1f}{ratio:>10.1f}"
            f"{r.server_us:>9.0f}{r.database_us:>8.0f}{cpu:>10.1f}"
        )
        if r.note:
            print(f"  {r.note}")
    print(
        f"driver {DRIVER}, {CLIENTS} connections, {SECONDS:.0f} s per scenario, server workers "
        f"{WORKERS}, cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.1f}; "
        "goal: p95 under 100 ms. web µs and db µs: CPU per request of the web workers and of "
        "PostgreSQL, from /proc (a noisy machine moves them less than latency)"
    )


WRK_SCRIPT = """
local paths = {paths}
local tokens = {tokens}
local method = "{method}"
local nthreads = {threads}
local counter = 0
made = 0

-- setup() runs in the main state; thread:set() gives each thread its own global offset.
function setup(thread)
  thread:set("offset", made)
  made = made + 1
end

function request()
  local i = (offset or 0) + counter * nthreads
  counter = counter + 1
  local path = paths[(i % #paths) + 1]
  local token = tokens[(math.floor(i / #paths) % #tokens) + 1]
  return wrk.format(method, path, {{["Authorization"] = "Bearer " .. token}})
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {{"requests": %d, "us": %d, "socket": %d, "status": %d, ' ..
    '"p50": %d, "p95": %d, "p99": %d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def _lua_list(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def _wrk(
    name: str,
    base: str,
    method: str,
    paths: list[str],
    tokens: list[str],
    clients: int = CLIENTS,
) -> Summary:
    """Run wrk for SECONDS; request i takes path i mod len(paths) and, for each full pass
    over the paths, the next token, so (path, token) pairs do not repeat within
    len(paths) * len(tokens) requests."""
    threads = 2
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            WRK_SCRIPT.format(
                paths=_lua_list(paths),
                tokens=_lua_list(tokens),
                method=method,
                threads=threads,
            )
        )
    try:
        command = [
            "wrk", "-t", str(threads), "-c", str(clients), "-d", f"{SECONDS:.0f}s",
            "--timeout", "30s", "-s", script.name, base,
        ]  # fmt: skip
        output = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            timeout=SECONDS + 120,
        ).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return Summary(
        name,
        data["requests"],
        data["socket"] + data["status"],
        data["us"] / 1e6,
        data["p50"] / 1000,
        data["p95"] / 1000,
        data["p99"] / 1000,
        f"non-2xx/3xx {data['status']}, socket errors {data['socket']}"
        if data["socket"] + data["status"]
        else "",
    )


Scenario = Callable[[], Summary]


def _scenarios_wrk(base: str, event_ids: list[str], tokens: list[str]) -> list[Scenario]:
    def registration() -> Summary:
        result = _wrk(
            f"event registration ({REGISTRATION_CLIENTS} c.)",
            base,
            "POST",
            [f"/api/v1/events/{e}/registration" for e in event_ids],
            tokens,
            REGISTRATION_CLIENTS,
        )
        pairs = len(tokens) * len(event_ids)
        if result.requests > pairs:  # each account registers once per event
            result.note += (
                f" more registrations than (account, event) pairs ({pairs}): the repeats are "
                "refused (409); raise BENCH_WEB_EVENTS"
            )
        return result

    search = [f"/directory?q={quote(q)}" for q in QUERIES]
    return [
        lambda: _wrk("healthz (baseline)", base, "GET", ["/healthz"], tokens),
        lambda: _wrk("directory search", base, "GET", search, tokens),
        lambda: _wrk("event page", base, "GET", [f"/events/{e}" for e in event_ids], tokens),
        registration,
    ]


def _scenarios_httpx(base: str, event_ids: list[str], tokens: list[str]) -> list[Scenario]:
    cycle_tokens: Callable[[], Iterator[str]] = lambda: itertools.cycle(tokens)  # noqa: E731
    health = (Call("GET", "/healthz", t) for t in cycle_tokens())
    search = (
        Call("GET", f"/directory?q={quote(q)}", t)
        for q, t in zip(itertools.cycle(QUERIES), cycle_tokens(), strict=False)
    )
    event = (
        Call("GET", f"/events/{e}", t)
        for e, t in zip(itertools.cycle(event_ids), cycle_tokens(), strict=False)
    )
    register = (
        Call("POST", f"/api/v1/events/{e}/registration", t, (201,))
        for t in tokens
        for e in event_ids
    )
    return [
        lambda: Summary.of(asyncio.run(_run("healthz (baseline)", health, base, REQUESTS))),
        lambda: Summary.of(asyncio.run(_run("directory search", search, base, REQUESTS))),
        lambda: Summary.of(asyncio.run(_run("event page", event, base, REQUESTS))),
        lambda: Summary.of(asyncio.run(_run("event registration", register, base, REQUESTS))),
    ]


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of processes, from /proc (0 for one that is gone)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _measured(scenario: Scenario, server: int) -> Summary:
    """Run a scenario and charge it the CPU the web workers and PostgreSQL spent meanwhile:
    a figure that a noisy machine moves less than latency (when /proc is there)."""
    if not Path("/proc/self/stat").exists():
        return scenario()
    workers, database = worker_pids(server), _postgres()
    before = _cpu_seconds(workers), _cpu_seconds(database)
    result = scenario()
    database = sorted(set(database) | set(_postgres()))
    after = _cpu_seconds(workers), _cpu_seconds(database)
    if result.requests:
        result.server_us = (after[0] - before[0]) / result.requests * 1e6
        result.database_us = (after[1] - before[1]) / result.requests * 1e6
    return result


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
        event_ids, tokens = _prepare(settings, tokens_wanted=1000)
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
            scenarios = _scenarios_wrk if DRIVER == "wrk" else _scenarios_httpx
            results = [_measured(s, server.pid) for s in scenarios(base, event_ids, tokens)]
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
