"""Who sees what of a federated job, and the output checks that release it.

What the team sees follows the rule of `campus.analysis.outward`: before release, only facts
that do not depend on the real data (the definition, each node's refusal decided before
reading data, whether a node has answered), never a node's outcome; output checkers see the
pooled result and each node's real state; everyone the released result. Reached through
`campus.federation.service`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.analysis import checking
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.errors import Conflict, Forbidden, NotFound
from campus.federation import kinds
from campus.federation.models import (
    FederatedCheck,
    FederatedJob,
    Node,
    Task,
)
from campus.governance import service as governance
from campus.i18n import N_


def get_job(session: Session, job_id: str) -> FederatedJob:
    job = session.get(FederatedJob, job_id)
    if job is None:
        raise NotFound(f"no federated job {job_id}", code="not_found")
    return job


def tasks(session: Session, job: FederatedJob) -> list[tuple[Task, Node]]:
    """Each node's task of the job (of a regression, its latest round's), by node name."""
    latest: dict[str, tuple[Task, Node]] = {}
    for task, node in session.execute(
        select(Task, Node)
        .join(Node, Node.id == Task.node_id)
        .where(Task.job_id == job.id)
        .order_by(Node.name, Task.round)
    ).tuples():
        latest[node.id] = (task, node)
    return list(latest.values())


# --- who sees what ---------------------------------------------------------------------------


def can_follow(session: Session, actor: Actor, job: FederatedJob) -> bool:
    return (
        actor.is_staff
        or actor.has_role(Role.OUTPUT_CHECKER)
        or governance.is_member(session, job.project_id, actor.account_id)
    )


def _is_checker(session: Session, actor: Actor, job: FederatedJob) -> bool:
    return (
        actor.has_role(Role.OUTPUT_CHECKER)
        and actor.account_id != job.author_id
        and not governance.is_member(session, job.project_id, actor.account_id)
    )


def outward_status(job: FederatedJob) -> str:
    """waiting, refused (before any data was read) or finished: never the outcome."""
    if job.status in ("pooled", "failed"):
        return "finished"
    return job.status


def node_states(session: Session, job: FederatedJob, *, checker: bool) -> list[dict[str, Any]]:
    """Each node's state of the job. To anyone but output checkers only what does not depend
    on the data: issued, answered, or refused before reading it (with the node's reason);
    a run that failed on the data, a node's answer withheld under its disclosure control and
    a regression's later rounds all read `answered`."""
    nodes = []
    for task, node in tasks(session, job):
        state = task.status
        if not checker and (state == "failed" or (state == "issued" and task.round > 0)):
            state = "answered"  # nor how many rounds a regression takes: both are data
        elif checker and state == "answered" and (task.answer or {}).get("withheld") is True:
            state = "withheld"  # under the node's disclosure control: for checkers only
        entry = {"node": node.name, "dataset": task.payload.get("dataset"), "status": state}
        if task.status == "refused":
            entry["reason"] = (task.answer or {}).get("refused", "")
        nodes.append(entry)
    return nodes


def view(session: Session, actor: Actor, job: FederatedJob) -> dict[str, Any]:
    """The job as this actor may see it: the team a data-independent status and, per node,
    only whether it has answered or refused (and why); checkers the pooled outcome too;
    everyone the released result."""
    if not can_follow(session, actor, job) and job.release_status != "released":
        raise Forbidden(N_("only the project team and output checkers may see this job"))
    checker = _is_checker(session, actor, job)
    nodes = node_states(session, job, checker=checker)
    out: dict[str, Any] = {
        "id": job.id,
        "title": job.title,
        "project_id": job.project_id,
        "approval_id": job.approval_id,
        "kind": job.kind,
        "dataset": job.dataset,
        "definition": job.definition,
        "created_at": job.created_at.isoformat(),
        "status": job.status if checker else outward_status(job),
        "release_status": job.release_status or None,
        "deadline_at": job.deadline_at.isoformat() if job.deadline_at else None,
        "min_nodes": job.min_nodes,
        "epsilon": job.epsilon or None,
        "nodes": nodes,
        "result": None,
    }
    if checker or job.release_status == "released":
        out["result"] = job.result
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


# A federated job's outward status in the words of the register (campus.analysis.outward).
REGISTER_STATUS = {
    "waiting": "running",
    "refused": "refused",
    "finished": "finished",
    "missed_deadline": "failed",
}


def public_jobs(session: Session, project_id: str) -> list[dict[str, Any]]:
    """A project's federated jobs as the public register lists them: title, federated
    dataset, a status that does not depend on the data, release, and where to read it."""
    out = []
    for job in session.scalars(
        select(FederatedJob)
        .where(FederatedJob.project_id == project_id, FederatedJob.kind == kinds.ANALYSIS)
        .order_by(FederatedJob.created_at)
    ):
        released = job.release_status == "released"
        out.append(
            {
                "id": job.id,
                "title": job.title,
                "dataset": job.dataset,
                "version": "",
                "status": REGISTER_STATUS[outward_status(job)],
                "release_status": job.release_status,
                "definition": job.definition,
                "created_at": job.created_at.isoformat(),
                "released_at": job.released_at.isoformat()
                if released and job.released_at
                else None,
                "url": f"/federated-jobs/{job.id}",
                "federated": True,
            }
        )
    return out


def visible_jobs(session: Session, actor: Actor) -> list[FederatedJob]:
    query = select(FederatedJob).order_by(FederatedJob.created_at.desc()).limit(200)
    return [
        j
        for j in session.scalars(query)
        if can_follow(session, actor, j) or j.release_status == "released"
    ]


# --- output checks -------------------------------------------------------------------------


def check_output(
    session: Session, actor: Actor, job: FederatedJob, *, decision: str, comment: str
) -> FederatedJob:
    """The same rule as local jobs (`campus.analysis.checking`); another kind's result is
    checked through its own capability (an evaluation's on its submission)."""
    session.execute(select(FederatedJob.id).where(FederatedJob.id == job.id).with_for_update())
    session.refresh(job)
    if job.kind != kinds.ANALYSIS:
        raise Conflict(
            f"a federated {job.kind} is checked where its capability releases it",
            code="checked_elsewhere",
        )
    comment = checking.admit(
        session,
        actor,
        decision=decision,
        comment=comment,
        project_id=job.project_id,
        author_id=job.author_id,
        pending=job.release_status == "pending",
        failed=job.status == "failed",
        checked_by=session.scalars(
            select(FederatedCheck.checker_id).where(FederatedCheck.job_id == job.id)
        ),
        state=f"status {job.status}",
    )
    session.add(
        FederatedCheck(
            job_id=job.id, checker_id=actor.account_id or "", decision=decision, comment=comment
        )
    )
    session.flush()
    approvals = session.scalar(
        select(func.count()).where(
            FederatedCheck.job_id == job.id, FederatedCheck.decision == "approve"
        )
    )
    audit.record(
        session,
        actor=actor.label,
        action=f"federated_output.{decision}",
        object_type="federated_job",
        object_id=job.id,
    )
    outcome = checking.outcome(decision, approvals or 0)
    if outcome:
        job.release_status = outcome
    if outcome == "released":
        job.released_at = utcnow()
        audit.record(
            session,
            actor=actor.label,
            action="federated_output.released",
            object_type="federated_job",
            object_id=job.id,
        )
    return job
