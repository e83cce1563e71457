"""Events: create, publish, cancel; registration with capacity and waitlist; check-in; stats.

No overbooking: a registration, a cancellation, a promotion, a check-in and a capacity change
lock the event row (`SELECT ... FOR UPDATE`; on SQLite, the database's write lock: see
db.engine) before reading its seats, so concurrent registrations queue on the lock and each
sees the seats the previous ones took. The seats are counts kept on the event row
(`registered_count`, `waitlisted_count`, `checked_in_count`) by each of those changes, in the
same transaction: reading them costs the same with 10 or 10,000 registrations.
`recount_seats` rebuilds them from the registrations (after a bulk load, or a repair).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from campus import i18n
from campus.audit import service as audit
from campus.auth import mail
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.auth.roles import Role
from campus.db.base import new_id, utcnow
from campus.db.engine import read, write
from campus.db.prepared import Prepared, prepare
from campus.ecosystem.events import tickets
from campus.ecosystem.events.models import (
    Audience,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from campus.ecosystem.events.validation import CleanEvent, EventInput, clean_event
from campus.errors import (
    BadRequest,
    CampusError,
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
)
from campus.i18n import N_
from campus.settings import Settings
from campus.text import PARIS, one_line

log = logging.getLogger("campus.events")

MEMBER_ROLES = (Role.MEMBER, Role.ORG_ADMIN, Role.STAFF)


def is_member(actor: Actor) -> bool:
    """Members-only events are for accounts holding a member, org admin or staff role."""
    return any(actor.has_any_grant_of(role) for role in MEMBER_ROLES)


def can_manage(actor: Actor) -> bool:
    return actor.is_staff


def may_attend(actor: Actor, event: Event | Row) -> bool:
    """Whether the actor is in the event's audience: anyone for a public event; members, org
    admins and staff (`is_member`) for a members-only one."""
    return event.audience != Audience.MEMBERS or is_member(actor)


def online_url_for(actor: Actor, event: Event | Row) -> str:
    """The event's online link as the actor may see it: only those who may attend get it, so a
    members-only event's link is never shown to visitors (pages, API and calendar files)."""
    return event.online_url if may_attend(actor, event) else ""


# --- reading --------------------------------------------------------------------------------


def visible_to(actor: Actor, event: Event | Row) -> bool:
    """Drafts are for staff; members-only events are shown to all, registration is checked."""
    if can_manage(actor):
        return True
    return event.status != EventStatus.DRAFT


def get_event(session: Session, actor: Actor, event_id: str) -> Event:
    event = session.get(Event, event_id)
    if event is None or not visible_to(actor, event):
        raise NotFound(N_("no such event"), code="not_found", where=event_id)
    return event


def list_events(
    session: Session,
    actor: Actor,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    include_drafts: bool = False,
    training_id: str | None = None,
    audience: str | None = None,
    limit: int = 200,
) -> list[Event]:
    """Published and cancelled events by start time (members-only ones are listed to all, only
    members may register); drafts only for staff who ask."""
    query = select(Event).order_by(Event.starts_at, Event.id)
    statuses = [EventStatus.PUBLISHED, EventStatus.CANCELLED]
    if include_drafts and can_manage(actor):
        statuses.append(EventStatus.DRAFT)
    query = query.where(Event.status.in_(statuses))
    if audience is not None:
        query = query.where(Event.audience == audience)
    if start is not None:
        query = query.where(Event.ends_at >= start)
    if end is not None:
        query = query.where(Event.starts_at < end)
    if training_id is not None:
        query = query.where(Event.training_id == training_id)
    return list(session.scalars(query.limit(max(1, min(limit, 1000)))))


@dataclass(frozen=True)
class Seats:
    capacity: int | None
    registered: int
    waitlisted: int
    checked_in: int

    @property
    def available(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.registered)

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.registered >= self.capacity


def seats(session: Session, event: Event | Row) -> Seats:
    """The event's seats, as its row holds them (read it locked to decide on them)."""
    return Seats(
        capacity=event.capacity,
        registered=event.registered_count,
        waitlisted=event.waitlisted_count,
        checked_in=event.checked_in_count,
    )


def recount_seats(session: Session, event_ids: Sequence[str] | None = None) -> int:
    """Rebuild the seat counts and the queue's end of events (all when `event_ids` is None)
    from their registrations; returns the number of events updated. For a bulk load that
    inserted registrations directly, or a repair after a change made outside the service."""
    registrations = Registration.__table__.alias("r")

    def counted(*where: Any) -> Any:
        return (
            select(func.count())
            .select_from(registrations)
            .where(registrations.c.event_id == _EVENT.id, *where)
            .scalar_subquery()
        )

    statement = update(Event.__table__).values(
        registered_count=counted(registrations.c.status == RegistrationStatus.REGISTERED),
        waitlisted_count=counted(registrations.c.status == RegistrationStatus.WAITLISTED),
        checked_in_count=counted(
            registrations.c.status == RegistrationStatus.REGISTERED,
            registrations.c.checked_in_at.is_not(None),
        ),
        queue_tail=select(func.max(registrations.c.queued_at))
        .where(registrations.c.event_id == _EVENT.id)
        .scalar_subquery(),
    )
    if event_ids is not None:
        statement = statement.where(_EVENT.id.in_(list(event_ids)))
    updated = write(session, statement).rowcount or 0
    for loaded in list(session.identity_map.values()):  # their counts reload when next read
        if isinstance(loaded, Event):
            session.expire(loaded, _SEAT_FIELDS)
    return updated


_SEAT_FIELDS = ["registered_count", "waitlisted_count", "checked_in_count", "queue_tail"]


@dataclass(frozen=True)
class EventView:
    """An event as its page shows it, read in one statement: the event's columns (a row
    read by attribute, like an `Event`), its seats, and the actor's registration."""

    event: Row
    seats: Seats
    mine: Registration | None


_EVENT = Event.__table__.c
_REGISTRATION = Registration.__table__.c


def _mine(event_id: Any) -> Any:
    """The id of the `account_id` parameter's registration to the event, a scalar subquery."""
    return (
        select(_REGISTRATION.id)
        .where(
            _REGISTRATION.event_id == event_id,
            _REGISTRATION.account_id == bindparam("account_id"),
        )
        .scalar_subquery()
    )


_EVENT_VIEW = prepare(
    select(*Event.__table__.c, _mine(_EVENT.id).label("mine_id")).where(
        _EVENT.id == bindparam("event_id")
    )
)


def view_event(session: Session, actor: Actor, event_id: str) -> EventView:
    """The event, its seats and the actor's registration (one round trip, then one more only
    when the actor holds a registration)."""
    row = read(
        session, _EVENT_VIEW, {"event_id": event_id, "account_id": actor.account_id or ""}
    ).first()
    if row is None or not visible_to(actor, row):
        raise NotFound(N_("no such event"), code="not_found", where=event_id)
    mine = session.get(Registration, row.mine_id) if row.mine_id else None
    return EventView(row, seats(session, row), mine)


def seats_of(session: Session, event_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(registered, waitlisted) for many events in one query, for list pages."""
    if not event_ids:
        return {}
    rows = session.execute(
        select(_EVENT.id, _EVENT.registered_count, _EVENT.waitlisted_count).where(
            _EVENT.id.in_(list(event_ids))
        )
    ).all()
    found = {event_id: (registered, waitlisted) for event_id, registered, waitlisted in rows}
    return {event_id: found.get(event_id, (0, 0)) for event_id in event_ids}


def registration_of(session: Session, event_id: str, account_id: str | None) -> Registration | None:
    if not account_id:
        return None
    return session.scalar(
        select(Registration).where(
            Registration.event_id == event_id, Registration.account_id == account_id
        )
    )


def waitlist_position(session: Session, registration: Registration) -> int | None:
    """1 for the first in the queue; None when not waitlisted."""
    return waitlist_positions(session, [registration]).get(registration.id)


def waitlist_positions(session: Session, registrations: Sequence[Registration]) -> dict[str, int]:
    """The place in its event's queue (1 for the first) of each waitlisted registration given,
    by id, in one statement: the order is `queued_at`, then id."""
    waiting = sorted({r.id for r in registrations if r.status == RegistrationStatus.WAITLISTED})
    if not waiting:
        return {}
    rows = read(session, _places_in_queue(len(waiting)), _values("r", waiting))
    return {row.id: int(row.ahead or 0) + 1 for row in rows}


@lru_cache(maxsize=64)
def _places_in_queue(count: int) -> Prepared:
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
        select(mine.c.id, in_front.label("ahead")).where(mine.c.id.in_(_binds("r", count)))
    )


def my_registrations(session: Session, account_id: str) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .join(Event)
            .where(Registration.account_id == account_id)
            .order_by(Event.starts_at)
        )
    )


# --- staff: create, edit, publish, cancel ------------------------------------------------------


def _check_training(session: Session, training_id: str | None) -> None:
    if training_id is None:
        return
    from campus.ecosystem.trainings.models import Training

    if session.get(Training, training_id) is None:
        raise BadRequest(N_("no such training"), code="not_found", where="training_id")


def _apply(event: Event, clean: CleanEvent) -> None:
    event.title = clean.title
    event.description = clean.description
    event.starts_at = clean.starts_at
    event.ends_at = clean.ends_at
    event.room = clean.room
    event.online_url = clean.online_url
    event.capacity = clean.capacity
    event.audience = clean.audience
    event.training_id = clean.training_id


def create_event(
    session: Session, actor: Actor, data: EventInput, *, now: dt.datetime | None = None
) -> Event:
    """A draft event; staff publish it when ready."""
    if not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")
    clean = clean_event(data, now=now or utcnow())
    _check_training(session, clean.training_id)
    event = Event(status=EventStatus.DRAFT, created_by=actor.label, sequence=0)
    _apply(event, clean)
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="event.created",
        object_type="event",
        object_id=event.id,
        details={"capacity": event.capacity, "audience": event.audience},
    )
    return event


def _locked(session: Session, event_id: str) -> Event:
    """The event row, locked until the transaction ends (PostgreSQL); re-read from the base."""
    event = session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound(N_("no such event"), code="not_found", where=event_id)
    return event


def update_event(
    session: Session,
    settings: Settings,
    actor: Actor,
    event_id: str,
    data: EventInput,
    *,
    now: dt.datetime | None = None,
) -> Event:
    """Change an event that has not ended; more seats promote the waitlist, fewer are refused
    below the seats already taken. An ended event is refused whole: its record stays as it
    happened, and nobody is promoted to (or mailed about) a seat in the past."""
    if not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")
    now = now or utcnow()
    event = _locked(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise Conflict(N_("this event is cancelled"), code="event_cancelled")
    if event.ends_at <= now:
        raise Conflict(
            N_("this event has already ended: it can no longer be changed"), code="event_ended"
        )
    moved = parse_changed_start(event, data)
    clean = clean_event(data, now=now, check_future=moved)
    _check_training(session, clean.training_id)
    taken = seats(session, event).registered
    if clean.capacity is not None and clean.capacity < taken:
        raise Conflict(
            N_("capacity cannot go below the seats already taken"),
            code="capacity_below_registered",
            where="capacity",
        )
    _apply(event, clean)
    event.sequence += 1
    session.flush()
    promoted = _promote(session, settings, event)
    audit.record(
        session,
        actor=actor.label,
        action="event.updated",
        object_type="event",
        object_id=event.id,
        details={"capacity": event.capacity, "promoted": promoted},
    )
    return event


def parse_changed_start(event: Event, data: EventInput) -> bool:
    """Whether the submitted start differs from the stored one (only then must it be future)."""
    from campus.text import parse_when

    try:
        return parse_when(data.starts_at, "starts_at") != event.starts_at
    except BadRequest:
        return True


def publish_event(session: Session, actor: Actor, event_id: str) -> Event:
    if not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")
    event = _locked(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise Conflict(N_("this event is cancelled"), code="event_cancelled")
    if event.status == EventStatus.PUBLISHED:
        return event
    if event.ends_at <= utcnow():
        raise Conflict(N_("this event has already ended"), code="event_ended")
    event.status = EventStatus.PUBLISHED
    event.published_at = utcnow()
    audit.record(
        session,
        actor=actor.label,
        action="event.published",
        object_type="event",
        object_id=event.id,
    )
    return event


def cancel_event(session: Session, settings: Settings, actor: Actor, event_id: str) -> Event:
    """Cancel an event and tell everyone registered or waitlisted."""
    if not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")
    event = _locked(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise Conflict(N_("this event is already cancelled"), code="event_cancelled")
    event.status = EventStatus.CANCELLED
    event.cancelled_at = utcnow()
    event.sequence += 1
    notified = 0
    for registration in session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED]),
        )
    ):
        _notify(
            session,
            settings,
            registration.account_id,
            N_("Event cancelled: {title}"),
            N_("The event {title} planned on {when} is cancelled. We are sorry."),
            event,
        )
        notified += 1
    audit.record(
        session,
        actor=actor.label,
        action="event.cancelled",
        object_type="event",
        object_id=event.id,
        details={"notified": notified},
    )
    return event


# --- registration ------------------------------------------------------------------------------


def _require_open(event: Event | Row, actor: Actor, now: dt.datetime) -> None:
    if event.status == EventStatus.CANCELLED:
        raise Conflict(N_("this event is cancelled"), code="event_cancelled")
    if event.status != EventStatus.PUBLISHED:
        raise Conflict(N_("this event is not open for registration"), code="not_published")
    if event.ends_at <= now:
        raise Conflict(N_("this event has already ended"), code="event_ended")
    if not may_attend(actor, event):
        raise Forbidden(N_("this event is for campus members only"), code="members_only")


@dataclass(frozen=True)
class RegistrationRequest:
    """One account asking for a seat: `at`, when it asked, is its place in the queue."""

    actor: Actor
    event_id: str
    at: dt.datetime


def register(
    session: Session,
    settings: Settings,
    actor: Actor,
    event_id: str,
    *,
    now: dt.datetime | None = None,
) -> Registration:
    """Take a seat, or a place on the waitlist when the event is full (see `register_many`)."""
    [outcome] = register_many(session, [RegistrationRequest(actor, event_id, now or utcnow())])
    if isinstance(outcome, CampusError):
        raise outcome
    return outcome


def register_many(
    session: Session,
    requests: Sequence[RegistrationRequest],
    places: dict[str, int] | None = None,
) -> list[Registration | CampusError]:
    """Take seats (or waitlist places) for several requests in one transaction, in their
    order: for each, its registration, or the refusal that left nothing written for it.
    `places`, when given, receives the waitlist place of each registration that joined the
    queue, by registration id.

    The events' rows are locked first, in id order (so that two batches locking the same
    events queue rather than deadlock); their seat counts, read with the lock, include every
    seat taken by the transactions that held it before, and the batch adds its own as it
    goes, so an event is never overbooked. The queue is in the order of these decisions: a
    newcomer's `queued_at` comes after the queue's end (`queue_tail`), so a place is the
    number waitlisted before it plus one, known without counting. An account registered
    already (or twice in the batch) is refused; the unique (event, account) constraint backs
    this up.
    """
    outcomes: list[Registration | CampusError | None] = [None] * len(requests)
    asking = []
    for index, request in enumerate(requests):
        if request.actor.authenticated and request.actor.account_id:
            asking.append(index)
        else:
            outcomes[index] = NotAuthenticated(N_("sign in to continue"), code="not_authenticated")
    events = _locked_for_registration(session, {requests[i].event_id for i in asking})
    known = _registrations_to(
        session, sorted(events), {requests[i].actor.account_id for i in asking}
    )
    seats = {event_id: _Seats(row) for event_id, row in events.items()}
    inserted, audited = [], []
    for index in asking:
        request = requests[index]
        try:
            registration, place = _take(
                session, request, events.get(request.event_id), seats, known
            )
        except CampusError as refusal:
            outcomes[index] = refusal
            continue
        if registration in session:
            session.flush()  # taken again after a cancellation: the row is reused
        else:
            inserted.append({name: getattr(registration, name) for name in _REGISTRATION_COLUMNS})
        known[(registration.event_id, registration.account_id)] = registration
        outcomes[index] = registration
        if place is not None and places is not None:
            places[registration.id] = place
        audited.append(
            {
                "actor": request.actor.label,
                "action": "event.registered"
                if registration.status == RegistrationStatus.REGISTERED
                else "event.waitlisted",
                "object_type": "event",
                "object_id": registration.event_id,
                "details": {"registration": registration.id},
            }
        )
    if inserted:
        # First registrations (the hot path) skip the ORM's unit of work: one INSERT.
        write(session, _INSERT_REGISTRATION, inserted)
    changed = [one.values() for one in seats.values() if one.changed]
    if changed:
        write(session, _SET_SEATS, changed)
    audit.record_many(session, audited)
    return outcomes  # type: ignore[return-value]


class _Seats:
    """An event's seats and queue end while a batch decides (its row locked)."""

    __slots__ = ("changed", "id", "registered", "tail", "waitlisted")

    def __init__(self, row: Row):
        self.id = row.id
        self.registered = row.registered_count
        self.waitlisted = row.waitlisted_count
        self.tail = row.queue_tail
        self.changed = False

    def queue_time(self, asked: dt.datetime) -> dt.datetime:
        """When a newcomer asking at `asked` joins the queue: then, or just after its end
        (a request decided after another that asked later queues behind it)."""
        at = asked if self.tail is None or asked > self.tail else self.tail + _TICK
        self.tail = at
        return at

    def values(self) -> dict[str, Any]:
        return {
            "event": self.id,
            "registered": self.registered,
            "waitlisted": self.waitlisted,
            "tail": self.tail,
        }


_TICK = dt.timedelta(microseconds=1)
_REGISTRATION_COLUMNS = tuple(column.name for column in Registration.__table__.c)
# Every column named (a prepared INSERT applies no Python-side default): `_take` gives all.
_INSERT_REGISTRATION = prepare(
    insert(Registration.__table__).values({name: bindparam(name) for name in _REGISTRATION_COLUMNS})
)
# The batch's counts are absolute: it read them under the lock it still holds.
_SET_SEATS = prepare(
    update(Event.__table__)
    .where(_EVENT.id == bindparam("event"))
    .values(
        registered_count=bindparam("registered"),
        waitlisted_count=bindparam("waitlisted"),
        queue_tail=bindparam("tail"),
    )
)


def _binds(prefix: str, count: int) -> list[Any]:
    return [bindparam(f"{prefix}{n}") for n in range(count)]


def _values(prefix: str, values: Sequence[str]) -> dict[str, str]:
    return {f"{prefix}{n}": value for n, value in enumerate(values)}


# The statements of a batch, prepared once for each number of events (e0, e1...) and of
# accounts (a0, a1...) they name.
@lru_cache(maxsize=64)
def _lock_events(count: int) -> Prepared:
    return prepare(
        select(
            _EVENT.id,
            _EVENT.status,
            _EVENT.ends_at,
            _EVENT.audience,
            _EVENT.capacity,
            _EVENT.registered_count,
            _EVENT.waitlisted_count,
            _EVENT.queue_tail,
        )
        .where(_EVENT.id.in_(_binds("e", count)))
        .order_by(_EVENT.id)
        .with_for_update()
    )


@lru_cache(maxsize=256)
def _registrations_of(events: int, accounts: int) -> Prepared:
    return prepare(
        select(
            _REGISTRATION.id, _REGISTRATION.event_id, _REGISTRATION.account_id, _REGISTRATION.status
        ).where(
            _REGISTRATION.event_id.in_(_binds("e", events)),
            _REGISTRATION.account_id.in_(_binds("a", accounts)),
        )
    )


def _locked_for_registration(session: Session, event_ids: set[str]) -> dict[str, Row]:
    """The events' registration fields and seats, their rows locked in id order until the
    transaction ends (on SQLite, the whole database's write lock)."""
    if not event_ids:
        return {}
    ordered = sorted(event_ids)
    # A locking read waits for other writers: it goes through `write`, never on the loop.
    rows = write(session, _lock_events(len(ordered)), _values("e", ordered))
    return {row.id: row for row in rows}


def _registrations_to(
    session: Session, event_ids: list[str], account_ids: set[str]
) -> dict[tuple[str, str], Any]:
    """The accounts' registrations to the events (any status), by (event, account)."""
    if not event_ids:
        return {}
    accounts = sorted(account_ids)
    known = read(
        session,
        _registrations_of(len(event_ids), len(accounts)),
        {**_values("e", event_ids), **_values("a", accounts)},
    )
    return {(row.event_id, row.account_id): row for row in known}


def _take(
    session: Session,
    request: RegistrationRequest,
    event: Row | None,
    seats: dict[str, _Seats],
    known: dict[tuple[str, str], Any],
) -> tuple[Registration, int | None]:
    """One request's registration as `register_many` decides it, and its waitlist place
    (None with a seat); the event's `seats` count it. A registration cancelled before is
    reused: loaded into the session, changed."""
    actor = request.actor
    if event is None or not visible_to(actor, event):
        raise NotFound(N_("no such event"), code="not_found", where=request.event_id)
    _require_open(event, actor, request.at)
    existing = known.get((event.id, actor.account_id))
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        raise Conflict(N_("you are already registered to this event"), code="already_registered")
    counted = seats[event.id]
    full = event.capacity is not None and counted.registered >= event.capacity
    place = None
    if full:
        status = RegistrationStatus.WAITLISTED
        counted.waitlisted += 1
        place = counted.waitlisted
    else:
        status = RegistrationStatus.REGISTERED
        counted.registered += 1
    counted.changed = True
    queued_at = counted.queue_time(request.at)
    if existing is not None:
        reused = session.get(Registration, existing.id)
        assert reused is not None  # its event's row is locked: it cannot have been deleted
        reused.status = status
        reused.queued_at = queued_at
        reused.cancelled_at = None
        reused.promoted_at = None
        return reused, place
    registration = Registration(  # as it will be stored; not attached to the session
        id=new_id(),
        event_id=event.id,
        account_id=actor.account_id,
        status=status,
        queued_at=queued_at,
        created_at=request.at,
        promoted_at=None,
        cancelled_at=None,
        checked_in_at=None,
        checked_in_by="",
    )
    return registration, place


def cancel_registration(
    session: Session,
    settings: Settings,
    actor: Actor,
    event_id: str,
    *,
    account_id: str | None = None,
    now: dt.datetime | None = None,
) -> Registration:
    """Give up one's seat or waitlist place; the first waitlisted then takes a freed seat.

    Staff may cancel another account's registration by giving `account_id`.
    """
    if not actor.authenticated:
        raise NotAuthenticated(N_("sign in to continue"), code="not_authenticated")
    target = account_id or actor.account_id
    if target != actor.account_id and not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")
    now = now or utcnow()
    event = _locked(session, event_id)
    registration = registration_of(session, event.id, target)
    if registration is None or registration.status == RegistrationStatus.CANCELLED:
        raise NotFound(N_("there is no registration to cancel"), code="not_registered")
    if event.ends_at <= now:
        raise Conflict(N_("this event has already ended"), code="event_ended")
    if registration.checked_in_at is not None:
        raise Conflict(N_("this attendee has already checked in"), code="already_checked_in")
    if registration.status == RegistrationStatus.REGISTERED:
        event.registered_count -= 1
    else:
        event.waitlisted_count -= 1
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    session.flush()
    promoted = 0 if event.status == EventStatus.CANCELLED else _promote(session, settings, event)
    audit.record(
        session,
        actor=actor.label,
        action="event.registration_cancelled",
        object_type="event",
        object_id=event.id,
        details={"registration": registration.id, "promoted": promoted},
    )
    return registration


def _promote(session: Session, settings: Settings, event: Event) -> int:
    """Move the first waitlisted into free seats (the event row is locked); tell them by mail."""
    if event.status != EventStatus.PUBLISHED:
        return 0
    free = seats(session, event).available
    queue = (
        select(Registration)
        .where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITLISTED
        )
        .order_by(Registration.queued_at, Registration.id)
    )
    if free is not None:
        queue = queue.limit(free)
    promoted = 0
    for registration in session.scalars(queue).all():
        registration.status = RegistrationStatus.REGISTERED
        registration.promoted_at = utcnow()
        event.waitlisted_count -= 1
        event.registered_count += 1
        _notify(
            session,
            settings,
            registration.account_id,
            N_("A seat is yours: {title}"),
            N_("A seat freed up at {title} on {when}: you are now registered."),
            event,
        )
        promoted += 1
    session.flush()
    return promoted


def _notify(
    session: Session, settings: Settings, account_id: str, subject: str, body: str, event: Event
) -> None:
    """Mail one account in its own language; the text names the event, never other people."""
    account = session.get(Account, account_id)
    if account is None or not account.active:
        return
    token = i18n.current_language.set(
        account.language if account.language in i18n.LANGUAGES else "fr"
    )
    try:
        when = event.starts_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
        link = f"{settings.base_url.rstrip('/')}/events/{event.id}"
        mail.queue(
            session,
            settings,
            to=account.email,
            # A mail header is one line: a title stored before titles were kept to one line
            # (or written straight to the base) must not break the subject or add headers.
            subject=one_line(i18n.gettext(subject).format(title=event.title)),
            body=i18n.gettext(body).format(title=event.title, when=when) + "\n\n" + link,
        )
    finally:
        i18n.current_language.reset(token)


# --- check-in ----------------------------------------------------------------------------------

WRONG_EVENT = N_("this ticket is for another event")
NOT_OPEN_FOR_CHECK_IN = N_("this event is not open for check-in")
NO_REGISTRATION = N_("this ticket matches no registration")
NO_SEAT = N_("this ticket holder has no seat (waitlisted or cancelled)")
ALREADY_CHECKED_IN = N_("this ticket has already been checked in")
REPLACED_TICKET = N_(
    "this ticket was replaced: the attendee cancelled and registered again, ask for the new one"
)
# Every refusal a scan may get (the API answers message ids): the scan page carries their
# translations for static/js/checkin.js.
CHECK_IN_REFUSALS = (
    tickets.INVALID_TICKET,
    WRONG_EVENT,
    NOT_OPEN_FOR_CHECK_IN,
    NO_REGISTRATION,
    NO_SEAT,
    ALREADY_CHECKED_IN,
    REPLACED_TICKET,
    N_("no such event"),
    N_("sign in to continue"),
)


def ticket_for(settings: Settings, registration: Registration) -> str:
    return tickets.ticket_token(
        settings,
        event_id=registration.event_id,
        registration_id=registration.id,
        queued_at=registration.queued_at,
    )


def check_in(
    session: Session,
    settings: Settings,
    actor: Actor,
    event_id: str,
    token: str,
    *,
    now: dt.datetime | None = None,
) -> Registration:
    """Mark the attendee of a signed ticket as present at this event (staff scan)."""
    if not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")
    now = now or utcnow()
    ticket_event, registration_id, issued = tickets.read_ticket(settings, token)
    if ticket_event != event_id:
        raise Conflict(WRONG_EVENT, code="wrong_event", where="token")
    event = _locked(session, event_id)
    if event.status != EventStatus.PUBLISHED:
        raise Conflict(NOT_OPEN_FOR_CHECK_IN, code="not_published")
    registration = session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound(NO_REGISTRATION, code="not_registered")
    if registration.status != RegistrationStatus.REGISTERED:
        raise Conflict(NO_SEAT, code="no_seat")
    if tickets.issue_stamp(registration.queued_at) != issued:
        raise Conflict(REPLACED_TICKET, code="replaced_ticket", where="token")
    if registration.checked_in_at is not None:
        raise Conflict(ALREADY_CHECKED_IN, code="already_checked_in")
    registration.checked_in_at = now
    registration.checked_in_by = actor.label
    event.checked_in_count += 1
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="event.checked_in",
        object_type="event",
        object_id=event.id,
        details={"registration": registration.id},
    )
    return registration
