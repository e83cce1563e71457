import json

from typer.testing import CliRunner

from campus.cli import app
from campus.db.migrate import upgrade


def test_cli_creates_an_organisation_invites_its_admin_searches_and_prints_the_dashboard(
    tmp_path, monkeypatch
):
    db_url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(db_url)
    monkeypatch.setenv("CAMPUS_DATABASE_URL", db_url)
    monkeypatch.setenv("CAMPUS_VAR_DIR", str(tmp_path / "var"))
    runner = CliRunner()
    created = runner.invoke(
        app, ["org", "create", "Hôpital Nord", "--kind", "hospital", "--admin", "a@b.example"]
    )
    assert created.exit_code == 0, created.output
    assert "created hopital-nord" in created.output and "/invitations#token=" in created.output
    found = runner.invoke(app, ["org", "search", "hopital"])
    assert found.exit_code == 0 and "Hôpital Nord" in found.output
    bad = runner.invoke(app, ["org", "create", "X", "--kind", "bakery"])
    assert bad.exit_code == 1 and "kind" in bad.output
    figures = runner.invoke(app, ["org", "dashboard", "--year", "2025"])
    assert figures.exit_code == 0
    data = json.loads(figures.output)
    assert data["totals"]["organisations"] == 1
