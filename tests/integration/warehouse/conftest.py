"""One ingest of the whole shared Synthea sample, and the Bulk Data test server (a process of
its own), shared by the tests of this folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from campus.optout.service import key_with
from campus.warehouse import ingest, layout, policy
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[3]
PKEY, OKEY = b"p" * 40, b"o" * 40
OPTED_OUT = "Abram_Lemke_6c5d9ca9-54d7-42f5-bfae-a7c19cd217f2.json"
OPTED_OUT_SSN = "http://hl7.org/fhir/sid/us-ssn|999-18-8203"


@pytest.fixture(scope="session")
def synthea(shared_dir, tmp_path_factory):
    """(report, version) of the Synthea sample, with one patient on the opt-out registry."""
    root = tmp_path_factory.mktemp("warehouse")
    report = ingest.run(
        root,
        "synthea",
        [shared_dir / "data" / "synthea-r4" / "bundles"],
        policy=policy.default(),
        pseudonym_key=PKEY,
        optout_secret=OKEY,
        registry={key_with(OKEY, OPTED_OUT_SSN)},
        actor="account:tester",
    )
    return report, layout.resolve(root, "synthea")


def process_env(settings, **more: str) -> dict[str, str]:
    """The environment of a `campus` command run as a process of its own on the test's
    database and var folder."""
    return {
        **os.environ,
        "CAMPUS_DATABASE_URL": settings.db_url,
        "CAMPUS_VAR_DIR": str(settings.var_dir),
        "CAMPUS_ENV": "test",
        "CAMPUS_SECRET_KEY": settings.secret("secret_key"),
        "CAMPUS_PSEUDONYM_KEY": settings.secret("pseudonym_key"),
        "CAMPUS_OPTOUT_KEY": settings.secret("optout_key"),
        **more,
    }


FAULTS = {
    "kickoff_status": None,
    "poll_statuses": [],
    "download_statuses": {},
    "not_found": [],
    "truncate": [],
    "short": [],
    "revoke_after": None,
    "clock_skew": 0,
    "error_file": False,
    "throttle": None,
    "cut_after": {},
    "polls_before_done": 1,
    "retry_after": "0",
    "token_seconds": 300,
    "max_lines": 0,
    "gzip": False,
    "bad_gzip": [],
    "auth": None,
    "files_host": None,
    "token_host": None,
}


class Server:
    def __init__(self, url: str, out: Path, process: subprocess.Popen):
        self.url, self.out, self.process = url, out, process

    def configure(self, **faults) -> None:
        httpx.post(f"{self.url}/_admin/config", json={**FAULTS, **faults}).raise_for_status()

    def state(self) -> dict:
        return httpx.get(f"{self.url}/_admin/state").json()


@pytest.fixture(scope="module")
def bulk_server(tmp_path_factory):
    """The server, over the shared Synthea sample, or a synthetic hospital without it."""
    out = tmp_path_factory.mktemp("bulk")
    source = SHARED / "data" / "synthea-r4" / "bundles"
    if not source.is_dir():
        from campus.warehouse import synthetic

        source = out / "synthetic"
        synthetic.write(source, patients=3)
    command = [sys.executable, "-m", "tests.bulk_server", "--source", str(source)]
    command += ["--out", str(out), "--patients", "3"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("listening on "), line
    try:
        yield Server(line.split()[-1], out, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture
def server(bulk_server, monkeypatch):
    bulk_server.configure()
    # Waits of milliseconds: the server asks Retry-After 0; the cap keeps backoff short.
    monkeypatch.setenv("CAMPUS_PULL_RETRY_SECONDS", "0.01")
    monkeypatch.setenv("CAMPUS_PULL_RETRY_CAP", "0.05")
    monkeypatch.setenv("CAMPUS_PULL_RETRIES", "4")
    # The test server is on loopback, which a pull may reach only when an operator allows it.
    monkeypatch.setenv("CAMPUS_PULL_ALLOWED_HOSTS", "127.0.0.1")
    return bulk_server
