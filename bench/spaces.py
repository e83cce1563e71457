"""Spaces benchmark: 200 concurrent booking requests for 20 rooms over HTTP on PostgreSQL.

Creates a fresh PostgreSQL database with one floor of `BENCH_SP_ROOMS` meeting rooms and
`BENCH_SP_REQUESTS` members with API tokens, starts `campus serve` in production mode, and
fires every booking at once (httpx async), `REQUESTS / ROOMS` requests per room for
overlapping slots. The baseline, measured the same way in the same run, is as many
concurrent `GET /healthz`. Reports requests per second and p95 for both, the bookings
accepted (one per room is right) and the double bookings found in the table (must be 0).

Environment: CAMPUS_TEST_PG_URL (admin URL, as for the tests), BENCH_SP_ROOMS (20),
BENCH_SP_REQUESTS (200), BENCH_SP_WORKERS (2 server processes).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import create_database, drop_database, percentile
from bench.web import _free_port, _wait_ready

DB_NAME = "campus_bench_spaces"
ROOMS = int(os.environ.get("BENCH_SP_ROOMS", "20"))
REQUESTS = int(os.environ.get("BENCH_SP_REQUESTS", "200"))
WORKERS = int(os.environ.get("BENCH_SP_WORKERS", "2"))


def _prepare(url: str) -> list[str]:
    from campus.auth import service as auth
    from campus.auth.actor import Actor, Grant
    from campus.auth.models import Account
    from campus.db.engine import Database
    from campus.db.migrate import upgrade
    from campus.spaces import service as spaces

    upgrade(url)
    db = Database(url)
    staff = Actor(account_id="bench", name="bench", via="cli", grants=frozenset({Grant("staff")}))
    with db.session() as session:
        building = spaces.create_building(
            session, staff, code="B", name="Bench", opens="00:00", closes="24:00"
        )
        floor = spaces.create_floor(session, staff, building.id, 1)
        for index in range(ROOMS):
            spaces.create_room(
                session,
                staff,
                spaces.RoomInput(
                    floor_id=floor.id, code=f"R{index:02d}", name=f"Room {index}",
                    kind="meeting_room", capacity=10,
                ),
            )  # fmt: skip
        tokens = []
        for index in range(REQUESTS):
            account = Account(email=f"m{index}@bench.example", name=f"M {index}")
            session.add(account)
            session.flush()
            auth.grant_role(session, account, "member")
            tokens.append(auth.create_token(session, account, name="bench", days=1)[1])
    db.dispose()
    return tokens


async def _fire(requests: list[tuple[str, str, dict | None, str]]) -> tuple[float, list, list]:
    """Send every request at once; the wall time, latencies and status codes."""
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def one(method: str, url: str, body: dict | None, token: str):
            started = time.perf_counter()
            response = await client.request(
                method, url, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            return time.perf_counter() - started, response.status_code

        began = time.perf_counter()
        results = await asyncio.gather(*(one(*r) for r in requests))
        wall = time.perf_counter() - began
    return wall, [r[0] for r in results], [r[1] for r in results]


def _double_bookings(url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        live = connection.execute(
            text("SELECT count(*) FROM space_bookings WHERE status IN ('confirmed','pending')")
        ).scalar_one()
        doubles = connection.execute(
            text(
                "SELECT count(*) FROM space_bookings a JOIN space_bookings b "
                "ON a.room_id = b.room_id AND a.id < b.id "
                "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
                "WHERE a.status IN ('confirmed','pending') AND b.status IN ('confirmed','pending')"
            )
        ).scalar_one()
    engine.dispose()
    return live, doubles


def main() -> None:
    url = create_database(DB_NAME)
    tokens = _prepare(url)
    secret = {k: secrets.token_urlsafe(48) for k in ("secret_key", "pseudonym_key", "optout_key")}
    with tempfile.TemporaryDirectory(prefix="campus-bench-spaces-") as tmp:
        port = _free_port()
        env = {
            **os.environ,
            "CAMPUS_ENV": "production",
            "CAMPUS_DATABASE_URL": url,
            "CAMPUS_VAR_DIR": str(Path(tmp) / "var"),
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
            asyncio.run(_fire([("GET", base + "/api/v1/me", None, t) for t in tokens]))  # warm
            baseline = asyncio.run(_fire([("GET", base + "/healthz", None, t) for t in tokens]))
            day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=5)).date()
            bookings = []
            for index, token in enumerate(tokens):
                room, shift = index % ROOMS, (index // ROOMS) * 3
                start = dt.datetime(day.year, day.month, day.day, 10, shift)
                body = {
                    "room": f"R{room:02d}", "title": f"b{index}", "starts_at": start.isoformat(),
                    "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
                }  # fmt: skip
                bookings.append(("POST", base + "/api/v1/spaces/bookings", body, token))
            booked = asyncio.run(_fire(bookings))
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    live, doubles = _double_bookings(url)
    drop_database(DB_NAME)
    statuses = booked[2]
    print(f"{REQUESTS} concurrent requests, {ROOMS} rooms, {WORKERS} server processes")
    for name, (wall, latencies, _codes) in (("healthz", baseline), ("booking", booked)):
        print(
            f"{name:<8} {len(latencies) / wall:8.1f} req/s   p95 {percentile(latencies, 0.95) * 1000:7.1f} ms"  # noqa: E501
        )
    ratio = (len(booked[1]) / booked[0]) / (len(baseline[1]) / baseline[0])
    print(f"booking / healthz throughput: {ratio:.2f}")
    print(
        f"accepted {statuses.count(201)} (one per room: {ROOMS}), refused 409: "
        f"{statuses.count(409)}, other: {len(statuses) - statuses.count(201) - statuses.count(409)}"
    )
    print(f"live bookings in the table: {live}; double bookings: {doubles}")
    if doubles:
        raise SystemExit("double bookings found")


if __name__ == "__main__":
    main()
