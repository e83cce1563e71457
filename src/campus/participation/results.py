"""Results: supports per proposal and the campus's answers, published once voting closes, with
a CSV export; staff answer each proposal (accepted, rejected, under study)."""

from __future__ import annotations

import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus import exports
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import BadRequest
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.participation import text, votes
from campus.participation.models import Comment, Consultation, Proposal, Support
from campus.participation.phases import Phase, phase_of
from campus.participation.service import consultation_view, require_phase

ANSWER_STATUSES = ("under_study", "accepted", "rejected")
STATUS_LABELS = {
    "open": N_("Awaiting an answer"),
    "under_study": N_("Under study"),
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
}
CSV_COLUMNS = ("proposal_id", "title", "supports", "status", "answer", "answered_at")


def answer(
    session: Session,
    actor: Actor,
    consultation: Consultation,
    proposal: Proposal,
    *,
    status: str,
    answer_text: str,
) -> Proposal:
    """The campus answers a proposal once voting has closed."""
    require_phase(consultation, Phase.RESULTS, what=_("Answering a proposal"))
    if status not in ANSWER_STATUSES:
        raise BadRequest(
            _("status must be one of: {choices}").format(choices=", ".join(ANSWER_STATUSES)),
            code="invalid_status",
            where="status",
        )
    proposal.answer = text.rich(answer_text, field="answer", minimum=10, maximum=5000)
    proposal.status = status
    proposal.answered_at = utcnow()
    audit.record(
        session,
        actor=actor.label,
        action="proposal.answered",
        object_type="proposal",
        object_id=proposal.id,
        details={"consultation_id": consultation.id, "status": status},
    )
    return proposal


def results(session: Session, consultation: Consultation) -> dict:
    """Public results; counts are published only once voting has closed."""
    published = phase_of(consultation, utcnow()) == Phase.RESULTS
    proposals = list(
        session.scalars(
            select(Proposal)
            .where(Proposal.consultation_id == consultation.id, Proposal.moderation == "visible")
            .order_by(Proposal.created_at)
        )
    )
    supports = votes.counts(session, consultation.id) if published else {}
    rows = [
        {
            "proposal_id": p.id,
            "title": p.title,
            "supports": supports.get(p.id, 0) if published else None,
            "status": p.status,
            "answer": p.answer,
            "answered_at": p.answered_at,
        }
        for p in proposals
    ]
    if published:
        rows.sort(key=lambda r: (-r["supports"], r["title"]))
    totals: dict = {"proposals": len(rows)}
    if published:
        totals["supports"] = sum(r["supports"] for r in rows)
        totals["participants"] = (
            session.scalar(
                select(func.count(func.distinct(Support.account_id))).where(
                    Support.consultation_id == consultation.id
                )
            )
            or 0
        )
        totals["comments"] = dict.fromkeys(("for", "against", "neutral"), 0)
        for stance, count in session.execute(
            select(Comment.stance, func.count())
            .join(Proposal, Proposal.id == Comment.proposal_id)
            .where(Proposal.consultation_id == consultation.id, Comment.moderation == "visible")
            .group_by(Comment.stance)
        ):
            totals["comments"][stance] = count
        totals["statuses"] = {s: 0 for s in STATUS_LABELS}
        for row in rows:
            totals["statuses"][row["status"]] += 1
    return {
        "consultation": consultation_view(consultation),
        "published": published,
        "totals": totals,
        "proposals": rows,
    }


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return exports.safe_cell("" if value is None else str(value))


def as_csv(data: dict) -> str:
    buffer = io.StringIO()
    writer = exports.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in data["proposals"]:
        writer.writerow(
            [
                _cell(row["proposal_id"]),
                _cell(row["title"]),
                _cell(row["supports"]),
                _cell(row["status"]),
                _cell(text.visible_text(row["answer"])),
                _cell(row["answered_at"].isoformat() if row["answered_at"] else ""),
            ]
        )
    return buffer.getvalue()
