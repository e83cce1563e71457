"""`campus doctor` checks a configuration end to end and says what to fix."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from campus.auth import oidc
from tests.helpers import run_cli
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, ISSUER, FakeProvider


def _owner_only(db) -> None:
    """The test's SQLite file is a copy of a template made before any umask was set."""
    if db.url.startswith("sqlite"):
        Path(db.url.removeprefix("sqlite:///")).chmod(0o600)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parents[2] / "smtp_server.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_doctor_passes_a_working_development_configuration(db, settings, monkeypatch):
    monkeypatch.delenv("CAMPUS_SPARK_URL", raising=False)
    settings.warehouse_path.mkdir(parents=True, exist_ok=True)
    _owner_only(db)
    result = run_cli(monkeypatch, settings, "doctor")
    assert result.exit_code == 0, result.output
    for name in ("database", "migrations", "warehouse", "file modes", "smtp", "oidc", "spark"):
        assert f"ok    {name}" in result.output


def test_doctor_names_each_problem_and_its_fix(db, settings, monkeypatch, smtp_port):
    fake = FakeProvider()
    monkeypatch.setattr(oidc, "http_client", fake.client)
    monkeypatch.setenv("CAMPUS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CAMPUS_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("CAMPUS_OIDC_ISSUER", ISSUER + "/wrong-realm")
    monkeypatch.setenv("CAMPUS_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CAMPUS_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("CAMPUS_SPARK_URL", f"spark://127.0.0.1:{_free_port()}")
    settings.warehouse_path.mkdir(parents=True, exist_ok=True)
    _owner_only(db)
    leaked = settings.warehouse_path / "leaked.parquet"
    leaked.write_bytes(b"x")
    leaked.chmod(0o644)
    result = run_cli(monkeypatch, settings, "doctor")
    assert result.exit_code == 1
    out = result.output
    assert "ok    database" in out and "ok    migrations" in out
    assert "FAIL  smtp: 127.0.0.1:" in out and "does not offer STARTTLS" in out
    assert "FAIL  oidc: discovery at" in out
    assert "FAIL  spark: the Spark master 127.0.0.1:" in out
    assert "FAIL  file modes" in out and "leaked.parquet (file 0644)" in out
    assert "fix: chmod -R go-rwx" in out
    monkeypatch.setenv("CAMPUS_OIDC_ISSUER", ISSUER)
    leaked.chmod(0o600)
    again = run_cli(monkeypatch, settings, "doctor")
    assert "ok    oidc: " + ISSUER in again.output
    assert "ok    file modes" in again.output


def test_doctor_in_production_asks_for_given_keys_and_mail(db, settings, monkeypatch):
    monkeypatch.setenv("CAMPUS_ENV", "production")
    monkeypatch.delenv("CAMPUS_SMTP_HOST", raising=False)
    result = run_cli(monkeypatch, settings, "doctor")
    assert result.exit_code == 1
    assert "FAIL  configuration" in result.output and "CAMPUS_SECRET_KEY is not set" in (
        result.output
    )
    assert "FAIL  keys: CAMPUS_SECRET_KEY, CAMPUS_PSEUDONYM_KEY, CAMPUS_OPTOUT_KEY" in result.output
    assert "FAIL  smtp: CAMPUS_SMTP_HOST is not set" in result.output
