"""Every example analysis Campus ships releases the same outputs on DuckDB and on Spark.

The examples: the definition in docs/analysis.md and in `campus.analysis.definition`'s
docstring, the one the analysis page offers (`campus.analysis.pages.EXAMPLE`) and the demo
project's job (`campus.analysis.demo.DEMO_ANALYSIS`). The Synthea sample is ingested as
`hopital-synthea` (the dataset they name), one patient objects to reuse, and each example
goes the worker's way (`runner.prepare`, `jobs.controls_for` with the default settings:
threshold 10, rounding to 5; then `runner.execute`) on each engine, Spark in local mode with
one session for the module. The released outputs must be identical.
"""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from campus.analysis import definition, jobs, pages, runner, sources
from campus.analysis.demo import DEMO_ANALYSIS
from campus.auth.actor import SYSTEM
from campus.db.engine import Database
from campus.db.migrate import upgrade
from campus.settings import Settings
from campus.warehouse import service as warehouse
from tests.conftest import ROOT, TEST_SECRET

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DATASET = "hopital-synthea"


def _yaml_block(text: str) -> str:
    found = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert found, "no YAML example"
    return found.group(1)


EXAMPLES = {
    "docs/analysis.md": _yaml_block((ROOT / "docs" / "analysis.md").read_text()),
    "definition docstring": _yaml_block(definition.__doc__ or ""),
    "analysis page": pages.EXAMPLE,
    "demo project": json.dumps(DEMO_ANALYSIS),
}


@pytest.fixture(scope="module")
def synthea(shared_dir, tmp_path_factory):
    """Settings and database of a campus holding the Synthea sample as `hopital-synthea`,
    and the registry key of one of its patients (who objected)."""
    settings = Settings(
        env="test",
        var_dir=tmp_path_factory.mktemp("var"),
        secret_key=SecretStr(TEST_SECRET),
        pseudonym_key=SecretStr(TEST_SECRET + "p"),
        optout_key=SecretStr(TEST_SECRET + "o"),
    ).resolve()
    upgrade(settings.db_url)
    db = Database(settings.db_url)
    with db.session() as session:
        warehouse.create_dataset(session, SYSTEM, DATASET)
    bundles = sorted((shared_dir / "data" / "synthea-r4" / "bundles").glob("*.json"))
    report = warehouse.ingest(db, settings, SYSTEM, DATASET, bundles)
    assert report.read > 20_000
    found = sources.resolve_version(settings.warehouse_path, DATASET, None)
    objector = pq.read_table(found.optout_keys).column("optout_key")[0].as_py()
    yield settings, db, {objector}
    db.dispose()


@pytest.fixture(scope="module")
def spark():
    """The process's one SparkSession, in local mode, for the whole module."""
    pytest.importorskip("pyspark")
    from campus.views.engines import spark_session

    return spark_session("local[2]")


def _released(synthea, text: str, engine: str) -> dict:
    """One example run as the worker runs a job, on `engine`."""
    settings, db, keys = synthea
    analysis = definition.parse(text)
    scope = runner.Scope((DATASET,), tuple(ref.library for ref in analysis.views.values()))
    found = runner.prepare(analysis, settings.warehouse_path, scope)
    analysis = analysis.model_copy(update={"version": found.version})
    with db.session() as session:
        controls, _epsilon = jobs.controls_for(settings, analysis, session)
    out = runner.execute(
        analysis,
        warehouse=settings.warehouse_path,
        kind="real",
        controls=controls,
        scope=scope,
        optout_keys=keys,
        engine=engine,
    )
    return json.loads(json.dumps(out))


def test_every_shipped_example_releases_the_same_outputs_on_duckdb_and_spark(synthea, spark):
    released = 0
    for name, text in EXAMPLES.items():
        on_duckdb = _released(synthea, text, "duckdb")
        on_spark = _released(synthea, text, "spark")
        assert on_spark == on_duckdb, name
        released += sum(len(table["rows"]) for table in on_duckdb["tables"])
    assert released > 10, "nothing released: the comparison would prove nothing"
