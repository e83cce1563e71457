"""The rules of events, apart from how they are stored: who sees and manages an event, who may
attend it, when it takes registrations, how a seat or a waitlist place is decided and where a
newcomer joins the queue. No SQL here: the plain path (`registration.register_many_plain`,
ORM) and the fast path (`fastpath.register_many`, prepared statements) both decide with
these functions, and a test checks that they agree.

An event is read through `EventFields`: an ORM `Event` and a Core row of the events table
both have these attributes, so the rules take either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.ecosystem.events.models import Audience, EventStatus, RegistrationStatus
from campus.errors import Conflict, Forbidden, NotFound
from campus.i18n import N_

MEMBER_ROLES = (Role.MEMBER, Role.ORG_ADMIN, Role.STAFF)
# A newcomer decided after one who asked later queues just behind the queue's end.
TICK = dt.timedelta(microseconds=1)


class EventFields(Protocol):
    """What the rules read of an event (an `Event`, or a row of its table)."""

    id: str
    status: str
    audience: str
    ends_at: dt.datetime
    capacity: int | None
    online_url: str


def is_member(actor: Actor) -> bool:
    """Members-only events are for accounts holding a member, org admin or staff role."""
    return any(actor.has_any_grant_of(role) for role in MEMBER_ROLES)


def can_manage(actor: Actor) -> bool:
    return actor.is_staff


def may_attend_audience(actor: Actor, audience: str) -> bool:
    """Whether the actor is in an audience: anyone for a public event; members, org admins
    and staff (`is_member`) for a members-only one. Pages decide from their data's
    `audience`, without the event."""
    return audience != Audience.MEMBERS or is_member(actor)


def may_attend(actor: Actor, event: EventFields) -> bool:
    """Whether the actor is in the event's audience (`may_attend_audience`)."""
    return may_attend_audience(actor, event.audience)


def online_url_for(actor: Actor, event: EventFields) -> str:
    """The event's online link as the actor may see it: only those who may attend get it, so a
    members-only event's link is never shown to visitors (pages, API and calendar files)."""
    return event.online_url if may_attend(actor, event) else ""


def visible_to(actor: Actor, event: EventFields) -> bool:
    """Drafts are for staff; members-only events are shown to all, registration is checked."""
    if can_manage(actor):
        return True
    return event.status != EventStatus.DRAFT


def require_manager(actor: Actor) -> None:
    if not can_manage(actor):
        raise Forbidden(N_("only campus staff manage events"), code="forbidden")


def require_open(event: EventFields, actor: Actor, now: dt.datetime) -> None:
    """Refuse a registration to an event that does not take one from this actor now."""
    if event.status == EventStatus.CANCELLED:
        raise Conflict(N_("this event is cancelled"), code="event_cancelled")
    if event.status != EventStatus.PUBLISHED:
        raise Conflict(N_("this event is not open for registration"), code="not_published")
    if event.ends_at <= now:
        raise Conflict(N_("this event has already ended"), code="event_ended")
    if not may_attend(actor, event):
        raise Forbidden(N_("this event is for campus members only"), code="members_only")


def require_registrable(
    event: EventFields | None,
    actor: Actor,
    event_id: str,
    existing_status: str | None,
    at: dt.datetime,
) -> EventFields:
    """Every refusal of one registration request, in the order both paths apply them."""
    if event is None or not visible_to(actor, event):
        raise NotFound(N_("no such event"), code="not_found", where=event_id)
    require_open(event, actor, at)
    if existing_status is not None and existing_status != RegistrationStatus.CANCELLED:
        raise Conflict(N_("you are already registered to this event"), code="already_registered")
    return event


@dataclass(frozen=True)
class RegistrationRequest:
    """One account asking for a seat: `at`, when it asked, is its place in the queue."""

    actor: Actor
    event_id: str
    at: dt.datetime


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


@dataclass(frozen=True)
class Decision:
    """Where one request lands: its status, its waitlist place (None with a seat) and its
    time in the queue."""

    status: str
    place: int | None
    queued_at: dt.datetime


def decide(
    capacity: int | None,
    registered: int,
    waitlisted: int,
    tail: dt.datetime | None,
    asked: dt.datetime,
) -> Decision:
    """A seat while one is free, else the waitlist's next place; the newcomer queues at the
    time it asked, or just after the queue's end when a later asker was decided before it (a
    place is then the number waitlisted before it plus one, known without counting)."""
    queued_at = asked if tail is None or asked > tail else tail + TICK
    if capacity is not None and registered >= capacity:
        return Decision(RegistrationStatus.WAITLISTED, waitlisted + 1, queued_at)
    return Decision(RegistrationStatus.REGISTERED, None, queued_at)
