"""JSON routes of analyses: dummy runs, jobs on real data, output checks and downloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.analysis import jobs, outward, service
from campus.analysis.models import Job
from campus.auth.actor import Actor
from campus.governance.config import governance_settings
from campus.web.deps import allow, db_session


@asynccontextmanager
async def in_process_worker(app) -> AsyncIterator[None]:
    """When settings say so (the demo), run the job worker as a thread of the app."""
    stop = None
    if governance_settings().in_process_worker:
        # The site gives the capabilities' idle tasks (campus.site.worker); none without it.
        on_idle = getattr(app.state, "idle_round", None)
        stop = jobs.start_in_process(app.state.db, app.state.settings, on_idle)
    try:
        yield
    finally:
        if stop is not None:
            stop.set()


router = APIRouter(tags=["analysis"], lifespan=in_process_worker)


class DefinitionIn(BaseModel):
    definition: dict[str, Any] | str = Field(
        description="The analysis, as a JSON object or as YAML/JSON text"
    )


class JobIn(DefinitionIn):
    approval_id: str = Field(max_length=32)


class CheckIn(BaseModel):
    decision: str = Field(description="approve or reject")
    comment: str = Field(max_length=5000)


def job_view(session: Session, actor: Actor, job: Job) -> dict[str, Any]:
    """A job as this actor may see it (see `campus.analysis.outward`)."""
    who = outward.audience(session, actor, job)
    if who == "public" and job.release_status != "released":
        service.require_follow(session, actor, job)
    return outward.view(
        session,
        job,
        who,
        logs=jobs.logs(session, job.id) if who == "checker" else [],
        checks=service.checks(session, job.id),
    )


def submit(request: Request, session: Session, actor: Actor, project_id: str, body: JobIn) -> Job:
    """A job queued from the API or the page's form (the same input model)."""
    return service.submit_job(
        session,
        request.app.state.settings,
        actor,
        project_id=project_id,
        approval_id=body.approval_id,
        text=body.definition,
    )


def check(request: Request, session: Session, actor: Actor, job_id: str, body: CheckIn) -> Job:
    """An output check recorded from the API or the page's form (the same input model)."""
    job = service.get_job(session, job_id)
    service.check_output(
        session,
        request.app.state.settings,
        actor,
        job,
        decision=body.decision,
        comment=body.comment,
    )
    return job


@router.post("/analyses/dummy", summary="Run an analysis at once on a dataset's dummy twin")
def api_run_dummy(
    body: DefinitionIn,
    request: Request,
    actor: Actor = allow("dummy.use"),
    session: Session = db_session,
):
    return service.run_dummy(request.app.state.settings, body.definition, session)


@router.post(
    "/projects/{project_id}/jobs",
    status_code=201,
    summary="Submit a job on real data within an approval",
)
def api_submit_job(
    project_id: str,
    body: JobIn,
    request: Request,
    actor: Actor = allow("jobs.run", scope=("project", "project_id")),
    session: Session = db_session,
):
    return job_view(session, actor, submit(request, session, actor, project_id, body))


@router.get("/jobs/{job_id}/outputs.json", summary="Download released outputs as JSON")
def api_outputs_json(
    job_id: str, actor: Actor = allow("public.read"), session: Session = db_session
):
    return service.released_result(service.get_job(session, job_id))


@router.get("/jobs/{job_id}/outputs.csv", summary="Download released outputs as CSV")
def api_outputs_csv(
    job_id: str, actor: Actor = allow("public.read"), session: Session = db_session
):
    result = service.released_result(service.get_job(session, job_id))
    return Response(
        service.to_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="job-{job_id}.csv"'},
    )


@router.post("/jobs/{job_id}/checks", summary="Approve or reject a job's outputs for release")
def api_check(
    job_id: str,
    body: CheckIn,
    request: Request,
    actor: Actor = allow("outputs.check"),
    session: Session = db_session,
):
    return job_view(session, actor, check(request, session, actor, job_id, body))
