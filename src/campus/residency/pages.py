"""HTML pages of residency: hosted structures (public), admissions rounds, residencies, the
waiting list, the campus-life dashboard, sponsorships. Each renders its twin's data."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import CampusError
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.residency import service
from campus.spaces.labels import label
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render as render_page

router = APIRouter()


def render(request, template: str, context: dict, status: int = 200):
    """A campus-life page: its context and `label`, the word for a code."""
    return render_page(request, template, {**context, "label": label}, status=status)


MONTHS = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip


def _failed(error: CampusError) -> dict:
    return {"error": _(error.message), "where": str(error.where or "")}


@page(router, "/campus/hosted", twin="/api/v1/residency/hosted")
def hosted_page(
    request: Request, actor: Actor = allow("public.read"), session: Session = db_session
):
    return render(
        request, "campus_life/hosted.html", {"structures": service.hosted_structures(session)}
    )


@page(router, "/residency/admissions", twin="/api/v1/residency/rounds")
def admissions_page(
    request: Request, actor: Actor = allow("residency.manage"), session: Session = db_session
):
    return render(request, "campus_life/admissions.html", {"rounds": service.rounds(session)})


@router.post("/residency/admissions", include_in_schema=False)
def open_round_submit(
    request: Request,
    title: str = Form("", max_length=1000),
    opens_at: str = Form("", max_length=40),
    closes_at: str = Form("", max_length=40),
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    try:
        call = service.open_round(session, actor, title, opens_at, closes_at)
    except CampusError as error:
        session.rollback()
        context = {"rounds": service.rounds(session), **_failed(error)}
        return render(request, "campus_life/admissions.html", context, status=error.status)
    return RedirectResponse(f"/residency/rounds/{call.id}", status_code=303)


def _round_page(request, session, actor, call_id, error: CampusError | None = None, values=None):
    from campus.spaces import service as spaces

    context = {
        "data": service.round_view(session, actor, call_id),
        "rooms": [
            r for r in spaces.list_rooms(session) if r["kind"] in ("office", "lab", "open_space")
        ],
        "values": values or {},
        **(_failed(error) if error else {}),
    }
    return render(request, "campus_life/round.html", context, status=error.status if error else 200)


@page(router, "/residency/rounds/{call_id}", twin="/api/v1/residency/rounds/{call_id}")
def round_page(
    request: Request,
    call_id: str,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    return _round_page(request, session, actor, call_id)


@router.post("/residency/rounds/{call_id}/admit", include_in_schema=False)
def admit_submit(
    request: Request,
    call_id: str,
    application_id: str = Form("", max_length=32),
    starts_on: str = Form("", max_length=20),
    ends_on: str = Form("", max_length=20),
    contract_ref: str = Form("", max_length=200),
    monthly_fee: str = Form("", max_length=20),
    room: str = Form("", max_length=40),
    desks: str = Form("", max_length=10),
    action: str = Form("admit", max_length=10),
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    values = {"application_id": application_id, "starts_on": starts_on, "ends_on": ends_on,
              "contract_ref": contract_ref, "monthly_fee": monthly_fee, "room": room,
              "desks": desks}  # fmt: skip
    try:
        if action == "waitlist":
            service.waitlist(session, actor, application_id)
            return RedirectResponse(f"/residency/rounds/{call_id}", status_code=303)
        data = service.AdmissionInput(
            starts_on=starts_on,
            ends_on=ends_on,
            contract_ref=contract_ref,
            monthly_fee=monthly_fee,
            spaces=[{"room": room, "desks": desks or None}] if room else [],
        )
        residency = service.admit(session, actor, application_id, data)
    except CampusError as error:
        session.rollback()
        return _round_page(request, session, actor, call_id, error, values)
    return RedirectResponse(f"/residencies/{residency.id}", status_code=303)


@page(router, "/residencies", twin="/api/v1/residencies")
def residencies_page(
    request: Request,
    status: str | None = None,
    actor: Actor = allow("residency.own"),
    session: Session = db_session,
):
    items = service.list_residencies(session, actor, status=status)
    waiting = service.waiting_list(session, actor) if actor.is_staff else []
    return render(
        request, "campus_life/residencies.html", {"residencies": items, "waiting": waiting}
    )


def _residency_page(request, session, actor, residency_id, error: CampusError | None = None):
    context = {
        "r": service.residency_view(session, actor, residency_id),
        "reasons": service.EXIT_REASONS,
        **(_failed(error) if error else {}),
    }
    return render(
        request, "campus_life/residency.html", context, status=error.status if error else 200
    )


@page(router, "/residencies/{residency_id}", twin="/api/v1/residencies/{residency_id}")
def residency_page(
    request: Request,
    residency_id: str,
    actor: Actor = allow("residency.own"),
    session: Session = db_session,
):
    return _residency_page(request, session, actor, residency_id)


@router.post("/residencies/{residency_id}/change", include_in_schema=False)
def residency_change(
    request: Request,
    residency_id: str,
    action: str = Form("", max_length=10),
    ends_on: str = Form("", max_length=20),
    monthly_fee: str = Form("", max_length=20),
    contract_ref: str = Form("", max_length=200),
    exited_on: str = Form("", max_length=20),
    reason: str = Form("", max_length=40),
    note: str = Form("", max_length=4000),
    room: str = Form("", max_length=40),
    desks: str = Form("", max_length=10),
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    try:
        if action == "renew":
            service.renew(session, actor, residency_id, ends_on, monthly_fee, contract_ref)
        elif action == "exit":
            service.record_exit(session, actor, residency_id, exited_on, reason, note)
        else:
            service.allocate_more(
                session, actor, residency_id, [{"room": room, "desks": desks or None}]
            )
    except CampusError as error:
        session.rollback()
        return _residency_page(request, session, actor, residency_id, error)
    return RedirectResponse(f"/residencies/{residency_id}", status_code=303)


@page(router, "/residency/dashboard", twin="/api/v1/residency/dashboard")
def dashboard_page(
    request: Request,
    year: int | None = None,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    data = service.dashboard(session, actor, year or utcnow().year)
    months = [_(m) for m in MONTHS]
    charts = [
        {
            "type": "bar",
            "title": _("Occupancy rate by month (%)"),
            "labels": months,
            "values": [round((m["rate"] or 0) * 100, 1) for m in data["occupancy"]["months"]],
        },
        {
            "type": "bar",
            "title": _("Entries per year"),
            "labels": [str(e["year"]) for e in data["entries_exits"]],
            "values": [e["entries"] for e in data["entries_exits"]],
        },
        {
            "type": "bar",
            "title": _("Exits per year"),
            "labels": [str(e["year"]) for e in data["entries_exits"]],
            "values": [e["exits"] for e in data["entries_exits"]],
        },
    ]
    return render(
        request,
        "campus_life/dashboard.html",
        {"data": data, "charts": charts, "months": months},
    )


def _pairs_page(request, session, actor, error: CampusError | None = None):
    context = {
        "pairs": service.list_sponsorships(session, actor),
        "choices": service.pairing_choices(session) if actor.is_staff else {},
        **(_failed(error) if error else {}),
    }
    return render(
        request, "campus_life/sponsorships.html", context, status=error.status if error else 200
    )


@page(router, "/sponsorships", twin="/api/v1/sponsorships")
def sponsorships_page(
    request: Request, actor: Actor = allow("sponsorship.take_part"), session: Session = db_session
):
    return _pairs_page(request, session, actor)


@router.post("/sponsorships", include_in_schema=False)
def sponsorship_create(
    request: Request,
    startup_id: str = Form("", max_length=32),
    sponsor_id: str = Form("", max_length=32),
    mentor_name: str = Form("", max_length=400),
    objectives: str = Form("", max_length=6000),
    actor: Actor = allow("sponsorship.manage"),
    session: Session = db_session,
):
    try:
        pair = service.create_sponsorship(
            session, actor, startup_id=startup_id, sponsor_id=sponsor_id,
            mentor_account_id=None, mentor_name=mentor_name, objectives=objectives,
        )  # fmt: skip
    except CampusError as error:
        session.rollback()
        return _pairs_page(request, session, actor, error)
    return RedirectResponse(f"/sponsorships/{pair.id}", status_code=303)


def _pair_page(request, session, actor, pair_id, error: CampusError | None = None):
    context = {
        "pair": service.sponsorship_view(session, actor, pair_id),
        "today": utcnow().date().isoformat(),
        **(_failed(error) if error else {}),
    }
    return render(
        request, "campus_life/sponsorship.html", context, status=error.status if error else 200
    )


@page(router, "/sponsorships/{pair_id}", twin="/api/v1/sponsorships/{pair_id}")
def sponsorship_page(
    request: Request,
    pair_id: str,
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
):
    return _pair_page(request, session, actor, pair_id)


@router.post("/sponsorships/{pair_id}/meetings", include_in_schema=False)
def meeting_submit(
    request: Request,
    pair_id: str,
    held_on: str = Form("", max_length=20),
    topics: str = Form("", max_length=6000),
    next_steps: str = Form("", max_length=6000),
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
):
    try:
        service.log_meeting(
            session, actor, pair_id, held_on=held_on, topics=topics, next_steps=next_steps
        )
    except CampusError as error:
        session.rollback()
        return _pair_page(request, session, actor, pair_id, error)
    return RedirectResponse(f"/sponsorships/{pair_id}", status_code=303)


@router.post("/sponsorships/{pair_id}/change", include_in_schema=False)
def sponsorship_change(
    request: Request,
    pair_id: str,
    action: str = Form("", max_length=12),
    objectives: str = Form("", max_length=6000),
    rating: str = Form("", max_length=4),
    comment: str = Form("", max_length=4000),
    ends_on: str = Form("", max_length=20),
    introductions: str = Form("0", max_length=10),
    contracts: str = Form("0", max_length=10),
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
):
    """Objectives (either side), a rating (each side, once ended), the end (staff)."""
    try:
        if action == "objectives":
            service.set_objectives(session, actor, pair_id, objectives)
        elif action == "rate":
            service.rate_sponsorship(session, actor, pair_id, rating, comment)
        else:
            service.end_sponsorship(
                session, actor, pair_id, ends_on=ends_on, introductions=introductions,
                contracts=contracts,
            )  # fmt: skip
    except CampusError as error:
        session.rollback()
        return _pair_page(request, session, actor, pair_id, error)
    return RedirectResponse(f"/sponsorships/{pair_id}", status_code=303)
