"""HTML pages of spaces and their JSON twins: bookable rooms, a room's day or week with its
booking form, a booking with its .ics, the caller's bookings, the bookings to approve, the
staff's buildings and rooms. Each GET page renders its twin's data function
(`campus.web.twins.twin`); each form parses into the API's input model
(`campus.web.forms.form_route`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from pydantic import field_validator
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.spaces import api, service
from campus.spaces.labels import WORDS
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.twins import twin

router = APIRouter()


# --- forms: the API's input models, as an HTML form sends them ------------------------------


class BookingForm(api.BookingIn):
    """A room page's booking form: the room is the page's."""

    room: str = ""


class RoomForm(api.RoomIn):
    """The new-room form: equipment typed comma separated; an unticked box is not sent."""

    accessible: bool = False

    @field_validator("equipment", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [item.strip() for text in value for item in str(text).split(",") if item.strip()]
        return value


# --- rooms ----------------------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/spaces",
    api_path="/spaces/rooms/bookable",
    template="campus_life/rooms.html",
    summary="Rooms and equipment booked by slot (meeting rooms, auditorium, equipment)",
    context=lambda: dict(WORDS),
)
def bookable_rooms(actor: Actor = allow("spaces.book"), session: Session = db_session) -> list:
    return service.list_rooms(session, bookable=True)


def _room_extras(session: Session, actor: Actor) -> dict:
    """The booking form's choices: the organisations the reader may book for."""
    return {
        **WORDS,
        "values": {},
        "organisations": service.organisation_choices(session, actor),
    }


@twin(
    api.router,
    router,
    "/spaces/rooms/{code}",
    api_path="/spaces/rooms/{code}/schedule",
    template="campus_life/room.html",
    summary="A room's day or week (Europe/Paris)",
    context=_room_extras,
)
def schedule(
    code: str,
    date: str | None = None,
    view: str = "day",
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
) -> dict:
    """Bookings of the caller (or their organisation) in full; others as busy slots."""
    return service.schedule(session, actor, code, date, view)


def _refused_day(values: dict) -> dict:
    """The room's day of the refused slot (a start typed that is no date: today's page)."""
    return {"date": str(values.get("starts_at") or "")[:10] or None, "view": "day"}


@form_route(
    router, "/spaces/rooms/{code}/book", model=BookingForm, page=schedule, query=_refused_day
)
def book_submit(
    body: BookingForm, code: str, actor: Actor = allow("spaces.book"), session: Session = db_session
) -> str:
    data = service.BookingInput(**{**body.model_dump(), "room": code})
    bookings = service.book(session, actor, data)
    return f"/spaces/bookings/{bookings[0].id}?booked=1"


# --- bookings -------------------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/spaces/mine",
    api_path="/spaces/bookings/mine",
    template="campus_life/my_bookings.html",
    summary="The caller's bookings to come",
    context=lambda: dict(WORDS),
)
def my_bookings(actor: Actor = allow("spaces.book"), session: Session = db_session) -> list:
    return service.my_bookings(session, actor)


@twin(
    api.router,
    router,
    "/spaces/pending",
    api_path="/spaces/bookings/pending",
    template="campus_life/pending.html",
    summary="Bookings waiting for approval (staff)",
    context=lambda: dict(WORDS),
)
def pending(actor: Actor = allow("spaces.manage"), session: Session = db_session) -> list:
    return service.pending_bookings(session, actor)


@twin(
    api.router,
    router,
    "/spaces/bookings/{booking_id}",
    template="campus_life/booking.html",
    summary="One booking (its booker, org, staff)",
    context=lambda request: {**WORDS, "booked": "booked" in request.query_params},
)
def booking(
    booking_id: str, actor: Actor = allow("spaces.book"), session: Session = db_session
) -> dict:
    return api.booking_detail(session, actor, booking_id)


@router.post("/spaces/bookings/{booking_id}/cancel", include_in_schema=False)
def cancel_submit(
    booking_id: str,
    series: str = Form("", max_length=5),
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
):
    service.cancel_booking(session, actor, booking_id, series=bool(series))
    return RedirectResponse(f"/spaces/bookings/{booking_id}", status_code=303)


@router.post("/spaces/bookings/{booking_id}/decision", include_in_schema=False)
def decision_submit(
    booking_id: str,
    decision: str = Form("", max_length=10),
    actor: Actor = allow("spaces.manage"),
    session: Session = db_session,
):
    service.decide_booking(session, actor, booking_id, approve=decision == "approve")
    return RedirectResponse("/spaces/pending", status_code=303)


# --- buildings, floors and rooms (staff) ----------------------------------------------------


def _site_extras() -> dict:
    return {**WORDS, "kinds": service.ROOM_KINDS, "values": {}}


@twin(
    api.router,
    router,
    "/spaces/site",
    template="campus_life/site.html",
    summary="Buildings, floors and rooms (staff)",
    context=_site_extras,
)
def site(actor: Actor = allow("spaces.manage"), session: Session = db_session) -> dict:
    return service.site_view(session)


def _site_form(path: str, model: type):
    return form_route(router, path, model=model, page=site)


@_site_form("/spaces/site/buildings", api.BuildingIn)
def building_submit(
    body: api.BuildingIn, actor: Actor = allow("spaces.manage"), session: Session = db_session
) -> str:
    service.create_building(session, actor, **body.model_dump())
    return "/spaces/site"


@_site_form("/spaces/site/floors", api.FloorIn)
def floor_submit(
    body: api.FloorIn, actor: Actor = allow("spaces.manage"), session: Session = db_session
) -> str:
    service.create_floor(session, actor, body.building, body.level, body.name)
    return "/spaces/site"


@_site_form("/spaces/site/rooms", RoomForm)
def room_submit(
    body: RoomForm, actor: Actor = allow("spaces.manage"), session: Session = db_session
) -> str:
    service.create_room(session, actor, service.RoomInput(**body.model_dump()))
    return "/spaces/site"
