"""Scheduled pulls: a steward sets a schedule on the dataset (API, page, CLI), `campus worker`
processes queue and run the due pull against the Bulk Data test server (a process of its
own), one run per due time and at most one at a time per dataset, decided by the database."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from campus.warehouse import layout
from campus.warehouse.bulk import schedule
from campus.warehouse.models import Dataset, PullRun
from tests.helpers import audit_events, run_cli
from tests.integration.warehouse.conftest import ROOT, process_env

SQLITE = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def _worker(settings):
    env = process_env(settings, CAMPUS_WORKER_POLL_SECONDS="0.2")
    return subprocess.Popen(
        [sys.executable, "-m", "campus.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _set_back(db, name: str, hours: float) -> None:
    """As if the schedule had been set `hours` earlier (not a whole number of periods: a
    multiple would give the same due time again)."""
    with db.session() as session:
        dataset = session.scalar(select(Dataset).where(Dataset.name == name))
        source = dict(dataset.pull_source)
        plan = dict(source["schedule"])
        then = dt.datetime.fromisoformat(plan["from"]) - dt.timedelta(hours=hours)
        source["schedule"] = {**plan, "from": then.isoformat()}
        dataset.pull_source = source


def _runs(db) -> list[PullRun]:
    with db.session() as session:
        return list(session.scalars(select(PullRun).order_by(PullRun.id)))


@SQLITE
def test_the_worker_pulls_a_dataset_when_its_schedule_is_due(client, db, settings, server):
    from tests.integration.warehouse.test_web import _dataset, _steward

    _steward(client, db)
    _dataset(db, "hopital", "")
    for bad, said in (
        ({"daily_at": "25:00"}, "daily_at is a time HH:MM"),
        ({"daily_at": "02:00", "timezone": "Mars/Olympus"}, "is not a time zone"),
        ({"daily_at": "02:00", "every_hours": 3}, "either daily_at"),
        ({"every_hours": 0}, "every_hours is a whole number"),
    ):
        refused = client.put(
            "/api/v1/datasets/hopital/settings",
            json={"pull_source": {"base_url": server.url, "schedule": bad}},
        )
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["where"] == "schedule" and said in refused.text
    stored = client.put(
        "/api/v1/datasets/hopital/settings",
        json={"pull_source": {"base_url": server.url, "schedule": {"every_hours": 1}}},
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["pull_source"]["schedule"]["every_hours"] == 1
    assert schedule.enqueue_due(db) == []  # the first slot is an hour away
    _set_back(db, "hopital", 1.5)
    workers = [_worker(settings), _worker(settings)]  # two workers see the same due time
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = _runs(db)
            if runs and runs[-1].status in ("done", "failed"):
                break
            time.sleep(0.3)
        time.sleep(1.0)  # both workers polled again: nothing more is queued
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(timeout=60)
    runs = _runs(db)
    assert [(r.status, r.attempts) for r in runs] == [("done", 1)], [r.outcome for r in runs]
    assert runs[0].outcome["version"] == "v0001"
    assert server.state()["kickoffs"] == 1  # pulled once
    assert layout.resolve(settings.warehouse_path, "hopital").version == "v0001"
    last = client.get("/api/v1/datasets/hopital").json()["pull_source"]["last_run"]
    assert last["trigger"] == "schedule" and last["status"] == "published"
    pulls = [e for e in audit_events(db) if e.action == "dataset.pull"]
    assert [(e.actor, e.details.get("trigger")) for e in pulls] == [("account:system", "schedule")]
    # The next due time: an incremental pull onto v0001, nothing new on the server.
    _set_back(db, "hopital", 1.25)
    assert schedule.tick(db, settings, "test-worker") is not None
    assert _runs(db)[-1].outcome["status"] == "unchanged"
    changed = {"resourceType": "Patient", "id": "scheduled-new", "gender": "female"}
    httpx.post(f"{server.url}/_admin/change", json={"upsert": [changed]}).raise_for_status()
    _set_back(db, "hopital", 1.3)
    schedule.tick(db, settings, "test-worker")
    assert _runs(db)[-1].outcome == {"status": "published", "version": "v0002", "skipped": 0}
    manifest = layout.resolve(settings.warehouse_path, "hopital").manifest
    assert manifest["base_version"] == "v0001"


def test_a_due_time_is_queued_once_and_a_dataset_pulled_once_at_a_time(client, db, server):
    from tests.integration.warehouse.test_web import _dataset, _steward

    _steward(client, db)
    _dataset(db, "hopital", "")
    _dataset(db, "autre", "")
    for name in ("hopital", "autre"):
        stored = client.put(
            f"/api/v1/datasets/{name}/settings",
            json={"pull_source": {"base_url": server.url, "schedule": {"every_hours": 2}}},
        )
        assert stored.status_code == 200, stored.text
        _set_back(db, name, 2.5)
    assert sorted(schedule.enqueue_due(db)) == ["autre", "hopital"]
    assert schedule.enqueue_due(db) == []  # the same due time, seen again
    first = schedule.claim(db, "worker-a")
    second = schedule.claim(db, "worker-b")
    assert {first, second} == {r.id for r in _runs(db)} and None not in (first, second)
    assert schedule.claim(db, "worker-c") is None  # both taken
    # A later due time of a dataset whose pull still runs waits for it to end.
    _set_back(db, "hopital", 1.0)
    assert schedule.enqueue_due(db) == []
    assert len(_runs(db)) == 2


@SQLITE
def test_a_steward_sets_the_schedule_on_the_page_and_from_the_command_line(
    client, db, settings, server, monkeypatch
):
    from tests.integration.warehouse.test_web import _dataset, _steward

    _steward(client, db)
    _dataset(db, "hopital", "")
    form = {"base_url": server.url, "error_tolerance": "0", "csrf_token": client.csrf()}
    refused = client.post(
        "/datasets/hopital/settings",
        data={**form, "every": "daily", "daily_at": "02:30", "timezone": "Mars/Olympus"},
    )
    assert refused.status_code == 400
    assert "pas un fuseau horaire" in refused.text  # the service's words, translated
    saved = client.post(
        "/datasets/hopital/settings",
        data={**form, "every": "daily", "daily_at": "02:30", "timezone": "Europe/Paris"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = client.get("/datasets").text
    assert "Imports programmés" in page and "chaque jour à 02:30 (Europe/Paris)" in page
    source = client.get("/api/v1/datasets/hopital").json()["pull_source"]
    assert source["schedule"]["daily_at"] == "02:30"
    # Saved again unchanged, the schedule keeps when it was set (its due times stay).
    client.post(
        "/datasets/hopital/settings",
        data={**form, "every": "daily", "daily_at": "02:30", "timezone": "Europe/Paris"},
    )
    again = client.get("/api/v1/datasets/hopital").json()["pull_source"]["schedule"]
    assert again["from"] == source["schedule"]["from"]
    # The command line changes only what it is given; --no-schedule removes it.
    hours = run_cli(monkeypatch, settings, "dataset", "source", "hopital", "--every-hours", "6")
    assert hours.exit_code == 0, hours.output
    source = client.get("/api/v1/datasets/hopital").json()["pull_source"]
    assert source["base_url"] == server.url and source["schedule"]["every_hours"] == 6
    assert "toutes les 6 heures" in client.get("/datasets").text
    bad = run_cli(monkeypatch, settings, "dataset", "source", "hopital", "--daily-at", "2h30")
    assert bad.exit_code == 1 and "daily_at is a time HH:MM" in bad.output
    none = run_cli(monkeypatch, settings, "dataset", "source", "hopital", "--no-schedule")
    assert none.exit_code == 0
    assert "schedule" not in client.get("/api/v1/datasets/hopital").json()["pull_source"]
    monkeypatch.delenv("CAMPUS_PULL_ALLOWED_HOSTS")
    internal = run_cli(
        monkeypatch, settings, "dataset", "source", "hopital", "--from", "http://10.0.0.5/fhir"
    )
    assert internal.exit_code == 1 and "an internal address" in internal.output
