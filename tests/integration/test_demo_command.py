"""`campus demo` as users start it: the console script in a fresh folder, on a port of its own,
without the shared folder, the job worker in the app and the console as the mailbox."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port

CAMPUS = str(Path(sys.executable).parent / "campus")
PASSWORD = "campus-demo-2026"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    # No shared folder: the demo must carry its own data.
    env["CAMPUS_SHARED"] = str(tmp_path / "no-shared-folder")
    return env


def _wait(url: str, process: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the demo did not start:\n" + log.read_text())
        time.sleep(0.5)


def _client(url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    client.get("/healthz")
    client.headers["X-CSRF-Token"] = client.cookies["campus_csrf"]
    signed = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    client.headers["X-CSRF-Token"] = client.cookies["campus_csrf"]  # renewed at sign-in
    return client


@pytest.mark.slow
def test_the_demo_serves_its_own_hospital_runs_jobs_and_prints_mail_links(tmp_path):
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [CAMPUS, "demo", "--port", str(port)],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, log)
        # The public catalogue lists the generated hospital.
        listing = httpx.get(url + "/catalogue", timeout=30)
        assert listing.status_code == 200 and "hopital-synthea" in listing.text
        researcher = _client(url, "chercheuse@campus.example")
        # A researcher's job on real data leaves the queue with no `campus worker` running.
        project = researcher.get("/api/v1/projects/demo-project").json()
        approval = next(r["approval"] for r in project["requests"] if r.get("approval"))
        from campus.analysis.demo import DEMO_ANALYSIS

        submitted = researcher.post(
            "/api/v1/projects/demo-project/jobs",
            json={"approval_id": approval["id"], "definition": DEMO_ANALYSIS},
        )
        assert submitted.status_code == 201, submitted.text
        job_id = submitted.json()["id"]
        assert submitted.json()["status"] == "queued"
        deadline = time.monotonic() + 120
        status = "queued"
        while status == "queued" and time.monotonic() < deadline:
            time.sleep(0.5)
            status = researcher.get(f"/api/v1/jobs/{job_id}").json()["status"]
        assert status != "queued", "the in-process worker never took the job"
        # A citizen's verification link shows in the console (no SMTP in the demo).
        anonymous = httpx.Client(base_url=url, timeout=30)
        anonymous.get("/healthz")
        anonymous.headers["X-CSRF-Token"] = anonymous.cookies["campus_csrf"]
        signed_up = anonymous.post(
            "/api/v1/signup",
            json={"email": "lea@example.org", "name": "Léa", "password": "a long passphrase"},
        )
        assert signed_up.status_code == 202, signed_up.text
        deadline = time.monotonic() + 10
        link = None
        while link is None and time.monotonic() < deadline:
            link = re.search(rf"{re.escape(url)}/\S*verif\S*", log.read_text())
            time.sleep(0.2)
        assert link is not None, log.read_text()[-3000:]
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
