"""Analysis's jobs reach governance's pages through the hooks the site composes
(`register=`, `project_jobs=` in the capability registry): governance imports no analysis."""

import xml.etree.ElementTree as ET

from typer.testing import CliRunner

from campus import cli
from campus.analysis import cli as analysis_cli
from campus.analysis import jobs
from campus.governance import data, register
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve

ATOM = "{http://www.w3.org/2005/Atom}"


def _released_job(client, db, settings, world) -> str:
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    job_id = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": warehouse.MARKER_ANALYSIS},
    ).json()["id"]
    assert jobs.work_once(db, settings) == job_id
    for checker in ("checker1@example.org", "checker2@example.org"):
        client.delete("/api/v1/session")
        client.login(checker)
        client.post(f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "ok"})
    client.delete("/api/v1/session")
    return job_id


def test_the_register_and_the_project_page_list_analysis_jobs_handed_by_the_site(
    client, db, settings, world, monkeypatch
):
    job_id = _released_job(client, db, settings, world)
    entry = client.get(f"/api/v1/register/{world.project_id}").json()
    listed = next(j for j in entry["jobs"] if j["id"] == job_id)
    assert listed["status"] == "finished" and listed["url"] == f"/jobs/{job_id}"
    assert "federated" not in listed
    release = entry["releases"][0]
    assert release["job"] == job_id and release["url"] == f"/jobs/{job_id}"
    assert release["released_at"] == listed["released_at"] is not None
    assert f'href="/jobs/{job_id}"' in client.get(f"/register/{world.project_id}").text
    # The Atom feed announces the release as before the hook: title, link and summary.
    root = ET.fromstring(client.get("/register/feed.atom").text)
    item = next(e for e in root.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id").endswith(job_id))
    title = warehouse.MARKER_ANALYSIS["title"]
    assert item.findtext(f"{ATOM}title").startswith(f"Release: {title} (")
    summary = item.findtext(f"{ATOM}summary")
    assert summary.startswith(f"Checked outputs of a job on {warehouse.DATASET} ")
    # The team's project page lists the job (the `project_jobs=` hook), the public's does not.
    client.login("chercheuse@example.org")
    assert f'href="/jobs/{job_id}"' in client.get(f"/projects/{world.project_id}").text
    monkeypatch.setattr(data, "TEAM_JOBS", [])
    assert f'href="/jobs/{job_id}"' not in client.get(f"/projects/{world.project_id}").text
    # `campus project show` wires the hooks itself (no app in its process).
    register.OTHER_JOBS.clear()
    monkeypatch.setattr(analysis_cli, "database", lambda: db)
    shown = CliRunner().invoke(cli.app, ["project", "show", world.project_id])
    assert shown.exit_code == 0, shown.output
    assert f'"url": "/jobs/{job_id}"' in shown.output
