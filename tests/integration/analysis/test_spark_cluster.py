"""A real-data job runs on a Spark standalone cluster and gives what DuckDB gives.

A master and two workers are started from the PySpark distribution (`spark-class`) on
loopback; the job is submitted through the API, then run by `campus worker --once --engine
spark --spark-master spark://…` in its own process (the process's driver connects to the
master, the executors on the workers read the version's Parquet by path). The same definition
run by the DuckDB worker must give the same released tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campus.analysis import jobs, service
from tests.helpers import free_port
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve

pytestmark = [pytest.mark.spark, pytest.mark.slow]

WORKERS = 2
START_SECONDS = 120

# The worker process reads the hermetic library the `world` fixture writes, as the test does.
WORKER = """
import sys
from pathlib import Path
from campus.analysis import sources
sources.library_dir = lambda: Path(sys.argv[1])
from campus.cli import app
app(sys.argv[2:], prog_name="campus")
"""


def _spark_home() -> Path:
    pyspark = pytest.importorskip("pyspark")
    home = Path(pyspark.__file__).parent
    if not (home / "bin" / "spark-class").exists():
        pytest.skip("this PySpark has no bin/spark-class")
    return home


def _alive_workers(ui: str) -> int:
    try:
        workers = httpx.get(f"{ui}/json/", timeout=2).json()["workers"]
    except (httpx.HTTPError, ValueError, KeyError):
        return 0
    return sum(1 for worker in workers if worker["state"] == "ALIVE")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(spark://127.0.0.1:PORT, its web UI) of a standalone master with two registered workers."""
    home = _spark_home()
    folder = tmp_path_factory.mktemp("spark-cluster")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("SPARK_CONF_DIR", None)
    port, ui_port = free_port(), free_port()
    spark_class = str(home / "bin" / "spark-class")
    master = ("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port))
    commands = [[spark_class, "org.apache.spark.deploy.master.Master", *master]]
    for i in range(WORKERS):
        worker = ("--host", "127.0.0.1", "--cores", "1", "--memory", "1g")
        where = ("--webui-port", str(free_port()), "--work-dir", str(folder / f"work{i}"))
        commands.append(
            [
                spark_class,
                "org.apache.spark.deploy.worker.Worker",
                *worker,
                *where,
                f"spark://127.0.0.1:{port}",
            ]
        )
    processes = []
    logs = []
    try:
        for i, command in enumerate(commands):
            log = open(folder / f"process{i}.log", "wb")  # noqa: SIM115 (closed below)
            logs.append(log)
            processes.append(
                subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        ui = f"http://127.0.0.1:{ui_port}"
        deadline = time.monotonic() + START_SECONDS
        while _alive_workers(ui) < WORKERS:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                text = "\n".join(
                    (folder / f"process{i}.log").read_text(errors="replace")[-2000:]
                    for i in range(len(commands))
                )
                pytest.fail(f"the Spark standalone cluster did not start:\n{text}")
            time.sleep(1)
        yield f"spark://127.0.0.1:{port}", ui
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def _submit(client, world) -> str:
    response = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": warehouse.STROKE_ANALYSIS},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _result(db, job_id: str) -> dict:
    with db.session() as session:
        job = service.get_job(session, job_id)
        assert job.status == "succeeded", job.error
        return job.result


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_job_on_the_standalone_cluster_gives_what_duckdb_gives(
    cluster, client, db, settings, world, tmp_path
):
    master, ui = cluster
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    on_spark = _submit(client, world)
    env = {
        **os.environ,
        "SPARK_HOME": str(_spark_home()),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "CAMPUS_ENV": "test",
        "CAMPUS_VAR_DIR": str(settings.var_dir),
        "CAMPUS_DATABASE_URL": settings.database_url,
        "CAMPUS_SECRET_KEY": settings.secret_key.get_secret_value(),
        "CAMPUS_PSEUDONYM_KEY": settings.pseudonym_key.get_secret_value(),
        "CAMPUS_OPTOUT_KEY": settings.optout_key.get_secret_value(),
    }
    command = [sys.executable, "-c", WORKER, str(tmp_path / "library")]
    command += ["worker", "--once", "--engine", "spark", "--spark-master", master]
    ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"ran job {on_spark}" in ran.stdout
    state = httpx.get(f"{ui}/json/", timeout=5).json()
    apps = state["activeapps"] + state["completedapps"]
    assert [app["name"] for app in apps] == ["campus"]  # the job's driver used the cluster

    on_duckdb = _submit(client, world)
    assert jobs.work_once(db, settings) == on_duckdb
    spark, duckdb = _result(db, on_spark), _result(db, on_duckdb)
    assert json.dumps(spark["tables"], sort_keys=True) == json.dumps(
        duckdb["tables"], sort_keys=True
    )
    assert spark["cohort"] == duckdb["cohort"] > 0
