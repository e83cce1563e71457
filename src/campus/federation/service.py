"""Federated analysis at the centre: nodes and credentials, federated datasets, signed tasks,
answers checked and pooled, then two output checkers as for any job (docs/federation.md).

What the team sees of a federated job follows the rule of `campus.analysis.outward`: before
release, only facts that do not depend on the real data (the definition, each node's
refusal decided before reading data, whether a node has answered), never a node's outcome.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.analysis import budget, checking, runner
from campus.analysis import service as analysis
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.errors import BadRequest, Conflict, Forbidden, NotAuthenticated, NotFound
from campus.federation import kinds, pooling, regression, signing
from campus.federation.models import (
    FederatedCheck,
    FederatedDataset,
    FederatedJob,
    Node,
    NodeCatalogue,
    NodeCredential,
    PartialCompletion,
    Task,
)
from campus.governance import service as governance
from campus.governance.models import Approval
from campus.i18n import N_
from campus.settings import Settings

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
TASK_LIFETIME = dt.timedelta(days=7)
MAX_DEADLINE_MINUTES = 7 * 24 * 60
NODE_HEADER = "x-campus-node"


def _name(value: str, where: str) -> str:
    value = (value or "").strip()
    if not NAME.match(value):
        raise BadRequest(
            f"{where}: lower-case letters, digits and hyphens, 1 to 63",
            code="bad_name",
            where=where,
        )
    return value


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- nodes and credentials ---------------------------------------------------------------------


def register_node(session: Session, actor: Actor, *, name: str, title: str) -> Node:
    name = _name(name, "name")
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        raise BadRequest(N_("a title of 1 to 200 characters is required"), where="title")
    if session.scalar(select(Node).where(Node.name == name)) is not None:
        raise Conflict(f"a node named {name} already exists", code="exists")
    node = Node(name=name, title=title)
    session.add(node)
    try:
        session.flush()
    except IntegrityError as error:  # registered concurrently
        raise Conflict(f"a node named {name} already exists", code="exists") from error
    audit.record(
        session,
        actor=actor.label,
        action="node.registered",
        object_type="node",
        object_id=node.id,
        details={"node": name},
    )
    return node


def get_node(session: Session, name: str) -> Node:
    node = session.scalar(select(Node).where(Node.name == name))
    if node is None:
        raise NotFound(f"no node {name}", code="not_found")
    return node


def list_nodes(session: Session) -> list[Node]:
    return list(session.scalars(select(Node).order_by(Node.name)))


def issue_credential(session: Session, actor: Actor, node: Node) -> tuple[NodeCredential, str]:
    """A new random credential for the node; the token is shown once, only its hash kept."""
    token = "cn_" + secrets.token_urlsafe(32)
    credential = NodeCredential(node_id=node.id, token_hash=_hash(token))
    session.add(credential)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="node.credential_issued",
        object_type="node",
        object_id=node.id,
        details={"credential": credential.id},
    )
    return credential, token


def revoke_credential(session: Session, actor: Actor, credential_id: str) -> NodeCredential:
    credential = session.get(NodeCredential, credential_id)
    if credential is None:
        raise NotFound(f"no credential {credential_id}", code="not_found")
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor.label,
            action="node.credential_revoked",
            object_type="node",
            object_id=credential.node_id,
            details={"credential": credential.id},
        )
    return credential


def credentials(session: Session, node: Node) -> list[NodeCredential]:
    return list(
        session.scalars(
            select(NodeCredential)
            .where(NodeCredential.node_id == node.id)
            .order_by(NodeCredential.created_at)
        )
    )


def node_for_token(session: Session, token: str | None) -> Node:
    """The node a request's credential names; NotAuthenticated if unknown or revoked."""
    if not token:
        raise NotAuthenticated(
            f"send the node credential in the {NODE_HEADER} header", code="node_credential_missing"
        )
    credential = session.scalar(
        select(NodeCredential).where(NodeCredential.token_hash == _hash(token.strip()))
    )
    if credential is None or credential.revoked_at is not None:
        raise NotAuthenticated(
            "the node credential is unknown or revoked", code="node_credential_invalid"
        )
    node = session.get(Node, credential.node_id)
    assert node is not None
    return node


# --- federated datasets -------------------------------------------------------------------------


def create_dataset(
    session: Session, actor: Actor, *, name: str, members: list[dict[str, str]]
) -> FederatedDataset:
    name = _name(name, "name")
    if not members:
        raise BadRequest(N_("name at least one node's dataset"), where="members")
    clean, seen = [], set()
    for i, member in enumerate(members):
        where = f"members[{i}]"
        node = session.scalar(select(Node).where(Node.name == (member.get("node") or "")))
        if node is None:
            raise BadRequest(f"{where}.node: no node {member.get('node')!r}", where=f"{where}.node")
        if node.name in seen:
            raise BadRequest(f"{where}.node: {node.name} is named twice", where=f"{where}.node")
        seen.add(node.name)
        clean.append(
            {"node": node.name, "dataset": _name(member.get("dataset", ""), f"{where}.dataset")}
        )
    if session.scalar(select(FederatedDataset).where(FederatedDataset.name == name)):
        raise Conflict(f"a federated dataset named {name} already exists", code="exists")
    row = FederatedDataset(name=name, members=clean)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict(f"a federated dataset named {name} already exists", code="exists") from error
    audit.record(
        session,
        actor=actor.label,
        action="federated_dataset.created",
        object_type="federated_dataset",
        object_id=row.id,
        details={"dataset": name, "members": clean},
    )
    return row


def list_datasets(session: Session) -> list[FederatedDataset]:
    return list(session.scalars(select(FederatedDataset).order_by(FederatedDataset.name)))


MAX_CATALOGUE_BYTES = 256 * 1024
CATALOGUE_KEYS = {"dataset", "version", "threshold", "patients", "first", "last", "types"}


def get_dataset(session: Session, name: str) -> FederatedDataset:
    row = session.scalar(select(FederatedDataset).where(FederatedDataset.name == name))
    if row is None:
        raise NotFound(f"no federated dataset {name}", code="not_found")
    return row


def receive_catalogue(session: Session, node: Node, body: Any) -> NodeCatalogue:
    """A node's public catalogue and dummy-twin sample for one of its member datasets."""
    if not isinstance(body, dict) or set(body) != {"dataset", "catalogue", "twin"}:
        raise BadRequest("send exactly dataset, catalogue and twin", where="body")
    dataset = body["dataset"]
    if not any(
        m == {"node": node.name, "dataset": dataset}
        for d in list_datasets(session)
        for m in d.members
    ):
        raise BadRequest(
            f"dataset: {dataset!r} is not this node's part of a federated dataset",
            where="dataset",
        )
    catalogue, twin = body["catalogue"], body["twin"]
    if not isinstance(catalogue, dict) or set(catalogue) - CATALOGUE_KEYS:
        raise BadRequest(
            f"catalogue: only the public catalogue ({', '.join(sorted(CATALOGUE_KEYS))})",
            where="catalogue",
        )
    if not isinstance(twin, dict) or not all(
        isinstance(rows, list) and all(isinstance(r, dict) for r in rows) for rows in twin.values()
    ):
        raise BadRequest("twin: resource type -> list of dummy rows", where="twin")
    if len(json.dumps(body, default=str)) > MAX_CATALOGUE_BYTES:
        raise BadRequest(
            f"body: at most {MAX_CATALOGUE_BYTES // 1024} KiB of catalogue and twin",
            where="body",
        )
    row = session.scalar(
        select(NodeCatalogue).where(
            NodeCatalogue.node_id == node.id, NodeCatalogue.dataset == dataset
        )
    )
    if row is None:
        row = NodeCatalogue(node_id=node.id, dataset=dataset, catalogue={}, twin={})
        session.add(row)
    row.catalogue, row.twin, row.posted_at = catalogue, twin, utcnow()
    session.flush()
    audit.record(
        session,
        actor=f"node:{node.name}",
        action="node.catalogue_posted",
        object_type="node",
        object_id=node.id,
        details={"dataset": dataset},
    )
    return row


def dataset_page(session: Session, name: str) -> dict[str, Any]:
    """A federated dataset with each member's posted catalogue and dummy twin (no rows of
    real data ever reach the centre)."""
    row = get_dataset(session, name)
    members = []
    for member in row.members:
        node = get_node(session, member["node"])
        posted = session.scalar(
            select(NodeCatalogue).where(
                NodeCatalogue.node_id == node.id, NodeCatalogue.dataset == member["dataset"]
            )
        )
        members.append(
            member
            | {
                "title": node.title,
                "catalogue": posted.catalogue if posted else None,
                "twin": posted.twin if posted else None,
                "posted_at": posted.posted_at.isoformat() if posted else None,
            }
        )
    return {"name": row.name, "members": members}


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
