"""A residency's life once it exists: read by staff and by its organisation's members, more
spaces while it runs, a renewal to a later end, an exit that frees its spaces."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Organisation
from campus.errors import BadRequest, CampusError, Conflict, NotFound
from campus.i18n import N_
from campus.residency.models import ExitReason, Renewal, Residency, ResidencyStatus
from campus.residency.rules import euros_to_cents, staff_only
from campus.spaces import service as spaces
from campus.spaces.validation import PARIS, clean_text, parse_date

EXIT_REASONS = tuple(r.value for r in ExitReason)


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


def allocate_all(
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


def running(session: Session, actor: Actor, residency_id: str) -> Residency:
    """A running residency, locked for a change by staff."""
    staff_only(actor)
    residency = lock(session, get_residency(session, actor, residency_id))
    if residency.status != ResidencyStatus.ACTIVE:
        raise Conflict(N_("this residency has ended"), code="ended")
    return residency


def allocate_more(session: Session, actor: Actor, residency_id: str, items: list) -> list[dict]:
    """Allocate further spaces to a running residency (from each item's `starts_on`)."""
    residency = running(session, actor, residency_id)
    if not isinstance(items, list) or not items:
        raise BadRequest(N_("give at least one space"), code="no_space", where="spaces")
    today = utcnow().astimezone(PARIS).date()
    allocate_all(session, actor, residency, items, max(residency.starts_on, today))
    return spaces.allocations_of(session, [residency.id])[residency.id]


def renew(
    session: Session,
    actor: Actor,
    residency_id: str,
    ends_on: dt.date | str,
    monthly_fee: Any = None,
    contract_ref: str = "",
) -> Renewal:
    """Extend a running residency to a later end date, maybe with a new fee and contract."""
    residency = running(session, actor, residency_id)
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
        else euros_to_cents(monthly_fee, "monthly_fee")
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
    residency = running(session, actor, residency_id)
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
