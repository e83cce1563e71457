"""Supports (votes) on proposals during the voting phase, at most N per person and one per
proposal, changeable until voting closes. Limits hold under concurrent requests: the person's
participant row is locked and (proposal, account) is unique."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.errors import Conflict, NotFound
from campus.i18n import gettext as _
from campus.participation import participants
from campus.participation.models import Consultation, Proposal, Support
from campus.participation.phases import Phase
from campus.participation.service import get_proposal, require_phase


def _used(session: Session, consultation_id: str, account_id: str) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Support.consultation_id == consultation_id, Support.account_id == account_id
            )
        )
        or 0
    )


def support(
    session: Session, actor: Actor, consultation: Consultation, proposal_id: str
) -> Support:
    """Give one support to a proposal; refused outside voting, twice, or past the limit."""
    assert actor.account_id
    require_phase(consultation, Phase.VOTING, what=_("Voting"))
    proposal = get_proposal(session, consultation, proposal_id)
    if proposal.moderation != "visible":
        raise Conflict(_("this proposal is hidden by moderation"), code="hidden")
    participant = participants.lock(session, consultation.id, actor.account_id)
    already = session.scalar(
        select(Support.id).where(
            Support.proposal_id == proposal.id, Support.account_id == actor.account_id
        )
    )
    if already is not None:
        raise Conflict(_("you already support this proposal"), code="already_supported")
    used = _used(session, consultation.id, actor.account_id)
    if used >= consultation.supports_per_person:
        raise Conflict(
            _(
                "you have used your {limit} supports in this consultation: withdraw one "
                "to support another proposal"
            ).format(limit=consultation.supports_per_person),
            code="support_limit",
        )
    row = Support(
        consultation_id=consultation.id, proposal_id=proposal.id, account_id=actor.account_id
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(_("you already support this proposal"), code="already_supported") from None
    participant.supports_used = used + 1
    audit.record(
        session,
        actor=actor.label,
        action="proposal.supported",
        object_type="proposal",
        object_id=proposal.id,
        details={"consultation_id": consultation.id},
    )
    return row


def withdraw(session: Session, actor: Actor, consultation: Consultation, proposal_id: str) -> None:
    """Take back a support while voting is open."""
    assert actor.account_id
    require_phase(consultation, Phase.VOTING, what=_("Changing a vote"))
    proposal: Proposal = get_proposal(session, consultation, proposal_id)
    participant = participants.lock(session, consultation.id, actor.account_id)
    removed = session.execute(
        delete(Support).where(
            Support.proposal_id == proposal.id, Support.account_id == actor.account_id
        )
    ).rowcount
    if not removed:
        raise NotFound(_("you do not support this proposal"), code="not_supported")
    participant.supports_used = _used(session, consultation.id, actor.account_id)
    audit.record(
        session,
        actor=actor.label,
        action="proposal.support_withdrawn",
        object_type="proposal",
        object_id=proposal.id,
        details={"consultation_id": consultation.id},
    )


def my_supports(session: Session, consultation: Consultation, account_id: str | None) -> list[str]:
    """The proposals a person supports in a consultation."""
    if not account_id:
        return []
    return list(
        session.scalars(
            select(Support.proposal_id).where(
                Support.consultation_id == consultation.id, Support.account_id == account_id
            )
        )
    )


def counts(session: Session, consultation_id: str) -> dict[str, int]:
    """Supports per proposal."""
    rows = session.execute(
        select(Support.proposal_id, func.count())
        .where(Support.consultation_id == consultation_id)
        .group_by(Support.proposal_id)
    )
    return {proposal_id: count for proposal_id, count in rows}
