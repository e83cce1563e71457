"""The example views give the same rows on DuckDB and Spark over the same warehouse version."""

from __future__ import annotations

import pytest

from campus.views import service
from campus.views.compiler import compile_view
from campus.views.engines import DuckDBEngine, SparkEngine
from campus.views.sources import dataset_source
from tests.conformance.runner import canonical
from tests.integration.views.helpers import build_version


@pytest.fixture(scope="module")
def version(hospital_bundles, tmp_path_factory):
    patients = [f for f in hospital_bundles if "Information" not in f.name][:6]
    warehouse = tmp_path_factory.mktemp("warehouse")
    build_version(patients, warehouse, "synthea")
    return dataset_source(warehouse, "synthea", "v0001", dummy=False)


@pytest.mark.spark
def test_example_views_give_the_same_rows_on_duckdb_and_spark(version, spark):
    duck = DuckDBEngine(version)
    sparky = SparkEngine(version, session=spark)
    try:
        for name, view in service.library().items():
            definition = service.validate(view)
            on_duckdb = duck.rows(compile_view(definition, duck.table(definition.resource)))
            on_spark = sparky.rows(
                compile_view(definition, sparky.table(definition.resource), "spark")
            )
            assert on_duckdb, f"{name} gave no rows"
            assert canonical(on_duckdb) == canonical(on_spark), name
    finally:
        duck.close()
        sparky.close()
