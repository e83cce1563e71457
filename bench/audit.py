"""Audited writes per second on PostgreSQL: the chain locked by every writer until its commit
(the design before pending events, kept here as the baseline) against pending events sealed
after commit (`campus.audit.service`), in one run on the same database.

Each transaction is what an audited action costs: one row written for the action, the audit
event, and `think` milliseconds of the request's other statements before its commit (the lock
of the old design is held through them). `THREADS` writers run at once, as the web workers'
threads do. After each run the chain is sealed and verified, and its length checked against
the writes made.

    python -m bench audit        (CAMPUS_BENCH_AUDIT_SECONDS: seconds a run, default 8)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.common import create_database, drop_database
from campus.audit import service
from campus.audit.chain import GENESIS, event_hash
from campus.audit.models import AuditEvent
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.db.migrate import upgrade

THREADS = 16
SECONDS = float(os.environ.get("CAMPUS_BENCH_AUDIT_SECONDS", "8"))
THINKS_MS = (0, 2)


def record_locked(session: Session, *, actor: str, action: str, **fields: Any) -> None:
    """The old `record`: lock the chain in the writer's transaction, chain the event at once;
    the lock is held until the transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": service._CHAIN_LOCK})
    last = session.execute(
        text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    event = {
        "seq": seq,
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "object_type": fields.get("object_type", ""),
        "object_id": str(fields.get("object_id", "")),
        "details": dict(fields.get("details") or {}),
        "prev_hash": prev_hash,
    }
    event["hash"] = event_hash(**event)
    session.add(AuditEvent(**event))
    session.flush()


def _run(db: Database, record: Callable[..., None], think_ms: int) -> tuple[int, float]:
    stop = threading.Event()
    counts = [0] * THREADS

    def writer(slot: int) -> None:
        while not stop.is_set():
            with db.session() as session:
                session.execute(
                    text("INSERT INTO bench_actions (slot, at) VALUES (:slot, now())"),
                    {"slot": slot},
                )
                record(
                    session,
                    actor=f"account:bench{slot}",
                    action="bench.write",
                    object_type="bench",
                    object_id=str(counts[slot]),
                    details={"slot": slot},
                )
                if think_ms:
                    session.execute(text("SELECT pg_sleep(:s)"), {"s": think_ms / 1000})
            counts[slot] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(counts), time.perf_counter() - started


def _chain_checked(db: Database, expected: int) -> int:
    with db.session() as session:
        result = service.verify(session)
    assert result.ok, result
    assert result.checked == expected, (result.checked, expected)
    return result.checked


def main() -> None:
    name = f"campus_bench_audit_{os.getpid()}"
    url = create_database(name)
    try:
        upgrade(url)
        db = Database(url)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE bench_actions"
                    " (id bigserial PRIMARY KEY, slot int, at timestamptz)"
                )
            )
        print(f"{THREADS} writer threads, {SECONDS:g} s a run, PostgreSQL", flush=True)
        total = 0
        for think in THINKS_MS:
            rates = {}
            for label, record in (
                ("locked until commit", record_locked),
                ("pending, sealed", service.record),
            ):
                writes, elapsed = _run(db, record, think)
                total += writes
                _chain_checked(db, total)
                rates[label] = writes / elapsed
                print(
                    f"  think {think} ms, {label:<20} {writes:>7} writes "
                    f"{rates[label]:>8.0f} writes/s",
                    flush=True,
                )
            ratio = rates["pending, sealed"] / rates["locked until commit"]
            print(f"  think {think} ms: pending/locked = {ratio:.1f}x", flush=True)
        print(f"chain verified after every run: {total} events", flush=True)
        db.dispose()
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
