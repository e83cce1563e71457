"""HTML pages of federation: the nodes, federated datasets and jobs; one federated job."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.federation import api, service
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render

router = APIRouter()


@page(router, "/federation", twin="/api/v1/federation")
def federation_page(
    request: Request, actor: Actor = allow("public.read"), session: Session = db_session
):
    return render(request, "federation/index.html", api.overview(session, actor))


@page(router, "/federated-jobs/{job_id}", twin="/api/v1/federated-jobs/{job_id}")
def job_page(
    request: Request,
    job_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    job = service.view(session, actor, service.get_job(session, job_id))
    return render(request, "federation/job.html", {"job": job})
