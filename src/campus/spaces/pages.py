"""HTML pages of spaces: bookable rooms, a room's day or week with its booking form, a
booking with its .ics, the caller's bookings. Each page renders the data its twin returns."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.errors import CampusError
from campus.i18n import gettext as _
from campus.spaces import api, service
from campus.spaces.labels import label
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render as render_page

router = APIRouter()


def render(request, template: str, context: dict, status: int = 200):
    """A campus-life page: its context and `label`, the word for a code."""
    return render_page(request, template, {**context, "label": label}, status=status)


@page(router, "/spaces", twin="/api/v1/spaces/rooms")
def rooms_page(
    request: Request, actor: Actor = allow("spaces.book"), session: Session = db_session
):
    rooms = service.list_rooms(session, bookable=True)
    return render(request, "campus_life/rooms.html", {"rooms": rooms})


def _room_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    date: str | None,
    view: str,
    *,
    values: dict | None = None,
    error: CampusError | None = None,
):
    data = service.schedule(session, actor, code, date, view)
    context = {
        "data": data,
        "values": values or {},
        "organisations": service.organisation_choices(session, actor),
        "error": _(error.message) if error else "",
        "where": str(error.where or "") if error else "",
    }
    return render(request, "campus_life/room.html", context, status=error.status if error else 200)


@page(router, "/spaces/rooms/{code}", twin="/api/v1/spaces/rooms/{code}/schedule")
def room_page(
    request: Request,
    code: str,
    date: str | None = None,
    view: str = "day",
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
):
    return _room_page(request, session, actor, code, date, view)


@router.post("/spaces/rooms/{code}/book", include_in_schema=False)
def book_submit(
    request: Request,
    code: str,
    title: str = Form("", max_length=1000),
    starts_at: str = Form("", max_length=40),
    ends_at: str = Form("", max_length=40),
    people: str = Form("1", max_length=20),
    organisation_id: str = Form("", max_length=32),
    repeat: str = Form("none", max_length=10),
    count: str = Form("1", max_length=10),
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
):
    values = {"title": title, "starts_at": starts_at, "ends_at": ends_at, "people": people,
              "organisation_id": organisation_id, "repeat": repeat, "count": count}  # fmt: skip
    data = service.BookingInput(room=code, **{**values, "organisation_id": organisation_id or None})
    try:
        bookings = service.book(session, actor, data)
    except CampusError as error:
        session.rollback()
        day = starts_at[:10] or None
        return _room_page(request, session, actor, code, day, "day", values=values, error=error)
    return RedirectResponse(f"/spaces/bookings/{bookings[0].id}?booked=1", status_code=303)


@page(router, "/spaces/bookings/{booking_id}", twin="/api/v1/spaces/bookings/{booking_id}")
def booking_page(
    request: Request,
    booking_id: str,
    booked: bool = False,
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
):
    booking = api.booking_detail(session, actor, booking_id)
    return render(request, "campus_life/booking.html", {"booking": booking, "booked": booked})


@router.post("/spaces/bookings/{booking_id}/cancel", include_in_schema=False)
def cancel_submit(
    booking_id: str,
    series: str = Form("", max_length=5),
    actor: Actor = allow("spaces.book"),
    session: Session = db_session,
):
    service.cancel_booking(session, actor, booking_id, series=bool(series))
    return RedirectResponse(f"/spaces/bookings/{booking_id}", status_code=303)


@page(router, "/spaces/mine", twin="/api/v1/spaces/bookings/mine")
def my_bookings_page(
    request: Request, actor: Actor = allow("spaces.book"), session: Session = db_session
):
    return render(
        request, "campus_life/my_bookings.html", {"bookings": service.my_bookings(session, actor)}
    )


@page(router, "/spaces/pending", twin="/api/v1/spaces/bookings/pending")
def pending_page(
    request: Request, actor: Actor = allow("spaces.manage"), session: Session = db_session
):
    return render(
        request, "campus_life/pending.html", {"bookings": service.pending_bookings(session, actor)}
    )


@router.post("/spaces/bookings/{booking_id}/decision", include_in_schema=False)
def decision_submit(
    booking_id: str,
    decision: str = Form("", max_length=10),
    actor: Actor = allow("spaces.manage"),
    session: Session = db_session,
):
    service.decide_booking(session, actor, booking_id, approve=decision == "approve")
    return RedirectResponse("/spaces/pending", status_code=303)


def _site_page(request, session, error: CampusError | None = None, values=None):
    context = {
        "data": service.site_view(session),
        "kinds": service.ROOM_KINDS,
        "values": values or {},
        "error": _(error.message) if error else "",
        "where": str(error.where or "") if error else "",
    }
    return render(request, "campus_life/site.html", context, status=error.status if error else 200)


@page(router, "/spaces/site", twin="/api/v1/spaces/site")
def site_page(
    request: Request, actor: Actor = allow("spaces.manage"), session: Session = db_session
):
    return _site_page(request, session)


@router.post("/spaces/site", include_in_schema=False)
def site_submit(
    request: Request,
    action: str = Form("", max_length=10),
    code: str = Form("", max_length=100),
    name: str = Form("", max_length=400),
    opens: str = Form("07:00", max_length=10),
    closes: str = Form("22:00", max_length=10),
    building: str = Form("", max_length=100),
    level: str = Form("", max_length=10),
    floor_id: str = Form("", max_length=32),
    kind: str = Form("", max_length=20),
    capacity: str = Form("", max_length=10),
    equipment: str = Form("", max_length=2000),
    accessible: str = Form("", max_length=5),
    needs_approval: str = Form("", max_length=5),
    max_minutes: str = Form("240", max_length=10),
    partner_price_cents: str = Form("0", max_length=12),
    actor: Actor = allow("spaces.manage"),
    session: Session = db_session,
):
    """A building, a floor or a room, as the form's `action` says."""
    values = {"code": code, "name": name, "kind": kind, "capacity": capacity}
    try:
        if action == "building":
            service.create_building(
                session, actor, code=code, name=name, opens=opens, closes=closes
            )
        elif action == "floor":
            service.create_floor(session, actor, building, level, name)
        else:
            data = service.RoomInput(
                floor_id=floor_id, code=code, name=name, kind=kind, capacity=capacity,
                equipment=[item.strip() for item in equipment.split(",") if item.strip()],
                accessible=bool(accessible), needs_approval=bool(needs_approval),
                max_minutes=max_minutes, partner_price_cents=partner_price_cents,
            )  # fmt: skip
            service.create_room(session, actor, data)
    except CampusError as error:
        session.rollback()
        return _site_page(request, session, error, values)
    return RedirectResponse("/spaces/site", status_code=303)
