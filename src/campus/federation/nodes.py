"""Federation's nodes and their credentials: registered by the centre's staff, a credential
a random token shown once and kept as its SHA-256, revoked at once (docs/federation.md,
"Trust"). Reached through `campus.federation.service`."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import BadRequest, Conflict, NotAuthenticated, NotFound
from campus.federation.models import (
    Node,
    NodeCredential,
)
from campus.i18n import N_

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
NODE_HEADER = "x-campus-node"


def checked_name(value: str, where: str) -> str:
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
    name = checked_name(name, "name")
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
