"""Leased queues (analysis jobs, scheduled pulls): who holds a lease, and how a worker claims
the next row."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session


def holder_name() -> str:
    """This process and thread, as `host:pid:thread` (unique among live workers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


@dataclass(frozen=True)
class Claim:
    """A row this worker now holds: its id, the status it had, and the attempt it starts."""

    id: Any
    was: str
    attempt: int


def claim_oldest(
    session: Session,
    model: Any,
    *,
    order_by: Any,
    max_attempts: Any,
    now: dt.datetime,
    values: dict[str, Any],
) -> Claim | None:
    """Take the oldest runnable row of a leased queue (`model` has `id`, `status`,
    `attempts`, `lease_until`): queued, or running with a lease expired before its last
    attempt. The update is conditional on the status and attempts read, so of two workers
    that read the same row one takes it and the other tries the next (on PostgreSQL, rows
    another worker has locked are skipped). Sets status running, the next attempt, `values`."""
    runnable = or_(
        model.status == "queued",
        and_(
            model.status == "running",
            model.lease_until < now,
            model.attempts < max_attempts,
        ),
    )
    query = select(model.id, model.status, model.attempts).where(runnable).order_by(order_by)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for row_id, status, attempts in session.execute(query.limit(5)).all():
        claimed = session.execute(
            update(model)
            .where(model.id == row_id, model.status == status, model.attempts == attempts)
            .values(status="running", attempts=attempts + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:
            return Claim(row_id, status, attempts + 1)
    return None
