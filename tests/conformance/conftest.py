from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance.runner import load_suite, report

ROOT = Path(__file__).resolve().parents[2]
RESULTS: dict[str, list] = {"duckdb": [], "spark": []}


@pytest.fixture(scope="session")
def suite(shared_dir: Path):
    return load_suite(shared_dir / "conformance" / "sql-on-fhir-v2" / "tests")


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    from campus.views.engines import spark_session

    return spark_session("local[2]")


@pytest.fixture(scope="session")
def results():
    """Collects case results; at the end writes the report JSON per engine and prints counts."""
    yield RESULTS
    folder = ROOT / "var" / "conformance"
    for engine, rows in RESULTS.items():
        if not rows:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"test_report_{engine}.json"
        path.write_text(json.dumps(report(rows), indent=2), encoding="utf-8")


def pytest_terminal_summary(terminalreporter):
    for engine, rows in RESULTS.items():
        if rows:
            passed = sum(1 for _, ok, _ in rows if ok)
            terminalreporter.write_line(
                f"SQL on FHIR v2 conformance on {engine}: {passed}/{len(rows)} cases passed "
                f"(report: var/conformance/test_report_{engine}.json)"
            )
