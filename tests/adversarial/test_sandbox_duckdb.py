"""DuckDB reads only the dataset version's folder, whatever SQL reaches it (finding 6).

Escaping in the compilers is the first barrier. These tests assume it failed: they feed SQL
straight into the analysis runner's and the view runner's connections, and check that
reading a file elsewhere, writing one anywhere, installing or loading an extension or
unlocking the configuration all fail, while the ordinary query still works.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from campus.analysis import definition, results, runner, sources
from campus.errors import BadRequest
from campus.views import service as views
from campus.views.engines import DuckDBEngine
from campus.views.sources import dataset_source
from tests.integration.analysis import warehouse

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@pytest.fixture
def version(settings, tmp_path, monkeypatch) -> Path:
    library = warehouse.write_library(tmp_path / "library")
    monkeypatch.setattr(sources, "library_dir", lambda: library)
    return warehouse.build_version(settings.warehouse_path, settings)


def _attacks(tmp_path: Path) -> dict[str, str]:
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("a,b\n1,2\n")
    return {
        "read /etc/passwd": "SELECT * FROM read_csv('/etc/passwd')",
        "read a file next door": f"SELECT * FROM read_csv('{secret}')",
        "list files": "SELECT * FROM glob('/etc/*')",
        "copy out": f"COPY (SELECT 42 AS x) TO '{tmp_path / 'stolen.csv'}'",
        "attach": f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
        "install": "INSTALL httpfs",
        "load": "LOAD httpfs",
        "unlock": "SET enable_external_access = true",
        "unlock the lock": "SET lock_configuration = false",
    }


def _run_with(settings, extra: str):
    """The analysis runner, with `extra` SQL slipped in after the compiler's own."""
    real = runner.compile_analysis

    def compile_with_extra(*args, **kwargs):
        compiled = real(*args, **kwargs)
        return dataclasses.replace(compiled, setup=[*compiled.setup, extra])

    runner.compile_analysis = compile_with_extra
    try:
        return runner.execute(
            definition.parse(warehouse.MARKER_ANALYSIS),
            warehouse=settings.warehouse_path,
            kind="dummy",
            controls=results.Controls(),
        )
    finally:
        runner.compile_analysis = real


def test_the_analysis_runner_refuses_files_extensions_and_settings_fed_directly(
    settings, version, tmp_path
):
    assert _run_with(settings, "SELECT 1")["tables"]  # the ordinary path still works
    for sql in _attacks(tmp_path).values():
        with pytest.raises((duckdb.Error, BadRequest)):
            _run_with(settings, sql)
    assert not (tmp_path / "stolen.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_the_view_runner_refuses_files_fed_directly(settings, version, tmp_path):
    source = dataset_source(settings.warehouse_path, warehouse.DATASET, dummy=True)
    view = warehouse.VIEWS["conditions"]
    assert views.preview(view, source, limit=3)["rows"]  # the ordinary path still works
    for name, sql in _attacks(tmp_path).items():
        engine = DuckDBEngine(source)
        try:
            compiled = views.compile_view(views.validate(view), engine.table("Condition"), "duckdb")
            evil = dataclasses.replace(compiled, sql=sql)
            with pytest.raises(BadRequest):
                engine.rows(evil)
        finally:
            engine.close()
        assert not (tmp_path / "stolen.csv").exists(), name
