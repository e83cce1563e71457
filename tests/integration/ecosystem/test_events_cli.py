import csv
import io

from typer.testing import CliRunner

from campus.cli import app as cli
from campus.ecosystem.events import service
from campus.settings import get_settings
from tests.integration.ecosystem.events_helpers import member, published_event, staff


def _run(monkeypatch, settings, *args):
    monkeypatch.setenv("CAMPUS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("CAMPUS_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()


def test_event_commands_list_export_and_refuse_unknown_events(monkeypatch, db, settings):
    boss = staff(db)
    event_id = published_event(db, boss, title="Atelier CLI", capacity=1)
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        service.register(session, settings, ana, event_id)
        service.register(session, settings, bob, event_id)
    listed = _run(monkeypatch, settings, "event", "list")
    assert listed.exit_code == 0 and "Atelier CLI" in listed.output
    assert "   1/1     +1" in listed.output
    exported = _run(monkeypatch, settings, "event", "attendees", event_id)
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert [r["status"] for r in rows] == ["registered", "waitlisted"]
    feed = _run(monkeypatch, settings, "event", "ics")
    assert "SUMMARY:Atelier CLI" in feed.output
    missing = _run(monkeypatch, settings, "event", "attendees", "nope")
    assert missing.exit_code == 1 and "no such event" in missing.output
    stats = _run(monkeypatch, settings, "event", "stats", "--year", "1800")
    assert stats.exit_code == 1
