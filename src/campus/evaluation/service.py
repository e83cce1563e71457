"""Benchmarks, submissions, runs on the real data, output checks and the leaderboard.

Who sees what (the rule of docs/security.md, "What a job reveals", as for analysis jobs):
before release, what the submitter sees of a submission depends only on the model, the
benchmark and the dummy twin - the checks before anything runs, the run on the dummy
twin - never on the real data. A submission that ran on the real data is `finished` for
them whether it produced metrics or failed there; its real outcome, error and metrics are
for the output checkers, and the metrics become public once two of them approve.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.analysis import jobs as analysis_jobs
from campus.analysis import runner as analysis_runner
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.evaluation import definition, features, metrics, modelcheck, sandbox
from campus.evaluation.models import Benchmark, Submission, SubmissionCheck
from campus.governance import service as governance
from campus.i18n import N_
from campus.optout import service as optout
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
    table = features.build(_pinned(bench, row), warehouse=settings.warehouse_path, kind="dummy")
    return features.to_csv(bench, table)


def _pinned(bench: definition.BenchmarkDefinition, row: Benchmark):
    return bench.model_copy(update={"version": row.version})


# --- submissions ------------------------------------------------------------------------------


def _card(card: dict[str, Any]) -> dict[str, str]:
    out = {}
    for field in CARD_FIELDS:
        value = str(card.get(field) or "").strip()
        if not value or len(value) > 2000:
            raise BadRequest(
                N_("the model card needs {field} (1 to 2000 characters)"),
                where=f"card.{field}",
                values={"field": field},
            )
        out[field] = value
    return out


def score(
    bench: definition.BenchmarkDefinition, model: bytes, table: features.FeatureTable, output: str
) -> tuple[Any, str]:
    scored = sandbox.run(
        model,
        table.features,
        output_name=output,
        memory_mb=bench.limits.memory_mb,
        seconds=bench.limits.time_limit_seconds,
    )
    return scored.scores, scored.network


def release_metrics(
    bench: definition.BenchmarkDefinition,
    table: features.FeatureTable,
    scores,
    *,
    threshold: float,
    k: int,
    base: int,
) -> dict[str, Any]:
    """Overall and per-subgroup metrics from bins of at least k people; subgroups under the
    benchmark's minimum size are suppressed together, without their values or sizes."""
    import numpy as np

    overall = metrics.evaluate(
        metrics.binned(scores, table.labels, bins=bench.bins, threshold=threshold, k=k), base=base
    )
    groups: dict[str, dict[str, Any]] = {}
    for group in bench.subgroups:
        values = np.array(table.subgroups[group.name], dtype=object)
        out: dict[str, Any] = {}
        small = False
        for level in sorted(set(values.tolist())):
            mask = values == level
            if int(mask.sum()) < max(bench.min_subgroup, k):
                # Not even its name: a rare value ("100-130") would say someone has it.
                small = True
                continue
            b = metrics.binned(
                scores[mask], table.labels[mask], bins=bench.bins, threshold=threshold, k=k
            )
            result = metrics.evaluate(b, base=base)
            out[level] = {"suppressed": False, "people": result["people"], **result["metrics"]}
        if small:
            out[SUPPRESSED] = {"suppressed": True}
        groups[group.name] = out
    return {**overall, "threshold": threshold, "subgroups": groups}


def submit(
    session: Session,
    settings: Settings,
    actor: Actor,
    benchmark: Benchmark,
    *,
    model: bytes,
    card: dict[str, Any],
    family: str,
    threshold: float,
    output: str | None = None,
    federated: str | None = None,
    deadline_minutes: int | None = None,
    min_nodes: int | None = None,
) -> Submission:
    """Check a model, score the dummy twin with it, and queue its run on the real data, or,
    with `federated` (a federated dataset the benchmark's approval names), send it to that
    dataset's nodes (`campus.evaluation.federated`; deadline and `min_nodes` as for
    federated jobs).

    Every refusal here depends only on the model, the benchmark and the dummy twin, so it is
    shown with its reason. The number of evaluations per model family is capped (decided
    under a lock on the benchmark row)."""
    bench = parsed(benchmark)
    family = (family or "").strip()
    if not family or len(family) > 80:
        raise BadRequest(N_("a model family of 1 to 80 characters is required"), where="family")
    if not 0.0 < threshold < 1.0:
        raise BadRequest(N_("the threshold must lie strictly between 0 and 1"), where="threshold")
    clean_card = _card(card)
    checked = modelcheck.check(
        model,
        features=len(bench.features),
        max_bytes=bench.limits.max_model_bytes,
        max_nodes=bench.limits.max_nodes,
        output=output or None,
    )
    dummy = features.build(
        _pinned(bench, benchmark), warehouse=settings.warehouse_path, kind="dummy"
    )
    # The dummy run happens in the request: a few at a time per web process, so that models
    # running to their limits cannot take every worker thread or all the memory.
    if not DUMMY_RUNS.acquire(blocking=False):
        raise Conflict(
            N_("the evaluation runner is busy with other models; submit again in a minute"),
            code="runner_busy",
        )
    try:
        scores, _network = score(bench, model, dummy, checked.output_name)
    except sandbox.RunFailed as failure:
        raise BadRequest(
            N_("on the dummy twin: {reason}"),
            code=f"model_{failure.kind}",
            where="model",
            values={"reason": failure.text},
        ) from None
    finally:
        DUMMY_RUNS.release()
    threshold_k = analysis_jobs.dataset_threshold(session, settings, benchmark.dataset)
    dummy_metrics = release_metrics(
        bench, dummy, scores, threshold=threshold, k=threshold_k, base=settings.rounding_base
    )
    session.scalar(
        select(Benchmark).where(Benchmark.id == benchmark.id).with_for_update()
    )  # one decision at a time on this benchmark's evaluation cap
    used = session.scalar(
        select(func.count()).where(
            Submission.benchmark_id == benchmark.id,
            Submission.family == family,
            Submission.submitter_id == (actor.account_id or ""),
        )
    )
    if (used or 0) >= bench.evaluations_per_family:
        raise Conflict(
            N_(
                "this model family has used its {count} evaluations on this benchmark (a cap "
                "so that no one can probe the labels with many variants)"
            ),
            code="evaluations_exhausted",
            values={"count": bench.evaluations_per_family},
        )
    row = Submission(
        benchmark_id=benchmark.id,
        submitter_id=actor.account_id or "",
        family=family,
        card={**clean_card, "output": checked.output_name},
        model=model,
        model_digest=hashlib.sha256(model).hexdigest(),
        threshold=threshold,
        status="queued",
        dummy_metrics=dummy_metrics,
    )
    session.add(row)
    session.flush()
    if federated:
        from campus.evaluation import federated as at_nodes

        at_nodes.request(
            session,
            settings,
            actor,
            benchmark,
            row,
            dataset=federated,
            deadline_minutes=deadline_minutes,
            min_nodes=min_nodes,
        )
    audit.record(
        session,
        actor=actor.label,
        action="submission.queued",
        object_type="submission",
        object_id=row.id,
        details={"benchmark": benchmark.id, "model": row.model_digest}
        | ({"federated": federated} if federated else {}),
    )
    return row


def get_submission(session: Session, submission_id: str) -> Submission:
    row = session.get(Submission, submission_id)
    if row is None:
        raise NotFound(N_("no submission {id}"), code="not_found", values={"id": submission_id})
    return row


def run_submission(db: Database, settings: Settings, submission_id: str) -> str:
    """Run one queued submission on the real data; returns its stored status."""
    with db.session() as session:
        # Taken under a row lock: two workers never run one submission.
        row = session.scalar(
            select(Submission).where(Submission.id == submission_id).with_for_update()
        )
        if row is None or row.status != "queued":
            return row.status if row is not None else "missing"
        benchmark = get_benchmark(session, row.benchmark_id)
        bench = _pinned(parsed(benchmark), benchmark)
        try:
            approval = governance.usable_approval(
                session, benchmark.approval_id, benchmark.project_id
            )
        except Forbidden as refused:  # decided before the data is read: shown with its reason
            row.status, row.error, row.finished_at = "refused", refused.message, utcnow()
            return row.status
        scope = analysis_runner.Scope(
            tuple(approval.datasets), tuple(approval.views), tuple(approval.elements)
        )
        keys = optout.all_keys(session)
        k = analysis_jobs.dataset_threshold(session, settings, benchmark.dataset)
        row.status, row.started_at = "running", utcnow()
        model, threshold, output = row.model, row.threshold, row.card.get("output", "")
    try:
        table = features.build(
            bench, warehouse=settings.warehouse_path, kind="real", scope=scope, optout_keys=keys
        )
        scores, network = score(bench, model, table, output)
        result = release_metrics(
            bench, table, scores, threshold=threshold, k=k, base=settings.rounding_base
        )
        result |= {
            "dataset": table.dataset,
            "version": table.version,
            "benchmark_digest": benchmark.digest,
            "network_isolation": network,
        }
        del scores, table
        status, error = "succeeded", ""
    except sandbox.RunFailed as failure:
        status, error, result = "failed", f"{failure.kind}: {failure.message}", None
    except Exception as failure:  # the worker never dies of one submission
        status, error, result = "failed", f"error: {type(failure).__name__}: {failure}", None
    with db.session() as session:
        row = get_submission(session, submission_id)
        row.status, row.error, row.metrics = status, error[:2000], result
        row.finished_at = utcnow()
        row.release_status = "pending"
        audit.record(
            session,
            actor="worker",
            action="submission.ran",
            object_type="submission",
            object_id=row.id,
            details={"benchmark": row.benchmark_id},
        )
    return status


STALL_GRACE = dt.timedelta(minutes=5)


def reap_stalled(db: Database, now: dt.datetime | None = None) -> int:
    """Submissions left `running` by a worker that stopped (past their time limit and a
    grace period) are failed runs on the real data: they go to the output checkers like any
    other, so the team sees `finished`, as for a run that failed there."""
    now = now or utcnow()
    count = 0
    with db.session() as session:
        for row in session.scalars(
            select(Submission).where(Submission.status == "running").with_for_update()
        ):
            limit = parsed(get_benchmark(session, row.benchmark_id)).limits.time_limit_seconds
            started = row.started_at or row.created_at
            if started + dt.timedelta(seconds=limit) + sandbox_grace() < now:
                row.status, row.error = "failed", "error: the worker stopped during the run"
                row.finished_at, row.release_status = now, "pending"
                count += 1
    return count


def sandbox_grace() -> dt.timedelta:
    return dt.timedelta(seconds=sandbox.STARTUP_GRACE) + STALL_GRACE


def work_once(db: Database, settings: Settings) -> str | None:
    """Run the oldest queued submission, if any; returns its id."""
    reap_stalled(db)
    with db.session() as session:
        found = session.scalar(
            select(Submission.id)
            .where(Submission.status == "queued")
            .order_by(Submission.created_at)
            .limit(1)
        )
    if found is None:
        return None
    run_submission(db, settings, found)
    return found


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
