"""A job's log does not tell whether an objection matched someone in the data (finding 3).

The attack: file an objection for a chosen identifier on the public form, run the same job
before and after, and read the log: "1 opted-out patient left out" meant that person is in
the data. Now the team's view and even the output checkers' stored log are the same before
and after (only the checked outputs may differ, and they wait for two output checkers).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from campus.analysis import jobs
from campus.analysis.models import Job
from tests.helpers import CampusClient
from tests.integration.analysis import setup, warehouse
from tests.integration.analysis.setup import approve

world = setup.world  # the analysis tests' fixture: people, library, a dataset version

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

CREATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _run(client, db, settings, world) -> str:
    job_id = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": warehouse.MARKER_ANALYSIS},
    ).json()["id"]
    with db.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(created_at=CREATED))
    assert jobs.work_once(db, settings) == job_id
    return job_id


def _seen(client, job_id: str) -> dict[str, str]:
    return {
        "api": client.get(f"/api/v1/jobs/{job_id}").text.replace(job_id, "JOB"),
        "page": client.get(f"/jobs/{job_id}").text.replace(job_id, "JOB"),
    }


def _checker_log(db, job_id: str) -> list[str]:
    with db.session() as session:
        return [f"{line.level} {line.message}" for line in jobs.logs(session, job_id)]


def test_an_objection_for_a_chosen_identifier_changes_no_log(app, client, db, settings, world):
    settings.rounding_base = 1  # so that the outputs do show the objection's effect
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    before = _run(client, db, settings, world)
    with CampusClient(app) as anonymous:  # anyone may object, without signing in
        filed = anonymous.post(
            "/api/v1/optout", json={"kind": "system", "value": warehouse.identifier(1)}
        )
        assert filed.status_code == 201, filed.text
    after = _run(client, db, settings, world)
    assert _seen(client, before) == _seen(client, after)
    assert _checker_log(db, before) == _checker_log(db, after)
    assert not any("opted" in line for line in _checker_log(db, after))
    with db.session() as session:  # the objection did take effect
        old, new = session.get(Job, before).result, session.get(Job, after).result
    assert old != new
