"""JSON routes of events: the calendar, registration, check-in, statistics and exports."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import ics, service
from campus.ecosystem.events import stats as figures
from campus.ecosystem.events.data import (
    event_out,
    registration_out,
    registrations_out,
)
from campus.ecosystem.events.models import Audience
from campus.ecosystem.events.schemas import (
    CheckInIn,
    CheckInOut,
    EventIn,
    EventOut,
    EventStatsOut,
    RegistrationOut,
)
from campus.ecosystem.events.validation import EventInput
from campus.errors import CampusError
from campus.text import parse_when
from campus.web.batching import Batcher
from campus.web.deps import allow, db_session, end_session
from campus.web.middleware import leave_admission

router = APIRouter(tags=["events"])

ICS_TYPE = "text/calendar; charset=utf-8"


def _input(body: EventIn) -> EventInput:
    return EventInput(**body.model_dump())


def _range(start: str | None, end: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    return (
        parse_when(start, "start") if start else None,
        parse_when(end, "end") if end else None,
    )


@router.get("/events", response_model=list[EventOut], summary="Events visible to the caller")
def list_events(
    start: str | None = None,
    end: str | None = None,
    training_id: str | None = None,
    drafts: bool = False,
    theme: str = "",
    kind: str = "",
    free: bool = False,
    organiser: str = "",
    q: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    """`start`/`end` (ISO 8601, Europe/Paris when naive) bound the period; drafts for staff;
    `theme`, `kind`, `free` (seats left), `organiser` and `q` (text) narrow the list."""
    lower, upper = _range(start, end)
    filters = service.parse_filters(theme=theme, kind=kind, free=free, organiser=organiser, q=q)
    events = service.list_events(
        session,
        actor,
        start=lower,
        end=upper,
        include_drafts=drafts,
        training_id=training_id,
        filters=filters,
    )
    return [event_out(actor, event) for event in events]


@router.post("/events", response_model=EventOut, status_code=201, summary="Create a draft event")
def create_event(
    body: EventIn, actor: Actor = allow("events.manage"), session: Session = db_session
):
    return service.create_event(session, actor, _input(body))


@router.get("/events.ics", summary="Calendar feed (iCalendar) of public events")
def feed(request: Request, actor: Actor = allow("public.read"), session: Session = db_session):
    from campus.auth.actor import ANONYMOUS

    settings = request.app.state.settings
    since = utcnow() - dt.timedelta(days=90)
    events = service.list_events(
        session, ANONYMOUS, start=since, audience=Audience.PUBLIC, limit=1000
    )
    body = ics.calendar(
        events,
        base_url=settings.base_url,
        stamp=utcnow(),
        online_url=lambda event: service.online_url_for(ANONYMOUS, event),
    )
    return Response(body, media_type=ICS_TYPE)


@router.put("/events/{event_id}", response_model=EventOut, summary="Change an event")
def update_event(
    event_id: str,
    body: EventIn,
    request: Request,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    return service.update_event(session, request.app.state.settings, actor, event_id, _input(body))


@router.post("/events/{event_id}/publish", response_model=EventOut, summary="Publish an event")
def publish(event_id: str, actor: Actor = allow("events.manage"), session: Session = db_session):
    return service.publish_event(session, actor, event_id)


@router.post(
    "/events/{event_id}/cancel", response_model=EventOut, summary="Cancel an event (mails all)"
)
def cancel(
    event_id: str,
    request: Request,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    return service.cancel_event(session, request.app.state.settings, actor, event_id)


@router.get("/events/{event_id}/calendar.ics", summary="One event as an iCalendar file")
def event_ics(
    event_id: str,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    event = service.get_event(session, actor, event_id)
    settings = request.app.state.settings
    body = ics.calendar(
        [event],
        base_url=settings.base_url,
        name=event.title,
        stamp=utcnow(),
        online_url=lambda shown: service.online_url_for(actor, shown),
    )
    return Response(
        body,
        media_type=ICS_TYPE,
        headers={"content-disposition": f'attachment; filename="event-{event.id}.ics"'},
    )


@router.get(
    "/events/{event_id}/registration",
    response_model=RegistrationOut | None,
    summary="My registration to an event, with its check-in ticket",
)
def my_registration(
    event_id: str,
    request: Request,
    actor: Actor = allow("events.register"),
    session: Session = db_session,
):
    service.get_event(session, actor, event_id)
    registration = service.registration_of(session, event_id, actor.account_id)
    return registration_out(session, request.app.state.settings, registration)


@router.post(
    "/events/{event_id}/registration",
    response_model=RegistrationOut,
    status_code=201,
    summary="Register (or join the waitlist when full)",
)
async def register(
    event_id: str,
    request: Request,
    actor: Actor = allow("events.register"),
    session: Session = db_session,
):
    # Registrations that arrive together share one transaction (campus.web.batching). While
    # this request waits for its batch it holds no database connection and no place among
    # the requests admitted at once: the next batch forms meanwhile.
    await end_session(session)  # the actor's read, and its token's use when that is noted
    leave_admission()
    return await _registrations(request.app).submit(
        service.RegistrationRequest(actor, event_id, utcnow())
    )


def _registrations(app: FastAPI) -> Batcher[service.RegistrationRequest, dict]:
    """The app's batcher of registrations: created on first use, one per app and worker."""
    batcher = getattr(app.state, "registrations", None)
    if batcher is None:
        database, settings = app.state.db, app.state.settings

        def run(requests: list[service.RegistrationRequest]) -> list[dict | CampusError]:
            with database.session() as session:
                places: dict[str, int] = {}
                outcomes = service.register_many(session, requests, places)
                session.commit()  # before any answer is built or sent
                taken = [o for o in outcomes if not isinstance(o, CampusError)]
                shown = iter(registrations_out(session, settings, taken, places))
                return [o if isinstance(o, CampusError) else next(shown) for o in outcomes]

        batcher = app.state.registrations = Batcher(run)
    return batcher


@router.delete(
    "/events/{event_id}/registration",
    response_model=RegistrationOut,
    summary="Cancel my registration (the first waitlisted is promoted)",
)
def unregister(
    event_id: str,
    request: Request,
    actor: Actor = allow("events.register"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    registration = service.cancel_registration(session, settings, actor, event_id)
    return registration_out(session, settings, registration)


@router.post(
    "/events/{event_id}/checkin",
    response_model=CheckInOut,
    summary="Check in a signed ticket or its six-character code",
)
def check_in(
    event_id: str,
    body: CheckInIn,
    request: Request,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    registration = service.check_in(
        session, request.app.state.settings, actor, event_id, body.token
    )
    return _checked(session, registration)


@router.post(
    "/events/{event_id}/registrations/{registration_id}/checkin",
    response_model=CheckInOut,
    summary="Check in an attendee found by name",
)
def check_in_attendee(
    event_id: str,
    registration_id: str,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    registration = service.check_in_registration(session, actor, event_id, registration_id)
    return _checked(session, registration)


def _checked(session: Session, registration) -> dict:
    return {
        "registration_id": registration.id,
        "name": service.attendee_name(session, registration.id),
        "checked_in_at": registration.checked_in_at,
    }


@router.get(
    "/events/{event_id}/stats", response_model=EventStatsOut, summary="Attendance of an event"
)
def stats(event_id: str, actor: Actor = allow("events.manage"), session: Session = db_session):
    return figures.event_stats(session, service.get_event(session, actor, event_id))


@router.get("/events/{event_id}/attendees.csv", summary="Attendees as CSV (staff)")
def attendees(event_id: str, actor: Actor = allow("events.manage"), session: Session = db_session):
    body = figures.attendees_csv(session, actor, event_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="attendees-{event_id}.csv"',
            "cache-control": "no-store",
        },
    )
