import json

from typer.testing import CliRunner

from campus.cli import app
from tests.integration.participation.helpers import make_consultation


def test_the_cli_lists_closes_and_exports_a_consultation(db, settings, monkeypatch):
    monkeypatch.setattr("campus.commandline.get_settings", lambda: settings)
    cid = make_consultation(db, "voting")
    runner = CliRunner()
    listed = runner.invoke(app, ["consultation", "list"])
    assert listed.exit_code == 0 and f"{cid}  voting" in listed.output
    refused = runner.invoke(app, ["consultation", "close", cid, "--by", "nobody@example.org"])
    assert refused.exit_code == 1
    closed = runner.invoke(app, ["consultation", "close", cid, "--by", "staff@example.org"])
    assert closed.exit_code == 0, closed.output
    again = runner.invoke(app, ["consultation", "close", cid, "--by", "staff@example.org"])
    assert again.exit_code == 1
    exported = runner.invoke(app, ["consultation", "results", cid])
    assert json.loads(exported.output)["published"] is True
    missing = runner.invoke(app, ["consultation", "results", "nope"])
    assert missing.exit_code == 1
