"""A server started without the CLI (`uvicorn campus.site.asgi:app`, or the app factory)
checks var/'s file modes at its start as `campus serve` does: a warning in development, a
refusal in production, each naming the file and the chmod that fixes it, never a traceback."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, TEST_SECRET
from tests.helpers import free_port


def _loose_var(tmp_path: Path) -> Path:
    var = tmp_path / "var"
    (var / "warehouse").mkdir(parents=True, mode=0o700)
    var.chmod(0o700)
    leaked = var / "warehouse" / "optout_keys.parquet"
    leaked.write_bytes(b"x")
    leaked.chmod(0o644)
    return var


def _env(var: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    return {
        **env,
        "CAMPUS_VAR_DIR": str(var),
        "CAMPUS_SECRET_KEY": TEST_SECRET,
        "CAMPUS_PSEUDONYM_KEY": TEST_SECRET + "p",
        "CAMPUS_OPTOUT_KEY": TEST_SECRET + "o",
        **extra,
    }


def _uvicorn(target: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *target, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow  # a real server process
def test_a_server_started_by_uvicorn_warns_about_a_world_readable_file(tmp_path, sqlite_template):
    var = _loose_var(tmp_path)
    database = tmp_path / "campus.db"
    shutil.copy(sqlite_template, database)
    database.chmod(0o600)
    port, log = free_port(), tmp_path / "server.log"
    env = _env(var, CAMPUS_ENV="development", CAMPUS_DATABASE_URL=f"sqlite:///{database}")
    process = _uvicorn(["campus.site.app:create_app", "--factory"], port, env, log)
    try:
        deadline, up = time.monotonic() + 60, False
        while time.monotonic() < deadline and process.poll() is None and not up:
            try:
                up = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(30)
    output = log.read_text()
    assert up, output[-2000:]  # development: it serves, and says what to fix
    assert "optout_keys.parquet (file 0644)" in output
    assert f"chmod -R go-rwx {var.resolve()}" in output
    assert "Traceback" not in output


@pytest.mark.slow  # a real server process
def test_a_production_server_started_by_uvicorn_refuses_a_world_readable_file(tmp_path):
    var = _loose_var(tmp_path)
    port, log = free_port(), tmp_path / "server.log"
    env = _env(
        var,
        CAMPUS_ENV="production",
        # Never reached: the start is refused before any connection.
        CAMPUS_DATABASE_URL="postgresql+psycopg://campus@127.0.0.1:1/campus",
        CAMPUS_BASE_URL="https://campus.example.org",
    )
    process = _uvicorn(["campus.site.asgi:app"], port, env, log)
    code = process.wait(60)
    output = log.read_text()
    assert code != 0, output[-2000:]
    assert "Refusing to start in production" in output
    assert "optout_keys.parquet (file 0644)" in output
    assert "Application startup failed" in output
    assert "Traceback" not in output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
