"""Helpers of the events tests: actors and published events."""

from __future__ import annotations

import datetime as dt

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.ecosystem.events import service
from campus.ecosystem.events.validation import EventInput
from tests.helpers import CampusClient, make_account


def actor_of(db: Database, account_id: str) -> Actor:
    with db.session() as session:
        return auth.actor_for(auth.get_account(session, account_id), "session")


def staff(db: Database, email: str = "staff@campus.example") -> Actor:
    return actor_of(db, make_account(db, email, "staff"))


def member(db: Database, email: str) -> Actor:
    return actor_of(db, make_account(db, email, "member", name=email.split("@")[0]))


def event_input(**changes) -> EventInput:
    start = utcnow() + dt.timedelta(days=7)
    values = {
        "title": "Atelier FHIR",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
        "room": "Salle Pasteur",
        "capacity": 2,
        "audience": "public",
    }
    values.update(changes)
    return EventInput(**values)


def published_event(db: Database, by: Actor, **changes) -> str:
    with db.session() as session:
        event = service.create_event(session, by, event_input(**changes))
        service.publish_event(session, by, event.id)
        return event.id


def when(days: float, hours: int = 0) -> str:
    """A time `days` (and `hours`) from now, ISO 8601, as the API takes it."""
    return (utcnow() + dt.timedelta(days=days, hours=hours)).isoformat()


def staff_client(app, db: Database) -> CampusClient:
    """A client signed in as staff@campus.example (created)."""
    make_account(db, "staff@campus.example", "staff")
    client = CampusClient(app)
    client.login("staff@campus.example")
    return client


def created_event(client: CampusClient, **changes) -> dict:
    """An event created and published through the API by `client` (staff), three days ahead."""
    body = {
        "title": "Atelier",
        "starts_at": when(3),
        "ends_at": when(3, 2),
        "room": "Salle Curie",
        "capacity": 10,
    }
    body.update(changes)
    response = client.post("/api/v1/events", json=body)
    assert response.status_code == 201, response.text
    event = response.json()
    assert client.post(f"/api/v1/events/{event['id']}/publish").json()["status"] == "published"
    return event
