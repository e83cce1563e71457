"""`campus serve --workers 2`: /metrics adds up the figures of every worker (multiprocess
mode), whichever worker answers the scrape, and the request log lines are JSON."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.helpers import free_port

TOKEN = "metrics-" + "t" * 40
REQUESTS = 30


def _healthz_count(text: str) -> float:
    found = re.search(
        r'campus_http_requests_total\{method="GET",route="/healthz",status="2xx"\} (\S+)', text
    )
    return float(found.group(1)) if found else 0.0


@pytest.mark.slow
def test_metrics_add_up_every_worker_and_requests_log_json_lines(settings, tmp_path):
    if not settings.db_url.startswith("postgresql"):
        pytest.skip("several workers are run on PostgreSQL")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "CAMPUS_ENV": "test",
        "CAMPUS_DATABASE_URL": settings.db_url,
        "CAMPUS_VAR_DIR": str(settings.var_dir),
        "CAMPUS_SECRET_KEY": TEST_SECRET,
        "CAMPUS_PSEUDONYM_KEY": TEST_SECRET + "p",
        "CAMPUS_OPTOUT_KEY": TEST_SECRET + "o",
        "CAMPUS_METRICS_TOKEN": TOKEN,
    }
    campus = str(Path(sys.executable).parent / "campus")
    log = (tmp_path / "out.log").open("w")
    server = subprocess.Popen(
        [campus, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "out.log").read_text()[-2000:]
            time.sleep(0.3)
        for _ in range(REQUESTS):  # a new connection each: the kernel spreads them
            assert httpx.get(base + "/healthz", timeout=10).status_code == 200
        auth = {"Authorization": f"Bearer {TOKEN}"}
        scrapes = [httpx.get(base + "/metrics", headers=auth, timeout=10).text for _ in range(6)]
        assert [_healthz_count(text) for text in scrapes] == [REQUESTS] * len(scrapes)
        assert (settings.var_dir / "metrics").is_dir()
        assert len(list((settings.var_dir / "metrics").glob("*.db"))) >= 2  # both workers
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    lines = [
        json.loads(line)
        for line in (tmp_path / "out.log").read_text().splitlines()
        if line.startswith("{")
    ]
    served = [line for line in lines if line.get("event") == "request"]
    assert sum(1 for line in served if line["route"] == "/healthz") == REQUESTS
    assert all(set(line) >= {"request_id", "route", "status", "duration_ms"} for line in served)


def test_campus_metrics_serves_the_figures_on_its_own_address(settings, tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "CAMPUS_ENV": "test",
        "CAMPUS_DATABASE_URL": settings.db_url,
        "CAMPUS_VAR_DIR": str(settings.var_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    (tmp_path / "metrics").mkdir()
    campus = str(Path(sys.executable).parent / "campus")
    server = subprocess.Popen(
        [campus, "metrics", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.3)
        assert scraped.status_code == 200
        assert "campus_database_up 1.0" in scraped.text
        assert "campus_audit_chain_length" in scraped.text
    finally:
        server.terminate()
        server.wait(timeout=30)
