"""A real-data job runs on a Spark standalone cluster and gives what DuckDB gives.

A master and two workers are started from the PySpark distribution (`spark-class`) on
loopback by campus.analysis.spark_cluster (which the Spark bench uses too); the job is
submitted through the API, then run by `campus worker --once --engine spark
--spark-master spark://…` in its own process (the process's driver connects to the
master, the executors on the workers read the version's Parquet by path). The same definition
run by the DuckDB worker must give the same released tables.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from campus.analysis import jobs, service, spark_cluster
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
    pytest.importorskip("pyspark")
    home = spark_cluster.spark_home()
    if home is None:
        pytest.skip("this PySpark has no bin/spark-class")
    return home


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[spark_cluster.Cluster]:
    """A standalone master with two registered workers, stopped after the module's tests."""
    _spark_home()
    folder = tmp_path_factory.mktemp("spark-cluster")
    try:
        with spark_cluster.standalone_cluster(
            folder, workers=WORKERS, timeout=START_SECONDS
        ) as running:
            yield running
    except spark_cluster.ClusterDidNotStart as error:
        pytest.fail(str(error))


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
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    on_spark = _submit(client, world)
    env = {
        **spark_cluster.spark_env(),
        "CAMPUS_ENV": "test",
        "CAMPUS_VAR_DIR": str(settings.var_dir),
        "CAMPUS_DATABASE_URL": settings.database_url,
        "CAMPUS_SECRET_KEY": settings.secret_key.get_secret_value(),
        "CAMPUS_PSEUDONYM_KEY": settings.pseudonym_key.get_secret_value(),
        "CAMPUS_OPTOUT_KEY": settings.optout_key.get_secret_value(),
    }
    command = [sys.executable, "-c", WORKER, str(tmp_path / "library")]
    command += ["worker", "--once", "--engine", "spark", "--spark-master", cluster.url]
    ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"ran job {on_spark}" in ran.stdout
    state = cluster.state()
    apps = state["activeapps"] + state["completedapps"]
    assert [app["name"] for app in apps] == ["campus"]  # the job's driver used the cluster

    on_duckdb = _submit(client, world)
    assert jobs.work_once(db, settings) == on_duckdb
    spark, duckdb = _result(db, on_spark), _result(db, on_duckdb)
    assert json.dumps(spark["tables"], sort_keys=True) == json.dumps(
        duckdb["tables"], sort_keys=True
    )
    assert spark["cohort"] == duckdb["cohort"] > 0
