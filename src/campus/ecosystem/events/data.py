"""What events' pages and their JSON twins show: one data function each, shared by the API,
the pages and other capabilities that list events (a training's sessions)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Row
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import service
from campus.ecosystem.events.models import Event, Registration, RegistrationStatus
from campus.ecosystem.events.schemas import EventOut
from campus.settings import Settings


def registration_out(
    session: Session, settings: Settings, registration: Registration | None
) -> dict | None:
    if registration is None:
        return None
    return registrations_out(session, settings, [registration])[0]


def registrations_out(
    session: Session,
    settings: Settings,
    registrations: list[Registration],
    places: dict[str, int] | None = None,
) -> list[dict]:
    """Registrations as the API shows them, with their waitlist places (given, or read in
    one statement), and for a seat its ticket and the ticket's short code."""
    if places is None:
        places = service.waitlist_positions(session, registrations)
    shown = []
    for registration in registrations:
        seated = registration.status == RegistrationStatus.REGISTERED
        shown.append(
            {
                "id": registration.id,
                "event_id": registration.event_id,
                "status": registration.status,
                "queued_at": registration.queued_at,
                "promoted_at": registration.promoted_at,
                "checked_in_at": registration.checked_in_at,
                "waitlist_position": places.get(registration.id),
                "ticket": service.ticket_for(settings, registration) if seated else None,
                "code": service.code_for(settings, registration) if seated else None,
            }
        )
    return shown


def event_out(actor: Actor, event: Event | Row) -> dict:
    """An event as the API shows it to the actor: the online link only to its audience."""
    return {
        **EventOut.model_validate(event).model_dump(),
        "online_url": service.online_url_for(actor, event),
    }


def seats_out(capacity: int | None, registered: int, waitlisted: int) -> dict:
    return {
        "capacity": capacity,
        "registered": registered,
        "waitlisted": waitlisted,
        "available": None if capacity is None else max(0, capacity - registered),
        "full": capacity is not None and registered >= capacity,
    }


def event_detail(
    session: Session, settings: Settings, actor: Actor, view: service.EventView
) -> dict:
    counted = view.seats
    return {
        **event_out(actor, view.event),
        "seats": seats_out(counted.capacity, counted.registered, counted.waitlisted),
        "my_registration": registration_out(session, settings, view.mine),
    }


def calendar(
    session: Session,
    actor: Actor,
    *,
    past: bool = False,
    filters: service.EventFilters | None = None,
    month: str = "",
) -> list[dict]:
    """The events page: upcoming events (or those of the past year, latest first; or those of
    one month, YYYY-MM, whether past or not), drafts included for staff, narrowed by
    `filters`, each with its seats taken and its waitlist."""
    now = utcnow()
    if month:
        _first, start, end = service.month_bounds(month)
        events = service.list_events(
            session, actor, start=start, end=end, include_drafts=True, filters=filters
        )
    elif past:
        events = service.list_events(
            session,
            actor,
            start=now - dt.timedelta(days=366),
            end=now,
            include_drafts=True,
            filters=filters,
        )
        events.reverse()
    else:
        events = service.list_events(
            session, actor, start=now, include_drafts=True, filters=filters
        )
    counts = service.seats_of(session, [e.id for e in events])
    listed = []
    for event in events:
        registered, waitlisted = counts[event.id]
        listed.append(
            {**event_out(actor, event), "seats": seats_out(event.capacity, registered, waitlisted)}
        )
    return listed


def my_registrations(session: Session, settings: Settings, account_id: str) -> list[dict]:
    """One's registrations, each with its event's title, times and status."""
    registrations = service.my_registrations(session, account_id)
    events = {r.event_id: session.get(Event, r.event_id) for r in registrations}
    shown = registrations_out(session, settings, registrations)
    for line in shown:
        event = events[line["event_id"]]
        assert event is not None  # a registration's event is deleted with it
        line["event"] = {
            "id": event.id,
            "title": event.title,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "status": event.status,
        }
    return shown
