"""Tables of benchmarks, submitted models and the output checks of their metrics."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.db.base import Base, JSONType, new_id, utcnow


class Benchmark(Base):
    """A prediction task on one dataset, defined inside an approved data project."""

    __tablename__ = "eval_benchmarks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("gov_projects.id", ondelete="CASCADE"), index=True
    )
    approval_id: Mapped[str] = mapped_column(ForeignKey("gov_approvals.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict] = mapped_column(JSONType)
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical definition
    dataset: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """One ONNX model submitted to a benchmark; only its checked metrics ever leave."""

    __tablename__ = "eval_submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    benchmark_id: Mapped[str] = mapped_column(
        ForeignKey("eval_benchmarks.id", ondelete="CASCADE"), index=True
    )
    submitter_id: Mapped[str] = mapped_column(String(32), index=True)
    family: Mapped[str] = mapped_column(String(80))
    card: Mapped[dict] = mapped_column(JSONType)
    model: Mapped[bytes] = mapped_column(LargeBinary)
    model_digest: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[float]
    # refused (checks before the real data, with the reason) | queued | running | at_nodes
    # (federated: waiting for the nodes' bins) | succeeded | failed (on the real data;
    # shown as finished to the team, see service.outward_status)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    dummy_metrics: Mapped[dict | None] = mapped_column(JSONType)
    metrics: Mapped[dict | None] = mapped_column(JSONType)
    release_status: Mapped[str] = mapped_column(String(20), default="")  # pending|released|rejected
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    released_at: Mapped[dt.datetime | None]
    # A federated evaluation: the federated dataset its nodes score it on, and the federated
    # job (campus.federation) whose signed tasks carry it; status `at_nodes` meanwhile.
    federated_dataset: Mapped[str] = mapped_column(String(64), default="", server_default="")
    federated_job_id: Mapped[str] = mapped_column(
        String(32), default="", server_default="", index=True
    )


class SubmissionCheck(Base):
    """An output checker's or the dataset's data steward's decision on a submission's
    metrics."""

    __tablename__ = "eval_checks"
    __table_args__ = (UniqueConstraint("submission_id", "checker_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("eval_submissions.id", ondelete="CASCADE"), index=True
    )
    checker_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(20))  # output_checker | data_steward
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
