"""Check-in at the door (staff): a signed ticket scanned or pasted, its six-character code
typed, or an attendee found by name. Each marks one registration present, once.

A short code is six characters of a keyed hash (31^6, about 887 million codes), so one typed
at random names a ticket of an event of 1,000 seats about once in 887,000 tries. Guessing is
bounded per event: after `CODE_MISSES` codes that matched nothing within `CODE_WINDOW`, the
event refuses codes (even right ones) until the window ends; the signed ticket and the name
search still work. A miss is counted on the event's row, locked, and committed before the
refusal is raised (a refusal rolls the request back), so concurrent guesses cannot overrun
the budget. About 2,900 tries a day at most: a 1,000-seat event's attendee found by guessing
once in some 300 days, and every refused code is in the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.ecosystem.events import tickets
from campus.ecosystem.events.models import EventStatus, Registration, RegistrationStatus
from campus.ecosystem.events.reading import like_pattern, locked
from campus.ecosystem.events.rules import require_manager
from campus.errors import BadRequest, Conflict, NotFound, TooManyRequests
from campus.i18n import N_
from campus.settings import Settings
from campus.text import clean_text

WRONG_EVENT = N_("this ticket is for another event")
NOT_OPEN_FOR_CHECK_IN = N_("this event is not open for check-in")
NO_REGISTRATION = N_("this ticket matches no registration")
NO_SEAT = N_("this ticket holder has no seat (waitlisted or cancelled)")
ALREADY_CHECKED_IN = N_("this ticket has already been checked in")
REPLACED_TICKET = N_(
    "this ticket was replaced: the attendee cancelled and registered again, ask for the new one"
)
NO_CODE = N_("no ticket of this event has this code")
TOO_MANY_CODES = N_(
    "too many codes that match no ticket: codes are refused for a few minutes; scan the "
    "ticket or find the attendee by name"
)
CODE_MISSES = 20
CODE_WINDOW = dt.timedelta(minutes=10)
SHARED_CODE = N_("two tickets share this code: find the attendee by name")
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
    NO_CODE,
    SHARED_CODE,
    TOO_MANY_CODES,
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


def code_for(settings: Settings, registration: Registration) -> str:
    return tickets.short_code(
        settings, registration_id=registration.id, queued_at=registration.queued_at
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
    """Mark the attendee of a signed ticket, or of its six-character code, present."""
    require_manager(actor)
    if tickets.looks_like_code(token):
        return _check_in_code(session, settings, actor, event_id, token, now=now)
    ticket_event, registration_id, issued = tickets.read_ticket(settings, token)
    if ticket_event != event_id:
        raise Conflict(WRONG_EVENT, code="wrong_event", where="token")
    return _mark(session, actor, event_id, registration_id, now=now, issued=issued)


def _check_in_code(
    session: Session,
    settings: Settings,
    actor: Actor,
    event_id: str,
    typed: str,
    *,
    now: dt.datetime | None,
) -> Registration:
    """The seated registration whose code is `typed`, marked present; a code matching none
    counts against the event's budget of misses (see the module's docstring)."""
    now = now or utcnow()
    event = locked(session, event_id)  # the budget is decided under the row's lock
    if event.code_misses_since is None or now - event.code_misses_since >= CODE_WINDOW:
        event.code_misses, event.code_misses_since = 0, now
    if event.code_misses >= CODE_MISSES:
        raise TooManyRequests(TOO_MANY_CODES, code="throttled", where="token")
    code = tickets.normal_code(typed)
    seated = session.execute(
        select(Registration.id, Registration.queued_at).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.REGISTERED,
        )
    ).all()
    found = [
        registration_id
        for registration_id, queued_at in seated
        if tickets.short_code(settings, registration_id=registration_id, queued_at=queued_at)
        == code
    ]
    if not found:
        event.code_misses += 1
        audit.record(
            session,
            actor=actor.label,
            action="event.checkin_code_missed",
            object_type="event",
            object_id=event.id,
            details={"misses": event.code_misses},
        )
        session.commit()  # the miss counts though the refusal rolls the request back
        raise NotFound(NO_CODE, code="unknown_code", where="token")
    if len(found) > 1:
        raise Conflict(SHARED_CODE, code="shared_code", where="token")
    return _mark(session, actor, event_id, found[0], now=now)


def check_in_registration(
    session: Session,
    actor: Actor,
    event_id: str,
    registration_id: str,
    *,
    now: dt.datetime | None = None,
) -> Registration:
    """Mark one registration present: staff found the attendee by name."""
    require_manager(actor)
    return _mark(session, actor, event_id, registration_id, now=now)


def _mark(
    session: Session,
    actor: Actor,
    event_id: str,
    registration_id: str,
    *,
    now: dt.datetime | None,
    issued: int | None = None,
) -> Registration:
    event = locked(session, event_id)
    if event.status != EventStatus.PUBLISHED:
        raise Conflict(NOT_OPEN_FOR_CHECK_IN, code="not_published")
    registration = session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound(NO_REGISTRATION, code="not_registered")
    if registration.status != RegistrationStatus.REGISTERED:
        raise Conflict(NO_SEAT, code="no_seat")
    if issued is not None and tickets.issue_stamp(registration.queued_at) != issued:
        raise Conflict(REPLACED_TICKET, code="replaced_ticket", where="token")
    if registration.checked_in_at is not None:
        raise Conflict(ALREADY_CHECKED_IN, code="already_checked_in")
    registration.checked_in_at = now or utcnow()
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


def attendees_named(session: Session, actor: Actor, event_id: str, text: str) -> list[dict]:
    """The seated attendees whose name holds `text` (two characters at least), for staff at
    the door: registration id, name, and when they checked in."""
    require_manager(actor)
    wanted = clean_text(text, "q", max_length=100, one_line=True).lower()
    if len(wanted) < 2:
        raise BadRequest(N_("type two letters of the name at least"), code="too_short", where="q")
    pattern = like_pattern(wanted)
    rows = session.execute(
        select(Registration.id, Account.name, Registration.checked_in_at)
        .join(Account, Account.id == Registration.account_id)
        .where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.REGISTERED,
            func.lower(Account.name).like(pattern),
        )
        .order_by(Account.name, Registration.id)
        .limit(20)
    ).all()
    return [
        {"registration_id": rid, "name": name, "checked_in_at": checked}
        for rid, name, checked in rows
    ]


def attendee_name(session: Session, registration_id: str) -> str:
    registration = session.get(Registration, registration_id)
    account = session.get(Account, registration.account_id) if registration else None
    return account.name if account else ""
