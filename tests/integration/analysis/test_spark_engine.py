"""Every analysis node gives the same released tables on DuckDB and on Spark (local mode).

One warehouse version of the synthetic hospital (real tables, one patient opted out), one
analysis per node type, run through `runner.execute` (what the worker calls) on each engine;
the released outputs, after disclosure control, must be identical. Counts are compared
unrounded (base 1, threshold 2) so that a one-person difference between engines shows.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from campus.analysis import definition, runner
from campus.analysis.results import Controls
from tests.integration.views.helpers import build_version

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DATASET = "hospital"
VIEWS = {
    "patients": {"library": "patient_demographics"},
    "conditions": {"library": "conditions"},
    "encounters": {"library": "encounters"},
}
COHORT = {
    "view": "patients",
    "index_date": {"view": "encounters", "column": "start", "first": True},
    "birth_date": "birth_date",
    "include": [
        {"view": "encounters", "column": "status", "op": "not_null"},
        {
            "view": "conditions",
            "column": "code",
            "op": "not_null",
            "date_column": "onset",
            "within_days": [-36500, 36500],
        },
    ],
    "exclude": [{"column": "gender", "op": "eq", "value": "unknown"}],
}
OUTPUTS = {
    "cohort_and_counts": [
        {
            "type": "counts",
            "name": "by_sex_and_age",
            "group_by": [
                {"column": "gender", "levels": ["female", "male"]},
                {"column": "age_at_index", "width": 20},
            ],
        },
        {
            "type": "counts",
            "name": "by_year",
            "group_by": [{"column": "index_date", "part": "year"}],
        },
        {
            "type": "counts",
            "name": "by_month",
            "group_by": [{"column": "index_date", "part": "month"}],
        },
    ],
    "rates": [
        {
            "type": "counts",
            "name": "with_a_condition_within_a_year",
            "group_by": ["gender"],
            "event": [
                {
                    "view": "conditions",
                    "column": "code",
                    "op": "starts_with",
                    "value": "4",
                    "date_column": "onset",
                    "within_days": [0, 365],
                }
            ],
        }
    ],
    "quantiles_and_histogram": [
        {
            "type": "distribution",
            "name": "age",
            "column": "age_at_index",
            "group_by": ["gender"],
            "quantiles": [0.25, 0.5, 0.75],
            "histogram": {"edges": [20, 40, 60, 80]},
        }
    ],
    "crosstab": [
        {"type": "crosstab", "name": "sex_by_status", "rows": "gender", "columns": "marital_status"}
    ],
    "kaplan_meier": [
        {
            "type": "time_to_event",
            "name": "first_condition",
            "event": {
                "view": "conditions",
                "column": "onset",
                "where": [{"column": "code", "op": "not_null"}],
            },
            "censor": "2030-01-01",
            "interval_days": 365,
            "horizon_days": 3650,
            "group_by": ["gender"],
        }
    ],
}


@pytest.fixture(scope="module")
def warehouse(hospital_bundles, tmp_path_factory):
    root = tmp_path_factory.mktemp("warehouse")
    folder = build_version(hospital_bundles, root, DATASET)
    patients = pq.read_table(folder / "real" / "Patient.parquet").column("id").to_pylist()
    # The first patient objected: neither engine may count them.
    pq.write_table(
        pa.table({"optout_key": ["key-0", "key-unused"], "patient": [patients[0], "nobody"]}),
        folder / "optout_keys.parquet",
    )
    return root


@pytest.fixture(scope="module")
def spark_master():
    """The process's one SparkSession, in local mode (started once for the module)."""
    pytest.importorskip("pyspark")
    from campus.views.engines import spark_session

    spark_session("local[2]")
    return None


def _released(warehouse, outputs, engine, master=None):
    analysis = definition.parse(
        {
            "title": "cross-engine",
            "dataset": DATASET,
            "views": VIEWS,
            "cohort": COHORT,
            "outputs": outputs,
        }
    )
    scope = runner.Scope((DATASET,), tuple(v["library"] for v in VIEWS.values()))
    out = runner.execute(
        analysis,
        warehouse=warehouse,
        kind="real",
        controls=Controls(threshold=2, base=1),
        scope=scope,
        optout_keys={"key-0"},
        engine=engine,
        spark_master=master,
    )
    return json.loads(json.dumps(out))


@pytest.mark.parametrize("kind", sorted(OUTPUTS))
def test_each_analysis_node_releases_the_same_tables_on_duckdb_and_spark(
    kind, warehouse, spark_master
):
    on_duckdb = _released(warehouse, OUTPUTS[kind], "duckdb")
    on_spark = _released(warehouse, OUTPUTS[kind], "spark", spark_master)
    assert on_duckdb["cohort"] >= 10
    released = [row for table in on_duckdb["tables"] for row in table["rows"]]
    assert released, "nothing released: the comparison would prove nothing"
    assert on_spark == on_duckdb


def test_queries_over_the_cohort_run_only_their_own_spark_jobs_and_the_job_frees_its_tables(
    warehouse, spark_master, monkeypatch
):
    from campus.analysis import engines
    from campus.views.engines import spark_session

    context = spark_session().sparkContext
    tracker, jobs = context.statusTracker(), []

    class Counted(engines.SparkBackend):
        def rows(self, sql: str) -> list[tuple]:
            group = f"test-query-{len(jobs)}-{id(self)}"
            context.setJobGroup(group, sql[:40])
            out = super().rows(sql)
            jobs.append(len(tracker.getJobIdsForGroup(group)))
            return out

    monkeypatch.setattr(engines, "open_backend", lambda engine, **_: Counted())
    _released(warehouse, OUTPUTS["cohort_and_counts"], "spark")
    # The cohort's count and three counts: each a scan and an aggregate. With the cohort kept
    # by CACHE TABLE, every read ran the broadcasts of the plan that made it again.
    assert len(jobs) == 4
    assert max(jobs) <= 2, jobs
    # The opt-outs, the views and the cohort kept for the job are released when it ends.
    assert not context._jsc.getPersistentRDDs()


def test_spark_leaves_out_opted_out_patients_by_broadcasting_them_not_the_resources(
    warehouse, spark_master
):
    from campus.analysis import engines
    from campus.analysis.sources import resolve_version

    backend = engines.SparkBackend()
    try:
        found = resolve_version(warehouse, DATASET, None)
        tables = backend.tables(found, "real", {"key-0"})
        plan = backend.spark.sql(f"SELECT * FROM {tables['Patient']}")._jdf.queryExecution()
        physical = plan.executedPlan().toString()
    finally:
        backend.close()
    # A hash anti join whose broadcast side is the opted-out patients, whatever Spark
    # estimates of the resource table's size (a nested loop could broadcast either side).
    assert "BroadcastHashJoin" in physical and "LeftAnti, BuildRight" in physical, physical
    assert "NestedLoop" not in physical
