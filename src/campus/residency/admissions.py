"""Admissions: a selected hosting application admitted (its residency, contract, fee and
spaces, all in one transaction), a residency recorded without a round, and the waiting list
of selected applications that no space fits yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes.models import ApplicationStatus
from campus.errors import BadRequest, Conflict, NotFound
from campus.i18n import N_
from campus.residency.models import Residency, WaitingEntry, WaitingStatus
from campus.residency.residencies import allocate_all
from campus.residency.rounds import hosting_application
from campus.residency.rules import euros_to_cents, staff_only
from campus.spaces import service as spaces
from campus.spaces.validation import PARIS, clean_text, parse_date


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
    return starts_on, ends_on, contract_ref, euros_to_cents(data.monthly_fee, "monthly_fee")


def admit(session: Session, actor: Actor, application_id: str, data: AdmissionInput) -> Residency:
    """Admit a selected hosting application: its residency and its spaces, all or nothing.
    A space that does not fit (overlap, too few desks) is refused with `spaces[i].…`."""
    staff_only(actor)
    application = lock(session, hosting_application(session, application_id))
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
    allocate_all(session, actor, residency, data.spaces, starts_on)
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
    staff_only(actor)
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
    allocate_all(session, actor, residency, data.spaces, starts_on)
    audit.record(
        session, actor=actor.label, action="residency.registered", object_type="residency",
        object_id=residency.id, details={"organisation": organisation_id},
    )  # fmt: skip
    return residency


def waitlist(session: Session, actor: Actor, application_id: str, note: str = "") -> WaitingEntry:
    """Put a selected hosting application on the waiting list (no space fits yet)."""
    staff_only(actor)
    application = lock(session, hosting_application(session, application_id))
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
    staff_only(actor)
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
