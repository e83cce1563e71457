"""Consultations: created and edited by their managers, checked dates, subject and numbers,
closed early."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import BadRequest, Conflict, NotFound
from campus.i18n import gettext as _
from campus.participation import text
from campus.participation.models import (
    SUBJECT_TYPES,
    Consultation,
)
from campus.participation.phases import PHASE_LABELS, Phase, phase_of
from campus.participation.shared import (
    SUBJECT_ID,
    TITLE_MIN,
    ConsultationFields,
)

# --- consultations --------------------------------------------------------------------------


def _check_dates(fields: ConsultationFields) -> None:
    names = ("opens_at", "contributions_at", "voting_at", "results_at")
    values = [getattr(fields, n) for n in names]
    for name, value in zip(names, values, strict=True):
        if value.tzinfo is None:
            raise BadRequest(
                _("{field} needs a time zone").format(field=name), code="naive_date", where=name
            )
    for (first, a), (second, b) in zip(
        zip(names, values, strict=True), zip(names[1:], values[1:], strict=True), strict=False
    ):
        if a > b or (second == "results_at" and a >= b):
            raise BadRequest(
                _("{second} must come after {first}").format(first=first, second=second),
                code="phase_order",
                where=second,
            )


def _check_subject(fields: ConsultationFields) -> tuple[str, str, str]:
    kind = fields.subject_type.strip()
    ident = fields.subject_id.strip()
    title = fields.subject_title.strip()
    if not kind and not ident and not title:
        return "", "", ""
    if kind not in SUBJECT_TYPES:
        raise BadRequest(
            _("subject_type must be one of: {choices}").format(choices=", ".join(SUBJECT_TYPES)),
            code="invalid_subject",
            where="subject_type",
        )
    if not SUBJECT_ID.match(ident):
        raise BadRequest(
            _("subject_id must be 1 to 64 letters, digits or _ . : -"),
            code="invalid_subject",
            where="subject_id",
        )
    title = text.plain(title, field="subject_title", minimum=1, maximum=300)
    return kind, ident, title


def _check_numbers(fields: ConsultationFields) -> None:
    checks = (
        ("supports_per_person", fields.supports_per_person, 1, 50),
        ("report_threshold", fields.report_threshold, 1, 100),
    )
    for name, value, low, high in checks:
        if not low <= value <= high:
            raise BadRequest(
                _("{field} must be between {low} and {high}").format(
                    field=name, low=low, high=high
                ),
                code="out_of_range",
                where=name,
            )
    if fields.proposals_per_hour is not None and not 1 <= fields.proposals_per_hour <= 100:
        raise BadRequest(
            _("{field} must be between {low} and {high}").format(
                field="proposals_per_hour", low=1, high=100
            ),
            code="out_of_range",
            where="proposals_per_hour",
        )


def create_consultation(session: Session, actor: Actor, fields: ConsultationFields) -> Consultation:
    """Create a consultation (campus staff), optionally attached to a project or programme."""
    title = text.plain(fields.title, field="title", minimum=TITLE_MIN, maximum=200)
    summary = text.rich(fields.summary, field="summary", minimum=20, maximum=10000)
    subject = _check_subject(fields)
    _check_dates(fields)
    _check_numbers(fields)
    consultation = Consultation(
        title=title,
        summary=summary,
        subject_type=subject[0],
        subject_id=subject[1],
        subject_title=subject[2],
        opens_at=fields.opens_at,
        contributions_at=fields.contributions_at,
        voting_at=fields.voting_at,
        results_at=fields.results_at,
        supports_per_person=fields.supports_per_person,
        report_threshold=fields.report_threshold,
        proposals_per_hour=fields.proposals_per_hour,
        created_by=actor.label,
    )
    session.add(consultation)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="consultation.created",
        object_type="consultation",
        object_id=consultation.id,
        details={"subject_type": subject[0], "subject_id": subject[1]},
    )
    return consultation


def close_early(session: Session, actor: Actor, consultation: Consultation) -> Consultation:
    """End a consultation now: votes stop and results are published."""
    now = utcnow()
    if phase_of(consultation, now) == Phase.RESULTS:
        raise Conflict(_("this consultation is already closed"), code="already_closed")
    consultation.closed_at = now
    audit.record(
        session,
        actor=actor.label,
        action="consultation.closed",
        object_type="consultation",
        object_id=consultation.id,
    )
    return consultation


def get_consultation(session: Session, consultation_id: str) -> Consultation:
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound(_("no such consultation"), code="not_found", where="consultation_id")
    return consultation


def list_consultations(session: Session) -> list[Consultation]:
    return list(session.scalars(select(Consultation).order_by(Consultation.opens_at.desc())))


def require_phase(consultation: Consultation, *allowed: Phase, what: str) -> Phase:
    phase = phase_of(consultation, utcnow())
    if phase not in allowed:
        raise Conflict(
            _("{what} is not possible in the {phase} phase of this consultation").format(
                what=what, phase=_(PHASE_LABELS[phase]).lower()
            ),
            code="wrong_phase",
        )
    return phase
