"""`campus serve --workers N`: one listening socket per worker, a dead worker restarted, and a
clean stop on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from campus.web.serve import worker_pids
from tests.conftest import TEST_SECRET
from tests.helpers import free_port


def _start(settings, port: int, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """`campus serve --workers 2` on the test's database."""
    env = {
        **os.environ,
        "CAMPUS_ENV": "test",
        "CAMPUS_DATABASE_URL": settings.db_url,
        "CAMPUS_VAR_DIR": str(settings.var_dir),
        "CAMPUS_SECRET_KEY": TEST_SECRET,
        "CAMPUS_PSEUDONYM_KEY": TEST_SECRET + "p",
        "CAMPUS_OPTOUT_KEY": TEST_SECRET + "o",
    }
    campus = str(Path(sys.executable).parent / "campus")
    command = [campus, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def _listeners(port: int) -> int:
    output = subprocess.run(
        ["ss", "-Htln", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return len(output.strip().splitlines())


def _wait(predicate, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
def test_workers_each_listen_a_dead_one_is_restarted_and_sigterm_stops_all(settings):
    port = free_port()
    server = _start(settings, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _healthy(base) and _listeners(port) == 2)
        workers = set(worker_pids(server.pid))
        assert len(workers) == 2
        victim = sorted(workers)[0]
        os.kill(victim, signal.SIGKILL)
        _wait(lambda: len(set(worker_pids(server.pid)) - {victim}) == 2 and _listeners(port) == 2)
        assert all(_healthy(base) for _ in range(10))
        workers = set(worker_pids(server.pid))
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
        assert _listeners(port) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="Linux only")
def test_workers_stop_when_the_supervisor_is_killed(settings):
    port = free_port()
    server = _start(settings, port)
    try:
        _wait(lambda: _healthy(f"http://127.0.0.1:{port}") and _listeners(port) == 2)
        workers = set(worker_pids(server.pid))
    finally:
        server.kill()
        server.wait()
    _wait(lambda: _listeners(port) == 0 and not any(_alive(pid) for pid in workers), seconds=30)


def _alive(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False


def test_a_taken_address_is_a_clear_error_and_starts_no_worker(settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = _start(settings, port, stderr=subprocess.PIPE)
        _, errors = server.communicate(timeout=60)
    assert server.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in errors
    assert "Traceback" not in errors
