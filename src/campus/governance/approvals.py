"""Approvals: what an approved request allows (scope, expiry), suspended, reactivated or
revoked by the request's reviewers or the DPO, effective at once; and the check every job
makes before using real data under one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.governance import fields
from campus.governance.models import Approval
from campus.governance.notify import notify
from campus.governance.projects import get_project, member_ids, require_independent
from campus.governance.reviews import reviews
from campus.i18n import N_
from campus.settings import Settings

APPROVAL_STATES = ("active", "suspended", "revoked")


def get_approval(session: Session, approval_id: str) -> Approval:
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise NotFound(f"no approval {approval_id}", code="not_found")
    return approval


def project_approvals(session: Session, project_id: str) -> list[Approval]:
    return list(
        session.scalars(
            select(Approval).where(Approval.project_id == project_id).order_by(Approval.created_at)
        )
    )


def approval_state(approval: Approval, now: dt.datetime | None = None) -> str:
    """active, suspended, revoked or expired: what the approval allows right now."""
    now = now or utcnow()
    if approval.status == "active" and approval.expires_at <= now:
        return "expired"
    return approval.status


def can_manage_approval(session: Session, actor: Actor, approval: Approval) -> bool:
    """Whether `set_approval_status` would let this actor change this approval."""
    try:
        _require_approval_manager(session, actor, approval)
    except Forbidden:
        return False
    return True


def _require_approval_manager(session: Session, actor: Actor, approval: Approval) -> None:
    """The ethics reviewers assigned to the approval's request, and the DPO; never a member
    of the project, and never staff by their blanket permissions alone."""
    require_independent(session, actor, approval.project_id)
    assigned = {r.reviewer_id for r in reviews(session, approval.request_id)}
    if actor.account_id in assigned and actor.has_role(Role.ETHICS_REVIEWER):
        return
    if actor.has_role(Role.DPO):
        return
    raise Forbidden(
        N_("only the request's assigned reviewers and the DPO may change its approval"),
        code="not_assigned",
    )


def set_approval_status(
    session: Session,
    settings: Settings,
    actor: Actor,
    approval: Approval,
    status: str,
    reason: str,
) -> Approval:
    """Suspend, reactivate or revoke an approval; revocation is final. Effective at once."""
    if status not in APPROVAL_STATES:
        raise BadRequest(N_("choose a status of the list"), code="bad_status", where="status")
    _require_approval_manager(session, actor, approval)
    lock(session, approval)  # a revocation made meanwhile stays final
    if approval.status == "revoked":
        raise Conflict(N_("a revoked approval cannot change again"), code="approval_revoked")
    if status == approval.status:
        raise Conflict(N_("the approval already has this status"), code="unchanged")
    previous = approval.status
    approval.status = status
    approval.changed_at = utcnow()
    approval.change_reason = fields.text(reason, "reason", 2000)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action=f"approval.{status}",
        object_type="approval",
        object_id=approval.id,
        details={"project": approval.project_id, "from": previous},
    )
    project = get_project(session, approval.project_id)
    reviewer_ids = {r.reviewer_id for r in reviews(session, approval.request_id)}
    notify(
        session,
        settings,
        member_ids(session, project.id) | reviewer_ids,
        subject=f"Approval {status}: {project.title}",
        body=f"The approval of the project changed from {previous} to {status}.",
        link=f"/projects/{project.id}",
    )
    return approval


def usable_approval(
    session: Session, approval_id: str, project_id: str, now: dt.datetime | None = None
) -> Approval:
    """The approval, if active and unexpired for this project; Forbidden says why not."""
    approval = session.get(Approval, approval_id)
    if approval is None or approval.project_id != project_id:
        raise Forbidden(
            f"approval {approval_id} does not belong to project {project_id}",
            code="no_approval",
        )
    state = approval_state(approval, now)
    if state != "active":
        raise Forbidden(
            f"approval {approval_id} is {state}: real data can no longer be used under it",
            code=f"approval_{state}",
        )
    return approval
