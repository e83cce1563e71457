"""Submissions: a model and its card checked before anything runs, its run on the dummy twin
and on the real data (here or at a federated dataset's nodes), output checks and release."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.analysis import jobs as analysis_jobs
from campus.analysis import runner as analysis_runner
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.evaluation import definition, features, metrics, modelcheck, sandbox
from campus.evaluation.benchmarks import (
    CARD_FIELDS,
    DUMMY_RUNS,
    SUPPRESSED,
    get_benchmark,
    parsed,
    pinned,
)
from campus.evaluation.models import Benchmark, Submission
from campus.governance import service as governance
from campus.i18n import N_
from campus.optout import service as optout
from campus.settings import Settings

# --- submissions ------------------------------------------------------------------------------


def card_of(card: dict[str, Any]) -> dict[str, str]:
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
    clean_card = card_of(card)
    checked = modelcheck.check(
        model,
        features=len(bench.features),
        max_bytes=bench.limits.max_model_bytes,
        max_nodes=bench.limits.max_nodes,
        output=output or None,
    )
    dummy = features.build(
        pinned(bench, benchmark), warehouse=settings.warehouse_path, kind="dummy"
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
        bench = pinned(parsed(benchmark), benchmark)
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
