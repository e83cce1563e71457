"""HTML pages of events: the calendar, an event with its ticket, staff forms, the scan page."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.ecosystem.events import api, data, service, stats, tickets
from campus.ecosystem.events.models import Event, RegistrationStatus
from campus.ecosystem.events.schemas import CalendarEventOut, EventIn
from campus.ecosystem.events.validation import EventInput
from campus.errors import CampusError
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.text import PARIS
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()

MONTHS = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
NOTICES = {
    "registered": N_("Your registration is recorded."),
    "unregistered": N_("Your registration is cancelled."),
    "published": N_("The event is published."),
    "cancelled": N_("The event is cancelled; registered people are notified by mail."),
}


def _local_input(value: dt.datetime | None) -> str:
    """A datetime as the value of a datetime-local input, in Paris time."""
    return value.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") if value else ""


def _trainings(session: Session) -> list:
    from campus.ecosystem.trainings import service as trainings

    return trainings.list_trainings(session)


@twin(
    api.router,
    router,
    "/events",
    api_path="/events/calendar",
    template="ecosystem/event_list.html",
    summary="The events page: upcoming events (or the past year's) with their seats",
    response_model=list[CalendarEventOut],
    context=lambda actor, past: {"past": past, "can_manage": service.can_manage(actor)},
)
def events_page(
    past: bool = False, actor: Actor = allow("public.read"), session: Session = db_session
) -> list[dict]:
    return data.calendar(session, actor, past=past)


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
        }
    return {"event": event, "values": values, "trainings": _trainings(session)}


@page(router, "/events/new", no_twin="a form; its API twin is POST /api/v1/events")
def new_event_form(
    request: Request,
    training_id: str = "",
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    """`?training_id=` preselects the training when staff plan one of its sessions."""
    values = {"audience": "public", "training_id": training_id[:32]} if training_id else None
    return render(request, "ecosystem/event_form.html", _form_context(session, None, values))


def _new_form_context(session: Session, values: dict) -> dict:
    return _form_context(session, None, values)


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
    event = service.create_event(session, actor, EventInput(**body.model_dump()))
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
    service.update_event(session, settings, actor, event_id, EventInput(**body.model_dump()))
    return f"/events/{event_id}"


def _event_page(
    request: Request,
    session: Session,
    actor: Actor,
    event_id: str,
    *,
    error: str = "",
    notice: str = "",
    status: int = 200,
    view: service.EventView | None = None,
) -> Response:
    settings = request.app.state.settings
    view = view or service.view_event(session, actor, event_id)
    event = view.event
    detail = data.event_detail(session, settings, actor, view)
    mine = detail["my_registration"]
    qr = ""
    if mine and mine["ticket"]:
        qr = tickets.qr_svg(mine["ticket"], title=_("Check-in ticket"))
    return render(
        request,
        "ecosystem/event_detail.html",
        {
            "event": event,
            "detail": detail,
            "mine": mine,
            "qr": qr,
            "ended": event.ends_at <= utcnow(),
            "can_manage": service.can_manage(actor),
            "can_register": service.may_attend(actor, event),
            "stats": stats.event_stats(session, event) if service.can_manage(actor) else None,
            "error": error,
            "notice": notice,
        },
        status=status,
    )


@page(router, "/events/{event_id}", twin="/api/v1/events/{event_id}")
async def event_page(
    request: Request,
    event_id: str,
    done: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    notice = _(NOTICES[done]) if done in NOTICES else ""
    view = service.view_event(session, actor, event_id)
    if view.mine is not None and view.mine.status == RegistrationStatus.REGISTERED:
        # The page shows the attendee's ticket: drawing its QR code costs about 10 ms of CPU
        # (then it is cached), too long for the event loop.
        return await run_in_threadpool(
            _event_page, request, session, actor, event_id, notice=notice, view=view
        )
    return _event_page(request, session, actor, event_id, notice=notice, view=view)


@page(router, "/me/events", twin="/api/v1/me/registrations")
def my_events_page(
    request: Request, actor: Actor = allow("events.register"), session: Session = db_session
):
    registrations = service.my_registrations(session, actor.account_id or "")
    events = {r.event_id: session.get(Event, r.event_id) for r in registrations}
    return render(
        request,
        "ecosystem/event_mine.html",
        {"registrations": registrations, "events": events, "now": utcnow()},
    )


def _act(request: Request, session: Session, actor: Actor, event_id: str, action, notice: str):
    """Run one action on an event and show the event page with its outcome."""
    try:
        action()
    except CampusError as error:
        session.rollback()
        return _event_page(
            request, session, actor, event_id, error=_(error.message), status=error.status
        )
    session.commit()
    return RedirectResponse(f"/events/{event_id}?done={notice}", status_code=303)


@router.post("/events/{event_id}/register", include_in_schema=False)
def register_submit(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.register"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    return _act(
        request,
        session,
        actor,
        event_id,
        lambda: service.register(session, settings, actor, event_id),
        "registered",
    )


@router.post("/events/{event_id}/unregister", include_in_schema=False)
def unregister_submit(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.register"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    return _act(
        request,
        session,
        actor,
        event_id,
        lambda: service.cancel_registration(session, settings, actor, event_id),
        "unregistered",
    )


@router.post("/events/{event_id}/publish", include_in_schema=False)
def publish_submit(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    return _act(
        request,
        session,
        actor,
        event_id,
        lambda: service.publish_event(session, actor, event_id),
        "published",
    )


@router.post("/events/{event_id}/cancel", include_in_schema=False)
def cancel_submit(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    return _act(
        request,
        session,
        actor,
        event_id,
        lambda: service.cancel_event(session, settings, actor, event_id),
        "cancelled",
    )


@page(
    router,
    "/events/{event_id}/checkin",
    no_twin="a scanner; it posts each ticket to POST /api/v1/events/…/checkin",
)
def checkin_page(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    event = service.get_event(session, actor, event_id)
    return _checkin_page(request, session, event)


def _checkin_page(
    request: Request, session: Session, event: Event, status: int = 200, **outcome: str
) -> Response:
    """The scan page, with the outcome of a typed ticket (`checked` or `error`) if any. It
    carries the check-in API's refusals (English message ids) in its language, since the scan
    script shows the API's answers (static/js/checkin.js)."""
    scan_messages = {message: _(message) for message in service.CHECK_IN_REFUSALS}
    return render(
        request,
        "ecosystem/event_checkin.html",
        {
            "event": event,
            "stats": stats.event_stats(session, event),
            "scan_messages": scan_messages,
            **outcome,
        },
        status=status,
    )


@router.post("/events/{event_id}/checkin", include_in_schema=False)
def checkin_submit(
    request: Request,
    event_id: str,
    token: str = Form("", max_length=500),
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    """The manual fallback of the scan page: the ticket code typed or pasted."""
    event = service.get_event(session, actor, event_id)
    try:
        registration = service.check_in(session, request.app.state.settings, actor, event_id, token)
    except CampusError as error:
        session.rollback()
        return _checkin_page(request, session, event, error.status, error=_(error.message))
    account = session.get(Account, registration.account_id)
    return _checkin_page(request, session, event, checked=account.name if account else "")


@page(router, "/events/{event_id}/calendar.ics", twin="/api/v1/events/{event_id}/calendar.ics")
def event_ics(
    request: Request,
    event_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return api.event_ics(event_id, request, actor, session)


@page(router, "/events.ics", twin="/api/v1/events.ics")
def feed(request: Request, actor: Actor = allow("public.read"), session: Session = db_session):
    return api.feed(request, actor, session)


@page(router, "/admin/events/stats", twin="/api/v1/events/stats/monthly")
def stats_page(
    request: Request,
    year: int | None = None,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
):
    year = year or utcnow().astimezone(PARIS).year
    rows = stats.attendance_by_month(session, year)
    return render(
        request,
        "ecosystem/event_stats.html",
        {"year": year, "rows": rows, "months": MONTHS},
    )
