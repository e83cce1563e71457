"""`campus view run` on raw files and on a dataset's dummy twin, in every format."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from campus.cli import app
from tests.integration.views.helpers import build_version

LIBRARY = Path(__file__).resolve().parents[3] / "src" / "campus" / "views" / "library"


@pytest.fixture(scope="module")
def bundles(hospital_bundles):
    """Four patients, the first with two given names (a collection where a view expects one
    value: the failing run below needs it)."""
    patients = [f for f in hospital_bundles if "Information" not in f.name]
    several = next(
        f
        for f in patients
        if len(json.loads(f.read_text())["entry"][0]["resource"]["name"][0]["given"]) > 1
    )
    return [several, *[f for f in patients if f != several][:3]]


def run(*args, env=None):
    return CliRunner().invoke(app, ["view", *map(str, args)], env=env)


def test_run_on_raw_bundles_writes_csv_parquet_and_ndjson(bundles, tmp_path):
    view = LIBRARY / "observations.json"
    for fmt in ("parquet", "csv", "ndjson"):
        out = tmp_path / f"obs.{fmt}"
        result = run("run", view, "--input", *bundles, "--format", fmt, "--output", out)
        assert result.exit_code == 0, result.output
        if fmt == "parquet":
            table = pq.read_table(out)
            assert table.column_names[:2] == ["observation_id", "patient_id"]
            count = table.num_rows
        elif fmt == "csv":
            lines = out.read_text().splitlines()
            assert lines[0].replace('"', "").startswith("observation_id,patient_id")
            assert len(lines) - 1 == count
        else:
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            assert len(rows) == count and {r["patient_id"] for r in rows}
    assert count > 0


def test_run_streams_to_standard_output(bundles):
    result = run(
        "run", LIBRARY / "patient_demographics.json", "--input", *bundles, "--format", "ndjson"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4 and all(r["gender"] in ("male", "female") for r in rows)


def test_a_failing_run_leaves_no_partial_file(bundles, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "resource": "Patient",
                "select": [{"column": [{"name": "given", "path": "name.given"}]}],
            }
        )
    )
    out = tmp_path / "out.csv"
    result = run("run", bad, "--input", *bundles, "--output", out)
    assert result.exit_code == 1
    assert "column 'given'" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == [bad]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        (
            '{"resource": "Patient", "select": [{"column": [{"name": "x", "path": "id", '
            '"type": "text"}]}]}',
            "(at $.select[0].column[0].type)",
        ),
        (
            '{"resource": "Patient", "select": [{"column": [{"name": "x", "path": "a..b"}]}]}',
            "FHIRPath syntax error at character 3",
        ),
    ],
)
def test_bad_views_fail_with_a_clear_message(tmp_path, bundles, content, words):
    path = tmp_path / "v.json"
    path.write_text(content)
    result = run("run", path, "--input", *bundles)
    assert result.exit_code == 1 and words in result.output
    assert "Traceback" not in result.output


def test_bad_input_files_are_named(tmp_path):
    broken = tmp_path / "broken.ndjson"
    broken.write_text('{"resourceType": "Patient", "id": "a"}\n{"resourceType": \n')
    result = run("run", LIBRARY / "patient_demographics.json", "--input", broken)
    assert result.exit_code == 1 and "could not read the FHIR input" in result.output
    result = run("run", LIBRARY / "patient_demographics.json", "--input", tmp_path / "none.ndjson")
    assert result.exit_code == 1 and "no such file" in result.output


def test_dataset_runs_read_the_dummy_twin_and_real_data_is_refused(bundles, tmp_path):
    warehouse = tmp_path / "warehouse"
    build_version(bundles, warehouse, "synthea")
    env = {"CAMPUS_WAREHOUSE_DIR": str(warehouse), "CAMPUS_VAR_DIR": str(tmp_path / "var")}
    view = LIBRARY / "conditions.json"
    refused = run("run", view, "--dataset", "synthea", env=env)
    assert refused.exit_code == 1 and "analysis jobs" in refused.output
    out = tmp_path / "c.ndjson"
    done = run(
        "run",
        view,
        "--dataset",
        "synthea",
        "--dummy",
        "--version",
        "v0001",
        "--format",
        "ndjson",
        "--output",
        out,
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert out.read_text().count("\n") > 0
    missing = run("run", view, "--dataset", "synthea", "--dummy", "--version", "v0009", env=env)
    assert missing.exit_code == 1 and "no version 'v0009'" in missing.output


def test_validate_and_sql_commands(tmp_path):
    result = run("validate", LIBRARY / "encounters.json")
    assert result.exit_code == 0 and "valid view on Encounter" in result.output
    result = run("sql", LIBRARY / "encounters.json", "--dialect", "spark")
    assert result.exit_code == 0 and "parse_json" in result.output


def test_an_unknown_element_is_a_warning_on_standard_error_and_strict_refuses_it(bundles, tmp_path):
    view = tmp_path / "typo.json"
    view.write_text(
        json.dumps(
            {
                "resource": "Patient",
                "select": [
                    {"column": [{"name": "id", "path": "id"}, {"name": "f", "path": "name.famly"}]}
                ],
            }
        )
    )
    out = tmp_path / "rows.ndjson"
    result = run("run", view, "--input", *bundles, "--format", "ndjson", "--output", out)
    assert result.exit_code == 0, result.output
    assert "warning: HumanName has no element 'famly'; did you mean 'family'?" in result.stderr
    assert "(at $.select[0].column[1].path)" in result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and all(r["f"] is None for r in rows)
    streamed = run("run", view, "--input", *bundles, "--format", "ndjson")
    assert streamed.exit_code == 0 and "warning:" not in streamed.stdout
    assert "did you mean 'family'?" in streamed.stderr
    assert "did you mean 'family'?" in run("validate", view).stderr
    strict = run("run", view, "--input", *bundles, "--strict", "--output", tmp_path / "s.csv")
    assert strict.exit_code == 1 and "error: HumanName has no element 'famly'" in strict.output
    assert not (tmp_path / "s.csv").exists()
    assert run("validate", view, "--strict").exit_code == 1
