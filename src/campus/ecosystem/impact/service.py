"""Impact records: entered by an organisation's admins, validated or rejected by staff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.impact.models import ImpactKind, ImpactRecord, ImpactStatus
from campus.errors import BadRequest, Conflict, NotFound
from campus.i18n import N_
from campus.text import refuse_control as _refuse_control

CURRENCIES = ("EUR", "USD", "GBP", "CHF")
MAX_AMOUNT = Decimal("1e14")  # the column holds 14 digits before the decimal point
ROUNDS = ("pre_seed", "seed", "series_a", "series_b", "series_c", "grant", "debt", "other")
COUNTERPART_KINDS = ("hospital", "clinic", "health_insurance", "public_agency", "company", "other")
# How the form names them, in French and in English.
ROUND_LABELS = {
    "pre_seed": ("pré-amorçage", "pre-seed"),
    "seed": ("amorçage", "seed"),
    "series_a": ("série A", "series A"),
    "series_b": ("série B", "series B"),
    "series_c": ("série C", "series C"),
    "grant": ("subvention", "grant"),
    "debt": ("dette", "debt"),
    "other": ("autre", "other"),
}
COUNTERPART_LABELS = {
    "hospital": ("hôpital", "hospital"),
    "clinic": ("clinique", "clinic"),
    "health_insurance": ("assurance maladie", "health insurance"),
    "public_agency": ("agence publique", "public agency"),
    "company": ("entreprise", "company"),
    "other": ("autre", "other"),
}
FIELDS = (
    "kind",
    "title",
    "occurred_on",
    "amount",
    "currency",
    "round",
    "investors",
    "counterpart",
    "counterpart_kind",
    "description",
)
KIND_LABELS = {
    "fundraising": ("levée de fonds", "fundraising"),
    "contract": ("contrat avec un acteur de santé", "contract with a health-system actor"),
    "acquisition": ("rachat", "acquisition"),
    "partnership": ("partenariat", "partnership"),
    "product_launch": ("lancement de produit", "product launch"),
}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise BadRequest(
            N_("unknown field"), code="unknown_field", where=", ".join(sorted(unknown))
        )
    kind = str(data.get("kind") or "")
    if kind not in {k.value for k in ImpactKind}:
        raise BadRequest(
            N_("unknown impact kind"),
            code="invalid_kind",
            where=f"kind: one of {', '.join(k.value for k in ImpactKind)}",
        )
    title = _refuse_control(str(data.get("title") or "").strip(), "title")
    if not title or len(title) > 200:
        raise BadRequest(N_("a title has 1 to 200 characters"), code="invalid_title", where="title")
    occurred = data.get("occurred_on")
    try:
        occurred_on = (
            occurred if isinstance(occurred, dt.date) else dt.date.fromisoformat(str(occurred))
        )
    except ValueError:
        raise BadRequest(
            N_("the date must look like 2026-03-31"), code="invalid_date", where="occurred_on"
        ) from None
    if occurred_on > utcnow().date():
        raise BadRequest(
            N_("an impact record is about something that happened: the date is in the future"),
            code="future_date",
            where="occurred_on",
        )
    if occurred_on.year < 1990:
        raise BadRequest(
            N_("the date must be in 1990 or later"), code="out_of_range", where="occurred_on"
        )
    amount: Decimal | None = None
    raw_amount = data.get("amount")
    if raw_amount not in (None, ""):
        try:
            amount = Decimal(str(raw_amount))
        except InvalidOperation:
            raise BadRequest(N_("not a number"), code="invalid_amount", where="amount") from None
        if amount.is_nan():
            raise BadRequest(N_("not a number"), code="invalid_amount", where="amount")
        if amount < 0:
            raise BadRequest(
                N_("the amount must be zero or more"), code="invalid_amount", where="amount"
            )
        if amount >= MAX_AMOUNT:  # infinity included
            raise BadRequest(
                N_("the amount is too large: it must be below 100,000 billion"),
                code="invalid_amount",
                where="amount",
            )
        amount = amount.quantize(Decimal("0.01"))
    currency = str(data.get("currency") or "").upper()
    if kind == ImpactKind.FUNDRAISING and amount is None:
        raise BadRequest(
            N_("a fundraising needs an amount"), code="amount_required", where="amount"
        )
    if amount is not None and currency not in CURRENCIES:
        raise BadRequest(
            N_("unknown currency"), code="invalid_currency", where=f"currency: {CURRENCIES}"
        )
    round_ = str(data.get("round") or "")
    if round_ and round_ not in ROUNDS:
        raise BadRequest(N_("unknown funding round"), code="invalid_round", where="round")
    investors = [
        _refuse_control(str(i).strip(), "investors")
        for i in data.get("investors") or []
        if str(i).strip()
    ]
    if len(investors) > 20 or any(len(i) > 200 for i in investors):
        raise BadRequest(
            N_("at most 20 investors of 200 characters each"), code="invalid", where="investors"
        )
    counterpart = _refuse_control(str(data.get("counterpart") or "").strip(), "counterpart")
    if len(counterpart) > 200:
        raise BadRequest(N_("this field is too long"), code="too_long", where="counterpart")
    if kind in (ImpactKind.CONTRACT, ImpactKind.PARTNERSHIP, ImpactKind.ACQUISITION) and not (
        counterpart
    ):
        raise BadRequest(
            N_("name the other party of this record"), code="required", where="counterpart"
        )
    counterpart_kind = str(data.get("counterpart_kind") or "")
    if counterpart_kind and counterpart_kind not in COUNTERPART_KINDS:
        raise BadRequest(
            N_("unknown kind of counterpart"), code="invalid", where="counterpart_kind"
        )
    description = _refuse_control(str(data.get("description") or "").strip(), "description")
    if len(description) > 5000:
        raise BadRequest(N_("this field is too long"), code="too_long", where="description")
    return {
        "kind": kind,
        "title": title,
        "occurred_on": occurred_on,
        "amount": amount,
        "currency": currency if amount is not None else "",
        "round": round_ if kind == ImpactKind.FUNDRAISING else "",
        "investors": investors if kind == ImpactKind.FUNDRAISING else [],
        "counterpart": counterpart,
        "counterpart_kind": counterpart_kind,
        "description": description,
    }


def submit(
    session: Session, organisation: Organisation, data: dict[str, Any], *, by: Actor
) -> ImpactRecord:
    record = ImpactRecord(organisation_id=organisation.id, submitted_by=by.label, **_clean(data))
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=by.label,
        action="impact.submitted",
        object_type="impact_record",
        object_id=record.id,
        details={"organisation": organisation.id, "kind": record.kind},
    )
    return record


def get(session: Session, record_id: str) -> ImpactRecord:
    record = session.get(ImpactRecord, record_id)
    if record is None:
        raise NotFound(N_("no such impact record"), code="not_found", where=record_id[:80])
    return record


def decide(
    session: Session, record: ImpactRecord, *, validate: bool, note: str = "", by: Actor
) -> ImpactRecord:
    lock(session, record)  # validated and rejected at once: one decision
    if record.status != ImpactStatus.SUBMITTED:
        raise Conflict(N_("this record was already decided"), code="already_decided")
    note = _refuse_control(note.strip(), "note")
    if len(note) > 500:
        raise BadRequest(N_("this field is too long"), code="too_long", where="note")
    if not validate and not note:
        raise BadRequest(
            N_("say why the record is rejected, so the organisation can fix it"),
            code="note_required",
            where="note",
        )
    record.status = ImpactStatus.VALIDATED if validate else ImpactStatus.REJECTED
    record.decided_by, record.decided_at, record.decision_note = by.label, utcnow(), note
    audit.record(
        session,
        actor=by.label,
        action="impact.validated" if validate else "impact.rejected",
        object_type="impact_record",
        object_id=record.id,
        details={"organisation": record.organisation_id},
    )
    return record


def of_organisation(session: Session, organisation_id: str) -> list[ImpactRecord]:
    return list(
        session.scalars(
            select(ImpactRecord)
            .where(ImpactRecord.organisation_id == organisation_id)
            .order_by(ImpactRecord.occurred_on.desc(), ImpactRecord.id)
        )
    )


def validated_of(session: Session, organisation_id: str) -> list[ImpactRecord]:
    return [r for r in of_organisation(session, organisation_id) if r.status == "validated"]


def pending(session: Session, limit: int = 200) -> list[ImpactRecord]:
    return list(
        session.scalars(
            select(ImpactRecord)
            .where(ImpactRecord.status == ImpactStatus.SUBMITTED)
            .order_by(ImpactRecord.created_at, ImpactRecord.id)
            .limit(limit)
        )
    )


def record_view(record: ImpactRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "organisation_id": record.organisation_id,
        "kind": record.kind,
        "title": record.title,
        "occurred_on": record.occurred_on.isoformat(),
        "amount": str(record.amount) if record.amount is not None else None,
        "currency": record.currency,
        "round": record.round,
        "investors": list(record.investors or []),
        "counterpart": record.counterpart,
        "counterpart_kind": record.counterpart_kind,
        "description": record.description,
        "status": record.status,
        "decision_note": record.decision_note,
        "created_at": record.created_at.isoformat(),
    }
