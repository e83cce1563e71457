"""Residency: hosting rounds and admissions, residencies with renewals and exits, the waiting
list, the public list of hosted structures, the staff figures, and sponsorship (parrainage).

Admissions reuse the programmes' machinery. A hosting round is a call of the campus's hosting
programme (slug `hebergement`) with the hosting form and scoring grid below; a structure's
admin applies to it like to any call, staff assign reviewers (refused on a conflict of
interest), reviewers score blind until their own review is in (sealed scores), and staff
select or reject. A selected application is then admitted (a residency, its contract, fee and
allocated spaces, all in one transaction) or put on the waiting list when no space fits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.impact.models import ImpactRecord
from campus.ecosystem.programmes import service as programmes
from campus.ecosystem.programmes.models import (
    ApplicationStatus,
    Programme,
    ProgrammeApplication,
    ProgrammeCall,
)
from campus.errors import BadRequest, CampusError, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.residency.models import (
    ExitReason,
    Renewal,
    Residency,
    ResidencyStatus,
    Sponsorship,
    SponsorshipMeeting,
    SponsorshipStatus,
    WaitingEntry,
    WaitingStatus,
)
from campus.spaces import service as spaces
from campus.spaces.validation import PARIS, clean_text, parse_date, whole_number

HOSTING_SLUG = "hebergement"
HOSTING_FIELDS = [
    {"key": "project", "label": "Projet", "type": "long_text", "required": True},
    {"key": "team_size", "label": "Taille de l'équipe", "type": "number", "required": True,
     "min": 1, "max": 500},
    {"key": "desks", "label": "Postes de travail souhaités", "type": "number", "required": True,
     "min": 1, "max": 200},
    {"key": "offices", "label": "Bureaux fermés souhaités", "type": "number", "required": False,
     "min": 0, "max": 20},
    {"key": "requested_start", "label": "Début souhaité (AAAA-MM-JJ)", "type": "text",
     "required": True},
    {"key": "data_needs", "label": "Besoins en données ou en équipements", "type": "long_text",
     "required": False},
    {"key": "axis", "label": "Axe servi", "type": "choice", "required": True,
     "choices": ["data", "skills", "value_creation", "societal_impact"]},
]  # fmt: skip
HOSTING_CRITERIA = [
    {"key": "health_impact", "label": "Impact en santé", "weight": 3},
    {"key": "fit", "label": "Adéquation avec le campus et ses membres", "weight": 2},
    {"key": "team", "label": "Équipe", "weight": 2},
    {"key": "maturity", "label": "Maturité et financement", "weight": 1},
]
EXIT_REASONS = tuple(r.value for r in ExitReason)


def _staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden(N_("only campus staff manage residencies"), code="forbidden")


def _euros_to_cents(value: Any, where: str) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise BadRequest(N_("this field is required"), code="required", where=where)
    text = str(value).replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        euros = float(text)
    except ValueError:
        raise BadRequest(
            N_("give an amount in euros"), code="invalid_amount", where=where
        ) from None
    if not 0 <= euros <= 1_000_000:
        raise BadRequest(N_("this amount is out of range"), code="invalid_amount", where=where)
    return round(euros * 100)


# --- hosting rounds (calls of the hosting programme) ----------------------------------------


def hosting_programme(session: Session, actor: Actor) -> Programme:
    """The hosting programme, created on first use (by staff)."""
    found = session.scalar(select(Programme).where(Programme.slug == HOSTING_SLUG))
    if found is not None:
        return found
    return programmes.create_programme(
        session,
        actor,
        programmes.ProgrammeInput(
            slug=HOSTING_SLUG,
            kind="acceleration",
            title_fr="Hébergement sur le campus",
            title_en="Hosting on the campus",
            summary_fr="Candidatures des structures qui souhaitent être hébergées sur le campus.",
            summary_en="Applications of structures that wish to be hosted on the campus.",
        ),
    )


def open_round(
    session: Session,
    actor: Actor,
    title: str,
    opens_at: dt.datetime | str,
    closes_at: dt.datetime | str,
) -> ProgrammeCall:
    """An admissions round: a call of the hosting programme with the hosting form and grid."""
    _staff_only(actor)
    programme = hosting_programme(session, actor)
    return programmes.create_call(
        session,
        actor,
        programme.id,
        programmes.CallInput(
            title=title,
            opens_at=opens_at,
            closes_at=closes_at,
            form_fields=HOSTING_FIELDS,
            criteria=HOSTING_CRITERIA,
        ),
    )


def rounds(session: Session) -> list[dict]:
    rows = session.execute(
        select(ProgrammeCall, func.count(ProgrammeApplication.id))
        .join(Programme, Programme.id == ProgrammeCall.programme_id)
        .outerjoin(ProgrammeApplication, ProgrammeApplication.call_id == ProgrammeCall.id)
        .where(Programme.slug == HOSTING_SLUG)
        .group_by(ProgrammeCall.id)
        .order_by(ProgrammeCall.opens_at.desc())
    ).all()
    return [
        {
            "id": call.id,
            "title": call.title,
            "opens_at": call.opens_at,
            "closes_at": call.closes_at,
            "state": programmes.call_state(call),
            "applications": count,
        }
        for call, count in rows
    ]


def _hosting_application(session: Session, application_id: str) -> ProgrammeApplication:
    application = programmes.get_application(session, application_id)
    programme = session.get(Programme, application.call.programme_id)
    if programme is None or programme.slug != HOSTING_SLUG:
        raise BadRequest(
            N_("this application is not a hosting application"),
            code="not_hosting",
            where="application_id",
        )
    return application


def round_view(session: Session, actor: Actor, call_id: str) -> dict:
    """A round's applications with their reviews (blind rule kept), decision, and where each
    selected one stands: admitted, waiting or to place. The admissions page and its twin."""
    _staff_only(actor)
    call = programmes.get_call(session, call_id)
    applications = programmes.applications_of_call(session, actor, call.id)
    scores = programmes.average_scores(session, actor, applications)
    ids = [a.id for a in applications] or [""]
    admitted = dict(
        session.execute(
            select(Residency.application_id, Residency.id).where(Residency.application_id.in_(ids))
        ).all()
    )
    waiting = dict(
        session.execute(
            select(WaitingEntry.application_id, WaitingEntry.status).where(
                WaitingEntry.application_id.in_(ids)
            )
        ).all()
    )
    names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_([a.organisation_id for a in applications] or [""])
            )
        ).all()
    )
    items = []
    for application in applications:
        answers = application.answers or {}
        if application.id in admitted:
            placement = "admitted"
        elif waiting.get(application.id) == WaitingStatus.WAITING:
            placement = "waiting"
        elif application.status == ApplicationStatus.SELECTED:
            placement = "to_place"
        else:
            placement = ""
        items.append(
            {
                "id": application.id,
                "organisation_id": application.organisation_id,
                "organisation": names.get(application.organisation_id, ""),
                "status": application.status,
                "desks": answers.get("desks"),
                "requested_start": answers.get("requested_start"),
                "axis": answers.get("axis"),
                "reviews": scores[application.id],
                "residency_id": admitted.get(application.id),
                "placement": placement,
            }
        )
    return {
        "round": {
            "id": call.id,
            "title": call.title,
            "opens_at": call.opens_at,
            "closes_at": call.closes_at,
            "state": programmes.call_state(call),
        },
        "applications": items,
    }


# --- admission, renewal, exit ---------------------------------------------------------------


@dataclass
class AdmissionInput:
    starts_on: dt.date | str
    ends_on: dt.date | str
    contract_ref: str
    monthly_fee: Any  # euros
    spaces: list[dict] = field(default_factory=list)  # [{room, desks}]


def _residency_terms(data: AdmissionInput) -> tuple[dt.date, dt.date, str, int]:
    starts_on = parse_date(data.starts_on, "starts_on")
    ends_on = parse_date(data.ends_on, "ends_on")
    assert starts_on is not None and ends_on is not None
    if ends_on <= starts_on:
        raise BadRequest(
            N_("a residency must end after it starts"), code="end_before_start", where="ends_on"
        )
    contract_ref = clean_text(
        data.contract_ref, "contract_ref", max_length=80, required=True, one_line=True
    )
    return starts_on, ends_on, contract_ref, _euros_to_cents(data.monthly_fee, "monthly_fee")


def admit(session: Session, actor: Actor, application_id: str, data: AdmissionInput) -> Residency:
    """Admit a selected hosting application: its residency and its spaces, all or nothing.
    A space that does not fit (overlap, too few desks) is refused with `spaces[i].…`."""
    _staff_only(actor)
    application = lock(session, _hosting_application(session, application_id))
    if application.status != ApplicationStatus.SELECTED:
        raise Conflict(
            N_("only a selected application is admitted"), code="not_selected", where="status"
        )
    if session.scalar(select(Residency.id).where(Residency.application_id == application.id)):
        raise Conflict(N_("this application is already admitted"), code="already_admitted")
    starts_on, ends_on, contract_ref, fee = _residency_terms(data)
    if not isinstance(data.spaces, list) or not data.spaces:
        raise BadRequest(
            N_("allocate at least one space, or put the application on the waiting list"),
            code="no_space",
            where="spaces",
        )
    residency = Residency(
        organisation_id=application.organisation_id,
        application_id=application.id,
        starts_on=starts_on,
        ends_on=ends_on,
        contract_ref=contract_ref,
        monthly_fee_cents=fee,
        created_by=actor.label,
    )
    session.add(residency)
    session.flush()
    _allocate_all(session, actor, residency, data.spaces, starts_on)
    entry = session.scalar(
        select(WaitingEntry).where(WaitingEntry.application_id == application.id)
    )
    if entry is not None:
        entry.status = WaitingStatus.PLACED
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="residency.admitted",
        object_type="residency",
        object_id=residency.id,
        details={"organisation": residency.organisation_id, "spaces": len(data.spaces)},
    )
    return residency


def register_residency(
    session: Session, actor: Actor, organisation_id: str, data: AdmissionInput
) -> Residency:
    """Record a residency that was not admitted through a round here (a structure hosted
    before the campus used Campus): the same terms and spaces, no application."""
    _staff_only(actor)
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(N_("no such organisation"), code="not_found", where="organisation_id")
    starts_on, ends_on, contract_ref, fee = _residency_terms(data)
    residency = Residency(
        organisation_id=organisation_id,
        starts_on=starts_on,
        ends_on=ends_on,
        contract_ref=contract_ref,
        monthly_fee_cents=fee,
        created_by=actor.label,
    )
    session.add(residency)
    session.flush()
    _allocate_all(session, actor, residency, data.spaces, starts_on)
    audit.record(
        session, actor=actor.label, action="residency.registered", object_type="residency",
        object_id=residency.id, details={"organisation": organisation_id},
    )  # fmt: skip
    return residency


def _allocate_all(
    session: Session, actor: Actor, residency: Residency, items: list, starts_on: dt.date
) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(N_("a space is {room, desks}"), where=f"spaces[{index}]")
        try:
            spaces.allocate(
                session,
                actor,
                room_key=str(item.get("room") or ""),
                residency_id=residency.id,
                organisation_id=residency.organisation_id,
                starts_on=item.get("starts_on") or starts_on,
                ends_on=item.get("ends_on") or None,
                desks=item.get("desks"),
            )
        except CampusError as error:
            where = error.where if error.where in ("starts_on", "ends_on", "desks") else "room"
            raise type(error)(
                error.message, code=error.code, where=f"spaces[{index}].{where}"
            ) from None


def _running(session: Session, actor: Actor, residency_id: str) -> Residency:
    """A running residency, locked for a change by staff."""
    _staff_only(actor)
    residency = lock(session, get_residency(session, actor, residency_id))
    if residency.status != ResidencyStatus.ACTIVE:
        raise Conflict(N_("this residency has ended"), code="ended")
    return residency


def allocate_more(session: Session, actor: Actor, residency_id: str, items: list) -> list[dict]:
    """Allocate further spaces to a running residency (from each item's `starts_on`)."""
    residency = _running(session, actor, residency_id)
    if not isinstance(items, list) or not items:
        raise BadRequest(N_("give at least one space"), code="no_space", where="spaces")
    today = utcnow().astimezone(PARIS).date()
    _allocate_all(session, actor, residency, items, max(residency.starts_on, today))
    return spaces.allocations_of(session, [residency.id])[residency.id]


def waitlist(session: Session, actor: Actor, application_id: str, note: str = "") -> WaitingEntry:
    """Put a selected hosting application on the waiting list (no space fits yet)."""
    _staff_only(actor)
    application = lock(session, _hosting_application(session, application_id))
    if application.status != ApplicationStatus.SELECTED:
        raise Conflict(N_("only a selected application waits for space"), code="not_selected")
    if session.scalar(select(Residency.id).where(Residency.application_id == application.id)):
        raise Conflict(N_("this application is already admitted"), code="already_admitted")
    if session.scalar(select(WaitingEntry.id).where(WaitingEntry.application_id == application.id)):
        raise Conflict(
            N_("this application is already on the waiting list"), code="already_waiting"
        )
    entry = WaitingEntry(
        application_id=application.id,
        organisation_id=application.organisation_id,
        desks_needed=int((application.answers or {}).get("desks") or 1),
        note=clean_text(note, "note", max_length=2000),
        added_by=actor.label,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session, actor=actor.label, action="residency.waitlisted",
        object_type="programme_application", object_id=application.id,
    )  # fmt: skip
    return entry


def waiting_list(session: Session, actor: Actor) -> list[dict]:
    """Waiting applications in order of arrival, each with the spaces that would fit it now."""
    _staff_only(actor)
    rows = session.execute(
        select(WaitingEntry, Organisation.name)
        .join(Organisation, Organisation.id == WaitingEntry.organisation_id)
        .where(WaitingEntry.status == WaitingStatus.WAITING)
        .order_by(WaitingEntry.added_at)
    ).all()
    today = utcnow().astimezone(PARIS).date()
    return [
        {
            "id": entry.id,
            "application_id": entry.application_id,
            "organisation_id": entry.organisation_id,
            "organisation": name,
            "desks_needed": entry.desks_needed,
            "added_at": entry.added_at,
            "note": entry.note,
            "fits": [
                r["code"] for r in spaces.free_spaces(session, today, None, entry.desks_needed)[:5]
            ],
        }
        for entry, name in rows
    ]


def renew(
    session: Session,
    actor: Actor,
    residency_id: str,
    ends_on: dt.date | str,
    monthly_fee: Any = None,
    contract_ref: str = "",
) -> Renewal:
    """Extend a running residency to a later end date, maybe with a new fee and contract."""
    residency = _running(session, actor, residency_id)
    new_end = parse_date(ends_on, "ends_on")
    assert new_end is not None
    if new_end <= residency.ends_on:
        raise BadRequest(
            N_("a renewal must end after the current end date"),
            code="not_later",
            where="ends_on",
        )
    fee = (
        residency.monthly_fee_cents
        if monthly_fee in (None, "")
        else _euros_to_cents(monthly_fee, "monthly_fee")
    )
    reference = (
        clean_text(contract_ref, "contract_ref", max_length=80, one_line=True)
        or residency.contract_ref
    )
    renewal = Renewal(
        residency_id=residency.id,
        previous_ends_on=residency.ends_on,
        new_ends_on=new_end,
        monthly_fee_cents=fee,
        contract_ref=reference,
        renewed_by=actor.label,
    )
    residency.ends_on, residency.monthly_fee_cents, residency.contract_ref = new_end, fee, reference
    session.add(renewal)
    session.flush()
    audit.record(
        session, actor=actor.label, action="residency.renewed", object_type="residency",
        object_id=residency.id, details={"ends_on": new_end.isoformat()},
    )  # fmt: skip
    return renewal


def record_exit(
    session: Session,
    actor: Actor,
    residency_id: str,
    exited_on: dt.date | str,
    reason: str,
    note: str = "",
) -> Residency:
    """A structure leaves: the residency ends that day with its reason; its spaces are freed
    from that day."""
    residency = _running(session, actor, residency_id)
    day = parse_date(exited_on, "exited_on")
    assert day is not None
    if day <= residency.starts_on:
        raise BadRequest(
            N_("the exit must come after the residency's start"),
            code="exit_before_start",
            where="exited_on",
        )
    if reason not in EXIT_REASONS:
        raise BadRequest(N_("unknown exit reason"), code="invalid_reason", where="reason")
    residency.status = ResidencyStatus.ENDED
    residency.exited_on = day
    residency.exit_reason = reason
    residency.exit_note = clean_text(note, "note", max_length=2000)
    spaces.end_allocations(session, actor, residency.id, day)
    session.flush()
    audit.record(
        session, actor=actor.label, action="residency.exited", object_type="residency",
        object_id=residency.id, details={"reason": reason},
    )  # fmt: skip
    return residency


# --- reading --------------------------------------------------------------------------------


def get_residency(session: Session, actor: Actor, residency_id: str) -> Residency:
    """A residency, to staff and to the members of its organisation."""
    residency = session.get(Residency, residency_id)
    if residency is None or not (
        actor.is_staff or residency.organisation_id in spaces.organisations_of(session, actor)
    ):
        raise NotFound(N_("no such residency"), code="not_found", where=residency_id)
    return residency


def residency_dict(residency: Residency, name: str, allocations: list[dict]) -> dict:
    return {
        "id": residency.id,
        "organisation_id": residency.organisation_id,
        "organisation": name,
        "application_id": residency.application_id,
        "starts_on": residency.starts_on,
        "ends_on": residency.ends_on,
        "contract_ref": residency.contract_ref,
        "monthly_fee_cents": residency.monthly_fee_cents,
        "status": residency.status,
        "exited_on": residency.exited_on,
        "exit_reason": residency.exit_reason,
        "exit_note": residency.exit_note,
        "spaces": allocations,
        "desks": sum(a["desks"] for a in allocations if a["ends_on"] is None),
        # Its contract has ended but neither a renewal nor an exit is recorded: its spaces
        # still count as allocated until staff record one.
        "overdue": residency.status == ResidencyStatus.ACTIVE
        and residency.ends_on <= utcnow().astimezone(PARIS).date(),
    }


def list_residencies(session: Session, actor: Actor, *, status: str | None = None) -> list[dict]:
    """Staff see every residency; a member sees their organisations' ones."""
    query = (
        select(Residency, Organisation.name)
        .join(Organisation, Organisation.id == Residency.organisation_id)
        .order_by(Organisation.name, Residency.starts_on)
    )
    if not actor.is_staff:
        mine = spaces.organisations_of(session, actor)
        if not mine:
            return []
        query = query.where(Residency.organisation_id.in_(mine))
    if status:
        query = query.where(Residency.status == status)
    rows = session.execute(query).all()
    allocations = spaces.allocations_of(session, [r.id for r, _ in rows])
    return [residency_dict(r, name, allocations.get(r.id, [])) for r, name in rows]


def residency_view(session: Session, actor: Actor, residency_id: str) -> dict:
    residency = get_residency(session, actor, residency_id)
    organisation = session.get(Organisation, residency.organisation_id)
    allocations = spaces.allocations_of(session, [residency.id]).get(residency.id, [])
    renewals = session.scalars(
        select(Renewal).where(Renewal.residency_id == residency.id).order_by(Renewal.renewed_at)
    )
    return {
        **residency_dict(residency, organisation.name if organisation else "", allocations),
        "renewals": [
            {
                "previous_ends_on": r.previous_ends_on,
                "new_ends_on": r.new_ends_on,
                "monthly_fee_cents": r.monthly_fee_cents,
                "contract_ref": r.contract_ref,
                "renewed_at": r.renewed_at,
            }
            for r in renewals
        ],
    }


def hosted_structures(session: Session, day: dt.date | None = None) -> list[dict]:
    """The public list: organisations hosted today, with the year they arrived. No contract,
    no fee, no space."""
    day = day or utcnow().astimezone(PARIS).date()
    rows = session.execute(
        select(
            Organisation.slug, Organisation.name, Organisation.kind, func.min(Residency.starts_on)
        )
        .join(Residency, Residency.organisation_id == Organisation.id)
        .where(
            Residency.status == ResidencyStatus.ACTIVE,
            Residency.starts_on <= day,
            Organisation.active.is_(True),
        )
        .group_by(Organisation.id, Organisation.slug, Organisation.name, Organisation.kind)
        .order_by(Organisation.name)
    ).all()
    return [
        {"slug": slug, "name": name, "kind": kind, "since": since.year}
        for slug, name, kind, since in rows
    ]


def entries_and_exits(session: Session) -> list[dict]:
    """Structures that arrived and left, year by year."""
    entries = Counter(
        day.year for day in session.scalars(select(Residency.starts_on)) if day is not None
    )
    exits = Counter(
        day.year
        for day in session.scalars(
            select(Residency.exited_on).where(Residency.exited_on.is_not(None))
        )
    )
    return [
        {"year": year, "entries": entries.get(year, 0), "exits": exits.get(year, 0)}
        for year in sorted(set(entries) | set(exits))
    ]


def dashboard(session: Session, actor: Actor, year: int) -> dict:
    """The staff figures of campus life for `year`: occupancy by month and floor, entries
    and exits by year, residents, waiting list, sponsorship. The page, CSV and JSON twins."""
    _staff_only(actor)
    today = utcnow().astimezone(PARIS).date()
    return {
        "year": year,
        "occupancy": spaces.occupancy(session, year),
        "entries_exits": entries_and_exits(session),
        "hosted_now": len(hosted_structures(session, today)),
        "waiting": session.scalar(
            select(func.count()).where(WaitingEntry.status == WaitingStatus.WAITING)
        )
        or 0,
        "exit_reasons": dict(
            Counter(
                session.scalars(select(Residency.exit_reason).where(Residency.exit_reason != ""))
            )
        ),
        "sponsorship": sponsorship_figures(session),
    }


def dashboard_csv_rows(data: dict) -> list[list[Any]]:
    """The dashboard as rows of one CSV: a section column, then its figures."""
    rows: list[list[Any]] = [["section", "key", "label", "value"]]
    for month in data["occupancy"]["months"]:
        rows.append(["occupancy", f"{data['year']}-{month['month']:02d}", "campus", month["rate"]])
    for floor in data["occupancy"]["floors"]:
        label = f"{floor['building']} {floor['level']}"
        for index, rate in enumerate(floor["rates"]):
            rows.append(["occupancy", f"{data['year']}-{index + 1:02d}", label, rate])
    for item in data["entries_exits"]:
        rows.append(["entries", item["year"], "", item["entries"]])
        rows.append(["exits", item["year"], "", item["exits"]])
    for key, value in data["sponsorship"].items():
        rows.append(["sponsorship", key, "", value])
    return rows


# --- sponsorship (parrainage) ---------------------------------------------------------------


def _objectives(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [line for line in value.splitlines() if line.strip()]
    if not isinstance(value, list):
        raise BadRequest(N_("objectives are a list of lines"), where="objectives")
    return [
        clean_text(item, f"objectives[{i}]", max_length=300, required=True, one_line=True)
        for i, item in enumerate(value[:20])
    ]


def create_sponsorship(
    session: Session,
    actor: Actor,
    *,
    startup_id: str,
    sponsor_id: str,
    mentor_account_id: str | None,
    mentor_name: str = "",
    objectives: Any = None,
    starts_on: dt.date | str | None = None,
) -> Sponsorship:
    """Staff pair a startup with a sponsor organisation and a named mentor."""
    _staff_only(actor)
    startup = session.get(Organisation, startup_id)
    if startup is None:
        raise NotFound(N_("no such organisation"), code="not_found", where="startup_id")
    if startup.kind != "startup":
        raise BadRequest(
            N_("the sponsored side must be a startup"), code="not_startup", where="startup_id"
        )
    sponsor = session.get(Organisation, sponsor_id)
    if sponsor is None:
        raise NotFound(N_("no such organisation"), code="not_found", where="sponsor_id")
    if sponsor.id == startup.id:
        raise BadRequest(
            N_("a startup cannot sponsor itself"), code="same_side", where="sponsor_id"
        )
    name = clean_text(mentor_name, "mentor_name", max_length=200, one_line=True)
    if mentor_account_id:
        mentor = session.get(Account, mentor_account_id)
        if mentor is None or not mentor.active:
            raise NotFound(N_("no such account"), code="not_found", where="mentor_account_id")
        if sponsor.id not in spaces.organisations_of(session, _account_actor(mentor)):
            raise BadRequest(
                N_("the mentor must belong to the sponsor organisation"),
                code="mentor_not_sponsor",
                where="mentor_account_id",
            )
        name = name or mentor.name
    if not name:
        raise BadRequest(N_("name the mentor"), code="required", where="mentor_name")
    active = session.scalar(
        select(Sponsorship.id).where(
            Sponsorship.startup_id == startup.id, Sponsorship.status == SponsorshipStatus.ACTIVE
        )
    )
    if active:
        raise Conflict(
            N_("this startup already has an active sponsor"),
            code="already_paired",
            where="startup_id",
        )
    pair = Sponsorship(
        startup_id=startup.id,
        sponsor_id=sponsor.id,
        mentor_account_id=mentor_account_id or None,
        mentor_name=name,
        objectives=_objectives(objectives),
        starts_on=parse_date(starts_on, "starts_on", required=False)
        or utcnow().astimezone(PARIS).date(),
        created_by=actor.label,
    )
    session.add(pair)
    session.flush()
    audit.record(
        session, actor=actor.label, action="sponsorship.created", object_type="sponsorship",
        object_id=pair.id, details={"startup": startup.id, "sponsor": sponsor.id},
    )  # fmt: skip
    return pair


def pairing_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Startups and possible sponsors (companies, founding members, labs), for staff's form."""
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.kind)
        .where(Organisation.active.is_(True))
        .order_by(Organisation.name)
    ).all()
    return {
        "startups": [(i, n) for i, n, k in rows if k == "startup"],
        "sponsors": [
            (i, n) for i, n, k in rows if k in ("company", "founding_member", "research_lab")
        ],
    }


def _account_actor(account: Account) -> Actor:
    from campus.auth.actor import Grant

    return Actor(
        account_id=account.id,
        grants=frozenset(Grant(g.role, g.scope_type, g.scope_id) for g in account.grants),
    )


def side_of(session: Session, actor: Actor, pair: Sponsorship) -> str:
    """`staff`, `sponsor` (the mentor or a member of the sponsor), `startup`, or ''."""
    if actor.account_id and pair.mentor_account_id == actor.account_id:
        return "sponsor"
    mine = spaces.organisations_of(session, actor)
    if pair.startup_id in mine:
        return "startup"
    if pair.sponsor_id in mine:
        return "sponsor"
    return "staff" if actor.is_staff else ""


def get_sponsorship(session: Session, actor: Actor, pair_id: str) -> Sponsorship:
    pair = session.get(Sponsorship, pair_id)
    if pair is None or not side_of(session, actor, pair):
        raise NotFound(N_("no such sponsorship"), code="not_found", where=pair_id)
    return pair


def _active_pair(session: Session, actor: Actor, pair_id: str) -> Sponsorship:
    """A running sponsorship the actor takes part in, locked for a change."""
    pair = lock(session, get_sponsorship(session, actor, pair_id))
    if pair.status != SponsorshipStatus.ACTIVE:
        raise Conflict(N_("this sponsorship has ended"), code="ended")
    return pair


def set_objectives(session: Session, actor: Actor, pair_id: str, objectives: Any) -> Sponsorship:
    """The objectives the pair agreed, written by either side or staff while it runs."""
    pair = _active_pair(session, actor, pair_id)
    pair.objectives = _objectives(objectives)
    session.flush()
    return pair


def log_meeting(
    session: Session,
    actor: Actor,
    pair_id: str,
    *,
    held_on: dt.date | str,
    topics: str,
    next_steps: str = "",
) -> SponsorshipMeeting:
    """A meeting of the pair (date, topics, next steps), logged by either side or staff."""
    pair = _active_pair(session, actor, pair_id)
    day = parse_date(held_on, "held_on")
    assert day is not None
    if day < pair.starts_on:
        raise BadRequest(
            N_("the meeting is before the sponsorship started"),
            code="before_start",
            where="held_on",
        )
    if day > utcnow().astimezone(PARIS).date():
        raise BadRequest(
            N_("log a meeting once it has taken place"), code="future", where="held_on"
        )
    meeting = SponsorshipMeeting(
        sponsorship_id=pair.id,
        held_on=day,
        topics=clean_text(topics, "topics", max_length=5000, required=True),
        next_steps=clean_text(next_steps, "next_steps", max_length=5000),
        logged_by=actor.label,
        logged_side=side_of(session, actor, pair),
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session, actor=actor.label, action="sponsorship.meeting_logged",
        object_type="sponsorship", object_id=pair.id,
    )  # fmt: skip
    return meeting


def end_sponsorship(
    session: Session,
    actor: Actor,
    pair_id: str,
    *,
    ends_on: dt.date | str,
    introductions: Any = 0,
    contracts: Any = 0,
    fundraising_records: list[str] | None = None,
) -> Sponsorship:
    """Staff close a pair with its outcomes: introductions made, contracts signed, and the
    startup's fundraising impact records linked to it."""
    _staff_only(actor)
    pair = _active_pair(session, actor, pair_id)
    day = parse_date(ends_on, "ends_on")
    assert day is not None
    if day <= pair.starts_on:
        raise BadRequest(
            N_("a sponsorship must end after it starts"), code="end_before_start", where="ends_on"
        )
    records = list(dict.fromkeys(fundraising_records or []))
    for index, record_id in enumerate(records):
        record = session.get(ImpactRecord, record_id)
        if (
            record is None
            or record.organisation_id != pair.startup_id
            or record.kind != "fundraising"
        ):
            raise BadRequest(
                N_("not a fundraising record of this startup"),
                code="invalid_record",
                where=f"fundraising_records[{index}]",
            )
    pair.status = SponsorshipStatus.ENDED
    pair.ends_on = day
    pair.outcomes = {
        "introductions": whole_number(introductions or 0, "introductions", maximum=1000),
        "contracts": whole_number(contracts or 0, "contracts", maximum=1000),
        "fundraising_records": records,
    }
    session.flush()
    audit.record(
        session, actor=actor.label, action="sponsorship.ended", object_type="sponsorship",
        object_id=pair.id,
    )  # fmt: skip
    return pair


def rate_sponsorship(
    session: Session, actor: Actor, pair_id: str, rating: Any, comment: str = ""
) -> Sponsorship:
    """Each side rates an ended sponsorship once (1 to 5)."""
    pair = lock(session, get_sponsorship(session, actor, pair_id))
    side = side_of(session, actor, pair)
    if side not in ("startup", "sponsor"):
        raise Forbidden(N_("only the two sides rate a sponsorship"), code="not_a_side")
    if pair.status != SponsorshipStatus.ENDED:
        raise Conflict(N_("a sponsorship is rated once it has ended"), code="not_ended")
    value = whole_number(rating, "rating", minimum=1, maximum=5)
    text = clean_text(comment, "comment", max_length=2000)
    if getattr(pair, f"{side}_rating") is not None:
        raise Conflict(N_("your side has already rated this sponsorship"), code="already_rated")
    setattr(pair, f"{side}_rating", value)
    setattr(pair, f"{side}_comment", text)
    session.flush()
    return pair


def sponsorship_dict(
    pair: Sponsorship, names: dict[str, str], meetings: list[dict], side: str
) -> dict:
    return {
        "id": pair.id,
        "startup_id": pair.startup_id,
        "startup": names.get(pair.startup_id, ""),
        "sponsor_id": pair.sponsor_id,
        "sponsor": names.get(pair.sponsor_id, ""),
        "mentor": pair.mentor_name,
        "objectives": list(pair.objectives or []),
        "starts_on": pair.starts_on,
        "ends_on": pair.ends_on,
        "status": pair.status,
        "outcomes": dict(pair.outcomes or {}),
        "startup_rating": pair.startup_rating,
        "sponsor_rating": pair.sponsor_rating,
        "meetings": meetings,
        "meeting_count": len(meetings),
        "my_side": side,
    }


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    return dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids or {""}))
        ).all()
    )


def list_sponsorships(session: Session, actor: Actor) -> list[dict]:
    """Staff see every pair; others the pairs they take part in."""
    query = select(Sponsorship).order_by(Sponsorship.status, Sponsorship.starts_on.desc())
    if not actor.is_staff:
        mine = spaces.organisations_of(session, actor)
        query = query.where(
            (Sponsorship.startup_id.in_(mine or {""}))
            | (Sponsorship.sponsor_id.in_(mine or {""}))
            | (Sponsorship.mentor_account_id == (actor.account_id or ""))
        )
    pairs = list(session.scalars(query))
    counts = dict(
        session.execute(
            select(SponsorshipMeeting.sponsorship_id, func.count())
            .where(SponsorshipMeeting.sponsorship_id.in_([p.id for p in pairs] or [""]))
            .group_by(SponsorshipMeeting.sponsorship_id)
        ).all()
    )
    names = _names(session, {p.startup_id for p in pairs} | {p.sponsor_id for p in pairs})
    items = []
    for pair in pairs:
        item = sponsorship_dict(pair, names, [], side_of(session, actor, pair))
        item["meeting_count"] = counts.get(pair.id, 0)
        del item["meetings"]
        items.append(item)
    return items


def sponsorship_view(session: Session, actor: Actor, pair_id: str) -> dict:
    pair = get_sponsorship(session, actor, pair_id)
    meetings = [
        {
            "id": m.id,
            "held_on": m.held_on,
            "topics": m.topics,
            "next_steps": m.next_steps,
            "logged_by": m.logged_by,
            "side": m.logged_side,
        }
        for m in session.scalars(
            select(SponsorshipMeeting)
            .where(SponsorshipMeeting.sponsorship_id == pair.id)
            .order_by(SponsorshipMeeting.held_on.desc(), SponsorshipMeeting.logged_at.desc())
        )
    ]
    names = _names(session, {pair.startup_id, pair.sponsor_id})
    return sponsorship_dict(pair, names, meetings, side_of(session, actor, pair))


def sponsorship_figures(session: Session) -> dict:
    """Active pairs, meetings per pair, and the outcomes of ended pairs."""
    pairs = list(session.scalars(select(Sponsorship)))
    meetings = Counter(session.scalars(select(SponsorshipMeeting.sponsorship_id)))
    ended = [p for p in pairs if p.status == SponsorshipStatus.ENDED]
    totals: dict[str, int] = defaultdict(int)
    for pair in ended:
        outcomes = pair.outcomes or {}
        totals["introductions"] += int(outcomes.get("introductions") or 0)
        totals["contracts"] += int(outcomes.get("contracts") or 0)
        totals["fundraising_linked"] += len(outcomes.get("fundraising_records") or [])
    ratings = [r for p in ended for r in (p.startup_rating, p.sponsor_rating) if r is not None]
    return {
        "active_pairs": sum(1 for p in pairs if p.status == SponsorshipStatus.ACTIVE),
        "ended_pairs": len(ended),
        "meetings": sum(meetings.values()),
        "meetings_per_pair": round(sum(meetings.values()) / len(pairs), 2) if pairs else 0,
        "introductions": totals["introductions"],
        "contracts": totals["contracts"],
        "fundraising_linked": totals["fundraising_linked"],
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }
