"""Benchmarks: defined inside an approved data project, their definition pinned by hash."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.analysis import runner as analysis_runner
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.errors import Forbidden, NotFound
from campus.evaluation import definition, features
from campus.evaluation.models import Benchmark
from campus.governance import service as governance
from campus.i18n import N_
from campus.settings import Settings

CHECKS_TO_RELEASE = 2
SUPPRESSED = "(groups under the minimum size)"  # one entry for all, their values unnamed
DUMMY_RUNS = threading.BoundedSemaphore(2)  # dummy-twin runs at once in one web process
CARD_FIELDS = ("name", "version", "intended_use", "training_data", "regulatory_status")
FINISHED = "finished"


# --- benchmarks -------------------------------------------------------------------------------


def create_benchmark(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    project_id: str,
    approval_id: str,
    text: str | bytes | dict[str, Any],
) -> Benchmark:
    """A benchmark inside an active approval of the project; the team defines it."""
    project = governance.get_project(session, project_id)
    if not governance.is_member(session, project.id, actor.account_id):
        raise Forbidden(
            N_("only members of the project team may define its benchmarks"),
            code="not_project_member",
        )
    approval = governance.usable_approval(session, approval_id, project.id)
    bench = definition.parse(text)
    # The analysis rules on a real-data job, before any data is read: names, columns, the
    # approval's datasets, views and elements, and the version it will read (pinned here).
    found = analysis_runner.prepare(
        bench.analysis(),
        settings.warehouse_path,
        analysis_runner.Scope(
            tuple(approval.datasets), tuple(approval.views), tuple(approval.elements)
        ),
    )
    row = Benchmark(
        project_id=project.id,
        approval_id=approval.id,
        author_id=actor.account_id or "",
        title=bench.title,
        definition=bench.model_dump(mode="json", exclude_none=True),
        digest=definition.digest(bench),
        dataset=found.dataset,
        version=found.version,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="benchmark.created",
        object_type="benchmark",
        object_id=row.id,
        details={"project": project.id, "dataset": row.dataset, "version": row.version},
    )
    return row


def get_benchmark(session: Session, benchmark_id: str) -> Benchmark:
    row = session.get(Benchmark, benchmark_id)
    if row is None:
        raise NotFound(N_("no benchmark {id}"), code="not_found", values={"id": benchmark_id})
    return row


def parsed(row: Benchmark) -> definition.BenchmarkDefinition:
    return definition.BenchmarkDefinition.model_validate(row.definition)


def list_benchmarks(session: Session) -> list[Benchmark]:
    return list(session.scalars(select(Benchmark).order_by(Benchmark.created_at.desc())))


def benchmark_public(row: Benchmark) -> dict[str, Any]:
    """A benchmark as anyone sees it: its definition is public, like an analysis's."""
    bench = parsed(row)
    return {
        "id": row.id,
        "title": row.title,
        "description": bench.description,
        "project_id": row.project_id,
        "dataset": row.dataset,
        "version": row.version,
        "digest": row.digest,
        "label": bench.label_description,
        "schema": bench.schema(),
        "min_subgroup": bench.min_subgroup,
        "evaluations_per_family": bench.evaluations_per_family,
        "limits": bench.limits.model_dump(),
        "definition": row.definition,
        "created_at": row.created_at.isoformat(),
    }


def dummy_feature_table(settings: Settings, row: Benchmark) -> str:
    """The dummy twin's feature table as CSV (synthetic records: open to researchers)."""
    bench = parsed(row)
    table = features.build(pinned(bench, row), warehouse=settings.warehouse_path, kind="dummy")
    return features.to_csv(bench, table)


def pinned(bench: definition.BenchmarkDefinition, row: Benchmark):
    return bench.model_copy(update={"version": row.version})
