"""Proposals: written by verified citizens during the contributions phase, within an hourly
limit, edited by their author."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import Forbidden, NotFound, TooManyRequests
from campus.i18n import gettext as _
from campus.participation import charter, participants, text
from campus.participation.consultations import require_phase
from campus.participation.models import (
    Comment,
    Consultation,
    Proposal,
)
from campus.participation.phases import Phase
from campus.participation.shared import (
    BODY_MAX,
    BODY_MIN,
    TITLE_MAX,
    TITLE_MIN,
)
from campus.settings import Settings

# --- proposals ------------------------------------------------------------------------------


def get_proposal(session: Session, consultation: Consultation, proposal_id: str) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.consultation_id != consultation.id:
        raise NotFound(_("no such proposal in this consultation"), code="not_found")
    return proposal


def can_see(actor: Actor, item: Proposal | Comment) -> bool:
    """Hidden content is seen by its author (with the reason) and by moderators."""
    return (
        item.moderation == "visible"
        or actor.account_id == item.author_id
        or actor.has_role("moderator")
        or actor.is_staff
    )


def hourly_count(session: Session, column, author_column, account_id: str, *where) -> int:
    since = utcnow() - dt.timedelta(hours=1)
    return (
        session.scalar(
            select(func.count()).where(author_column == account_id, column >= since, *where)
        )
        or 0
    )


def create_proposal(
    session: Session,
    settings: Settings,
    actor: Actor,
    consultation: Consultation,
    *,
    title: str,
    body: str,
) -> Proposal:
    """File a proposal during the contributions phase, within the hourly limit."""
    assert actor.account_id
    require_phase(consultation, Phase.CONTRIBUTIONS, what=_("Filing a proposal"))
    clean_title = text.plain(title, field="title", minimum=TITLE_MIN, maximum=TITLE_MAX)
    clean_body = text.rich(body, field="body", minimum=BODY_MIN, maximum=BODY_MAX)
    charter.require(session, actor)
    participants.lock(session, consultation.id, actor.account_id)
    limit = consultation.proposals_per_hour or settings.participation_proposals_per_hour
    recent = hourly_count(
        session,
        Proposal.created_at,
        Proposal.author_id,
        actor.account_id,
        Proposal.consultation_id == consultation.id,
    )
    if recent >= limit:
        raise TooManyRequests(
            _("you filed {count} proposals in the last hour, the limit: try again later").format(
                count=recent
            ),
            code="throttled",
        )
    proposal = Proposal(
        consultation_id=consultation.id,
        author_id=actor.account_id,
        title=clean_title,
        body=clean_body,
    )
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="proposal.created",
        object_type="proposal",
        object_id=proposal.id,
        details={"consultation_id": consultation.id},
    )
    return proposal


def update_proposal(
    session: Session,
    actor: Actor,
    consultation: Consultation,
    proposal: Proposal,
    *,
    title: str,
    body: str,
) -> Proposal:
    """The author edits a proposal until the voting phase opens."""
    if proposal.author_id != actor.account_id:
        raise Forbidden(_("only its author can edit a proposal"), code="not_author")
    require_phase(consultation, Phase.CONTRIBUTIONS, what=_("Editing a proposal"))
    proposal.title = text.plain(title, field="title", minimum=TITLE_MIN, maximum=TITLE_MAX)
    proposal.body = text.rich(body, field="body", minimum=BODY_MIN, maximum=BODY_MAX)
    proposal.updated_at = utcnow()
    audit.record(
        session,
        actor=actor.label,
        action="proposal.updated",
        object_type="proposal",
        object_id=proposal.id,
        details={"consultation_id": consultation.id},
    )
    return proposal
