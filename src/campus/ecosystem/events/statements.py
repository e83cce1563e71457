"""The events' hot statements, prepared once (campus.db.prepared): an event's page, waitlist
places, and the batch of registrations (lock the events, read the accounts' registrations,
insert, set the seats).

A statement over a list of ids is prepared once per list length, its parameters named
e0, e1... (events), a0, a1... (accounts), r0, r1... (registrations): `binds` and `values`
build both sides. Only speed lives here; what the statements decide is in `rules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from campus.db.prepared import Prepared, prepare
from campus.ecosystem.events.models import Event, Registration, RegistrationStatus

EVENT = Event.__table__.c
REGISTRATION = Registration.__table__.c
REGISTRATION_COLUMNS = tuple(column.name for column in Registration.__table__.c)


def binds(prefix: str, count: int) -> list[Any]:
    return [bindparam(f"{prefix}{n}") for n in range(count)]


def values(prefix: str, given: Sequence[str]) -> dict[str, str]:
    return {f"{prefix}{n}": value for n, value in enumerate(given)}


def _mine(event_id: Any) -> Any:
    """The id of the `account_id` parameter's registration to the event, a scalar subquery."""
    return (
        select(REGISTRATION.id)
        .where(
            REGISTRATION.event_id == event_id,
            REGISTRATION.account_id == bindparam("account_id"),
        )
        .scalar_subquery()
    )


# An event's columns and the id of the reader's registration: an event's page in one read.
EVENT_VIEW = prepare(
    select(*Event.__table__.c, _mine(EVENT.id).label("mine_id")).where(
        EVENT.id == bindparam("event_id")
    )
)


@lru_cache(maxsize=64)
def places_in_queue(count: int) -> Prepared:
    """For `count` registrations (r0...): how many of their event's waitlist are ahead."""
    mine, ahead = Registration.__table__.alias("mine"), Registration.__table__.alias("ahead")
    before = (ahead.c.queued_at < mine.c.queued_at) | (
        (ahead.c.queued_at == mine.c.queued_at) & (ahead.c.id < mine.c.id)
    )
    in_front = (
        select(func.count())
        .select_from(ahead)
        .where(
            ahead.c.event_id == mine.c.event_id,
            ahead.c.status == RegistrationStatus.WAITLISTED,
            before,
        )
        .scalar_subquery()
    )
    return prepare(
        select(mine.c.id, in_front.label("ahead")).where(mine.c.id.in_(binds("r", count)))
    )


@lru_cache(maxsize=64)
def lock_events(count: int) -> Prepared:
    """The registration fields and seats of `count` events (e0...), locked in id order."""
    return prepare(
        select(
            EVENT.id,
            EVENT.status,
            EVENT.ends_at,
            EVENT.audience,
            EVENT.capacity,
            EVENT.registered_count,
            EVENT.waitlisted_count,
            EVENT.queue_tail,
        )
        .where(EVENT.id.in_(binds("e", count)))
        .order_by(EVENT.id)
        .with_for_update()
    )


@lru_cache(maxsize=256)
def registrations_of(events: int, accounts: int) -> Prepared:
    """The registrations (any status) of `accounts` accounts (a0...) to `events` events."""
    return prepare(
        select(
            REGISTRATION.id, REGISTRATION.event_id, REGISTRATION.account_id, REGISTRATION.status
        ).where(
            REGISTRATION.event_id.in_(binds("e", events)),
            REGISTRATION.account_id.in_(binds("a", accounts)),
        )
    )


# Every column named (a prepared INSERT applies no Python-side default): the caller gives all.
INSERT_REGISTRATION = prepare(
    insert(Registration.__table__).values({name: bindparam(name) for name in REGISTRATION_COLUMNS})
)
# A batch's counts are absolute: it read them under the lock it still holds.
SET_SEATS = prepare(
    update(Event.__table__)
    .where(EVENT.id == bindparam("event"))
    .values(
        registered_count=bindparam("registered"),
        waitlisted_count=bindparam("waitlisted"),
        queue_tail=bindparam("tail"),
    )
)
