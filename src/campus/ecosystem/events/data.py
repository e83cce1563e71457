"""What events' pages and their JSON twins show: one data function each, shared by the API,
the pages and other capabilities that list events (a training's sessions)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Row
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import service
from campus.ecosystem.events.models import Event, Registration
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
    """Registrations as the API shows them, with their waitlist places: given, or read in
    one statement."""
    if places is None:
        places = service.waitlist_positions(session, registrations)
    return [
        {
            "id": registration.id,
            "event_id": registration.event_id,
            "status": registration.status,
            "queued_at": registration.queued_at,
            "promoted_at": registration.promoted_at,
            "checked_in_at": registration.checked_in_at,
            "waitlist_position": places.get(registration.id),
            "ticket": service.ticket_for(settings, registration)
            if registration.status == "registered"
            else None,
        }
        for registration in registrations
    ]


def event_out(actor: Actor, event: Event | Row) -> dict:
    """An event as the API shows it to the actor: the online link only to its audience."""
    return {
        **EventOut.model_validate(event).model_dump(),
        "online_url": service.online_url_for(actor, event),
    }


def event_detail(
    session: Session, settings: Settings, actor: Actor, view: service.EventView
) -> dict:
    counted = view.seats
    return {
        **event_out(actor, view.event),
        "seats": {
            "capacity": counted.capacity,
            "registered": counted.registered,
            "waitlisted": counted.waitlisted,
            "available": counted.available,
            "full": counted.full,
        },
        "my_registration": registration_out(session, settings, view.mine),
    }


def calendar(session: Session, actor: Actor, *, past: bool = False) -> list[dict]:
    """The events page: upcoming events (or those of the past year, latest first), drafts
    included for staff, each with its seats taken and its waitlist."""
    now = utcnow()
    if past:
        events = service.list_events(
            session, actor, start=now - dt.timedelta(days=366), end=now, include_drafts=True
        )
        events.reverse()
    else:
        events = service.list_events(session, actor, start=now, include_drafts=True)
    counts = service.seats_of(session, [e.id for e in events])
    listed = []
    for event in events:
        registered, waitlisted = counts[event.id]
        capacity = event.capacity
        listed.append(
            {
                **event_out(actor, event),
                "seats": {
                    "capacity": capacity,
                    "registered": registered,
                    "waitlisted": waitlisted,
                    "available": None if capacity is None else max(0, capacity - registered),
                    "full": capacity is not None and registered >= capacity,
                },
            }
        )
    return listed
