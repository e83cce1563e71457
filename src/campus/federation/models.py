"""Tables of federation: nodes, their credentials, federated datasets, jobs, signed tasks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, JSONType, new_id, utcnow


class Node(Base):
    """A Campus installation at a hospital, which polls the centre outbound for tasks."""

    __tablename__ = "fed_nodes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime | None]


class NodeCredential(Base):
    """A node's secret, stored as its SHA-256 only; revoked at once by the centre's staff."""

    __tablename__ = "fed_credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    node_id: Mapped[str] = mapped_column(ForeignKey("fed_nodes.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]


class FederatedDataset(Base):
    """A name at the centre for datasets held at several nodes: [{node, dataset}]."""

    __tablename__ = "fed_datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    members: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FederatedJob(Base):
    """An analysis definition (or another capability's task, `kind`) inside an approval
    naming a federated dataset."""

    __tablename__ = "fed_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("gov_projects.id", ondelete="CASCADE"), index=True
    )
    approval_id: Mapped[str] = mapped_column(ForeignKey("gov_approvals.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    # analysis, or a kind another capability registers (campus.federation.kinds)
    kind: Mapped[str] = mapped_column(String(40), default="analysis", server_default="analysis")
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict] = mapped_column(JSONType)
    dataset: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting|pooled
    result: Mapped[dict | None] = mapped_column(JSONType)
    release_status: Mapped[str] = mapped_column(String(20), default="")  # pending|released|...
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    pooled_at: Mapped[dt.datetime | None]
    released_at: Mapped[dt.datetime | None]
    # The job completes at the deadline with the nodes that answered, if at least min_nodes.
    deadline_at: Mapped[dt.datetime | None]
    min_nodes: Mapped[int | None]
    epsilon: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class Task(Base):
    """One node's part of a federated job: the signed payload and what the node sent back."""

    __tablename__ = "fed_tasks"
    __table_args__ = (UniqueConstraint("job_id", "node_id", "round"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("fed_jobs.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str] = mapped_column(ForeignKey("fed_nodes.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict] = mapped_column(JSONType)
    signature: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="issued")  # issued|answered|refused
    answer: Mapped[dict | None] = mapped_column(JSONType)  # exactly what the node posted
    answered_at: Mapped[dt.datetime | None]
    # A logistic regression's Newton-Raphson iteration (0 for every other job).
    round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FederatedCheck(Base):
    """An output checker's decision on a pooled result; two approvals release it."""

    __tablename__ = "fed_checks"
    __table_args__ = (UniqueConstraint("job_id", "checker_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("fed_jobs.id", ondelete="CASCADE"))
    checker_id: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NodeCatalogue(Base):
    """What a node posted about one of its datasets: the public catalogue and a sample of
    its dummy twin (synthetic rows), shown on the federated dataset's page."""

    __tablename__ = "fed_catalogues"
    __table_args__ = (UniqueConstraint("node_id", "dataset"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    node_id: Mapped[str] = mapped_column(ForeignKey("fed_nodes.id", ondelete="CASCADE"))
    dataset: Mapped[str] = mapped_column(String(64))
    catalogue: Mapped[dict] = mapped_column(JSONType)
    twin: Mapped[dict] = mapped_column(JSONType)
    posted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PartialCompletion(Base):
    """An approval's permission to complete its federated jobs at their deadline with the
    nodes that answered (given by its assigned reviewers or the DPO); none: every node."""

    __tablename__ = "fed_partial"

    approval_id: Mapped[str] = mapped_column(
        ForeignKey("gov_approvals.id", ondelete="CASCADE"), primary_key=True
    )
    allowed: Mapped[bool] = mapped_column(default=False)
    set_by: Mapped[str] = mapped_column(String(32))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
