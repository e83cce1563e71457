"""The official SQL on FHIR v2 suite, every file and every case, on DuckDB and on Spark."""

from __future__ import annotations

import pytest

from tests.conformance.runner import ROWS, load_suite, run_file
from tests.conftest import SHARED

# Without the shared folder one placeholder remains, so that the `suite` fixture says why the
# tests are skipped (or fails under CAMPUS_REQUIRE_SHARED=1) instead of nothing being collected.
FILES = sorted(load_suite(SHARED / "conformance" / "sql-on-fhir-v2" / "tests")) or ["no-suite"]


@pytest.mark.parametrize("name", FILES)
def test_every_case_of_the_file_passes_on_duckdb(name, suite, results, tmp_path):
    resources, cases = suite[name]
    outcome = run_file(resources, cases, tmp_path, "duckdb")
    results["duckdb"].extend(outcome)
    failed = [f"{case.title}: {reason}" for case, ok, reason in outcome if not ok]
    assert not failed, "\n".join(failed)


@pytest.mark.spark
@pytest.mark.parametrize("name", FILES)
def test_every_case_of_the_file_passes_on_spark(name, suite, results, spark, tmp_path):
    """`spark` started the process's session in local mode: the runs below reuse it."""
    resources, cases = suite[name]
    outcome = run_file(resources, cases, tmp_path, "spark")
    results["spark"].extend(outcome)
    failed = [f"{case.title}: {reason}" for case, ok, reason in outcome if not ok]
    assert not failed, "\n".join(failed)


@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_rows_on_every_case():
    """Runs after both engines above (same module, in order): compares their rows case by case."""
    duckdb_cases = {(f, t) for (e, f, t) in ROWS if e == "duckdb"}
    spark_cases = {(f, t) for (e, f, t) in ROWS if e == "spark"}
    if not duckdb_cases or not spark_cases:
        pytest.skip("needs both engines' conformance runs in this session")
    assert duckdb_cases == spark_cases
    differ = [
        f"{f}: {t}"
        for f, t in sorted(duckdb_cases)
        if ROWS[("duckdb", f, t)] != ROWS[("spark", f, t)]
    ]
    assert not differ, differ
    assert len(duckdb_cases) >= 120  # every case that returns rows


def test_the_suite_is_complete(suite):
    """134 cases in 22 files, as published: a missing file would hide failures."""
    assert len(suite) == 22
    assert sum(len(cases) for _, cases in suite.values()) == 134
