"""Write and verify the audit log. Every capability records its actions through `record`.

Two steps, so that writers never wait for one another:

1. `record` inserts a pending event in the caller's transaction: it lands with the action or
   not at all, and takes no lock shared with other writers.
2. After a transaction that recorded events commits, `seal` moves every pending event into
   the chain, in the order they were recorded, under one lock (PostgreSQL advisory lock,
   SQLite's writer lock): each gets the next `seq`, and a SHA-256 over its fields and the
   previous event's hash. One seal takes whatever is pending.

When the process is quiet, the committing thread seals at once. Under load a seal costs as
much as the action itself (five statements and a commit), so a process seals at most once per
`SEAL_INTERVAL`: a commit that comes sooner leaves its events to the process's sealer thread,
which seals them all at the end of the interval. An event is thus outside the chain for at
most about `SEAL_INTERVAL` after its commit, and whatever reads the chain (`verify`, `recent`)
seals first, so readers never miss an event. If a seal fails (the database went away), the
events stay pending, durably, and the next seal picks them up.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, text
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Session

from campus.audit.chain import GENESIS, event_hash
from campus.audit.models import AuditEvent, PendingAuditEvent
from campus.db.base import utcnow
from campus.db.engine import write
from campus.db.prepared import prepare

log = logging.getLogger("campus.audit")

# Detail keys that must never reach the log: they could identify a patient or leak a secret.
FORBIDDEN_DETAIL_KEYS = frozenset(
    {"password", "token", "nir", "ins", "identifier", "name", "birth_date", "patient_id"}
)
_CHAIN_LOCK = 0x6361_6D70  # "camp": one advisory lock key for the whole chain
_RECORDED = "campus_audit_recorded"  # Session.info: this transaction recorded events
_TO_SEAL = "campus_audit_to_seal"  # Session.info: they were committed, seal them
SEAL_BATCH = 1000
SEAL_INTERVAL = 0.05  # seconds: under load, a process seals at most this often
_FIELDS = ("at", "actor", "action", "object_type", "object_id", "details")
# Its id is the database's (autoincrement): the INSERT names the other columns only.
_INSERT_PENDING = prepare(
    insert(PendingAuditEvent.__table__).values({name: bindparam(name) for name in _FIELDS})
)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Append an event in the caller's transaction; it lands with the action or not at all."""
    write(session, _INSERT_PENDING, _pending(actor, action, object_type, object_id, details))
    session.info[_RECORDED] = True


def record_many(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """`record` for several events (each a dict of `record`'s keyword arguments), in one
    statement: for actions taken as a batch (registrations)."""
    if events:
        write(session, _INSERT_PENDING, [_pending(**event) for event in events])
        session.info[_RECORDED] = True


def _pending(
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    details = dict(details or {})
    leaked = FORBIDDEN_DETAIL_KEYS.intersection(details)
    if leaked:
        raise ValueError(f"audit details may not hold {sorted(leaked)}")
    return {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "details": details,
    }


def _lock_chain(connection: Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    elif dialect == "sqlite":
        # A write statement, even one touching no row, takes SQLite's single writer lock.
        connection.execute(text("UPDATE audit_events SET seq = seq WHERE 1 = 0"))


def seal(connection: Connection) -> int:
    """Move the pending events into the chain, in id order; returns how many were sealed.

    Runs inside the caller's transaction on `connection`, which it locks for the chain.
    """
    _lock_chain(connection)
    last = connection.execute(_LAST_SEALED).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    sealed = 0
    while True:
        # Taken and removed in one statement; only committed events are visible to it.
        rows = sorted(connection.execute(_TAKE_PENDING, {"batch": SEAL_BATCH}).all())
        if not rows:
            return sealed
        chained = []
        for row in rows:
            seq += 1
            fields = {name: getattr(row, name) for name in _FIELDS}
            digest = event_hash(seq=seq, prev_hash=prev_hash, **fields)
            chained.append({"seq": seq, "prev_hash": prev_hash, "hash": digest, **fields})
            prev_hash = digest
        connection.execute(_INSERT_SEALED, chained)
        sealed += len(rows)


_PENDING = PendingAuditEvent.__table__
_LAST_SEALED = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_TAKE_PENDING = (
    delete(_PENDING)
    .where(
        _PENDING.c.id.in_(
            select(_PENDING.c.id)
            .order_by(_PENDING.c.id)
            .limit(bindparam("batch"))
            .scalar_subquery()
        )
    )
    .returning(_PENDING.c.id, *(_PENDING.c[name] for name in _FIELDS))
)
_INSERT_SEALED = insert(AuditEvent.__table__)


def seal_pending(session: Session) -> int:
    """Seal whatever is pending, in a transaction of its own."""
    return _seal_on(session.get_bind())


def _seal_on(engine: Engine) -> int:
    with engine.connect() as connection, connection.begin():
        return seal(connection)


class _Sealer:
    """Seals one engine's pending events for this process: at once after a commit when no
    seal ran in the last `SEAL_INTERVAL`, else from a background thread at the end of it."""

    IDLE_EXIT = 30.0  # seconds without work before the thread ends (it restarts on demand)

    def __init__(self, engine: Engine):
        self._engine = weakref.ref(engine)
        self._lock = threading.Lock()  # one seal at a time in this process
        self._wake = threading.Condition()
        self._wanted = False
        self._thread: threading.Thread | None = None
        self.last = float("-inf")  # monotonic time the last seal ended
        self.seals = 0

    def committed(self) -> None:
        """Events were committed: seal them now, or have the thread seal them soon."""
        if time.monotonic() - self.last >= SEAL_INTERVAL and self._lock.acquire(blocking=False):
            try:
                self._seal()
            finally:
                self._lock.release()
            return
        with self._wake:
            self._wanted = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="campus-audit-sealer", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def flush(self) -> None:
        """Seal now if a seal is owed (at process exit)."""
        if self._wanted:
            with self._lock:
                self._wanted = False
                self._seal()

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._wanted and not self._wake.wait_for(
                    lambda: self._wanted, timeout=self.IDLE_EXIT
                ):
                    self._thread = None
                    return
            time.sleep(max(0.0, self.last + SEAL_INTERVAL - time.monotonic()))
            with self._lock:
                # Cleared before sealing: a commit that asks after this point is either
                # sealed by this seal or wakes the thread again.
                with self._wake:
                    self._wanted = False
                if self._engine() is None:
                    return
                self._seal()

    def _seal(self) -> None:
        engine = self._engine()
        if engine is None:
            return
        try:
            _seal_on(engine)
            self.seals += 1
        except Exception as error:  # the actions are committed; their events wait, durably
            log.warning("audit events stay pending until the next seal (%s)", type(error).__name__)
        finally:
            self.last = time.monotonic()


_sealers: weakref.WeakKeyDictionary[Engine, _Sealer] = weakref.WeakKeyDictionary()
_sealers_lock = threading.Lock()


def sealer_for(engine: Engine) -> _Sealer:
    with _sealers_lock:
        found = _sealers.get(engine)
        if found is None:
            found = _sealers[engine] = _Sealer(engine)
        return found


@atexit.register
def _flush_at_exit() -> None:
    for one in list(_sealers.values()):
        one.flush()  # a failed seal is logged; its events stay pending, durably


# A forked child starts with no sealer threads: forget the parent's.
os.register_at_fork(after_in_child=_sealers.clear)


@listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction() and session.info.pop(_RECORDED, False):
        session.info[_TO_SEAL] = True


@listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_RECORDED, None)


@listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    # Fired once the transaction's connection went back to the pool: seal on a fresh one.
    if transaction.parent is not None or not session.info.pop(_TO_SEAL, False):
        return
    sealer_for(session.get_bind()).committed()


@dataclass
class Verification:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 5000) -> Verification:
    """Seal what is pending, then walk the chain in order and report the first broken link."""
    seal_pending(session)
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return Verification(
                    False, checked, expected_seq, f"event {expected_seq} is missing"
                )
            if event.prev_hash != expected_prev:
                return Verification(False, checked, event.seq, "previous-hash link does not match")
            recomputed = event_hash(
                seq=event.seq,
                at=event.at,
                actor=event.actor,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                details=event.details,
                prev_hash=event.prev_hash,
            )
            if recomputed != event.hash:
                return Verification(False, checked, event.seq, "event content was modified")
            expected_prev, expected_seq = event.hash, event.seq + 1
            checked += 1
        last_seq = rows[-1].seq
    return Verification(True, checked)


def recent(
    session: Session, *, limit: int = 50, before: int | None = None, action: str | None = None
) -> list[AuditEvent]:
    """The latest events of the chain, newest first (pending ones are sealed first)."""
    seal_pending(session)
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(min(limit, 500))
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))


def page(
    session: Session, *, limit: int = 100, before: int | None = None, action: str | None = None
) -> dict[str, Any]:
    """What the audit page and its twin show: the latest events (`before` a sequence number,
    of one action when asked), where the next older page starts, and the chain's length."""
    rows = recent(session, limit=limit, before=before, action=action)
    return {
        "events": [{**as_dict(e), "at": e.at.astimezone(dt.UTC)} for e in rows],
        "next_before": rows[-1].seq if rows else None,
        "total": count(session),
    }


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def as_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
