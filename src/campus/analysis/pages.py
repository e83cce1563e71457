"""HTML pages: try an analysis on dummy data, submit jobs, follow them, check outputs.

The job page and the checks list are twins (`campus.web.twins.twin`): their data is what
`campus.analysis.outward` gives the reader, the same as the JSON. The page adds only how to
read it: translated labels and disclosure notes, French dates, and charts where a suppressed
cell is drawn as "supprimé", never as a zero bar.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from campus.analysis import api, outward, service, sources
from campus.analysis.reading import charts, reading_aids, when
from campus.auth.actor import Actor
from campus.governance import service as governance
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

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

# Statuses while a worker may still change them: the page polls its status block then.
LIVE = ("queued", "running")
POLL_SECONDS = 3


@page(router, "/analysis", no_twin="a form; its API twin is POST /api/v1/analyses/dummy")
def dummy_form(request: Request, actor: Actor = allow("dummy.use")):
    return render(request, "analysis/dummy.html", _dummy_page(EXAMPLE))


def _dummy_page(definition: str) -> dict[str, Any]:
    return {"definition": definition, "library": sources.library_names(), **reading_aids()}


@form_route(
    router,
    "/analysis",
    model=api.DefinitionIn,
    template="analysis/dummy.html",
    context=lambda values: _dummy_page(values.get("definition", "")),
)
def dummy_run(
    request: Request,
    body: api.DefinitionIn,
    actor: Actor = allow("dummy.use"),
    session: Session = db_session,
) -> Response:
    """Run on the dummy twin and show the results under the form (no redirect: nothing is
    stored); a refusal is shown by form_route with its path."""
    result = service.run_dummy(request.app.state.settings, body.definition, session)
    shown = _dummy_page(str(body.definition)) | {
        "result": result,
        "charts_json": json.dumps(charts(result)),
    }
    return render(request, "analysis/dummy.html", shown)


def _submission(session: Session, project_id: str, values: dict | None = None) -> dict:
    """The job form again: the project's usable approvals and what was typed."""
    approvals = [
        a
        for a in governance.project_approvals(session, project_id)
        if governance.approval_state(a) == "active"
    ]
    return {"project_id": project_id, "approvals": approvals, "values": values or {}}


@form_route(
    router,
    "/projects/{project_id}/jobs",
    model=api.JobIn,
    template="analysis/job_new.html",
    context=lambda session, project_id, values: _submission(session, project_id, values),
)
def job_submit(
    request: Request,
    project_id: str,
    body: api.JobIn,
    actor: Actor = allow("jobs.run", scope=("project", "project_id")),
    session: Session = db_session,
) -> str:
    job = api.submit(request, session, actor, project_id, body)
    return f"/jobs/{job.id}"


def _job_extras(actor: Actor, data: dict) -> dict[str, Any]:
    """Page-only extras of a job: may the reader check it, its charts, the polling."""
    released = data["release_status"] == "released"
    may_check = (
        actor.has_role("output_checker")
        and actor.account_id != data.get("author")
        and data["release_status"] == "pending"
        and not any(c["checker"] == actor.account_id for c in data.get("checks", []))
    )
    return {
        "j": data,
        "may_check": may_check,
        "live": data["status"] in LIVE,
        "poll_seconds": POLL_SECONDS,
        "charts_json": json.dumps(charts(data.get("outputs")) if released else []),
        **reading_aids(),
    }


@twin(
    api.router,
    router,
    "/jobs/{job_id}",
    template="analysis/job.html",
    summary="A job: definition, status, logs, checks (and outputs)",
    context=lambda actor, data: _job_extras(actor, data),
)
def job(
    job_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return api.job_view(session, actor, service.get_job(session, job_id))


def _job_page(session: Session, actor: Actor, job_id: str) -> dict[str, Any]:
    """The job page's whole context (to show it again with a refused check's error)."""
    data = job(job_id, actor=actor, session=session)
    return {"data": data, **_job_extras(actor, data)}


@form_route(
    router,
    "/jobs/{job_id}/checks",
    model=api.CheckIn,
    template="analysis/job.html",
    context=lambda session, actor, job_id: _job_page(session, actor, job_id),
)
def job_check(
    request: Request,
    job_id: str,
    body: api.CheckIn,
    actor: Actor = allow("outputs.check"),
    session: Session = db_session,
) -> str:
    api.check(request, session, actor, job_id, body)
    return f"/jobs/{job_id}"


@twin(
    api.router,
    router,
    "/checks",
    template="analysis/checks.html",
    summary="Job outputs waiting for one's output check",
    context=lambda: {"when": when},
)
def checks(actor: Actor = allow("outputs.check"), session: Session = db_session) -> dict:
    return {
        "jobs": [
            outward.public(j) | {"project_id": j.project_id}
            for j in service.jobs_to_check(session, actor)
        ]
    }
