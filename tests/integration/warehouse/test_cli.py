import json

from typer.testing import CliRunner

from campus.cli import app as cli
from campus.settings import get_settings
from tests.unit.warehouse.samples import NIR, small_bundle, write_json


def _run(monkeypatch, settings, *args):
    monkeypatch.setenv("CAMPUS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("CAMPUS_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()


def test_ingest_list_show_drop_and_optout_from_the_command_line(monkeypatch, settings, tmp_path):
    bundle = write_json(tmp_path / "b.json", small_bundle())
    ingested = _run(monkeypatch, settings, "ingest", "--dataset", "demo", str(bundle))
    assert ingested.exit_code == 0, ingested.output
    assert "published: demo v0001" in ingested.output
    listed = _run(monkeypatch, settings, "dataset", "list")
    assert "demo" in listed.output and "v0001 (4)" in listed.output
    shown = json.loads(_run(monkeypatch, settings, "dataset", "show", "demo").output)
    assert shown["manifest"]["counts"]["Observation"] == 2
    added = _run(monkeypatch, settings, "optout", "add", NIR.replace("7", " 7", 1))
    assert added.exit_code == 0 and "registered: receipt OPT-" in added.output
    bad = _run(monkeypatch, settings, "optout", "add", "1234")
    assert bad.exit_code == 1 and "15 characters" in bad.output
    listing = _run(monkeypatch, settings, "optout", "list")
    assert "1 objection" in listing.output and NIR not in listing.output
    again = _run(
        monkeypatch, settings, "ingest", "-d", "demo", "--on-error", "abort", "--json", str(bundle)
    )
    assert again.exit_code == 1 and json.loads(again.output)["dropped_optout"] == 4
    dropped = _run(monkeypatch, settings, "dataset", "drop", "demo", "--version", "v0001", "--yes")
    assert dropped.exit_code == 0 and "dropped demo: v0001" in dropped.output
    missing = _run(monkeypatch, settings, "ingest", "-d", "demo", str(tmp_path / "nothing"))
    assert missing.exit_code == 1 and "no such file" in missing.output
