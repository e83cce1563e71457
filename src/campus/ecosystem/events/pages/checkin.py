"""The door's check-in: a ticket scanned or its code typed, or an attendee found by name."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.events import api, service, stats
from campus.ecosystem.events.schemas import (
    AttendeeOut,
    CheckInForm,
)
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.twins import twin

router = APIRouter()


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


@form_route(router, "/events/{event_id}/checkin", model=CheckInForm, page=checkin_page)
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
