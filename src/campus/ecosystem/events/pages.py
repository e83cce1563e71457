"""HTML pages of events and their JSON twins: the list (filters, month calendar), an event
with its ticket, one's registrations, staff forms, the door's check-in, attendance by month."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import api, data, service, stats, tickets
from campus.ecosystem.events.models import KINDS, THEMES, Event
from campus.ecosystem.events.schemas import (
    AttendeeOut,
    CalendarEventOut,
    CheckInForm,
    EventDetailOut,
    EventIn,
    MonthOut,
    MyRegistrationOut,
)
from campus.ecosystem.events.validation import EventInput
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
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
KIND_LABELS = {
    "conference": N_("Conference"),
    "workshop": N_("Workshop"),
    "meetup": N_("Meetup"),
    "webinar": N_("Webinar"),
    "training": N_("Training session"),
}
THEME_LABELS = {
    "health_data": N_("Health data"),
    "ai": N_("Artificial intelligence"),
    "interoperability": N_("Interoperability"),
    "regulation": N_("Regulation"),
    "cybersecurity": N_("Cybersecurity"),
    "entrepreneurship": N_("Entrepreneurship"),
    "clinical_research": N_("Clinical research"),
    "patients": N_("Patients"),
}
assert set(KIND_LABELS) == set(KINDS) and set(THEME_LABELS) == set(THEMES)
NOTICES = {
    "registered": N_("Your registration is recorded."),
    "unregistered": N_("Your registration is cancelled."),
    "published": N_("The event is published."),
    "cancelled": N_("The event is cancelled; registered people are notified by mail."),
}
LABELS = {"kinds": KIND_LABELS, "themes": THEME_LABELS}


def _paris_now() -> dt.datetime:
    return utcnow().astimezone(PARIS)


# --- the list and the month calendar -----------------------------------------------------------


def _month_grid(month: str, events: list[dict]) -> dict:
    """The month's weeks (Monday first), each day with its events, and the months around."""
    first, _start, _end = service.month_bounds(month)
    by_day: dict[dt.date, list[dict]] = {}
    for event in events:
        by_day.setdefault(event["starts_at"].astimezone(PARIS).date(), []).append(event)
    weeks = [
        [
            {"day": day, "in_month": day.month == first.month, "events": by_day.get(day, [])}
            for day in week
        ]
        for week in month_calendar.Calendar().monthdatescalendar(first.year, first.month)
    ]
    before = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    after = (first + dt.timedelta(days=32)).strftime("%Y-%m")
    return {
        "first": first,
        "weeks": weeks,
        "before": before,
        "after": after,
        "today": _paris_now().date(),
    }


def _list_context(
    actor: Actor,
    session: Session,
    data: list[dict],
    request: Request,
    past: bool,
    view: str,
    month: str,
) -> dict:
    query = request.query_params
    shown_month = month or (_paris_now().strftime("%Y-%m") if view == "month" else "")
    return {
        "past": past,
        "view": "month" if shown_month else "list",
        "month": _month_grid(shown_month, data) if shown_month else None,
        "filters": {
            name: query.get(name, "")
            for name in ("theme", "kind", "start", "end", "organiser", "q", "free")
        },
        "organisers": service.organisers(session),
        "can_manage": service.can_manage(actor),
        "labels": LABELS,
        "months": MONTHS,
        "weekdays": WEEKDAYS,
    }


@twin(
    api.router,
    router,
    "/events",
    api_path="/events/calendar",
    template="ecosystem/event_list.html",
    summary="The events page: upcoming events (or the past year's, or a month's) with their "
    "seats, narrowed by theme, kind, dates, free seats, organiser and text",
    response_model=list[CalendarEventOut],
    context=_list_context,
)
def events_page(
    past: bool = False,
    theme: str = "",
    kind: str = "",
    start: str = "",
    end: str = "",
    free: bool = False,
    organiser: str = "",
    q: str = "",
    view: str = "list",
    month: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> list[dict]:
    """`view=month` shows the month `month` (YYYY-MM; this month by default)."""
    filters = service.parse_filters(
        theme=theme, kind=kind, start=start, end=end, free=free, organiser=organiser, q=q
    )
    if view == "month" and not month:
        month = _paris_now().strftime("%Y-%m")
    return data.calendar(session, actor, past=past, filters=filters, month=month)


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


# --- one event ---------------------------------------------------------------------------------


def _event_context(
    request: Request, session: Session, actor: Actor, event_id: str, detail: dict, qr: str
) -> dict:
    done = request.query_params.get("done", "")
    manager = service.can_manage(actor)
    event = service.get_event(session, actor, event_id)
    return {
        "event": detail,
        "detail": detail,
        "mine": detail["my_registration"],
        "qr": qr,
        "ended": detail["ends_at"] <= utcnow(),
        "can_manage": manager,
        "can_register": service.may_attend(actor, event),
        "stats": stats.event_stats(session, event) if manager else None,
        "notice": _(NOTICES[done]) if done in NOTICES else "",
        "labels": LABELS,
    }


def _qr(detail: dict) -> str:
    mine = detail["my_registration"]
    if mine and mine["ticket"]:
        return tickets.qr_svg(mine["ticket"], title=_("Check-in ticket"))
    return ""


async def _event_page_context(
    request: Request, session: Session, actor: Actor, event_id: str, data: dict
) -> dict:
    # Drawing a ticket's QR code costs about 10 ms of CPU (then it is cached): too long for
    # the event loop, so a page with a ticket draws it on the thread pool.
    mine = data["my_registration"]
    qr = await run_in_threadpool(_qr, data) if mine and mine["ticket"] else ""
    return _event_context(request, session, actor, event_id, data, qr)


@twin(
    api.router,
    router,
    "/events/{event_id}",
    template="ecosystem/event_detail.html",
    summary="One event, its seats and my registration (with its ticket and code)",
    response_model=EventDetailOut,
    context=_event_page_context,
)
async def event_page(
    event_id: str,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> dict:
    view = service.view_event(session, actor, event_id)
    return data.event_detail(session, request.app.state.settings, actor, view)


class NoFields(BaseModel):
    """A form that only carries its CSRF token: the action is in its address."""


def _form_page_context(request: Request, session: Session, actor: Actor, event_id: str) -> dict:
    """The event's page again, with the refusal (campus.web.forms renders it)."""
    view = service.view_event(session, actor, event_id)
    detail = data.event_detail(session, request.app.state.settings, actor, view)
    return {
        **_event_context(request, session, actor, event_id, detail, _qr(detail)),
        "data": detail,
    }


def _event_action(path: str):
    return form_route(
        router,
        path,
        model=NoFields,
        template="ecosystem/event_detail.html",
        context=_form_page_context,
    )


@_event_action("/events/{event_id}/register")
def register_submit(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.register"),
    session: Session = db_session,
) -> str:
    service.register(session, request.app.state.settings, actor, event_id)
    return f"/events/{event_id}?done=registered"


@_event_action("/events/{event_id}/unregister")
def unregister_submit(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.register"),
    session: Session = db_session,
) -> str:
    service.cancel_registration(session, request.app.state.settings, actor, event_id)
    return f"/events/{event_id}?done=unregistered"


@_event_action("/events/{event_id}/publish")
def publish_submit(
    event_id: str, actor: Actor = allow("events.manage"), session: Session = db_session
) -> str:
    service.publish_event(session, actor, event_id)
    return f"/events/{event_id}?done=published"


@_event_action("/events/{event_id}/cancel")
def cancel_submit(
    request: Request,
    event_id: str,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
) -> str:
    service.cancel_event(session, request.app.state.settings, actor, event_id)
    return f"/events/{event_id}?done=cancelled"


# --- one's registrations -----------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/me/events",
    api_path="/me/registrations",
    template="ecosystem/event_mine.html",
    summary="My registrations, with their events, waitlist ranks and tickets",
    response_model=list[MyRegistrationOut],
    context=lambda: {"now": utcnow()},
)
def my_events_page(
    request: Request, actor: Actor = allow("events.register"), session: Session = db_session
) -> list[dict]:
    return data.my_registrations(session, request.app.state.settings, actor.account_id or "")


# --- check-in at the door ----------------------------------------------------------------------


def _checkin_context(request: Request, session: Session, actor: Actor, event_id: str) -> dict:
    """The door's page: the event's figures, the attendee just checked in (`?checked=`, a
    registration id), the name searched, and the scan script's refusals in the page's
    language (the check-in API answers message ids; static/js/checkin.js shows them)."""
    event = service.get_event(session, actor, event_id)
    checked = request.query_params.get("checked", "")[:32]
    return {
        "event": event,
        "stats": stats.event_stats(session, event),
        "checked": service.attendee_name(session, checked) if checked else "",
        "q": request.query_params.get("q", ""),
        "scan_messages": {message: _(message) for message in service.CHECK_IN_REFUSALS},
    }


@twin(
    api.router,
    router,
    "/events/{event_id}/checkin",
    api_path="/events/{event_id}/attendees",
    template="ecosystem/event_checkin.html",
    summary="Seated attendees whose name holds `q` (staff, at the door)",
    response_model=list[AttendeeOut],
    context=_checkin_context,
)
def checkin_page(
    event_id: str,
    q: str = "",
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
) -> list[dict]:
    service.get_event(session, actor, event_id)
    return service.attendees_named(session, actor, event_id, q) if q else []


def _checkin_form_context(request: Request, session: Session, actor: Actor, event_id: str) -> dict:
    return {**_checkin_context(request, session, actor, event_id), "data": []}


@form_route(
    router,
    "/events/{event_id}/checkin",
    model=CheckInForm,
    template="ecosystem/event_checkin.html",
    context=_checkin_form_context,
)
def checkin_submit(
    body: CheckInForm,
    request: Request,
    event_id: str,
    actor: Actor = allow("events.manage"),
    session: Session = db_session,
) -> str:
    """A ticket or its code typed (the scan page's fallback), or an attendee found by name."""
    service.get_event(session, actor, event_id)
    if body.registration:
        registration = service.check_in_registration(session, actor, event_id, body.registration)
    else:
        registration = service.check_in(
            session, request.app.state.settings, actor, event_id, body.token
        )
    return f"/events/{event_id}/checkin?checked={registration.id}"


# --- calendar files and statistics -------------------------------------------------------------


@page(
    router,
    "/events/{event_id}/calendar.ics",
    no_twin="an iCalendar file, not a page: the function of /api/v1/events/…/calendar.ics",
)
def event_ics(
    request: Request,
    event_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return api.event_ics(event_id, request, actor, session)


@page(
    router,
    "/events.ics",
    no_twin="an iCalendar file, not a page: the function of /api/v1/events.ics",
)
def feed(request: Request, actor: Actor = allow("public.read"), session: Session = db_session):
    return api.feed(request, actor, session)


def _paris_year(year: int | None) -> int:
    return year or _paris_now().year


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
