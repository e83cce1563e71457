"""Participation benchmark: concurrent supports on PostgreSQL, and the results query.

Creates a fresh PostgreSQL database, a consultation with `BENCH_PART_PROPOSALS` proposals and
`BENCH_PART_CITIZENS` citizens, then fires every citizen's supports (the limit, plus one
over it) from `BENCH_PART_THREADS` threads, each call in its own transaction, as the web
workers would. Reports supports per second, latency percentiles and the refusals, checks the
per-person limit held, and times the public results and the CSV export.

Environment: CAMPUS_TEST_PG_URL (admin URL, as for the tests), BENCH_PART_CITIZENS (300),
BENCH_PART_PROPOSALS (20), BENCH_PART_THREADS (16), BENCH_PART_LIMIT (3).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, update

from bench.common import create_database, drop_database, percentile

DB_NAME = "campus_bench_participation"
CITIZENS = int(os.environ.get("BENCH_PART_CITIZENS", "300"))
PROPOSALS = int(os.environ.get("BENCH_PART_PROPOSALS", "20"))
THREADS = int(os.environ.get("BENCH_PART_THREADS", "16"))
LIMIT = int(os.environ.get("BENCH_PART_LIMIT", "3"))


def main() -> None:
    from campus.auth import service as auth
    from campus.db.base import utcnow
    from campus.db.engine import Database
    from campus.db.migrate import upgrade
    from campus.errors import CampusError
    from campus.participation import charter, results, service, votes
    from campus.participation.models import Consultation, Support
    from campus.settings import Settings

    url = create_database(DB_NAME)
    upgrade(url)
    db = Database(url)
    settings = Settings(env="test", participation_proposals_per_hour=PROPOSALS)
    day = dt.timedelta(days=1)
    try:
        with db.session() as session:
            staff = auth.create_account(
                session, email="staff@bench.example", name="Staff", password=None
            )
            auth.grant_role(session, staff, "staff")
            now = utcnow()
            consultation = service.create_consultation(
                session,
                auth.actor_for(staff, "session"),
                service.ConsultationFields(
                    title="Benchmark consultation",
                    summary="A consultation to measure concurrent supports.",
                    opens_at=now - 2 * day,
                    contributions_at=now - day,
                    voting_at=now + day,
                    results_at=now + 2 * day,
                    supports_per_person=LIMIT,
                ),
            )
            cid = consultation.id
            actors = []
            for i in range(CITIZENS):
                account = auth.create_account(
                    session,
                    email=f"citizen{i}@bench.example",
                    name=f"Citizen {i}",
                    password=None,
                    email_verified=True,
                )
                actor = auth.actor_for(account, "session")
                charter.accept(session, actor)
                actors.append(actor)
            proposal_ids = [
                service.create_proposal(
                    session,
                    settings,
                    actors[0],
                    consultation,
                    title=f"Benchmark proposal {i}",
                    body="<p>A proposal body long enough to pass.</p>",
                ).id
                for i in range(PROPOSALS)
            ]
        with db.session() as session:
            session.execute(
                update(Consultation)
                .where(Consultation.id == cid)
                .values(voting_at=utcnow() - dt.timedelta(minutes=1))
            )
        rng = random.Random(7)
        calls = []
        for actor in actors:
            for proposal_id in rng.sample(proposal_ids, LIMIT + 1):
                calls.append((actor, proposal_id))
        rng.shuffle(calls)

        def fire(call) -> tuple[float, str]:
            actor, proposal_id = call
            started = time.perf_counter()
            try:
                with db.session() as session:
                    votes.support(
                        session, actor, service.get_consultation(session, cid), proposal_id
                    )
                outcome = "ok"
            except CampusError as error:
                outcome = error.code
            return time.perf_counter() - started, outcome

        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            measured = list(pool.map(fire, calls))
        elapsed = time.perf_counter() - started
        latencies = [m[0] * 1000 for m in measured]
        outcomes = Counter(m[1] for m in measured)
        with db.session() as session:
            per_person = Counter(
                session.scalars(select(Support.account_id).where(Support.consultation_id == cid))
            )
            total = session.scalar(select(func.count()).select_from(Support))
        held = max(per_person.values()) <= LIMIT and total == outcomes["ok"]
        print(
            f"{len(calls)} support requests ({CITIZENS} citizens x {LIMIT + 1}, limit {LIMIT}) "
            f"on {PROPOSALS} proposals, {THREADS} threads: {len(calls) / elapsed:.0f} req/s, "
            f"p50 {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} "
            f"ms, max {max(latencies):.1f} ms"
        )
        print(f"outcomes: {dict(outcomes)}; limit held: {held} (stored {total})")
        with db.session() as session:
            session.execute(
                update(Consultation).where(Consultation.id == cid).values(closed_at=utcnow())
            )
        timings = []
        for _ in range(20):
            t0 = time.perf_counter()
            with db.session() as session:
                data = results.results(session, service.get_consultation(session, cid))
                results.as_csv(data)
            timings.append((time.perf_counter() - t0) * 1000)
        print(
            f"results + CSV ({PROPOSALS} proposals, {total} supports): "
            f"median {statistics.median(timings):.1f} ms over 20 runs"
        )
        if not held:
            raise SystemExit("the per-person limit did not hold")
    finally:
        db.dispose()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
