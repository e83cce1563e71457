"""Events benchmark: a burst of concurrent registrations on PostgreSQL, then the calendar.

Creates a fresh PostgreSQL database, one published event with `BENCH_EV_SEATS` seats and
`BENCH_EV_PEOPLE` accounts, then registers everyone at once from `BENCH_EV_THREADS` threads,
each call in its own transaction as the web workers would. Reports registrations per second,
latency percentiles, checks that exactly the seats were taken (no overbooking) and the rest
waitlisted, then times cancellations with waitlist promotion, the attendee CSV, the monthly
attendance query and the iCalendar feed of `BENCH_EV_EVENTS` events.

Environment: CAMPUS_TEST_PG_URL (admin URL, as for the tests), BENCH_EV_PEOPLE (1000),
BENCH_EV_SEATS (250), BENCH_EV_THREADS (32), BENCH_EV_EVENTS (500).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from bench.common import create_database, drop_database, percentile

DB_NAME = "campus_bench_events"
PEOPLE = int(os.environ.get("BENCH_EV_PEOPLE", "1000"))
SEATS = int(os.environ.get("BENCH_EV_SEATS", "250"))
THREADS = int(os.environ.get("BENCH_EV_THREADS", "32"))
EVENTS = int(os.environ.get("BENCH_EV_EVENTS", "500"))


def main() -> None:
    from campus.auth.actor import Actor, Grant
    from campus.auth.models import Account
    from campus.db.base import utcnow
    from campus.db.engine import Database
    from campus.db.migrate import upgrade
    from campus.ecosystem.events import ics, service, stats
    from campus.ecosystem.events.models import Event, Registration
    from campus.ecosystem.events.validation import EventInput
    from campus.settings import Settings

    url = create_database(DB_NAME)
    upgrade(url)
    db = Database(url)
    scratch = tempfile.TemporaryDirectory(prefix="campus-bench-events-")
    settings = Settings(env="test", var_dir=Path(scratch.name)).resolve()
    staff = Actor(account_id="staff", via="session", grants=frozenset({Grant("staff")}))
    try:
        start = utcnow() + dt.timedelta(days=10)
        with db.session() as session:
            session.add(Account(id="staff", email="staff@bench.example", name="Staff"))
            accounts = [
                Account(id=f"a{i:06d}", email=f"p{i}@bench.example", name=f"P {i}")
                for i in range(PEOPLE)
            ]
            session.add_all(accounts)
            session.flush()
            event = service.create_event(
                session,
                staff,
                EventInput(
                    title="Burst",
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=2),
                    room="Amphi",
                    capacity=SEATS,
                ),
            )
            service.publish_event(session, staff, event.id)
            event_id = event.id
        ids = [f"a{i:06d}" for i in range(PEOPLE)]
        latencies: list[float] = []

        def register(account_id: str) -> str:
            actor = Actor(account_id=account_id, via="session", grants=frozenset({Grant("member")}))
            began = time.perf_counter()
            with db.session() as session:
                status = service.register(session, settings, actor, event_id).status
            latencies.append(time.perf_counter() - began)
            return status

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            outcomes = Counter(pool.map(register, ids))
        elapsed = time.perf_counter() - began
        print(
            f"{PEOPLE} concurrent registrations for {SEATS} seats, {THREADS} threads: "
            f"{elapsed:.2f} s, {PEOPLE / elapsed:.0f}/s; latency p50 "
            f"{statistics.median(latencies) * 1000:.1f} ms, p95 "
            f"{percentile(latencies, 0.95) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
        )
        with db.session() as session:
            seats = service.seats(session.get(Event, event_id))
        assert outcomes["registered"] == SEATS == seats.registered, (outcomes, seats)
        assert outcomes["waitlisted"] == PEOPLE - SEATS == seats.waitlisted
        print(f"registered {seats.registered}, waitlisted {seats.waitlisted}: no overbooking")

        with db.session() as session:
            seated = list(
                session.scalars(
                    select(Registration.account_id)
                    .where(Registration.event_id == event_id, Registration.status == "registered")
                    .limit(50)
                )
            )

        def cancel(account_id: str) -> None:
            with db.session() as session:
                service.cancel_registration(
                    session, settings, Actor(account_id=account_id, via="session"), event_id
                )

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            list(pool.map(cancel, seated))
        elapsed = time.perf_counter() - began
        with db.session() as session:
            seats = service.seats(session.get(Event, event_id))
        assert seats.registered == SEATS
        print(
            f"{len(seated)} concurrent cancellations, each promoting the first waitlisted: "
            f"{elapsed:.2f} s; still {seats.registered} seated"
        )

        with db.session() as session:
            began = time.perf_counter()
            body = stats.attendees_csv(session, staff, event_id)
            print(
                f"attendee CSV ({body.count(chr(10)) - 1} rows): "
                f"{(time.perf_counter() - began) * 1000:.0f} ms"
            )
            for index in range(EVENTS):
                when = start + dt.timedelta(hours=6 * index)
                session.add(
                    Event(
                        title=f"Événement {index}, avec virgule; et point-virgule",
                        description="Description assez longue " * 8,
                        starts_at=when,
                        ends_at=when + dt.timedelta(hours=1),
                        room="Salle",
                        status="published",
                    )
                )
            session.flush()
            began = time.perf_counter()
            rows = stats.attendance_by_month(session, start.year)
            print(
                f"attendance by month ({sum(r['events'] for r in rows)} events in "
                f"{start.year}): {(time.perf_counter() - began) * 1000:.0f} ms"
            )
            began = time.perf_counter()
            events = service.list_events(session, staff, limit=1000)
            feed = ics.calendar(events, base_url="https://campus.example", stamp=utcnow())
            print(
                f"iCalendar feed of {len(events)} events ({len(feed) // 1024} KiB): "
                f"{(time.perf_counter() - began) * 1000:.0f} ms"
            )
    finally:
        db.dispose()
        scratch.cleanup()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
