"""An approval's consent to let its federated jobs complete at their deadline without every
node (a pool without one node gives that node's statistics by difference): its assigned
reviewers or the DPO decide, audited. Reached through `campus.federation.service`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import Forbidden
from campus.federation.models import (
    PartialCompletion,
)
from campus.governance import service as governance
from campus.i18n import N_

# --- an approval's permission to complete without every node ----------------------------------


def partial_allowed(session: Session, approval_id: str) -> bool:
    row = session.get(PartialCompletion, approval_id)
    return bool(row and row.allowed)


def _managed_approval(session: Session, actor: Actor, approval_id: str):
    """The approval, for the people who may change it (its assigned reviewers, the DPO)."""
    approval = governance.get_approval(session, approval_id)
    if not governance.can_manage_approval(session, actor, approval):
        raise Forbidden(
            N_("only the request's assigned reviewers and the DPO may change its approval"),
            code="not_assigned",
        )
    return approval


def partial_setting(session: Session, actor: Actor, approval_id: str) -> dict[str, Any]:
    """Whether the approval lets its federated jobs complete without every node, as the people
    who may change it see it (its assigned reviewers and the DPO; anyone else is refused, as
    by `allow_partial`): the setting and when it was last set, never by whom."""
    approval = _managed_approval(session, actor, approval_id)
    row = session.get(PartialCompletion, approval.id)
    return {
        "approval_id": approval.id,
        "project_id": governance.get_request(session, approval.request_id).project_id,
        "request_id": approval.request_id,
        "allowed": bool(row and row.allowed),
        "set_at": row.set_at.isoformat() if row and row.set_at else None,
    }


def allow_partial(session: Session, actor: Actor, approval_id: str, allowed: bool) -> bool:
    """Let (or stop letting) the approval's federated jobs complete at their deadline with
    the nodes that answered: the same people as any change to the approval."""
    approval = _managed_approval(session, actor, approval_id)
    row = session.get(PartialCompletion, approval.id)
    if row is None:
        row = PartialCompletion(approval_id=approval.id, set_by="")
        session.add(row)
    row.allowed, row.set_by, row.set_at = allowed, actor.account_id or "", utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="approval.federated_partial",
        object_type="approval",
        object_id=approval.id,
        details={"allowed": allowed},
    )
    return allowed
