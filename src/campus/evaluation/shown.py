"""What a submission shows, to whom: before release the submitter's view depends only on the
model, the benchmark and the dummy twin; the real outcome is for the output checkers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.errors import BadRequest, Conflict, Forbidden
from campus.evaluation.benchmarks import (
    CHECKS_TO_RELEASE,
    FINISHED,
    benchmark_public,
    get_benchmark,
)
from campus.evaluation.models import Benchmark, Submission, SubmissionCheck
from campus.governance import service as governance
from campus.i18n import N_
from campus.settings import Settings

# --- what a submission shows, to whom ---------------------------------------------------------


def audience(session: Session, actor: Actor, row: Submission, benchmark: Benchmark) -> str:
    member = governance.is_member(session, benchmark.project_id, actor.account_id)
    if actor.has_role(Role.OUTPUT_CHECKER) and actor.account_id != row.submitter_id and not member:
        return "checker"
    if actor.account_id == row.submitter_id or member or actor.is_staff:
        return "submitter"
    return "public"


def outward_status(row: Submission) -> str:
    """queued, running, refused (before the real data, with its reason) or finished."""
    if row.release_status:
        return FINISHED
    return row.status


def view(session: Session, row: Submission, who: str) -> dict[str, Any]:
    released = row.release_status == "released"
    out: dict[str, Any] = {
        "id": row.id,
        "benchmark_id": row.benchmark_id,
        "family": row.family,
        "card": row.card,
        "model_digest": row.model_digest,
        "threshold": row.threshold,
        "status": outward_status(row),
        "release_status": row.release_status,
        "created_at": row.created_at.isoformat(),
        "released_at": row.released_at.isoformat() if released and row.released_at else None,
        "metrics": row.metrics if released else None,
        "federated": _federated(session, row, checker=who == "checker"),
    }
    if who == "public":
        return out
    out |= {
        "submitter": row.submitter_id,
        "error": row.error if row.status == "refused" else "",
        "dummy_metrics": row.dummy_metrics,
        "checks": [
            {"checker": c.checker_id, "role": c.role, "decision": c.decision, "comment": c.comment}
            for c in checks(session, row.id)
        ],
    }
    if who == "checker":
        out |= {
            "status": row.status,
            "error": row.error,
            "metrics": row.metrics,
            "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        }
    return out


def _federated(session: Session, row: Submission, *, checker: bool) -> dict[str, Any] | None:
    """Where a federated evaluation runs and each node's state: to anyone but output checkers
    only what does not depend on the data (issued, answered, refused before reading it)."""
    if not row.federated_job_id:
        return None
    from campus.federation import service as federation

    job = federation.get_job(session, row.federated_job_id)
    return {
        "dataset": row.federated_dataset,
        "nodes": federation.node_states(session, job, checker=checker),
    }


def sweep_federated(session: Session, settings: Settings, row: Submission) -> Submission:
    """A federated evaluation whose deadline has passed is closed when it is looked at (its
    federated job pools the nodes that answered, or misses the deadline)."""
    if row.federated_job_id and row.status == "at_nodes":
        from campus.federation import service as federation

        federation.sweep(session, settings, federation.get_job(session, row.federated_job_id))
    return row


def federated_choices(session: Session, benchmark: Benchmark) -> list[str]:
    """The federated datasets the benchmark's approval names: where else it may run."""
    from campus.federation import service as federation

    approval = governance.get_approval(session, benchmark.approval_id)
    return [d.name for d in federation.list_datasets(session) if d.name in approval.datasets]


def require_follow(session: Session, actor: Actor, row: Submission, who: str) -> None:
    if who == "public" and row.release_status != "released":
        raise Forbidden(N_("only the submitter and output checkers may see this submission"))


def checks(session: Session, submission_id: str) -> list[SubmissionCheck]:
    return list(
        session.scalars(
            select(SubmissionCheck)
            .where(SubmissionCheck.submission_id == submission_id)
            .order_by(SubmissionCheck.id)
        )
    )


def may_steward(session: Session, actor: Actor, benchmark: Benchmark) -> bool:
    """A data steward of the benchmark's dataset: global, or of its owner organisation
    (holding every permission as staff is not being one)."""
    from campus.warehouse.models import Dataset

    if actor.has_role(Role.DATA_STEWARD):
        return True
    dataset = session.scalar(select(Dataset).where(Dataset.name == benchmark.dataset))
    owner = dataset.owner_org if dataset is not None else ""
    return bool(owner) and actor.has_role(Role.DATA_STEWARD, "organisation", owner)


def check_output(
    session: Session,
    actor: Actor,
    row: Submission,
    *,
    decision: str,
    comment: str,
    as_steward: bool = False,
) -> Submission:
    """Release needs two output checkers (not the submitter, not on the project) and the
    dataset's data steward (not the submitter); one rejection rejects."""
    if decision not in ("approve", "reject"):
        raise BadRequest(N_("decision must be approve or reject"), where="decision")
    comment = (comment or "").strip()
    if not comment or len(comment) > 5000:
        raise BadRequest(N_("a comment of 1 to 5000 characters is required"), where="comment")
    if row.release_status != "pending":
        raise Conflict(N_("these metrics are not waiting for checks"), code="not_pending")
    if row.status == "failed" and decision == "approve":
        raise Conflict(
            N_("this model failed on the real data: there are no metrics to release; reject it"),
            code="nothing_to_release",
        )
    benchmark = get_benchmark(session, row.benchmark_id)
    if as_steward:
        if not may_steward(session, actor, benchmark):
            raise Forbidden(
                N_("only a data steward of the benchmark's dataset may sign off its metrics"),
                code="not_data_steward",
            )
    elif not actor.has_role(Role.OUTPUT_CHECKER):
        raise Forbidden(
            N_("only output checkers may approve or reject outputs"), code="not_output_checker"
        )
    if actor.account_id == row.submitter_id:
        raise Forbidden(N_("the submitter may not check their own metrics"), code="own_submission")
    if not as_steward:
        governance.require_independent(session, actor, benchmark.project_id)
    if any(c.checker_id == actor.account_id for c in checks(session, row.id)):
        raise Conflict(N_("you have already checked these outputs"), code="already_checked")
    role = "data_steward" if as_steward else "output_checker"
    session.add(
        SubmissionCheck(
            submission_id=row.id,
            checker_id=actor.account_id or "",
            role=role,
            decision=decision,
            comment=comment,
        )
    )
    session.flush()
    approvals = {
        r: session.scalar(
            select(func.count()).where(
                SubmissionCheck.submission_id == row.id,
                SubmissionCheck.decision == "approve",
                SubmissionCheck.role == r,
            )
        )
        or 0
        for r in ("output_checker", "data_steward")
    }
    if decision == "reject":
        row.release_status = "rejected"
    elif approvals["output_checker"] >= CHECKS_TO_RELEASE and approvals["data_steward"] >= 1:
        row.release_status, row.released_at = "released", utcnow()
    audit.record(
        session,
        actor=actor.label,
        action=f"submission.{decision}d" if decision == "approve" else "submission.rejected",
        object_type="submission",
        object_id=row.id,
        details={"benchmark": row.benchmark_id, "role": role, "release": row.release_status},
    )
    return row


def to_check(session: Session, actor: Actor) -> list[Submission]:
    return [
        s
        for s in session.scalars(
            select(Submission)
            .where(Submission.release_status == "pending")
            .order_by(Submission.finished_at)
        )
        if s.submitter_id != actor.account_id
    ]


def leaderboard(session: Session, benchmark: Benchmark) -> dict[str, Any]:
    """The benchmark and its released models, best AUROC first: one data function for the
    page and its JSON twin."""
    released = list(
        session.scalars(
            select(Submission).where(
                Submission.benchmark_id == benchmark.id, Submission.release_status == "released"
            )
        )
    )

    def auroc(row: Submission) -> float:
        value = ((row.metrics or {}).get("metrics", {}).get("auroc") or {}).get("value")
        return -1.0 if value is None else value

    released.sort(key=auroc, reverse=True)
    return {
        "benchmark": benchmark_public(benchmark),
        "entries": [view(session, s, "public") for s in released],
    }
