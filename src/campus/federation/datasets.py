"""Federated datasets (a name at the centre for datasets held at several nodes) and what
each node posts about its own: the public catalogue and a few rows of its dummy twin, never
real rows. Reached through `campus.federation.service`."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import BadRequest, Conflict, NotFound
from campus.federation.models import (
    FederatedDataset,
    Node,
    NodeCatalogue,
)
from campus.federation.nodes import checked_name, get_node
from campus.i18n import N_

# --- federated datasets -------------------------------------------------------------------------


def create_dataset(
    session: Session, actor: Actor, *, name: str, members: list[dict[str, str]]
) -> FederatedDataset:
    name = checked_name(name, "name")
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
            {
                "node": node.name,
                "dataset": checked_name(member.get("dataset", ""), f"{where}.dataset"),
            }
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
