"""The benchmarks, each leaderboard and a submission's status: pages and their JSON twins,
each page rendering what its twin's data function returns."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.evaluation import api, service
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()


@twin(
    api.router,
    router,
    "/benchmarks",
    template="evaluation/benchmarks.html",
    summary="Every benchmark (definitions are public)",
)
def benchmarks(
    actor: Actor = allow("public.read"), session: Session = db_session
) -> list[dict[str, Any]]:
    return [service.benchmark_public(b) for b in service.list_benchmarks(session)]


@page(router, "/benchmarks/{benchmark_id}", twin="/api/v1/benchmarks/{benchmark_id}")
def leaderboard_page(
    request: Request,
    benchmark_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    data = api.leaderboard(benchmark_id, actor, session)
    return render(request, "evaluation/leaderboard.html", {"data": data})


@page(router, "/submissions/{submission_id}", twin="/api/v1/submissions/{submission_id}")
def submission_page(
    request: Request,
    submission_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    data = api.submission(submission_id, actor, session)
    return render(request, "evaluation/submission.html", {"data": data})
