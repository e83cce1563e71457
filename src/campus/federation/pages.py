"""The federation overview (nodes, federated datasets, jobs) and one federated job: pages
and their JSON twins, each page rendering what its twin's data function returns."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.federation import api
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()


@twin(
    api.router,
    router,
    "/federation",
    template="federation/index.html",
    summary="Nodes, federated datasets and the federated jobs you follow",
)
def federation(
    actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return api.overview(session, actor)


@page(router, "/federated-jobs/{job_id}", twin="/api/v1/federated-jobs/{job_id}")
def federated_job_page(
    request: Request,
    job_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    data = api.job(job_id, actor, session)
    return render(request, "federation/job.html", {"data": data})
