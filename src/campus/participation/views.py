"""What the API returns and the pages show of consultations, proposals and comments (people
by name, moderation as each reader may see it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.errors import NotFound
from campus.i18n import gettext as _
from campus.participation import text
from campus.participation.models import (
    Comment,
    Consultation,
    Proposal,
)
from campus.participation.phases import phase_of
from campus.participation.proposals import can_see
from campus.participation.shared import STANCES

# --- views (what the API returns and the pages show) -------------------------------------------


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(select(Account.id, Account.name).where(Account.id.in_(ids)))
    return {row.id: row.name for row in rows}


def consultation_view(consultation: Consultation, now: dt.datetime | None = None) -> dict:
    phase = phase_of(consultation, now or utcnow())
    return {
        "id": consultation.id,
        "title": consultation.title,
        "summary": consultation.summary,
        "subject": (
            {
                "type": consultation.subject_type,
                "id": consultation.subject_id,
                "title": consultation.subject_title,
            }
            if consultation.subject_type
            else None
        ),
        "phase": phase.value,
        "opens_at": consultation.opens_at,
        "contributions_at": consultation.contributions_at,
        "voting_at": consultation.voting_at,
        "results_at": consultation.results_at,
        "closed_at": consultation.closed_at,
        "supports_per_person": consultation.supports_per_person,
        "report_threshold": consultation.report_threshold,
    }


def _moderation_view(actor: Actor, item: Proposal | Comment) -> dict:
    view: dict = {"moderation": item.moderation}
    if item.moderation != "visible" and can_see(actor, item):
        view["moderation_reason"] = item.moderation_reason
    return view


def proposals_view(session: Session, actor: Actor, consultation: Consultation) -> list[dict]:
    """The proposals the actor may see, newest first; comment counts by stance."""
    rows = list(
        session.scalars(
            select(Proposal)
            .where(Proposal.consultation_id == consultation.id)
            .order_by(Proposal.created_at.desc())
        )
    )
    visible = [p for p in rows if can_see(actor, p)]
    names = _names(session, {p.author_id for p in visible})
    counts: dict[str, dict[str, int]] = {}
    if visible:
        for proposal_id, stance, count in session.execute(
            select(Comment.proposal_id, Comment.stance, func.count())
            .where(
                Comment.proposal_id.in_([p.id for p in visible]),
                Comment.moderation == "visible",
            )
            .group_by(Comment.proposal_id, Comment.stance)
        ):
            counts.setdefault(proposal_id, {})[stance] = count
    return [
        {
            "id": p.id,
            "title": p.title,
            "excerpt": text.excerpt(p.body),
            "author": names.get(p.author_id, ""),
            "mine": p.author_id == actor.account_id,
            "status": p.status,
            "created_at": p.created_at,
            "comments": {s: counts.get(p.id, {}).get(s, 0) for s in STANCES},
            **_moderation_view(actor, p),
        }
        for p in visible
    ]


def proposal_view(
    session: Session, actor: Actor, consultation: Consultation, proposal: Proposal
) -> dict:
    """A proposal with its comment threads; hidden comments keep their place, not their text."""
    if not can_see(actor, proposal):
        raise NotFound(_("no such proposal in this consultation"), code="not_found")
    comments = list(
        session.scalars(
            select(Comment)
            .where(Comment.proposal_id == proposal.id)
            .order_by(Comment.created_at, Comment.id)
        )
    )
    names = _names(session, {proposal.author_id} | {c.author_id for c in comments})
    nodes: dict[str, dict] = {}
    roots: list[dict] = []
    for comment in comments:
        shown = can_see(actor, comment)
        node = {
            "id": comment.id,
            "parent_id": comment.parent_id,
            "stance": comment.stance,
            "author": names.get(comment.author_id, "") if shown else "",
            "mine": comment.author_id == actor.account_id,
            "body": comment.body if shown else None,
            "created_at": comment.created_at,
            "replies": [],
            **_moderation_view(actor, comment),
        }
        nodes[comment.id] = node
        parent = nodes.get(comment.parent_id or "")
        (parent["replies"] if parent else roots).append(node)
    return {
        "id": proposal.id,
        "consultation_id": consultation.id,
        "title": proposal.title,
        "body": proposal.body,
        "author": names.get(proposal.author_id, ""),
        "mine": proposal.author_id == actor.account_id,
        "status": proposal.status,
        "answer": proposal.answer,
        "answered_at": proposal.answered_at,
        "created_at": proposal.created_at,
        "updated_at": proposal.updated_at,
        "comments": roots,
        **_moderation_view(actor, proposal),
    }
