"""The output-check rule every release of outputs follows, in one place.

Local jobs, federated jobs and model evaluations release results the same way: an output
checker (a role, not a permission staff hold) who is neither the author nor on the project's
team approves or rejects with a comment, once; one rejection rejects, two approvals release.
A run that failed on the real data has nothing to release: it can only be rejected.

Callers keep their own rows (which table holds the checks) and call `admit` before adding a
check, then `outcome` with the count of approvals after adding it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.errors import BadRequest, Conflict, Forbidden
from campus.governance import service as governance
from campus.i18n import N_

CHECKS_TO_RELEASE = 2


def admit(
    session: Session,
    actor: Actor,
    *,
    decision: str,
    comment: str,
    project_id: str,
    author_id: str,
    pending: bool,
    failed: bool,
    checked_by: Iterable[str],
    state: str = "",
) -> str:
    """The cleaned comment if `actor` may record `decision` on these outputs now; else the
    refusal saying why (bad decision or comment, not pending, nothing to release, not an
    output checker, the author, on the team, already checked)."""
    if decision not in ("approve", "reject"):
        raise BadRequest(N_("decision must be approve or reject"), where="decision")
    comment = (comment or "").strip()
    if not comment or len(comment) > 5000:
        raise BadRequest(N_("a comment of 1 to 5000 characters is required"), where="comment")
    if failed and pending and decision == "approve":
        raise Conflict(
            N_("this job failed on the real data: there are no outputs to release; reject it"),
            code="nothing_to_release",
        )
    if not pending:
        raise Conflict(
            f"these outputs are not waiting for checks ({state or 'not pending'})",
            code="not_pending",
        )
    if not actor.has_role(Role.OUTPUT_CHECKER):
        # Separation of duties: holding every permission (staff) is not being a checker.
        raise Forbidden(
            N_("only output checkers may approve or reject outputs"), code="not_output_checker"
        )
    if actor.account_id == author_id:
        raise Forbidden(N_("the author of a job may not check its outputs"), code="own_job")
    governance.require_independent(session, actor, project_id)  # no checker on own team
    if actor.account_id in set(checked_by):
        raise Conflict(N_("you have already checked these outputs"), code="already_checked")
    return comment


def outcome(decision: str, approvals: int) -> str | None:
    """`rejected` at the first rejection, `released` at the second approval, else None."""
    if decision == "reject":
        return "rejected"
    if approvals >= CHECKS_TO_RELEASE:
        return "released"
    return None
