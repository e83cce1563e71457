"""Reports and moderation: anyone signed in reports; past the consultation's threshold the
content is hidden until a moderator hides or restores it with a reason its author sees."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from campus.i18n import gettext as _
from campus.participation import participants, text
from campus.participation.models import Comment, Consultation, Proposal, Report
from campus.settings import Settings

TARGET_TYPES = ("proposal", "comment")
DECISIONS = ("hide", "restore")
REASON_MIN, REASON_MAX = 3, 1000


def _target(
    session: Session, target_type: str, target_id: str, *, lock: bool = False
) -> tuple[Proposal | Comment, Consultation]:
    """The item (locked on demand, so concurrent reports count right) and its consultation."""
    if target_type not in TARGET_TYPES:
        raise BadRequest(
            _("target_type must be one of: {choices}").format(choices=", ".join(TARGET_TYPES)),
            code="invalid_target",
            where="target_type",
        )
    model = Proposal if target_type == "proposal" else Comment
    query = select(model).where(model.id == target_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    item = session.scalar(query)
    if item is None:
        raise NotFound(_("no such contribution"), code="not_found", where="target_id")
    if isinstance(item, Comment):
        proposal = session.get(Proposal, item.proposal_id)
        assert proposal is not None
        consultation_id = proposal.consultation_id
    else:
        consultation_id = item.consultation_id
    consultation = session.get(Consultation, consultation_id)
    assert consultation is not None
    return item, consultation


def _unresolved(session: Session, target_type: str, target_id: str) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Report.target_type == target_type,
                Report.target_id == target_id,
                Report.resolved.is_(False),
            )
        )
        or 0
    )


def report(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    target_type: str,
    target_id: str,
    reason: str,
) -> Report:
    """Report a proposal or comment; hides it pending a decision at the threshold."""
    assert actor.account_id
    clean_reason = text.multiline(reason, field="reason", minimum=REASON_MIN, maximum=500)
    item, consultation = _target(session, target_type, target_id)
    if item.author_id == actor.account_id:
        raise BadRequest(_("you cannot report your own contribution"), code="own_content")
    participants.lock(session, consultation.id, actor.account_id)
    since = utcnow() - dt.timedelta(hours=1)
    recent = (
        session.scalar(
            select(func.count()).where(
                Report.reporter_id == actor.account_id, Report.created_at >= since
            )
        )
        or 0
    )
    if recent >= settings.participation_reports_per_hour:
        raise TooManyRequests(
            _("you filed {count} reports in the last hour, the limit: try again later").format(
                count=recent
            ),
            code="throttled",
        )
    item, consultation = _target(session, target_type, target_id, lock=True)
    if item.moderation == "hidden":
        raise Conflict(_("a moderator has already hidden this contribution"), code="hidden")
    duplicate = session.scalar(
        select(Report.id).where(
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.reporter_id == actor.account_id,
        )
    )
    if duplicate is not None:
        raise Conflict(_("you already reported this contribution"), code="already_reported")
    row = Report(
        target_type=target_type,
        target_id=target_id,
        consultation_id=consultation.id,
        reporter_id=actor.account_id,
        reason=clean_reason,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="contribution.reported",
        object_type=target_type,
        object_id=target_id,
        details={"consultation_id": consultation.id},
    )
    if (
        item.moderation == "visible"
        and _unresolved(session, target_type, target_id) >= consultation.report_threshold
    ):
        item.moderation = "pending"
        item.moderation_reason = ""  # shown as "hidden pending a moderator's decision"
        item.moderated_at = utcnow()
        audit.record(
            session,
            actor="system",
            action="contribution.auto_hidden",
            object_type=target_type,
            object_id=target_id,
            details={
                "consultation_id": consultation.id,
                "threshold": consultation.report_threshold,
            },
        )
    return row


def decide(
    session: Session,
    actor: Actor,
    *,
    target_type: str,
    target_id: str,
    decision: str,
    reason: str,
) -> Proposal | Comment:
    """A moderator hides or restores a contribution, with a reason shown to its author."""
    if decision not in DECISIONS:
        raise BadRequest(
            _("decision must be one of: {choices}").format(choices=", ".join(DECISIONS)),
            code="invalid_decision",
            where="decision",
        )
    clean_reason = text.multiline(reason, field="reason", minimum=REASON_MIN, maximum=REASON_MAX)
    item, consultation = _target(session, target_type, target_id, lock=True)
    if item.author_id == actor.account_id:
        raise Forbidden(
            _("another moderator must decide on your own contribution"), code="own_content"
        )
    item.moderation = "hidden" if decision == "hide" else "visible"
    item.moderation_reason = clean_reason
    item.moderated_at = utcnow()
    session.execute(
        update(Report)
        .where(
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.resolved.is_(False),
        )
        .values(resolved=True)
    )
    audit.record(
        session,
        actor=actor.label,
        action="contribution.hidden" if decision == "hide" else "contribution.restored",
        object_type=target_type,
        object_id=target_id,
        details={"consultation_id": consultation.id},
    )
    return item


def queue(session: Session) -> list[dict]:
    """What awaits a moderator: contributions with open reports or hidden pending a decision."""
    reported = session.execute(
        select(Report.target_type, Report.target_id, func.count())
        .where(Report.resolved.is_(False))
        .group_by(Report.target_type, Report.target_id)
    ).all()
    open_reports = {(t, i): n for t, i, n in reported}
    pending = {
        ("proposal", p)
        for p in session.scalars(select(Proposal.id).where(Proposal.moderation == "pending"))
    }
    pending |= {
        ("comment", c)
        for c in session.scalars(select(Comment.id).where(Comment.moderation == "pending"))
    }
    items = []
    for target_type, target_id in sorted(set(open_reports) | pending):
        item, consultation = _target(session, target_type, target_id)
        reasons = list(
            session.scalars(
                select(Report.reason)
                .where(
                    Report.target_type == target_type,
                    Report.target_id == target_id,
                    Report.resolved.is_(False),
                )
                .order_by(Report.created_at)
                .limit(20)
            )
        )
        proposal_id = item.id if isinstance(item, Proposal) else item.proposal_id
        items.append(
            {
                "target_type": target_type,
                "target_id": target_id,
                "consultation_id": consultation.id,
                "consultation_title": consultation.title,
                "proposal_id": proposal_id,
                "title": item.title if isinstance(item, Proposal) else "",
                "excerpt": text.excerpt(item.body, 300),
                "moderation": item.moderation,
                "reports": open_reports.get((target_type, target_id), 0),
                "reasons": reasons,
            }
        )
    items.sort(key=lambda i: (i["moderation"] != "pending", -i["reports"]))
    return items
