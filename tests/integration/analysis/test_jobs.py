"""Analyses end to end: dummy runs, jobs in the durable queue, opt-out, scope, release."""

import datetime as dt

import pytest
from sqlalchemy import update

from campus.analysis import jobs
from campus.analysis.models import Job
from campus.db.base import utcnow
from campus.governance.models import Approval, DataProject
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve


def _as(client, email):
    client.delete("/api/v1/session")
    client.login(email)


def _submit(client, world, definition, approval_id=None):
    return client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": approval_id or world.approval_id, "definition": definition},
    )


def _count(result, table, key):
    rows = next(t for t in result["tables"] if t["name"] == table)["rows"]
    return next(r[-1] for r in rows if r[0] == key)


def test_anyone_with_dummy_use_runs_an_analysis_at_once_on_the_dummy_twin(client, world):
    client.login("outsider@example.org")
    response = client.post("/api/v1/analyses/dummy", json={"definition": warehouse.STROKE_ANALYSIS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "dummy" and body["cohort"] == 60
    assert warehouse.MARKER not in response.text


def test_a_job_runs_in_the_worker_and_is_released_after_two_output_checks(
    client, db, settings, world
):
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    submitted = _submit(client, world, warehouse.MARKER_ANALYSIS)
    assert submitted.status_code == 201, submitted.text
    job_id = submitted.json()["id"]
    assert submitted.json()["status"] == "queued"
    assert jobs.work_once(db, settings) == job_id
    assert jobs.work_once(db, settings) is None
    mine = client.get(f"/api/v1/jobs/{job_id}").json()
    assert mine["status"] == "finished" and mine["release_status"] == "pending"
    assert mine["outputs"] is None  # the author waits for the output checkers
    assert not any("opted-out" in line["message"] for line in mine["logs"])
    assert client.get(f"/api/v1/jobs/{job_id}/outputs.csv").status_code == 403
    own = client.post(f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "x"})
    assert own.status_code == 403
    _as(client, "checker1@example.org")
    seen = client.get(f"/api/v1/jobs/{job_id}").json()
    assert _count(seen["outputs"], "by_code", warehouse.MARKER) == 25  # 24 rounded to base 5
    client.post(f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "ok"})
    twice = client.post(
        f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "x"}
    )
    assert twice.status_code == 409
    _as(client, "checker2@example.org")
    released = client.post(
        f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "ok"}
    ).json()
    assert released["release_status"] == "released"
    client.delete("/api/v1/session")
    csv_text = client.get(f"/api/v1/jobs/{job_id}/outputs.csv").text
    assert csv_text.startswith("table,code,count") and warehouse.MARKER in csv_text
    assert client.get(f"/api/v1/jobs/{job_id}/outputs.json").json()["kind"] == "real"
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and "data-charts" in page.text


def test_staff_who_are_not_output_checkers_cannot_release_outputs(client, db, settings, world):
    """Separation of duties: staff hold every permission, yet only checkers check outputs."""
    from tests.helpers import make_account

    approve(db, settings, world)
    client.login("chercheuse@example.org")
    job_id = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]
    jobs.work_once(db, settings)
    make_account(db, "boss@example.org", "staff")
    _as(client, "boss@example.org")
    refused = client.post(
        f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "ok"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_output_checker"


def test_an_objection_removes_the_patient_from_jobs_on_existing_versions_at_once(
    client, db, settings, world
):
    settings.rounding_base = 1
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    first = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]
    jobs.work_once(db, settings)
    for i in range(5):  # five patients with the marker object after ingest
        response = client.post(
            "/api/v1/optout", json={"kind": "system", "value": warehouse.identifier(i)}
        )
        assert response.status_code == 201
    second = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]
    jobs.work_once(db, settings)
    with db.session() as session:
        before = session.get(Job, first).result
        after = session.get(Job, second).result
    assert _count(before, "by_code", warehouse.MARKER) == 24
    assert _count(after, "by_code", warehouse.MARKER) == 19


def test_a_job_outside_the_approval_scope_is_refused_even_if_queued(client, db, settings, world):
    approve(db, settings, world, views=["conditions"])
    client.login("chercheuse@example.org")
    refused = _submit(client, world, warehouse.STROKE_ANALYSIS)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_scope"
    other = dict(warehouse.MARKER_ANALYSIS, dataset="other-dataset")
    assert _submit(client, world, other).json()["error"]["code"] == "out_of_scope"
    # A definition changed behind the service's back is refused by the worker itself.
    allowed = dict(
        warehouse.MARKER_ANALYSIS,
        views={"conditions": {"library": "conditions"}},
    )
    job_id = _submit(client, world, allowed).json()["id"]
    with db.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(definition=other))
    jobs.work_once(db, settings)
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job.status == "failed" and "outside the approval's scope" in job.error
        assert job.result is None


def test_columns_outside_the_approved_elements_are_refused(client, db, settings, world):
    approve(db, settings, world, elements=["conditions.code", "conditions.onset", "patient_id"])
    client.login("chercheuse@example.org")
    assert _submit(client, world, warehouse.MARKER_ANALYSIS).status_code == 201
    with_sex = dict(
        warehouse.MARKER_ANALYSIS,
        outputs=[
            {"type": "counts", "name": "x", "group_by": ["code"]},
            {
                "type": "counts",
                "name": "y",
                "group_by": ["code"],
                "event": [{"view": "patients", "column": "gender", "value": "female"}],
            },
        ],
    )
    refused = _submit(client, world, with_sex)
    assert refused.status_code == 403 and "gender" in refused.json()["error"]["message"]


def test_expired_or_revoked_approvals_stop_working_at_once(client, db, settings, world):
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    queued = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]
    _as(client, "ethique1@example.org")
    client.post(
        f"/api/v1/approvals/{world.approval_id}/status",
        json={"status": "revoked", "reason": "breach"},
    )
    jobs.work_once(db, settings)
    with db.session() as session:
        job = session.get(Job, queued)
        assert job.status == "failed" and "revoked" in job.error and job.result is None
    world2 = approve(db, settings, world)
    with db.session() as session:
        session.execute(
            update(Approval)
            .where(Approval.id == world2.approval_id)
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    _as(client, "chercheuse@example.org")
    expired = _submit(client, world2, warehouse.MARKER_ANALYSIS)
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "approval_expired"


def test_a_crashed_worker_s_job_is_retried_then_failed_never_lost(client, db, settings, world):
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    job_id = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]
    with db.session() as session:  # a worker claims it, then dies
        assert jobs.claim(session, settings, "dead-worker", 60).id == job_id
    with db.session() as session:
        assert jobs.claim(session, settings, "other", 60) is None  # the lease still holds
        session.execute(
            update(Job).where(Job.id == job_id).values(lease_until=utcnow() - dt.timedelta(1))
        )
    assert jobs.work_once(db, settings, "survivor") == job_id
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job.status == "succeeded" and job.attempts == 2
    second = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]
    with db.session() as session:
        session.execute(
            update(Job)
            .where(Job.id == second)
            .values(
                status="running",
                attempts=3,
                max_attempts=3,
                lease_until=utcnow() - dt.timedelta(1),
            )
        )
    assert jobs.work_once(db, settings) is None
    with db.session() as session:
        job = session.get(Job, second)
        assert job.status == "failed" and "stopped responding" in job.error


def test_the_privacy_budget_is_charged_and_a_job_is_refused_once_it_is_spent(
    client, db, settings, world
):
    approve(db, settings, world)
    with db.session() as session:
        session.execute(
            update(DataProject).where(DataProject.id == world.project_id).values(privacy_budget=1.0)
        )
    noisy = warehouse.DP_ANALYSIS
    client.login("chercheuse@example.org")
    assert _submit(client, world, noisy).status_code == 201
    jobs.work_once(db, settings)
    project = client.get(f"/api/v1/projects/{world.project_id}").json()
    assert project["privacy_budget"]["spent"] == pytest.approx(0.6)
    refused = _submit(client, world, noisy)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "privacy_budget_spent"


@pytest.mark.parametrize(
    "definition, code, where",
    [
        ("title: [unclosed", "definition_malformed", "line 1"),
        (
            dict(
                warehouse.MARKER_ANALYSIS,
                outputs=[{"type": "counts", "name": "x", "group_by": ["nope"]}],
            ),
            "unknown_column",
            "outputs[0].group_by[0]",
        ),
        (
            dict(
                warehouse.MARKER_ANALYSIS,
                outputs=[{"type": "counts", "name": "x", "group_by": ["patient_id"]}],
            ),
            "row_level_output",
            "outputs[0].group_by[0]",
        ),
    ],
)
def test_bad_definitions_are_refused_with_why_and_where(
    client, db, settings, world, definition, code, where
):
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    response = _submit(client, world, definition)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["where"].startswith(where)


def test_a_cohort_of_zero_finishes_like_any_job_with_its_tables_withheld(
    client, db, settings, world
):
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    empty = dict(
        warehouse.MARKER_ANALYSIS,
        cohort={"view": "conditions", "include": [{"column": "code", "value": "none"}]},
    )
    job_id = _submit(client, world, empty).json()["id"]
    jobs.work_once(db, settings)
    job = client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "finished" and job["error"] == "" and job["outputs"] is None
    _as(client, "checker1@example.org")
    checked = client.get(f"/api/v1/jobs/{job_id}").json()
    assert checked["status"] == "succeeded" and checked["outputs"]["cohort"] is None
    assert all(t["rows"] == [] for t in checked["outputs"]["tables"])


def test_a_job_crashing_on_its_last_attempt_ends_and_goes_to_the_checkers(
    client, db, settings, world, monkeypatch
):
    """It used to stay "running" for ever (`_fail` called with the wrong arguments)."""
    from campus.analysis import runner

    approve(db, settings, world)
    client.login("chercheuse@example.org")
    job_id = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]

    def crash(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(runner, "execute", crash)
    for _ in range(3):
        jobs.work_once(db, settings)
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job.attempts == 3 and job.status == "failed" and job.lease_until is None
        assert job.release_status == "pending" and "OSError" in job.error
    seen = client.get(f"/api/v1/jobs/{job_id}").json()
    assert seen["status"] == "finished" and "OSError" not in str(seen)
    assert jobs.work_once(db, settings) is None


def test_the_demo_worker_runs_inside_the_app_when_settings_say_so(
    app, db, settings, world, monkeypatch
):
    import time

    from campus.analysis import api as analysis_api
    from campus.governance.config import GovernanceSettings
    from tests.helpers import CampusClient

    approve(db, settings, world)
    monkeypatch.setattr(
        analysis_api,
        "governance_settings",
        lambda: GovernanceSettings(in_process_worker=True, worker_poll_seconds=0.1),
    )
    with CampusClient(app) as client:
        client.login("chercheuse@example.org")
        job_id = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "finished":
                break
            time.sleep(0.2)
        assert client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "finished"


def test_campus_worker_once_runs_the_waiting_job(client, db, settings, world, monkeypatch):
    from typer.testing import CliRunner

    from campus import cli
    from campus.analysis import cli as analysis_cli
    from campus.site import worker as site_worker

    approve(db, settings, world)
    client.login("chercheuse@example.org")
    job_id = _submit(client, world, warehouse.MARKER_ANALYSIS).json()["id"]
    monkeypatch.setattr(site_worker, "database", lambda: db)
    monkeypatch.setattr(analysis_cli, "database", lambda: db)
    monkeypatch.setattr(site_worker, "get_settings", lambda: settings)
    ran = CliRunner().invoke(cli.app, ["worker", "--once"])
    assert ran.exit_code == 0 and job_id in ran.output
    idle = CliRunner().invoke(cli.app, ["worker", "--once"])
    assert "no job waiting" in idle.output
    status = CliRunner().invoke(cli.app, ["job", "status", job_id])
    assert "succeeded" in status.output
