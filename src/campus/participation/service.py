"""Consultations, proposals and comments: the rules, for the API, the pages, the CLI and the demo.

Every state change is audited in the caller's transaction. Texts are cleaned by `text`;
phases come from `phases`. Votes are in `votes`, reports and decisions in `moderation`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.participation import charter, participants, text
from campus.participation.models import (
    SUBJECT_TYPES,
    Comment,
    Consultation,
    Proposal,
)
from campus.participation.phases import PHASE_LABELS, Phase, phase_of
from campus.settings import Settings

SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")
MAX_THREAD_DEPTH = 6
TITLE_MIN, TITLE_MAX = 5, 150
BODY_MIN, BODY_MAX = 20, 5000
COMMENT_MIN, COMMENT_MAX = 2, 2000
STANCES = ("for", "against", "neutral")
SUBJECT_LABELS = {"data_project": N_("Data project"), "programme": N_("Programme")}
STANCE_LABELS = {"for": N_("For"), "against": N_("Against"), "neutral": N_("Neutral")}


@dataclass
class ConsultationFields:
    title: str
    summary: str
    opens_at: dt.datetime
    contributions_at: dt.datetime
    voting_at: dt.datetime
    results_at: dt.datetime
    subject_type: str = ""
    subject_id: str = ""
    subject_title: str = ""
    supports_per_person: int = 3
    report_threshold: int = 3
    proposals_per_hour: int | None = None


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


def _hourly_count(session: Session, column, author_column, account_id: str, *where) -> int:
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
    recent = _hourly_count(
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


# --- comments -------------------------------------------------------------------------------


def add_comment(
    session: Session,
    settings: Settings,
    actor: Actor,
    consultation: Consultation,
    proposal: Proposal,
    *,
    body: str,
    stance: str = "neutral",
    parent_id: str | None = None,
) -> Comment:
    """Comment on a proposal, for, against or neutral, possibly in reply to a comment."""
    assert actor.account_id
    require_phase(consultation, Phase.CONTRIBUTIONS, Phase.VOTING, what=_("Commenting"))
    if proposal.moderation != "visible":
        raise Conflict(_("this proposal is hidden by moderation"), code="hidden")
    if stance not in STANCES:
        raise BadRequest(
            _("stance must be one of: {choices}").format(choices=", ".join(STANCES)),
            code="invalid_stance",
            where="stance",
        )
    clean_body = text.rich(body, field="body", minimum=COMMENT_MIN, maximum=COMMENT_MAX)
    if parent_id:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.proposal_id != proposal.id:
            raise BadRequest(
                _("the comment replied to is not on this proposal"),
                code="invalid_parent",
                where="parent_id",
            )
        if _depth(session, parent) >= MAX_THREAD_DEPTH:
            raise BadRequest(
                _("this thread is too deep: reply to an earlier comment"),
                code="thread_too_deep",
                where="parent_id",
            )
    charter.require(session, actor)
    participants.lock(session, consultation.id, actor.account_id)
    recent = _hourly_count(session, Comment.created_at, Comment.author_id, actor.account_id)
    if recent >= settings.participation_comments_per_hour:
        raise TooManyRequests(
            _("you posted {count} comments in the last hour, the limit: try again later").format(
                count=recent
            ),
            code="throttled",
        )
    comment = Comment(
        proposal_id=proposal.id,
        parent_id=parent_id or None,
        author_id=actor.account_id,
        body=clean_body,
        stance=stance,
    )
    session.add(comment)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="comment.created",
        object_type="comment",
        object_id=comment.id,
        details={"consultation_id": consultation.id, "proposal_id": proposal.id},
    )
    return comment


def _depth(session: Session, comment: Comment) -> int:
    depth, current = 1, comment
    while current.parent_id and depth <= MAX_THREAD_DEPTH:
        parent = session.get(Comment, current.parent_id)
        if parent is None:
            break
        depth, current = depth + 1, parent
    return depth


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
