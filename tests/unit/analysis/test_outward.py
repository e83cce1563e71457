"""campus.analysis.outward: what the team and the public see does not follow the data."""

import datetime as dt

from campus.analysis import outward
from campus.analysis.models import Job

CREATED = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def _job(**fields) -> Job:
    base = {
        "id": "j1",
        "project_id": "p1",
        "approval_id": "a1",
        "author_id": "u1",
        "title": "t",
        "definition": {},
        "dataset": "ds",
        "version": "v0001",
        "created_at": CREATED,
        "release_status": "",
        "attempts": 1,
        "error": "",
        "epsilon": 0.0,
    }
    return Job(**(base | fields))


def _team(job: Job) -> dict:
    return outward.view(None, job, "team", logs=[], checks=[])  # type: ignore[arg-type]


def test_success_and_failure_on_the_data_look_the_same():
    ok = _job(status="succeeded", release_status="pending", result={"tables": []})
    failed = _job(status="failed", release_status="pending", error="DuckDB: bad value in rp001")
    assert _team(ok) == _team(failed)
    assert _team(failed)["status"] == "finished" and "rp001" not in str(_team(failed))


def test_a_job_queued_again_after_a_crash_still_looks_running():
    assert _team(_job(status="queued", attempts=1)) == _team(_job(status="running"))
    assert _team(_job(status="queued", attempts=0))["status"] == "queued"


def test_a_refusal_before_the_data_is_read_shows_its_reason():
    refused = _team(_job(status="failed", error="refused: the approval was revoked"))
    assert refused["status"] == "failed" and "revoked" in refused["error"]
