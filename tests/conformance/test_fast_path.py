"""DuckDB's fast path (root paths materialised into columns) gives the rows of the plain
compiler: every case of the SQL on FHIR v2 suite, and every library view on the Synthea
sample run by `campus view run` with and without `--plain`."""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from campus.cli import app
from campus.errors import CampusError
from campus.views import service
from campus.views.sources import file_source
from tests.conformance.runner import canonical, write_resources
from tests.conformance.test_sql_on_fhir import FILES
from tests.integration.views.test_views_cli import LIBRARY


def outcome(view, source, plain: bool) -> list[str]:
    """The columns and rows of a run as `campus view run --format ndjson` gives them, or
    its error."""
    out = io.BytesIO()
    try:
        result = service.run_to_stream(view, source, out, fmt="ndjson", plain=plain)
    except CampusError as error:
        return [f"error: {error.message}"]
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    return [json.dumps(result.columns), *canonical(rows)]


@pytest.mark.parametrize("name", FILES)
def test_the_fast_path_gives_the_plain_rows_on_every_case(name, suite, tmp_path):
    resources, cases = suite[name]
    source = file_source([write_resources(resources, tmp_path)])
    differ = [
        case.title
        for case in cases
        if outcome(case.view, source, plain=False) != outcome(case.view, source, plain=True)
    ]
    assert not differ, differ


@pytest.mark.slow
def test_the_fast_path_gives_the_plain_rows_of_every_library_view_on_synthea(shared_dir, tmp_path):
    bundles = sorted((shared_dir / "data" / "synthea-r4" / "bundles").glob("*.json"))
    for view in sorted(LIBRARY.glob("*.json")):
        runs = []
        for flags in ([], ["--plain"]):
            out = tmp_path / f"{view.stem}{''.join(flags)}.ndjson"
            command = ["view", "run", str(view), *flags, "--format", "ndjson", "--output"]
            result = CliRunner().invoke(app, [*command, str(out), "--input", *map(str, bundles)])
            assert result.exit_code == 0, result.output
            runs.append(sorted(out.read_text().splitlines()))
        assert runs[0], f"{view.stem} gave no rows"
        assert runs[0] == runs[1], view.stem
