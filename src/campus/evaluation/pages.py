"""HTML pages of evaluation: the benchmarks, each leaderboard, a submission's status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.evaluation import api, service
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render

router = APIRouter()


@page(router, "/benchmarks", twin="/api/v1/benchmarks")
def benchmarks_page(
    request: Request, actor: Actor = allow("public.read"), session: Session = db_session
):
    items = [service.benchmark_public(b) for b in service.list_benchmarks(session)]
    return render(request, "evaluation/benchmarks.html", {"benchmarks": items})


@page(router, "/benchmarks/{benchmark_id}", twin="/api/v1/benchmarks/{benchmark_id}")
def leaderboard_page(
    request: Request,
    benchmark_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    board = service.leaderboard(session, service.get_benchmark(session, benchmark_id))
    return render(request, "evaluation/leaderboard.html", board)


@page(router, "/submissions/{submission_id}", twin="/api/v1/submissions/{submission_id}")
def submission_page(
    request: Request,
    submission_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return render(
        request,
        "evaluation/submission.html",
        {"s": api.submission_view(session, actor, submission_id)},
    )
