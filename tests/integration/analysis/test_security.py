"""No real-data row or aggregate reaches anyone without an approved, released path.

The real version holds a marker code its dummy twin lacks. A job grouped by that code waits
for output checks; then every GET route of the app (API and pages) is walked as an anonymous
visitor and as every role, and every POST route is hit with a body that asks for the marker.
Only output checkers (who must see outputs to check them) may see it before release; the
CLI refuses it too.
"""

import re

import pytest
from fastapi.routing import APIRoute
from typer.testing import CliRunner

from campus.analysis import cli as analysis_cli
from campus.analysis import jobs
from campus.auth.roles import Role
from tests.helpers import make_account
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve

ROLES = [None, *[r.value for r in Role]]
RELEASE_ROUTES = {"/api/v1/jobs/{job_id}/checks", "/jobs/{job_id}/checks"}
CHECKER_MAY_SEE = {"/api/v1/jobs/{job_id}", "/jobs/{job_id}"}


def _fill(path: str, ids: dict) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: ids.get(m.group(1), "unknown"), path)


def _routes(app, method) -> list[str]:
    """Full paths of every API route and page for `method`, routers included."""
    try:  # FastAPI >= 0.165 nests included routers; walk them with their prefixes
        from fastapi.routing import _iter_routes_with_context

        pairs = [
            (route, context.path if context is not None and context.path else route.path)
            for route, context in _iter_routes_with_context(app.routes)
        ]
    except ImportError:
        pairs = [(route, getattr(route, "path", "")) for route in app.routes]
    return sorted(
        {path for route, path in pairs if isinstance(route, APIRoute) and method in route.methods}
    )


@pytest.fixture
def pending_marker_job(client, db, settings, world):
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    response = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": warehouse.MARKER_ANALYSIS},
    )
    job_id = response.json()["id"]
    assert jobs.work_once(db, settings) == job_id
    client.delete("/api/v1/session")
    return {
        "project_id": world.project_id,
        "request_id": world.request_id,
        "approval_id": world.approval_id,
        "job_id": job_id,
    }


def _login_as(client, db, role):
    client.delete("/api/v1/session")
    if role is None:
        return
    email = f"walker-{role}@example.org"
    make_account(db, email, role)
    client.login(email)


def test_no_route_gives_real_data_to_anyone_without_approval_and_release(
    app, client, db, settings, world, pending_marker_job
):
    ids = pending_marker_job
    gets = _routes(app, "GET")
    posts = [p for p in _routes(app, "POST") if p not in RELEASE_ROUTES]
    walked = set(gets)
    assert (
        len(gets) > 40
        and {"/api/v1/jobs/{job_id}", "/jobs/{job_id}", "/register", "/api/v1/register"} <= walked
    )
    body = {
        "definition": warehouse.MARKER_ANALYSIS,
        "approval_id": ids["approval_id"],
        "decision": "approve",
        "comment": "walk",
        "status": "active",
        "reason": "walk",
    }
    for role in ROLES:
        _login_as(client, db, role)
        for path in posts:
            response = client.post(_fill(path, ids), json=body)
            assert warehouse.MARKER not in response.text, f"POST {path} as {role}"
        jobs.work_once(db, settings)  # whatever got queued runs: still nothing released
        for path in gets:
            url = _fill(path, ids)
            response = client.get(url)
            if role == Role.OUTPUT_CHECKER and path in CHECKER_MAY_SEE:
                continue  # checkers see pending outputs: that is their job
            assert warehouse.MARKER not in response.text, f"GET {url} as {role}"
    # The team member who wrote the job sees neither the outputs nor a download.
    client.delete("/api/v1/session")
    client.login("chercheuse@example.org")
    job = client.get(f"/api/v1/jobs/{ids['job_id']}").json()
    assert job["outputs"] is None and job["release_status"] == "pending"


def test_the_cli_gives_no_outputs_before_release(
    db, settings, world, pending_marker_job, client, monkeypatch
):
    runner = CliRunner()
    monkeypatch.setattr(analysis_cli, "database", lambda: db)  # not the process settings'
    status = runner.invoke(analysis_cli.job_app, ["status", pending_marker_job["job_id"]])
    assert status.exit_code == 0 and warehouse.MARKER not in status.output
    outputs = runner.invoke(analysis_cli.job_app, ["outputs", pending_marker_job["job_id"]])
    assert outputs.exit_code == 1 and warehouse.MARKER not in outputs.output
    listing = runner.invoke(analysis_cli.project_app, ["show", pending_marker_job["project_id"]])
    assert listing.exit_code == 0 and warehouse.MARKER not in listing.output
