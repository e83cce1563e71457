"""JSON routes of residency: changes to rounds, residencies and sponsorships, the waiting list
and the dashboard's CSV. The GET routes that a page shows too are its twins, mounted by
`campus.residency.pages` from one data function each."""

from __future__ import annotations

import io

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus import exports
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.residency import service
from campus.text import PARIS
from campus.web.deps import allow, db_session

router = APIRouter(tags=["residency"])
Loose = str | int | float | None


class RoundIn(BaseModel):
    title: str
    opens_at: str
    closes_at: str


class SpaceIn(BaseModel):
    room: str
    desks: Loose = None
    starts_on: str | None = None
    ends_on: str | None = None


class AdmissionIn(BaseModel):
    starts_on: str
    ends_on: str
    contract_ref: str
    monthly_fee: Loose
    spaces: list[SpaceIn] = Field(default_factory=list)


class WaitlistIn(BaseModel):
    note: str = ""


class RenewalIn(BaseModel):
    ends_on: str
    monthly_fee: Loose = None
    contract_ref: str = ""


class ExitIn(BaseModel):
    exited_on: str
    reason: str
    note: str = ""


class SpacesIn(BaseModel):
    spaces: list[SpaceIn]


class SponsorshipIn(BaseModel):
    startup_id: str
    sponsor_id: str
    mentor_account_id: str | None = None
    mentor_name: str = ""
    objectives: list[str] = Field(default_factory=list)
    starts_on: str | None = None


class ObjectivesIn(BaseModel):
    objectives: list[str]


class MeetingIn(BaseModel):
    held_on: str
    topics: str
    next_steps: str = ""


class EndIn(BaseModel):
    ends_on: str
    introductions: Loose = 0
    contracts: Loose = 0
    fundraising_records: list[str] = Field(default_factory=list)


class RatingIn(BaseModel):
    rating: Loose
    comment: str = ""


def paris_year(year: int | None) -> int:
    """The year asked, or this year in Paris."""
    return year or utcnow().astimezone(PARIS).year


def spaces_of(items: list[SpaceIn]) -> list[dict]:
    """The spaces of an admission or an allocation, as the service takes them."""
    return [item.model_dump() for item in items]


@router.post("/residency/rounds", status_code=201, summary="Open an admissions round")
def open_round(
    body: RoundIn, actor: Actor = allow("residency.manage"), session: Session = db_session
):
    call = service.open_round(session, actor, body.title, body.opens_at, body.closes_at)
    return {"id": call.id, "title": call.title, "apply": f"/programmes/calls/{call.id}"}


@router.post(
    "/residency/applications/{application_id}/admit",
    status_code=201,
    summary="Admit a selected application: residency, contract, fee, spaces",
)
def admit(
    application_id: str,
    body: AdmissionIn,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    data = service.AdmissionInput(
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        contract_ref=body.contract_ref,
        monthly_fee=body.monthly_fee,
        spaces=spaces_of(body.spaces),
    )
    residency = service.admit(session, actor, application_id, data)
    return service.residency_view(session, actor, residency.id)


@router.post(
    "/residency/applications/{application_id}/waitlist",
    status_code=201,
    summary="Put a selected application on the waiting list",
)
def waitlist(
    application_id: str,
    body: WaitlistIn,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    entry = service.waitlist(session, actor, application_id, body.note)
    return {"id": entry.id, "desks_needed": entry.desks_needed, "status": entry.status}


@router.get("/residency/waiting-list", summary="Applications waiting for space, with fits")
def waiting_list(actor: Actor = allow("residency.manage"), session: Session = db_session):
    return service.waiting_list(session, actor)


@router.post("/residencies/{residency_id}/renewal", summary="Extend a residency")
def renew(
    residency_id: str,
    body: RenewalIn,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    service.renew(session, actor, residency_id, body.ends_on, body.monthly_fee, body.contract_ref)
    return service.residency_view(session, actor, residency_id)


@router.post("/residencies/{residency_id}/exit", summary="Record a structure's exit and reason")
def record_exit(
    residency_id: str,
    body: ExitIn,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    service.record_exit(session, actor, residency_id, body.exited_on, body.reason, body.note)
    return service.residency_view(session, actor, residency_id)


@router.post("/residencies/{residency_id}/spaces", summary="Allocate more spaces")
def allocate(
    residency_id: str,
    body: SpacesIn,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
):
    return service.allocate_more(session, actor, residency_id, spaces_of(body.spaces))


@router.get("/residency/dashboard.csv", summary="The campus-life dashboard as CSV")
def dashboard_csv(
    year: int | None = None, actor: Actor = allow("residency.manage"), session: Session = db_session
):
    data = service.dashboard(session, actor, paris_year(year))
    out = io.StringIO()
    exports.writer(out).writerows(service.dashboard_csv_rows(data))  # formulas neutralised
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="campus-life-{data["year"]}.csv"'},
    )


# --- sponsorship ----------------------------------------------------------------------------


@router.post("/sponsorships", status_code=201, summary="Pair a startup with a sponsor")
def create_sponsorship(
    body: SponsorshipIn, actor: Actor = allow("sponsorship.manage"), session: Session = db_session
):
    pair = service.create_sponsorship(session, actor, **body.model_dump())
    return service.sponsorship_view(session, actor, pair.id)


@router.put("/sponsorships/{pair_id}/objectives", summary="Set the pair's objectives")
def objectives(
    pair_id: str,
    body: ObjectivesIn,
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
):
    service.set_objectives(session, actor, pair_id, body.objectives)
    return service.sponsorship_view(session, actor, pair_id)


@router.post("/sponsorships/{pair_id}/meetings", status_code=201, summary="Log a meeting")
def log_meeting(
    pair_id: str,
    body: MeetingIn,
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
):
    service.log_meeting(session, actor, pair_id, **body.model_dump())
    return service.sponsorship_view(session, actor, pair_id)


@router.post("/sponsorships/{pair_id}/end", summary="Close a pair with its outcomes (staff)")
def end(
    pair_id: str,
    body: EndIn,
    actor: Actor = allow("sponsorship.manage"),
    session: Session = db_session,
):
    service.end_sponsorship(session, actor, pair_id, **body.model_dump())
    return service.sponsorship_view(session, actor, pair_id)


@router.post("/sponsorships/{pair_id}/rating", summary="Rate an ended sponsorship (each side)")
def rate(
    pair_id: str,
    body: RatingIn,
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
):
    service.rate_sponsorship(session, actor, pair_id, body.rating, body.comment)
    return service.sponsorship_view(session, actor, pair_id)
