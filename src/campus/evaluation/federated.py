"""Federated evaluation: a submission scored at each node of a federated dataset, pooled from
each node's binned counts (docs/evaluation.md, "Federated evaluation").

A kind of federated task (`campus.federation.kinds`), composed by the site: the centre signs,
for each node, the benchmark's definition (with the node's dataset), its digest, the model's
bytes and SHA-256, the submitter's threshold and the centre's k. The node checks the model
itself (the same checks as the centre's), builds the benchmark's feature table on its own
data (its approval scope, its opt-outs), scores it in its own limited runner, and answers
with `pooling.node_part` only: its histogram merged to k (the larger of its own threshold and
the centre's), or `{"withheld": true}` when its cohort holds fewer than k people (the flag
says nothing of the count). The centre checks each part, pools them once every node has
answered (or at the deadline under the approval's consent), computes the metrics from the
pooled bins, and the submission waits for the data steward and two output checkers as a
one-site evaluation does.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.analysis import jobs as analysis_jobs
from campus.analysis import runner as analysis_runner
from campus.db.base import utcnow
from campus.errors import BadRequest
from campus.evaluation import definition, features, metrics, modelcheck, pooling, sandbox, service
from campus.evaluation.models import Benchmark, Submission
from campus.federation import kinds
from campus.federation import service as federation
from campus.federation.models import FederatedJob
from campus.optout import service as optout
from campus.settings import Settings

NAME = "evaluation"
WITHHELD = {"withheld": True}
FAILED_AT_NODE = "a node's run failed on its data (the reason stays at the node)"


def centre_k(session: Session, settings: Settings, benchmark: Benchmark) -> int:
    """The centre's disclosure threshold for the benchmark (every node merges to at least it)."""
    return analysis_jobs.dataset_threshold(session, settings, benchmark.dataset)


def request(
    session: Session,
    settings: Settings,
    actor: Any,
    benchmark: Benchmark,
    row: Submission,
    *,
    dataset: str,
    deadline_minutes: int | None = None,
    min_nodes: int | None = None,
) -> FederatedJob:
    """Sign the submission's task for every node of the federated dataset, within the
    benchmark's approval (which must name that federated dataset)."""
    job = federation.submit_kind_job(
        session,
        settings,
        actor,
        kind=NAME,
        project_id=benchmark.project_id,
        approval_id=benchmark.approval_id,
        dataset=dataset,
        title=benchmark.title,
        definition=dict(benchmark.definition),
        payload={
            "benchmark": benchmark.id,
            "benchmark_digest": benchmark.digest,
            "model": base64.b64encode(row.model).decode(),
            "model_digest": row.model_digest,
            "threshold": row.threshold,
            "output": row.card.get("output", ""),
            "k": centre_k(session, settings, benchmark),
        },
        deadline_minutes=deadline_minutes,
        min_nodes=min_nodes,
    )
    row.status, row.federated_dataset, row.federated_job_id = "at_nodes", dataset, job.id
    return job


# --- at the node -------------------------------------------------------------------------------


def run_at_node(node: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The node's answer: its bins merged to k, or the withheld flag (no count)."""
    bench = definition.BenchmarkDefinition.model_validate(payload["definition"])
    model = base64.b64decode(str(payload.get("model", "")), validate=True)
    if hashlib.sha256(model).hexdigest() != payload.get("model_digest"):
        raise ValueError("the model's bytes do not match its digest")
    checked = modelcheck.check(  # the node checks the model itself, before any data is read
        model,
        features=len(bench.features),
        max_bytes=bench.limits.max_model_bytes,
        max_nodes=bench.limits.max_nodes,
        output=payload.get("output") or None,
    )
    scope = payload["scope"]
    with node.db.session() as session:
        keys = optout.all_keys(session)
        k = max(
            int(payload.get("k") or 0),
            analysis_jobs.dataset_threshold(session, node.settings, node.dataset),
        )
    table = features.build(
        bench,
        warehouse=node.settings.warehouse_path,
        kind="real",
        scope=analysis_runner.Scope(
            tuple(scope["datasets"]),
            tuple(scope.get("views", [])),
            tuple(scope.get("elements", [])),
        ),
        optout_keys=keys,
    )
    if len(table.labels) < k:
        return dict(WITHHELD)  # the model is not even run: nothing depends on it
    try:  # the same limited runner as a one-site evaluation
        scores, _network = service.score(bench, model, table, checked.output_name)
    except sandbox.RunFailed as failure:  # said in the node's log only, as any failure
        raise ValueError(f"{failure.kind}: {failure.message}") from None
    return pooling.node_part(
        scores, table.labels, bins=bench.bins, threshold=float(payload["threshold"]), k=k
    )


# --- at the centre -----------------------------------------------------------------------------


def _submission(session: Session, job: Any) -> tuple[Submission, Benchmark]:
    row = session.scalar(select(Submission).where(Submission.federated_job_id == job.id))
    if row is None:
        raise BadRequest(f"no submission for federated job {job.id}", where="job")
    benchmark = session.get(Benchmark, row.benchmark_id)
    assert benchmark is not None
    return row, benchmark


def check_answer(task: Any, body: Any) -> dict[str, Any]:
    """A node's part at the task's resolution with no bin under the centre's k, or the
    withheld flag; anything else is refused whole (400, nothing kept)."""
    if body == WITHHELD:
        return dict(WITHHELD)
    payload = task.payload
    bins = definition.BenchmarkDefinition.model_validate(payload["definition"]).bins
    pooling.checked(body, 0, bins=bins, threshold=float(payload["threshold"]), k=payload["k"])
    return {field: body[field] for field in pooling.FIELDS}


def pool(
    session: Session, settings: Settings, job: Any, answers: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """The metrics from the pooled bins, stated as pooled (how many nodes, at which
    resolution); withheld when a node withheld and the approval did not let the job complete
    without every node."""
    row, benchmark = _submission(session, job)
    bench = service.parsed(benchmark)
    # The k the tasks were signed with, which every answer was checked against.
    k = int(federation.tasks(session, job)[0][0].payload["k"])
    withheld = sorted(name for name, answer in answers if answer == WITHHELD)
    parts = [(name, answer) for name, answer in answers if answer != WITHHELD]
    allowed = job.min_nodes is not None and len(parts) >= job.min_nodes
    if not parts or (withheld and not allowed):
        return {"withheld": True, "withheld_at": withheld}
    bins, _common = pooling.pool(
        [answer for _name, answer in parts], bins=bench.bins, threshold=row.threshold, k=k
    )
    result = metrics.evaluate(bins, base=settings.rounding_base)
    tie_bound = pooling.auroc_tie_bound(bins)
    return result | {
        "threshold": row.threshold,
        "subgroups": {},
        "dataset": job.dataset,
        "version": "",
        "benchmark_digest": benchmark.digest,
        "network_isolation": "each node's runner",
        "pooled": {
            "nodes": len(parts),
            "withheld_at": withheld,
            "bins": len(bins.n),
            "benchmark_bins": pooling.fine_bins(bench.bins, row.threshold),
            "auroc_tie_bound": None if tie_bound is None else round(tie_bound, 4),
        },
    }


def finished(session: Session, job: Any) -> None:
    """The submission follows its federated job: metrics (or a failure) for the checkers, or
    a refusal decided before the data was read, shown with its reason."""
    row, _benchmark = _submission(session, job)
    if row.status != "at_nodes":
        return
    row.finished_at = utcnow()
    if job.status in ("refused", "missed_deadline"):
        reasons = [
            f"{n['node']}: {n['reason']}"
            for n in federation.node_states(session, job, checker=False)
            if n["status"] == "refused"
        ]
        row.status = "refused"
        row.error = (
            "; ".join(reasons)
            if job.status == "refused"
            else "the nodes did not all answer by the deadline"
        )[:2000]
        return
    row.release_status = "pending"
    result = job.result or {}
    if job.status == "failed":
        row.status, row.error, row.metrics = "failed", FAILED_AT_NODE, None
    elif result.get("withheld"):
        at = ", ".join(result.get("withheld_at") or [])
        row.status, row.metrics = "failed", None
        row.error = f"withheld: fewer than k people in the cohort at {at or 'every node'}"
    else:
        row.status, row.error = "succeeded", ""
        row.metrics = {key: value for key, value in result.items() if key != "epsilon"}


KIND = kinds.TaskKind(
    name=NAME, run=run_at_node, check_answer=check_answer, pool=pool, finished=finished
)
