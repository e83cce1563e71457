"""HTML pages: try an analysis on dummy data, submit jobs, follow them, check outputs."""

from __future__ import annotations

import json

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from campus.analysis import api, service, sources
from campus.auth.actor import Actor
from campus.errors import CampusError
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render

router = APIRouter()

EXAMPLE = """title: Patients by sex
dataset: hopital-synthea
views:
  patients: {library: patient_demographics}
cohort:
  view: patients
outputs:
  - {type: counts, name: by_sex, group_by: [gender]}
"""


def charts(result: dict | None) -> list[dict]:
    """Chart specs for analysis.js (bar charts of counts, lines of survival curves)."""
    if not result:
        return []
    specs = []
    for table in result.get("tables", []):
        columns, rows = table["columns"], table["rows"]
        if table["kind"] in ("counts", "histogram", "rate") and len(columns) >= 2:
            inner = [
                r
                for r in rows
                if "*" not in r[: len(columns) - (3 if table["kind"] == "rate" else 1)]
            ]
            if table["kind"] == "rate":
                specs.append(
                    {
                        "type": "bar",
                        "title": table["name"],
                        "labels": [str(r[0]) for r in inner],
                        "values": [r[-1] for r in inner],
                    }
                )
            elif len(columns) == 2:
                specs.append(
                    {
                        "type": "bar",
                        "title": table["name"],
                        "labels": [str(r[0]) for r in inner],
                        "values": [r[1] for r in inner],
                    }
                )
        elif table["kind"] == "time_to_event":
            groups: dict[str, list] = {}
            width = len(columns) - 4
            for r in rows:
                groups.setdefault(" ".join(str(v) for v in r[:width]) or "all", []).append(
                    {"x": r[width], "y": r[-1]}
                )
            specs.append({"type": "line", "title": table["name"], "series": groups})
    return specs


@page(router, "/analysis", no_twin="a form; its API twin is POST /api/v1/analyses/dummy")
def dummy_form(request: Request, actor: Actor = allow("dummy.use")):
    return render(
        request,
        "analysis/dummy.html",
        {"definition": EXAMPLE, "library": sources.library_names()},
    )


@router.post("/analysis", include_in_schema=False)
def dummy_run(
    request: Request,
    definition: str = Form(..., max_length=256 * 1024),
    actor: Actor = allow("dummy.use"),
    session: Session = db_session,
):
    context = {"definition": definition, "library": sources.library_names()}
    try:
        result = service.run_dummy(request.app.state.settings, definition, session)
    except CampusError as error:
        where = f" ({error.where})" if error.where else ""
        return render(
            request,
            "analysis/dummy.html",
            context | {"error": _(error.message) + where},
            status=error.status,
        )
    return render(
        request,
        "analysis/dummy.html",
        context | {"result": result, "charts_json": json.dumps(charts(result))},
    )


@router.post("/projects/{project_id}/jobs", include_in_schema=False)
def job_submit(
    request: Request,
    project_id: str,
    approval_id: str = Form(..., max_length=32),
    definition: str = Form(..., max_length=256 * 1024),
    actor: Actor = allow("jobs.run", scope=("project", "project_id")),
    session: Session = db_session,
):
    try:
        job = service.submit_job(
            session,
            request.app.state.settings,
            actor,
            project_id=project_id,
            approval_id=approval_id,
            text=definition,
        )
    except CampusError as error:
        session.rollback()
        from campus.governance.pages import _project_context

        context = _project_context(session, actor, project_id)
        where = f" ({error.where})" if error.where else ""
        return render(
            request,
            "governance/project.html",
            context | {"error": _(error.message) + where},
            status=error.status,
        )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _job_context(session: Session, actor: Actor, job_id: str) -> dict:
    data = api.api_job(job_id, actor=actor, session=session)
    job = service.get_job(session, job_id)
    may_check = (
        actor.has_role("output_checker")
        and actor.account_id != job.author_id
        and job.release_status == "pending"
        and not any(c["checker"] == actor.account_id for c in data.get("checks", []))
    )
    return {
        "j": data,
        "may_check": may_check,
        "charts_json": json.dumps(charts(data.get("outputs")))
        if job.release_status == "released"
        else "[]",
    }


@page(router, "/jobs/{job_id}", twin="/api/v1/jobs/{job_id}")
def job_page(
    request: Request,
    job_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return render(request, "analysis/job.html", _job_context(session, actor, job_id))


@router.post("/jobs/{job_id}/checks", include_in_schema=False)
def job_check(
    request: Request,
    job_id: str,
    decision: str = Form(...),
    comment: str = Form(..., max_length=5000),
    actor: Actor = allow("outputs.check"),
    session: Session = db_session,
):
    try:
        job = service.get_job(session, job_id)
        service.check_output(
            session, request.app.state.settings, actor, job, decision=decision, comment=comment
        )
    except CampusError as error:
        session.rollback()
        context = _job_context(session, actor, job_id) | {"error": _(error.message)}
        return render(request, "analysis/job.html", context, status=error.status)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@page(router, "/checks", twin="/api/v1/checks")
def checks_page(
    request: Request, actor: Actor = allow("outputs.check"), session: Session = db_session
):
    return render(request, "analysis/checks.html", {"jobs": service.jobs_to_check(session, actor)})
