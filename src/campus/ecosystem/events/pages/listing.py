"""The events everyone reads: the list with its filters and month calendar, one's own
registrations, and the calendar files (.ics) of an event and of all events."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import api, data, service
from campus.ecosystem.events.pages.words import LABELS, MONTHS, WEEKDAYS, paris_now
from campus.ecosystem.events.schemas import (
    CalendarEventOut,
    MyRegistrationOut,
)
from campus.text import PARIS
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.twins import twin

router = APIRouter()


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
        "today": paris_now().date(),
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
    shown_month = month or (paris_now().strftime("%Y-%m") if view == "month" else "")
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
        month = paris_now().strftime("%Y-%m")
    return data.calendar(session, actor, past=past, filters=filters, month=month)


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


# --- calendar files ---------------------------------------------------------------------------


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
