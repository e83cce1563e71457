"""The organiser's pages: the forms that create and edit an event, and attendance by month."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.events import api, service, stats
from campus.ecosystem.events.models import Event
from campus.ecosystem.events.pages.words import LABELS, MONTHS, paris_now
from campus.ecosystem.events.schemas import (
    EventIn,
    MonthOut,
)
from campus.ecosystem.events.validation import EventInput
from campus.text import PARIS
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()


# --- staff forms (first: /events/{event_id} would take /events/new) ----------------------------


def _local_input(value: dt.datetime | None) -> str:
    """A datetime as the value of a datetime-local input, in Paris time."""
    return value.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") if value else ""


def _trainings(session: Session) -> list:
    from campus.ecosystem.trainings import service as trainings

    return trainings.list_trainings(session)


def _form_context(session: Session, event: Event | None, values: dict | None = None) -> dict:
    values = values or {}
    if event is not None and not values:
        values = {
            "title": event.title,
            "description": event.description,
            "starts_at": _local_input(event.starts_at),
            "ends_at": _local_input(event.ends_at),
            "room": event.room,
            "online_url": event.online_url,
            "capacity": "" if event.capacity is None else str(event.capacity),
            "audience": event.audience,
            "training_id": event.training_id or "",
            "kind": event.kind,
            "theme": event.theme,
            "organiser": event.organiser,
            "speakers": event.speakers,
        }
    return {"event": event, "values": values, "trainings": _trainings(session), "labels": LABELS}


@page(router, "/events/new", no_twin="a form; its API twin is POST /api/v1/events")
def new_event_form(
    request: Request,
    training_id: str = "",
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    """`?training_id=` preselects the training when staff plan one of its sessions."""
    values = (
        {"audience": "public", "training_id": training_id[:32], "kind": "training"}
        if training_id
        else None
    )
    return render(request, "ecosystem/event_form.html", _form_context(session, None, values))


def _new_form_context(session: Session, values: dict) -> dict:
    return _form_context(session, None, values)


def _event_input(body: EventIn) -> EventInput:
    return EventInput(**body.model_dump())


@form_route(
    router,
    "/events/new",
    model=EventIn,
    template="ecosystem/event_form.html",
    context=_new_form_context,
)
def new_event_submit(
    body: EventIn, actor: Actor = allow("events.manage"), session: Session = db_session
) -> str:
    event = service.create_event(session, actor, _event_input(body))
    return f"/events/{event.id}"


@page(router, "/events/{event_id}/edit", no_twin="a form; its API twin is PUT /api/v1/events/…")
def edit_event_form(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    event = service.get_event(session, actor, event_id)
    return render(request, "ecosystem/event_form.html", _form_context(session, event))


def _edit_form_context(session: Session, actor: Actor, event_id: str, values: dict) -> dict:
    return _form_context(session, service.get_event(session, actor, event_id), values)


@form_route(
    router,
    "/events/{event_id}/edit",
    model=EventIn,
    template="ecosystem/event_form.html",
    context=_edit_form_context,
)
def edit_event_submit(
    body: EventIn,
    request: Request,
    event_id: str,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
) -> str:
    settings = request.app.state.settings
    service.update_event(session, settings, actor, event_id, _event_input(body))
    return f"/events/{event_id}"


# --- statistics -------------------------------------------------------------------------------


def _paris_year(year: int | None) -> int:
    return year or paris_now().year


@twin(
    api.router,
    router,
    "/admin/events/stats",
    api_path="/events/stats/monthly",
    template="ecosystem/event_stats.html",
    summary="Attendance by month (this year in Paris time by default)",
    response_model=list[MonthOut],
    context=lambda year: {"year": _paris_year(year), "months": MONTHS},
)
def stats_page(
    year: int | None = None, actor: Actor = allow("events.manage"), session: Session = db_session
) -> list[dict]:
    return stats.attendance_by_month(session, _paris_year(year))
