"""Comments: threads of bounded depth under a proposal, within an hourly limit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.errors import BadRequest, Conflict, TooManyRequests
from campus.i18n import gettext as _
from campus.participation import charter, participants, text
from campus.participation.consultations import require_phase
from campus.participation.models import (
    Comment,
    Consultation,
    Proposal,
)
from campus.participation.phases import Phase
from campus.participation.proposals import hourly_count
from campus.participation.shared import (
    COMMENT_MAX,
    COMMENT_MIN,
    MAX_THREAD_DEPTH,
    STANCES,
)
from campus.settings import Settings

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
    recent = hourly_count(session, Comment.created_at, Comment.author_id, actor.account_id)
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
