"""Federated analysis at the centre, the way in to federation: federated jobs and their
signed tasks, answers checked and pooled (by federation for analyses, by their kind for
another capability's tasks, `campus.federation.kinds`), deadlines, then two output checkers
as for any job (docs/federation.md).

Its concerns live beside it and are reached through it: nodes and credentials
(`nodes`), federated datasets and the nodes' catalogues (`datasets`), an approval's consent to
complete without every node (`consent`), who sees what of a job and its output checks
(`visibility`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.analysis import runner
from campus.analysis import service as analysis
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import BadRequest, Conflict, NotFound
from campus.federation import kinds, pooling, regression, signing
from campus.federation.consent import allow_partial, partial_allowed, partial_setting
from campus.federation.datasets import (
    create_dataset,
    dataset_page,
    get_dataset,
    list_datasets,
    receive_catalogue,
)
from campus.federation.models import (
    FederatedDataset,
    FederatedJob,
    Node,
    Task,
)
from campus.federation.nodes import (
    NODE_HEADER,
    credentials,
    get_node,
    issue_credential,
    list_nodes,
    node_for_token,
    register_node,
    revoke_credential,
)
from campus.federation.visibility import (
    can_follow,
    check_output,
    get_job,
    node_states,
    outward_status,
    public_jobs,
    tasks,
    view,
    visible_jobs,
)
from campus.governance import budget
from campus.governance import service as governance
from campus.governance.models import Approval
from campus.i18n import N_
from campus.settings import Settings

__all__ = [
    "NODE_HEADER",
    "allow_partial",
    "can_follow",
    "check_output",
    "create_dataset",
    "credentials",
    "dataset_page",
    "get_dataset",
    "get_job",
    "get_node",
    "issue_credential",
    "list_datasets",
    "list_nodes",
    "node_for_token",
    "node_states",
    "outward_status",
    "partial_allowed",
    "partial_setting",
    "pending_tasks",
    "public_jobs",
    "receive_answer",
    "receive_catalogue",
    "receive_refusal",
    "register_node",
    "revoke_credential",
    "submit_job",
    "submit_kind_job",
    "sweep",
    "tasks",
    "view",
    "visible_jobs",
]
TASK_LIFETIME = dt.timedelta(days=7)
MAX_DEADLINE_MINUTES = 7 * 24 * 60


# --- federated jobs and their signed tasks -----------------------------------------------------


def _federated(session: Session, name: str) -> FederatedDataset:
    federated = session.scalar(select(FederatedDataset).where(FederatedDataset.name == name))
    if federated is None:
        raise BadRequest(
            f"dataset: {name} is not a federated dataset", code="not_federated", where="dataset"
        )
    return federated


def _check_completion(
    session: Session,
    approval: Approval,
    federated: FederatedDataset,
    deadline_minutes: int | None,
    min_nodes: int | None,
) -> None:
    """A deadline within bounds; fewer than every node only with a deadline and the approval's
    consent (a pool without one node gives that node's statistics by difference)."""
    if deadline_minutes is not None and not 1 <= deadline_minutes <= MAX_DEADLINE_MINUTES:
        raise BadRequest(
            f"deadline_minutes: from 1 to {MAX_DEADLINE_MINUTES}", where="deadline_minutes"
        )
    if min_nodes is not None and not 1 <= min_nodes <= len(federated.members):
        raise BadRequest(
            f"min_nodes: from 1 to the {len(federated.members)} node(s) of {federated.name}",
            where="min_nodes",
        )
    if min_nodes is not None and deadline_minutes is None:
        raise BadRequest(
            "min_nodes: give deadline_minutes too (without a deadline every node answers)",
            where="min_nodes",
        )
    if (
        min_nodes is not None
        and min_nodes < len(federated.members)
        and not partial_allowed(session, approval.id)
    ):
        raise BadRequest(
            "min_nodes: the approval does not allow completing without every node; its "
            "assigned reviewers or the DPO may allow it",
            code="partial_not_allowed",
            where="min_nodes",
        )


def submit_job(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    project_id: str,
    approval_id: str,
    text: str | bytes | dict[str, Any],
    deadline_minutes: int | None = None,
    min_nodes: int | None = None,
) -> FederatedJob:
    """A federated job: checked like a local job, then one signed task per member node.

    With a deadline, the job completes at the deadline with the nodes that answered, if at
    least `min_nodes` did (all of them by default), and fails otherwise. Under differential
    privacy the project's budget is charged once, here, before any task is issued."""
    checked, model = regression.split(text)
    with regression.located() if model else contextlib.nullcontext():
        project, approval, parsed = analysis.checked_in_scope(
            session, actor, project_id=project_id, approval_id=approval_id, text=checked
        )
    if parsed.privacy is not None:
        _check_privacy(parsed)
        budget.check(session, project, parsed.privacy.epsilon)
    if model is None:
        pooling.expected_tables(parsed)  # refuses outputs that cannot be pooled, with where
    federated = _federated(session, parsed.dataset)
    _check_completion(session, approval, federated, deadline_minutes, min_nodes)
    if model is not None and min_nodes is not None and min_nodes < len(federated.members):
        raise BadRequest(
            "min_nodes: a logistic regression needs every node at every iteration; leave "
            "min_nodes out",
            where="min_nodes",
        )
    if model is None:
        definition = parsed.model_dump(mode="json", exclude_none=True)
    else:
        definition = regression.stored(parsed, model)
    job = _new_job(
        session,
        actor,
        kinds.ANALYSIS,
        project.id,
        approval,
        federated,
        parsed.title,
        definition,
        deadline_minutes,
        min_nodes,
    )
    if parsed.privacy is not None:
        # Once for the whole job: each node noises its own patients' cells with this
        # epsilon, and a person is at one node (parallel composition).
        budget.charge(session, project.id, job.id, parsed.privacy.epsilon)
        job.epsilon = parsed.privacy.epsilon
    # The first Newton-Raphson round starts from zero.
    first = {"round": 0, "coefficients": [0.0] * len(model.terms())} if model else {}
    _issue_to_members(session, settings, job, approval, federated, first)
    return job


def submit_kind_job(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    kind: str,
    project_id: str,
    approval_id: str,
    dataset: str,
    title: str,
    definition: dict[str, Any],
    payload: dict[str, Any],
    deadline_minutes: int | None = None,
    min_nodes: int | None = None,
) -> FederatedJob:
    """A job of another capability's kind (`campus.federation.kinds`), within a usable
    approval of the project that names the federated dataset. The capability checks who may
    ask and what its definition reads; `definition` is what the centre stores and shows (each
    node's task has it with the node's own dataset), `payload` what each task carries besides
    (signed with it). Deadline, `min_nodes` and the approval's consent as for analyses."""
    kinds.get(kind)
    approval = governance.usable_approval(session, approval_id, project_id)
    federated = _federated(session, dataset)
    if federated.name not in approval.datasets:
        raise BadRequest(
            f"dataset: the approval does not name the federated dataset {federated.name}",
            code="dataset_not_approved",
            where="dataset",
        )
    _check_completion(session, approval, federated, deadline_minutes, min_nodes)
    job = _new_job(
        session,
        actor,
        kind,
        project_id,
        approval,
        federated,
        title,
        definition,
        deadline_minutes,
        min_nodes,
    )
    _issue_to_members(session, settings, job, approval, federated, {"kind": kind} | payload)
    return job


def _new_job(
    session: Session,
    actor: Actor,
    kind: str,
    project_id: str,
    approval: Approval,
    federated: FederatedDataset,
    title: str,
    definition: dict[str, Any],
    deadline_minutes: int | None,
    min_nodes: int | None,
) -> FederatedJob:
    job = FederatedJob(
        project_id=project_id,
        approval_id=approval.id,
        author_id=actor.account_id or "",
        kind=kind,
        title=title,
        definition=definition,
        dataset=federated.name,
        deadline_at=utcnow() + dt.timedelta(minutes=deadline_minutes) if deadline_minutes else None,
        min_nodes=min_nodes,
    )
    session.add(job)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="federated_job.submitted",
        object_type="federated_job",
        object_id=job.id,
        details={
            "project": project_id,
            "approval": approval.id,
            "dataset": federated.name,
            "kind": kind,
        },
    )
    return job


def _issue_to_members(
    session: Session,
    settings: Settings,
    job: FederatedJob,
    approval: Approval,
    federated: FederatedDataset,
    extra: dict[str, Any],
) -> None:
    """One signed task per member node: the definition with the node's dataset, the
    approval's scope and expiry (or seven days, whichever comes first)."""
    expires = min(approval.expires_at, utcnow() + TASK_LIFETIME)
    for member in federated.members:
        node = get_node(session, member["node"])
        local = job.definition | {"dataset": member["dataset"]}
        local.pop("version", None)  # each node reads its own latest version
        payload = {
            "job": job.id,
            "node": node.name,
            "dataset": member["dataset"],
            "definition": local,
            "scope": {
                "datasets": [member["dataset"]],
                "views": list(approval.views),
                "elements": list(approval.elements),
            },
            "approval": approval.id,
            "issued_at": utcnow().isoformat(),
            "expires_at": expires.isoformat(),
        }
        _issue(session, settings, job, node.id, payload | extra)


def _issue(
    session: Session, settings: Settings, job: FederatedJob, node_id: str, payload: dict
) -> Task:
    """A task for one node, signed with the centre's key (its id inside the payload)."""
    task = Task(
        job_id=job.id, node_id=node_id, payload={}, signature="", round=payload.get("round", 0)
    )
    session.add(task)
    session.flush()
    task.payload = {"task": task.id} | payload
    task.signature = signing.sign(settings.var_dir, task.payload)
    return task


def _check_privacy(parsed: Any) -> None:
    """Under DP every released number is a noised count (or read from noised counts)."""
    for i, output in enumerate(parsed.outputs):
        if output.type == "time_to_event":
            raise BadRequest(
                f"outputs[{i}]: differential privacy covers counts, cross-tabulations and "
                "histograms (and quantiles read from them); remove time-to-event or privacy",
                code="dp_unsupported",
                where=f"outputs[{i}]",
            )
    undeclared = list(runner.dp_undeclared(parsed))
    if undeclared:
        raise BadRequest(
            f"{undeclared[0]}: under differential privacy, declare the groups to publish "
            "(levels: [...]); other values are counted as 'other'",
            code="dp_levels_needed",
            where=undeclared[0],
        )


def pending_tasks(session: Session, settings: Settings, node: Node) -> list[dict[str, Any]]:
    """The signed tasks waiting for this node (what `campus node run` polls)."""
    node.last_seen_at = utcnow()
    rows = session.execute(
        select(Task, FederatedJob)
        .join(FederatedJob, FederatedJob.id == Task.job_id)
        .where(Task.node_id == node.id, Task.status == "issued")
        .order_by(Task.id)
    ).tuples()
    served = []
    for task, job in rows:
        approval = session.get(Approval, job.approval_id)
        state = governance.approval_state(approval) if approval is not None else "revoked"
        if state != "active":
            # A signature cannot be recalled: the centre stops serving the task at once.
            task.status, task.answered_at = "refused", utcnow()
            task.answer = {"refused": f"the approval is {state}"}
            session.flush()
            _maybe_finish(session, settings, job)
            continue
        if sweep(session, settings, job).status == "waiting":
            served.append({"payload": task.payload, "signature": task.signature})
    return served


def _node_task(session: Session, node: Node, task_id: str) -> Task:
    task = session.scalar(
        select(Task).where(Task.id == task_id, Task.node_id == node.id).with_for_update()
    )
    if task is None:
        raise NotFound(f"no task {task_id} for this node", code="not_found")
    if task.status != "issued":
        raise Conflict(
            f"task {task_id} was already answered ({task.status})", code="already_answered"
        )
    return task


def receive_answer(
    session: Session, settings: Settings, node: Node, task_id: str, body: Any
) -> Task:
    """A node's statistics for its task: refused whole unless they have the task's shape."""
    task = _node_task(session, node, task_id)
    job = session.get(FederatedJob, task.job_id)
    assert job is not None
    governance.usable_approval(session, job.approval_id, job.project_id)  # not after revocation
    sweep(session, settings, job)
    if job.status != "waiting":
        raise Conflict(f"federated job {job.id} is {job.status}: no more answers", code="closed")
    model = regression.model_of(job.definition) if job.kind == kinds.ANALYSIS else None
    if isinstance(body, dict) and body.get("failed") is True and len(body) == 1:
        task.status, task.answer = "failed", {"failed": True}
    elif job.kind != kinds.ANALYSIS:
        task.answer = kinds.get(job.kind).check_answer(task, body)
        task.status = "answered"
    elif model is not None:
        task.answer = regression.check_answer(model, body)
        task.status = "answered"
    else:
        task.answer = pooling.check_answer(analysis.parse_definition(job.definition), body)
        task.status = "answered"
    task.answered_at = utcnow()
    audit.record(
        session,
        actor=f"node:{node.name}",
        action=f"federated_task.{task.status}",
        object_type="federated_job",
        object_id=job.id,
        details={"task": task.id},
    )
    session.flush()
    _maybe_finish(session, settings, job)
    return task


def receive_refusal(
    session: Session, settings: Settings, node: Node, task_id: str, reason: str
) -> Task:
    """A node refused a task before reading its data (signature, expiry, scope)."""
    task = _node_task(session, node, task_id)
    reason = (reason or "").strip()[:500]
    if not reason:
        raise BadRequest(N_("say why the task is refused"), where="reason")
    task.status, task.answer, task.answered_at = "refused", {"refused": reason}, utcnow()
    audit.record(
        session,
        actor=f"node:{node.name}",
        action="federated_task.refused",
        object_type="federated_job",
        object_id=task.job_id,
        details={"task": task.id, "reason": reason},
    )
    session.flush()
    job = session.get(FederatedJob, task.job_id)
    assert job is not None
    _maybe_finish(session, settings, job)
    return task


def _maybe_finish(session: Session, settings: Settings, job: FederatedJob) -> None:
    """Once every node has answered, or at the deadline with at least `min_nodes` answers:
    pool, then the output checkers (under the job's lock). Fewer at the deadline: the job
    `missed_deadline` (a fact about the nodes' availability, not about the data). A job of
    another kind is pooled by its kind, which is told once the job's status is final."""
    session.execute(select(FederatedJob.id).where(FederatedJob.id == job.id).with_for_update())
    session.refresh(job)  # another node's answer may have finished it while we waited
    if job.status != "waiting":
        return
    _finish(session, settings, job)
    if job.kind != kinds.ANALYSIS and job.status != "waiting":
        finished = kinds.get(job.kind).finished
        if finished is not None:
            finished(session, job)


def _finish(session: Session, settings: Settings, job: FederatedJob) -> None:
    pairs = tasks(session, job)
    parts = [t for t, _n in pairs]
    if any(t.status == "refused" for t in parts):
        job.status = "refused"  # a node refused the task itself: the others' are withdrawn
        return
    issued = [t for t in parts if t.status == "issued"]
    if issued:
        if job.deadline_at is None or utcnow() < job.deadline_at:
            return
        if len(parts) - len(issued) < (job.min_nodes or len(parts)):
            job.status = "missed_deadline"
            return
        for task in issued:
            task.status = "missed"  # an answer after the deadline is refused
    analysis_kind = job.kind == kinds.ANALYSIS
    model = regression.model_of(job.definition) if analysis_kind else None
    answers = [t.answer for t in parts if t.status == "answered" and t.answer is not None]
    failed = any(t.status == "failed" for t in parts)
    if model is not None and not failed:
        result = _regression_round(session, settings, job, model, pairs, answers)
        if result is None:
            return  # the next round is issued
    job.pooled_at = utcnow()
    # Another kind's result is released through its capability's own checks.
    job.release_status = "pending" if analysis_kind else ""
    if failed:
        job.status = "failed"
        return
    if not analysis_kind:
        named = [(n.name, t.answer) for t, n in pairs if t.status == "answered" and t.answer]
        result = kinds.get(job.kind).pool(session, settings, job, named)
    elif model is None:
        result = pooling.pool(
            analysis.parse_definition(job.definition),
            answers,
            threshold=settings.disclosure_threshold,
            base=settings.rounding_base,
        )
    job.result = result | {
        "nodes": {
            "answered": [n.name for t, n in pairs if t.status == "answered"],
            "missing": [n.name for t, n in pairs if t.status == "missed"],
        },
        "epsilon": job.epsilon or None,
    }
    job.status = "pooled"


def _regression_round(
    session: Session,
    settings: Settings,
    job: FederatedJob,
    model: regression.LogisticRegression,
    pairs: list[tuple[Task, Node]],
    answers: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """Every node answered this round: the Newton-Raphson step, then the next round's
    tasks (None), or the result once the step is under the tolerance."""
    limits = {"threshold": settings.disclosure_threshold, "base": settings.rounding_base}
    if any(a.get("withheld") for a in answers):
        return regression.withheld(model, regression.WITHHELD, **limits)
    current = pairs[0][0]
    stepped = regression.newton(current.payload["coefficients"], answers)
    if stepped is None:
        return regression.withheld(model, regression.SINGULAR, **limits)
    coefficients, change, covariance = stepped
    iterations = current.round + 1
    if change <= model.tolerance:
        n = sum(a["n"] for a in answers)
        return regression.result(
            model, coefficients, covariance, n=n, iterations=iterations, **limits
        )
    if iterations >= model.max_iterations:
        return regression.withheld(model, regression.DIVERGED, **limits)
    for task, node in pairs:
        _issue(session, settings, job, node.id, regression.next_payload(task.payload, coefficients))
    return None


def sweep(session: Session, settings: Settings, job: FederatedJob) -> FederatedJob:
    """Close a waiting job whose deadline has passed (called whenever it is looked at)."""
    if job.status == "waiting" and job.deadline_at is not None and utcnow() >= job.deadline_at:
        _maybe_finish(session, settings, job)
    return job
