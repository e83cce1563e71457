"""One event's page (its seats, one's registration and ticket) and the actions it carries:
register, cancel one's registration, and the organiser's publish and cancel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import api, data, service, stats, tickets
from campus.ecosystem.events.pages.words import LABELS, NOTICES
from campus.ecosystem.events.schemas import (
    EventDetailOut,
)
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.twins import twin

router = APIRouter()


# --- one event ---------------------------------------------------------------------------------


def _qr(detail: dict) -> str:
    mine = detail["my_registration"]
    if mine and mine["ticket"]:
        return tickets.qr_svg(mine["ticket"], title=_("Check-in ticket"))
    return ""


async def _event_page_context(
    request: Request, session: Session, actor: Actor, event_id: str, data: dict
) -> dict:
    """The page's extras: the ticket's QR code, what the reader may do, the organisers'
    figures. Also what a refused action of the page shows again (`_event_action`)."""
    # Drawing a ticket's QR code costs about 10 ms of CPU (then it is cached): too long for
    # the event loop, so a page with a ticket draws it on the thread pool.
    mine = data["my_registration"]
    qr = await run_in_threadpool(_qr, data) if mine and mine["ticket"] else ""
    done = request.query_params.get("done", "")
    manager = service.can_manage(actor)
    # The data function read the event in one statement; the page reads it again only for
    # the organisers' statistics (one query fewer for everyone else).
    event = service.get_event(session, actor, event_id) if manager else None
    return {
        "event": data,
        "detail": data,
        "mine": mine,
        "qr": qr,
        "ended": data["ends_at"] <= utcnow(),
        "can_manage": manager,
        "can_register": service.may_attend_audience(actor, data["audience"]),
        "stats": stats.event_stats(session, event) if event is not None else None,
        "notice": _(NOTICES[done]) if done in NOTICES else "",
        "labels": LABELS,
    }


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


def _event_action(path: str):
    """An action of the event's page; refused, it shows the page again with the refusal."""
    return form_route(router, path, model=NoFields, page=event_page)


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
