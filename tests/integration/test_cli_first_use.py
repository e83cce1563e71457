"""The `campus` console script in a fresh folder: the embedded database is made on first use,
and an error no command handled prints one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, _pg_url

CAMPUS = str(Path(sys.executable).parent / "campus")


def _campus(folder: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    env.update(extra)
    return subprocess.run(
        [CAMPUS, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_ingest_in_a_fresh_folder_creates_the_embedded_database_first(tmp_path):
    helped = _campus(tmp_path, "ingest", "--help")
    assert helped.returncode == 0 and not (tmp_path / "var").exists()  # help writes nothing
    written = _campus(tmp_path, "synth", "--patients", "3", "--out", "hospital")
    assert written.returncode == 0, written.stderr
    assert len(list((tmp_path / "hospital").glob("*.json"))) == 5
    ingested = _campus(tmp_path, "ingest", "hospital", "--dataset", "demo", "--workers", "1")
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    assert "created the embedded database" in ingested.stderr
    assert "published: demo v0001" in ingested.stdout
    assert "0 errors, 0 warnings" in ingested.stdout  # the generated hospital is clean FHIR
    assert "Traceback" not in ingested.stdout + ingested.stderr
    again = _campus(tmp_path, "dataset", "list")
    assert again.returncode == 0 and "embedded database" not in again.stderr
    assert "demo" in again.stdout


@pytest.mark.slow
def test_an_unexpected_error_is_one_line_naming_what_to_run_and_where_details_are(tmp_path):
    name = f"campus_t_noschema_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        # A server database is never upgraded behind its operator's back.
        result = _campus(tmp_path, "dataset", "list", CAMPUS_DATABASE_URL=_pg_url(name))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr + result.stdout
    assert "run `campus db upgrade`" in lines[0] and "cli-errors.log" in lines[0]
    log = (tmp_path / "var" / "log" / "cli-errors.log").read_text()
    assert "Traceback" in log and "ProgrammingError" in log
    assert (tmp_path / "var" / "log" / "cli-errors.log").stat().st_mode & 0o077 == 0


def test_synth_refuses_a_file_as_its_output_folder(tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    result = _campus(tmp_path, "synth", "--patients", "1", "--out", "taken")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: --out taken is a file: give a folder (created when missing)"
    )
    assert (tmp_path / "taken").read_text() == "not a folder"
