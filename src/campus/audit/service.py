"""Write and verify the audit log. Every capability records its actions through `record`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from campus.audit.chain import GENESIS, event_hash
from campus.audit.models import AuditEvent
from campus.db.base import utcnow

# Detail keys that must never reach the log: they could identify a patient or leak a secret.
FORBIDDEN_DETAIL_KEYS = frozenset(
    {"password", "token", "nir", "ins", "identifier", "name", "birth_date", "patient_id"}
)
_CHAIN_LOCK = 0x6361_6D70  # "camp": one advisory lock key for the whole chain


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction; it lands with the action or not at all."""
    details = dict(details or {})
    leaked = FORBIDDEN_DETAIL_KEYS.intersection(details)
    if leaked:
        raise ValueError(f"audit details may not hold {sorted(leaked)}")
    dialect = session.get_bind().dialect.name
    # Serialise chain writers until this transaction ends, so the chain cannot fork.
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    elif dialect == "sqlite":
        # A write statement, even one touching no row, takes SQLite's single writer lock.
        session.execute(text("UPDATE audit_events SET seq = seq WHERE 1 = 0"))
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = utcnow()
    event = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details,
        prev_hash=prev_hash,
    )
    event.hash = event_hash(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details,
        prev_hash=prev_hash,
    )
    session.add(event)
    session.flush()
    return event


@dataclass
class Verification:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 5000) -> Verification:
    """Walk the chain in order and report the first broken link."""
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
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(min(limit, 500))
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))


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
