"""HTML pages of residency and their JSON twins: hosted structures (public), admissions
rounds, residencies and the waiting list, the campus-life dashboard, sponsorships. Each GET
page renders its twin's data function (`campus.web.twins.twin`); each form parses into the
API's input model (`campus.web.forms.form_route`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import field_validator, model_validator
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.i18n import N_, current_language
from campus.i18n import gettext as _
from campus.residency import api, service
from campus.spaces.labels import WORDS
from campus.text import PARIS
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.twins import twin

router = APIRouter()

MONTHS = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
SHORT_MONTHS = (
    N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"),
    N_("Jul"), N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec"),
)  # fmt: skip
PLACED_KINDS = ("office", "lab", "open_space")


def _lines(value: Any) -> Any:
    """A textarea's objectives, one a line, as the API's list of objectives."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [line for item in value for line in str(item).splitlines() if line.strip()]
    return value


# --- forms: the API's input models, as an HTML form sends them ------------------------------


class AdmissionForm(api.AdmissionIn):
    """The admission form of a round's page: one application and one space (room, desks)."""

    application_id: str
    room: str = ""
    desks: api.Loose = None

    @model_validator(mode="after")
    def _one_space(self) -> AdmissionForm:
        if self.room and not self.spaces:
            self.spaces = [api.SpaceIn(room=self.room, desks=self.desks)]
        return self


class WaitlistForm(api.WaitlistIn):
    application_id: str


class SponsorshipForm(api.SponsorshipIn):
    _objectives = field_validator("objectives", mode="before")(_lines)


class ObjectivesForm(api.ObjectivesIn):
    _objectives = field_validator("objectives", mode="before")(_lines)


# --- hosted structures (public) -------------------------------------------------------------


@twin(
    api.router,
    router,
    "/campus/hosted",
    api_path="/residency/hosted",
    template="campus_life/hosted.html",
    summary="Structures hosted on the campus (public)",
    context=lambda: dict(WORDS),
)
def hosted(actor: Actor = allow("public.read"), session: Session = db_session) -> list[dict]:
    """Name, kind and year of arrival; never a contract, a fee or a space."""
    return service.hosted_structures(session)


# --- admissions rounds ----------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/residency/admissions",
    api_path="/residency/rounds",
    template="campus_life/admissions.html",
    summary="Admissions rounds (calls of the hosting programme)",
    context=lambda: {**WORDS, "values": {}},
)
def rounds(actor: Actor = allow("residency.manage"), session: Session = db_session) -> list[dict]:
    return service.rounds(session)


@form_route(router, "/residency/admissions", model=api.RoundIn, page=rounds)
def open_round_submit(
    body: api.RoundIn, actor: Actor = allow("residency.manage"), session: Session = db_session
) -> str:
    call = service.open_round(session, actor, body.title, body.opens_at, body.closes_at)
    return f"/residency/rounds/{call.id}"


def _round_extras(session: Session) -> dict:
    """The round page's form options: the spaces a structure may be placed in."""
    from campus.spaces import service as spaces

    rooms = [r for r in spaces.list_rooms(session) if r["kind"] in PLACED_KINDS]
    return {**WORDS, "rooms": rooms, "values": {}}


@twin(
    api.router,
    router,
    "/residency/rounds/{call_id}",
    template="campus_life/round.html",
    summary="A round's applications and placements",
    context=_round_extras,
)
def round_view(
    call_id: str, actor: Actor = allow("residency.manage"), session: Session = db_session
) -> dict:
    return service.round_view(session, actor, call_id)


@form_route(router, "/residency/rounds/{call_id}/admit", model=AdmissionForm, page=round_view)
def admit_submit(
    body: AdmissionForm,
    call_id: str,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
) -> str:
    data = service.AdmissionInput(
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        contract_ref=body.contract_ref,
        monthly_fee=body.monthly_fee,
        spaces=api.spaces_of(body.spaces),
    )
    residency = service.admit(session, actor, body.application_id, data)
    return f"/residencies/{residency.id}"


@form_route(router, "/residency/rounds/{call_id}/waitlist", model=WaitlistForm, page=round_view)
def waitlist_submit(
    body: WaitlistForm,
    call_id: str,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
) -> str:
    service.waitlist(session, actor, body.application_id, body.note)
    return f"/residency/rounds/{call_id}"


# --- residencies and the waiting list -------------------------------------------------------


def _waiting(session: Session, actor: Actor) -> dict:
    """Staff's page also shows the waiting list, the data of its own twin
    (GET /api/v1/residency/waiting-list)."""
    return {
        **WORDS,
        "waiting": service.waiting_list(session, actor) if actor.is_staff else [],
    }


@twin(
    api.router,
    router,
    "/residencies",
    template="campus_life/residencies.html",
    summary="Residencies (staff: all; members: their organisations')",
    context=_waiting,
)
def residencies(
    status: str | None = None,
    actor: Actor = allow("residency.own"),
    session: Session = db_session,
) -> list[dict]:
    return service.list_residencies(session, actor, status=status)


def _residency_extras() -> dict:
    return {**WORDS, "reasons": service.EXIT_REASONS, "values": {}}


@twin(
    api.router,
    router,
    "/residencies/{residency_id}",
    template="campus_life/residency.html",
    summary="One residency with its spaces and renewals",
    context=_residency_extras,
)
def residency(
    residency_id: str, actor: Actor = allow("residency.own"), session: Session = db_session
) -> dict:
    return service.residency_view(session, actor, residency_id)


def _residency_form(path: str, model: type):
    return form_route(router, f"/residencies/{{residency_id}}/{path}", model=model, page=residency)


@_residency_form("spaces", api.SpaceIn)
def allocate_submit(
    body: api.SpaceIn,
    residency_id: str,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
) -> str:
    service.allocate_more(session, actor, residency_id, api.spaces_of([body]))
    return f"/residencies/{residency_id}"


@_residency_form("renewal", api.RenewalIn)
def renew_submit(
    body: api.RenewalIn,
    residency_id: str,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
) -> str:
    service.renew(session, actor, residency_id, body.ends_on, body.monthly_fee, body.contract_ref)
    return f"/residencies/{residency_id}"


@_residency_form("exit", api.ExitIn)
def exit_submit(
    body: api.ExitIn,
    residency_id: str,
    actor: Actor = allow("residency.manage"),
    session: Session = db_session,
) -> str:
    service.record_exit(session, actor, residency_id, body.exited_on, body.reason, body.note)
    return f"/residencies/{residency_id}"


# --- the campus-life dashboard --------------------------------------------------------------


def percent(rate: float | None) -> str:
    """A rate as a percentage with one decimal, as the reader's language writes it (84,3)."""
    text = f"{(rate or 0) * 100:.1f}"
    return text.replace(".", ",") if current_language.get() == "fr" else text


def _charts(data: dict) -> dict:
    """The dashboard's charts and month names, in the reader's language."""
    months = [_(m) for m in MONTHS]
    years = [str(e["year"]) for e in data["entries_exits"]]
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
            "labels": years,
            "values": [e["entries"] for e in data["entries_exits"]],
        },
        {
            "type": "bar",
            "title": _("Exits per year"),
            "labels": years,
            "values": [e["exits"] for e in data["entries_exits"]],
        },
    ]
    short = [_(m) for m in SHORT_MONTHS]
    return {**WORDS, "charts": charts, "months": months, "short_months": short, "percent": percent}


@twin(
    api.router,
    router,
    "/residency/dashboard",
    template="campus_life/dashboard.html",
    summary="Occupancy, entries and exits, sponsorship",
    context=_charts,
)
def dashboard(
    year: int | None = None, actor: Actor = allow("residency.manage"), session: Session = db_session
) -> dict:
    return service.dashboard(session, actor, api.paris_year(year))


# --- sponsorships ---------------------------------------------------------------------------


def _pairing_choices(session: Session, actor: Actor) -> dict:
    """Staff's pairing form: startups and possible sponsors."""
    choices = service.pairing_choices(session) if actor.is_staff else {}
    return {**WORDS, "choices": choices, "values": {}}


@twin(
    api.router,
    router,
    "/sponsorships",
    template="campus_life/sponsorships.html",
    summary="Sponsorship pairs (staff: all; members: their own)",
    context=_pairing_choices,
)
def sponsorships(
    actor: Actor = allow("sponsorship.take_part"), session: Session = db_session
) -> list[dict]:
    return service.list_sponsorships(session, actor)


@form_route(router, "/sponsorships", model=SponsorshipForm, page=sponsorships)
def sponsorship_create(
    body: SponsorshipForm, actor: Actor = allow("sponsorship.manage"), session: Session = db_session
) -> str:
    pair = service.create_sponsorship(session, actor, **body.model_dump())
    return f"/sponsorships/{pair.id}"


def _today() -> dict:
    return {**WORDS, "today": utcnow().astimezone(PARIS).date().isoformat(), "values": {}}


@twin(
    api.router,
    router,
    "/sponsorships/{pair_id}",
    template="campus_life/sponsorship.html",
    summary="A pair with its objectives and meetings",
    context=_today,
)
def sponsorship(
    pair_id: str, actor: Actor = allow("sponsorship.take_part"), session: Session = db_session
) -> dict:
    return service.sponsorship_view(session, actor, pair_id)


def _pair_form(path: str, model: type):
    return form_route(router, f"/sponsorships/{{pair_id}}/{path}", model=model, page=sponsorship)


@_pair_form("meetings", api.MeetingIn)
def meeting_submit(
    body: api.MeetingIn,
    pair_id: str,
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
) -> str:
    service.log_meeting(session, actor, pair_id, **body.model_dump())
    return f"/sponsorships/{pair_id}"


@_pair_form("objectives", ObjectivesForm)
def objectives_submit(
    body: ObjectivesForm,
    pair_id: str,
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
) -> str:
    service.set_objectives(session, actor, pair_id, body.objectives)
    return f"/sponsorships/{pair_id}"


@_pair_form("rating", api.RatingIn)
def rating_submit(
    body: api.RatingIn,
    pair_id: str,
    actor: Actor = allow("sponsorship.take_part"),
    session: Session = db_session,
) -> str:
    service.rate_sponsorship(session, actor, pair_id, body.rating, body.comment)
    return f"/sponsorships/{pair_id}"


@_pair_form("end", api.EndIn)
def end_submit(
    body: api.EndIn,
    pair_id: str,
    actor: Actor = allow("sponsorship.manage"),
    session: Session = db_session,
) -> str:
    service.end_sponsorship(session, actor, pair_id, **body.model_dump())
    return f"/sponsorships/{pair_id}"
