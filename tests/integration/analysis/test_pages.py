"""The HTML pages of governance and analysis render for the people they are for."""

import yaml

from campus.analysis import jobs
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve


def _as(client, email):
    client.delete("/api/v1/session")
    client.login(email)


def test_pages_render_through_a_whole_project_life(client, db, settings, world):
    approve(db, settings, world)
    assert "Registre public" in client.get("/register").text
    assert client.get(f"/register/{world.project_id}").status_code == 200
    assert "NIR" in client.get("/opposition").text
    _as(client, "chercheuse@example.org")
    assert client.get("/projects").status_code == 200
    project = client.get(f"/projects/{world.project_id}")
    assert project.status_code == 200 and "j-definition" in project.text
    request_page = client.get(f"/projects/{world.project_id}/requests/{world.request_id}")
    assert request_page.status_code == 200 and "approval-state" in request_page.text
    dummy = client.post("/analysis", data={"definition": "title: [broken"})
    assert dummy.status_code == 400 and "line 1" in dummy.text
    typo = dict(
        warehouse.STROKE_ANALYSIS, outputs=[{"type": "counts", "name": "x", "group_by": ["sexe"]}]
    )
    refused = client.post("/analysis", data={"definition": yaml.safe_dump(typo)})
    assert refused.status_code == 400 and "<code>outputs[0].group_by[0]</code>" in refused.text
    assert "sexe" in refused.text  # what was typed is shown again

    ran = client.post("/analysis", data={"definition": yaml.safe_dump(warehouse.STROKE_ANALYSIS)})
    assert ran.status_code == 200 and "data-charts" in ran.text
    submitted = client.post(
        f"/projects/{world.project_id}/jobs",
        data={
            "approval_id": world.approval_id,
            "definition": yaml.safe_dump(warehouse.MARKER_ANALYSIS),
        },
        follow_redirects=False,
    )
    assert submitted.status_code == 303
    job_url = submitted.headers["location"]
    jobs.work_once(db, settings)
    assert "job-log" in client.get(job_url).text
    for email in ("checker1@example.org", "checker2@example.org"):
        _as(client, email)
        assert client.get("/checks").status_code == 200
        checked = client.post(
            job_url + "/checks",
            data={"decision": "approve", "comment": "ok"},
            follow_redirects=False,
        )
        assert checked.status_code == 303
    client.delete("/api/v1/session")
    released = client.get(job_url)
    assert "outputs.csv" in released.text and warehouse.MARKER in released.text
    _as(client, "ethique1@example.org")
    assert client.get("/reviews").status_code == 200
