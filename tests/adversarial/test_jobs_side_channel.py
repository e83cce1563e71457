"""A job's status, log and register entries are no oracle on the real data.

The attack (finding 1): an approved researcher singles out one patient (birth month + sex)
and asks, in two jobs differing only in a condition code, whether that patient has each
condition. Before the fix one job succeeded and the other failed with "the cohort is
empty", and the public register showed both. Now both jobs, and a third one whose run fails
on the data, must leave byte-identical team views (API and page), project page, public
register (JSON, HTML) and Atom feed, once job ids are set aside.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, update

from campus.analysis import jobs, runner
from campus.analysis.models import Job, JobLog, OutputCheck
from campus.errors import BadRequest
from tests.helpers import CampusClient
from tests.integration.analysis import setup, warehouse
from tests.integration.analysis.setup import approve

world = setup.world  # the analysis tests' fixture: people, library, a dataset version

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

HAS_IT = warehouse.MARKER  # the singled-out patient rp001 has this code in the real data
LACKS_IT = "44054006"  # ...and not this one (only every third patient has it)
CREATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def probe(code: str) -> dict:
    """A cohort of the female patients born in February 1941 (rp001 alone) with `code`."""
    return {
        "title": "Probe",
        "dataset": warehouse.DATASET,
        "views": {
            "patients": {"library": "patient_demographics"},
            "conditions": {"library": "conditions"},
        },
        "cohort": {
            "view": "patients",
            "include": [
                {"column": "birth_date", "value": "1941-02"},
                {"column": "gender", "value": "female"},
                {"view": "conditions", "column": "code", "value": code},
            ],
        },
        "outputs": [{"type": "counts", "name": "by_sex", "group_by": ["gender"]}],
    }


def _as(client, email: str | None) -> None:
    client.delete("/api/v1/session")
    if email:
        client.login(email)


def _views(
    client, anonymous, db, settings, world, code, *, crash=False, checkers=()
) -> dict[str, str]:
    """Run one probe job (released by `checkers` when given) and capture everything the
    team and the public can read."""
    submitted = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": probe(code)},
    )
    assert submitted.status_code == 201, submitted.text
    job_id = submitted.json()["id"]
    with db.session() as session:  # the same submission time for both (not data)
        session.execute(update(Job).where(Job.id == job_id).values(created_at=CREATED))
    if crash:
        real = runner.execute

        def failing(*args, **kwargs):
            real(*args, **kwargs)
            raise BadRequest(f"a value of patient rp001 broke the run ({code})")

        runner.execute, saved = failing, real
        try:
            assert jobs.work_once(db, settings) == job_id
        finally:
            runner.execute = saved
    else:
        assert jobs.work_once(db, settings) == job_id
    pages = {
        "team api": f"/api/v1/jobs/{job_id}",
        "team page": f"/jobs/{job_id}",
        "project page": f"/projects/{world.project_id}",
        "project api": f"/api/v1/projects/{world.project_id}",
    }
    public = {
        "register api": f"/api/v1/register/{world.project_id}",
        "register page": f"/register/{world.project_id}",
        "register list": "/api/v1/register",
        "atom": "/register/feed.atom",
        "anonymous job api": f"/api/v1/jobs/{job_id}",
    }
    for checker in checkers:
        answer = checker.post(
            f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "ok"}
        )
        assert answer.status_code == 200, answer.text
    if checkers:
        with db.session() as session:  # the checkers' time, the same for both (not data)
            session.execute(update(Job).where(Job.id == job_id).values(released_at=CREATED))
        public |= {
            "outputs json": f"/api/v1/jobs/{job_id}/outputs.json",
            "outputs csv": f"/api/v1/jobs/{job_id}/outputs.csv",
            "anonymous job page": f"/jobs/{job_id}",
        }
    seen = {name: client.get(path).text for name, path in pages.items()}
    seen |= {name: anonymous.get(path).text for name, path in public.items()}
    with db.session() as session:  # the next probe stands alone in the register
        session.execute(delete(OutputCheck).where(OutputCheck.job_id == job_id))
        session.execute(delete(JobLog).where(JobLog.job_id == job_id))
        session.execute(delete(Job).where(Job.id == job_id))
    return {name: text.replace(job_id, "JOB").replace(code, "CODE") for name, text in seen.items()}


def test_probing_an_existing_and_an_absent_condition_leaves_identical_views(
    app, client, db, settings, world
):
    settings.rounding_base = 1
    approve(db, settings, world)
    client.login("chercheuse@example.org")  # one session: the same CSRF token in every page
    with CampusClient(app) as anonymous:
        present = _views(client, anonymous, db, settings, world, HAS_IT)
        absent = _views(client, anonymous, db, settings, world, LACKS_IT)
        broken = _views(client, anonymous, db, settings, world, LACKS_IT, crash=True)
        checkers = [CampusClient(app), CampusClient(app)]
        for checker, email in zip(checkers, ("checker1@example.org", "checker2@example.org")):
            checker.login(email)
        present_released = _views(client, anonymous, db, settings, world, HAS_IT, checkers=checkers)
        absent_released = _views(
            client, anonymous, db, settings, world, LACKS_IT, checkers=checkers
        )
    for name in present:
        assert present[name] == absent[name], f"{name} tells the two probes apart"
        assert present[name] == broken[name], f"{name} tells a failed run apart"
    for name in present_released:  # released: the outputs are withheld alike
        assert present_released[name] == absent_released[name], f"released {name} differs"
    assert "release-JOB" in present_released["atom"]
    assert "finished" in present["team api"]
    assert "rp001" not in broken["team api"] + broken["team page"]


def test_output_checkers_do_see_what_happened_on_the_data(client, db, settings, world):
    """The outcome is not lost: those who must check it see it (and the tables are withheld)."""
    approve(db, settings, world)
    _as(client, "chercheuse@example.org")
    job_id = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": probe(HAS_IT)},
    ).json()["id"]
    jobs.work_once(db, settings)
    _as(client, "checker1@example.org")
    seen = client.get(f"/api/v1/jobs/{job_id}").json()
    assert seen["status"] == "succeeded" and seen["outputs"]["cohort"] is None
    assert seen["outputs"]["tables"][0]["rows"] == []
    assert any("disclosure control" in line["message"] for line in seen["logs"])
