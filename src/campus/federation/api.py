"""JSON routes of federation: nodes and credentials (staff), federated datasets, federated
jobs and their checks, and the two node endpoints (`x-campus-node` credential)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.federation import service, signing
from campus.web.deps import allow, db_session

router = APIRouter(tags=["federation"])


class NodeIn(BaseModel):
    name: str = Field(max_length=64, description="Short name: lower-case letters, digits, -")
    title: str = Field(max_length=200)


class Member(BaseModel):
    node: str = Field(max_length=64)
    dataset: str = Field(max_length=64)


class DatasetIn(BaseModel):
    name: str = Field(max_length=64)
    members: list[Member] = Field(max_length=50)


class JobIn(BaseModel):
    approval_id: str = Field(max_length=32)
    definition: dict[str, Any] | str = Field(description="The analysis, as JSON or YAML text")
    deadline_minutes: int | None = Field(
        default=None, description="Complete with the nodes that answered by then"
    )
    min_nodes: int | None = Field(
        default=None, description="With a deadline: the fewest nodes to pool (else it fails)"
    )


class PartialIn(BaseModel):
    allowed: bool = Field(
        description="Whether federated jobs may complete at their deadline without every node"
    )


class CheckIn(BaseModel):
    decision: str = Field(description="approve or reject")
    comment: str = Field(max_length=5000)


class RefusalIn(BaseModel):
    reason: str = Field(max_length=500)


def node_public(node) -> dict[str, Any]:
    return {
        "name": node.name,
        "title": node.title,
        "last_seen_at": node.last_seen_at.isoformat() if node.last_seen_at else None,
    }


def overview(session: Session, actor: Actor) -> dict[str, Any]:
    """The federation page and its twin: nodes, federated datasets, visible jobs."""
    return {
        "nodes": [node_public(n) for n in service.list_nodes(session)],
        "datasets": [
            {"name": d.name, "members": d.members} for d in service.list_datasets(session)
        ],
        "jobs": [
            {
                "id": j.id,
                "title": j.title,
                "dataset": j.dataset,
                "status": service.outward_status(j),
                "release_status": j.release_status or None,
            }
            for j in service.visible_jobs(session, actor)
        ],
    }


@router.get("/federation/key", summary="The centre's public key, to pin at each node")
def api_key(request: Request, actor: Actor = allow("public.read")):
    pem = signing.public_pem(request.app.state.settings.var_dir)
    return {"public_key": pem, "fingerprint": signing.fingerprint(pem)}


@router.post("/federation/nodes", status_code=201, summary="Register a hospital node")
def api_register(
    body: NodeIn, actor: Actor = allow("federation.manage"), session: Session = db_session
):
    return node_public(service.register_node(session, actor, name=body.name, title=body.title))


@router.post(
    "/federation/nodes/{name}/credentials",
    status_code=201,
    summary="Issue a node credential (the token is shown once)",
)
def api_issue(name: str, actor: Actor = allow("federation.manage"), session: Session = db_session):
    credential, token = service.issue_credential(session, actor, service.get_node(session, name))
    return {"id": credential.id, "node": name, "token": token}


@router.post("/federation/credentials/{credential_id}/revoke", summary="Revoke a node credential")
def api_revoke(
    credential_id: str, actor: Actor = allow("federation.manage"), session: Session = db_session
):
    credential = service.revoke_credential(session, actor, credential_id)
    return {"id": credential.id, "revoked_at": credential.revoked_at.isoformat()}


@router.post("/federation/datasets", status_code=201, summary="Name datasets held at nodes")
def api_dataset(
    body: DatasetIn, actor: Actor = allow("federation.manage"), session: Session = db_session
):
    row = service.create_dataset(
        session, actor, name=body.name, members=[m.model_dump() for m in body.members]
    )
    return {"name": row.name, "members": row.members}


@router.post(
    "/projects/{project_id}/federated-jobs",
    status_code=201,
    summary="Submit a federated job within an approval naming a federated dataset",
)
def api_submit(
    project_id: str,
    body: JobIn,
    request: Request,
    actor: Actor = allow("jobs.run", scope=("project", "project_id")),
    session: Session = db_session,
):
    job = service.submit_job(
        session,
        request.app.state.settings,
        actor,
        project_id=project_id,
        approval_id=body.approval_id,
        text=body.definition,
        deadline_minutes=body.deadline_minutes,
        min_nodes=body.min_nodes,
    )
    return service.view(session, actor, job)


def job(job_id: str, request: Request, actor: Actor, session: Session) -> dict[str, Any]:
    """A federated job's page and twin: the job as this actor may see it (its deadline
    checked first)."""
    found = service.sweep(session, request.app.state.settings, service.get_job(session, job_id))
    return service.view(session, actor, found)


def dataset(name: str, session: Session) -> dict[str, Any]:
    """A federated dataset's page and twin: each node's posted catalogue and dummy twin."""
    return service.dataset_page(session, name)


def partial_setting(
    approval_id: str,
    actor: Actor = allow("approvals.manage"),
    session: Session = db_session,
) -> dict[str, Any]:
    """The approval's setting for completing federated jobs without every node (the data of
    the page of the same path, mounted as its twin by campus.federation.pages)."""
    return service.partial_setting(session, actor, approval_id)


@router.put(
    "/approvals/{approval_id}/federated-partial",
    summary="Allow (or not) the approval's federated jobs to complete without every node",
)
def api_partial(
    approval_id: str,
    body: PartialIn,
    actor: Actor = allow("approvals.manage"),
    session: Session = db_session,
):
    allowed = service.allow_partial(session, actor, approval_id, body.allowed)
    return {"approval_id": approval_id, "allowed": allowed}


@router.post("/federated-jobs/{job_id}/checks", summary="Approve or reject the pooled outputs")
def api_check(
    job_id: str,
    body: CheckIn,
    actor: Actor = allow("outputs.check"),
    session: Session = db_session,
):
    job = service.check_output(
        session,
        actor,
        service.get_job(session, job_id),
        decision=body.decision,
        comment=body.comment,
    )
    return service.view(session, actor, job)


# --- the node endpoints: a node credential, no account -----------------------------------------


@router.get("/federation/node/tasks", summary="(Node) the signed tasks waiting for this node")
def api_node_tasks(
    request: Request, actor: Actor = allow("federation.node"), session: Session = db_session
):
    node = service.node_for_token(session, request.headers.get(service.NODE_HEADER))
    return service.pending_tasks(session, request.app.state.settings, node)


@router.post("/federation/node/tasks/{task_id}/answer", summary="(Node) a task's statistics")
def api_node_answer(
    task_id: str,
    request: Request,
    body: Any = Body(...),
    actor: Actor = allow("federation.node"),
    session: Session = db_session,
):
    node = service.node_for_token(session, request.headers.get(service.NODE_HEADER))
    task = service.receive_answer(session, request.app.state.settings, node, task_id, body)
    return {"task": task.id, "status": task.status}


@router.post("/federation/node/tasks/{task_id}/refusal", summary="(Node) refuse a task, with why")
def api_node_refusal(
    task_id: str,
    body: RefusalIn,
    request: Request,
    actor: Actor = allow("federation.node"),
    session: Session = db_session,
):
    node = service.node_for_token(session, request.headers.get(service.NODE_HEADER))
    task = service.receive_refusal(session, request.app.state.settings, node, task_id, body.reason)
    return {"task": task.id, "status": task.status}


@router.post("/federation/node/catalogue", summary="(Node) post a dataset's catalogue and twin")
def api_node_catalogue(
    request: Request,
    body: Any = Body(...),
    actor: Actor = allow("federation.node"),
    session: Session = db_session,
):
    node = service.node_for_token(session, request.headers.get(service.NODE_HEADER))
    row = service.receive_catalogue(session, node, body)
    return {"node": node.name, "dataset": row.dataset, "posted_at": row.posted_at.isoformat()}
