"""JSON routes of evaluation: benchmarks, the dummy feature table, submissions, checks."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.errors import BadRequest
from campus.evaluation import service
from campus.evaluation.definition import MAX_MODEL_BYTES
from campus.settings import Settings
from campus.web.deps import allow, db_session

router = APIRouter(tags=["evaluation"])


class BenchmarkIn(BaseModel):
    approval_id: str = Field(max_length=32)
    definition: dict[str, Any] | str = Field(description="The benchmark, as JSON or YAML text")


class SubmissionIn(BaseModel):
    model_base64: str = Field(
        max_length=(MAX_MODEL_BYTES * 4) // 3 + 8, description="The ONNX file, base64"
    )
    family: str = Field(max_length=80, description="The model family the cap counts against")
    threshold: float = Field(description="The submitter's decision threshold, in (0, 1)")
    output: str | None = Field(default=None, max_length=200, description="Score output name")
    card: dict[str, str] = Field(description=f"Model card: {', '.join(service.CARD_FIELDS)}")
    federated: str | None = Field(
        default=None,
        max_length=64,
        description="A federated dataset the benchmark's approval names: evaluate at its nodes",
    )
    deadline_minutes: int | None = Field(
        default=None, description="Federated: pool the nodes that answered by then"
    )
    min_nodes: int | None = Field(
        default=None, description="Federated, with a deadline: the fewest nodes to pool"
    )


class CheckIn(BaseModel):
    decision: str = Field(description="approve or reject")
    comment: str = Field(max_length=5000)


@router.post(
    "/projects/{project_id}/benchmarks",
    status_code=201,
    summary="Define a benchmark within an approval of the project",
)
def api_create_benchmark(
    project_id: str,
    body: BenchmarkIn,
    request: Request,
    actor: Actor = allow("benchmarks.define", scope=("project", "project_id")),
    session: Session = db_session,
):
    row = service.create_benchmark(
        session,
        request.app.state.settings,
        actor,
        project_id=project_id,
        approval_id=body.approval_id,
        text=body.definition,
    )
    return service.benchmark_public(row)


@router.get(
    "/benchmarks/{benchmark_id}/dummy-features.csv",
    summary="The dummy twin's feature table (synthetic records), to build against the schema",
)
def api_dummy_features(
    benchmark_id: str,
    request: Request,
    actor: Actor = allow("dummy.use"),
    session: Session = db_session,
):
    row = service.get_benchmark(session, benchmark_id)
    return Response(
        service.dummy_feature_table(request.app.state.settings, row),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{benchmark_id}-dummy.csv"'},
    )


@router.post(
    "/benchmarks/{benchmark_id}/submissions",
    status_code=201,
    summary="Submit an ONNX model: checked, scored on the dummy twin, queued for the real data",
)
def api_submit(
    benchmark_id: str,
    body: SubmissionIn,
    request: Request,
    actor: Actor = allow("models.submit"),
    session: Session = db_session,
):
    try:
        model = base64.b64decode(body.model_base64, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("model_base64 is not valid base64", where="model_base64") from None
    row = service.submit(
        session,
        request.app.state.settings,
        actor,
        service.get_benchmark(session, benchmark_id),
        model=model,
        card=body.card,
        family=body.family,
        threshold=body.threshold,
        output=body.output,
        federated=body.federated,
        deadline_minutes=body.deadline_minutes,
        min_nodes=body.min_nodes,
    )
    return service.view(session, row, "submitter")


def submission_view(
    session: Session, actor: Actor, submission_id: str, settings: Settings
) -> dict[str, Any]:
    """A submission as this actor may see it; a federated one past its deadline is closed
    first (as a federated job is whenever it is read)."""
    row = service.sweep_federated(session, settings, service.get_submission(session, submission_id))
    who = service.audience(session, actor, row, service.get_benchmark(session, row.benchmark_id))
    service.require_follow(session, actor, row, who)
    return service.view(session, row, who)


# GET /benchmarks/{benchmark_id} and GET /submissions/{submission_id} are mounted with their
# pages by campus.evaluation.pages (twins: one data function, two renderings).


@router.post("/submissions/{submission_id}/checks", summary="Approve or reject its metrics")
def api_check(
    submission_id: str,
    body: CheckIn,
    actor: Actor = allow("outputs.check"),
    session: Session = db_session,
):
    row = service.check_output(
        session,
        actor,
        service.get_submission(session, submission_id),
        decision=body.decision,
        comment=body.comment,
    )
    return service.view(session, row, "checker")


@router.post(
    "/submissions/{submission_id}/steward",
    summary="The dataset's data steward signs off (or rejects) a submission's metrics",
)
def api_steward(
    submission_id: str,
    body: CheckIn,
    actor: Actor = allow("models.steward"),
    session: Session = db_session,
):
    row = service.check_output(
        session,
        actor,
        service.get_submission(session, submission_id),
        decision=body.decision,
        comment=body.comment,
        as_steward=True,
    )
    return service.view(session, row, "submitter")
