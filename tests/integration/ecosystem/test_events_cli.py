import csv
import io

from campus.ecosystem.events import service
from tests.helpers import run_cli
from tests.integration.ecosystem.events_helpers import member, published_event, staff


def test_event_commands_list_export_and_refuse_unknown_events(monkeypatch, db, settings):
    boss = staff(db)
    event_id = published_event(db, boss, title="Atelier CLI", capacity=1)
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        service.register(session, settings, ana, event_id)
        service.register(session, settings, bob, event_id)
    listed = run_cli(monkeypatch, settings, "event", "list")
    assert listed.exit_code == 0 and "Atelier CLI" in listed.output
    assert "   1/1     +1" in listed.output
    exported = run_cli(monkeypatch, settings, "event", "attendees", event_id)
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert [r["status"] for r in rows] == ["registered", "waitlisted"]
    feed = run_cli(monkeypatch, settings, "event", "ics")
    assert "SUMMARY:Atelier CLI" in feed.output
    missing = run_cli(monkeypatch, settings, "event", "attendees", "nope")
    assert missing.exit_code == 1 and "no such event" in missing.output
    stats = run_cli(monkeypatch, settings, "event", "stats", "--year", "1800")
    assert stats.exit_code == 1


def test_event_commands_name_where_an_error_is(monkeypatch, db, settings):
    missing = run_cli(monkeypatch, settings, "event", "attendees", "nope")
    assert missing.exit_code == 1 and "error: no such event (nope)" in missing.output
    stats = run_cli(monkeypatch, settings, "event", "stats", "--year", "1800")
    assert (
        stats.exit_code == 1 and "error: the year must be from 1900 to 2200 (year)" in stats.output
    )


def test_recount_rebuilds_the_seats_that_sql_by_hand_left_wrong(monkeypatch, db, settings):
    from sqlalchemy import text

    from campus.ecosystem.events.models import Event

    event_id = published_event(db, staff(db), title="Atelier CLI", capacity=1)
    with db.session() as session:
        service.register(session, settings, member(db, "ana@example.org"), event_id)
        session.execute(text("DELETE FROM event_registrations"))  # outside the service
    recounted = run_cli(monkeypatch, settings, "event", "recount")
    assert recounted.exit_code == 0 and "event(s) recounted" in recounted.output
    with db.session() as session:
        assert session.get(Event, event_id).registered_count == 0


def test_remind_queues_the_reminders_due_once(monkeypatch, db, settings):
    import datetime as dt

    from campus.db.base import utcnow

    soon = utcnow() + dt.timedelta(hours=3)
    event_id = published_event(
        db, staff(db), title="Demain", starts_at=soon, ends_at=soon + dt.timedelta(hours=1)
    )
    with db.session() as session:
        service.register(session, settings, member(db, "ana@example.org"), event_id)
    first = run_cli(monkeypatch, settings, "event", "remind")
    assert first.exit_code == 0 and "1 reminder(s) queued" in first.output
    again = run_cli(monkeypatch, settings, "event", "remind")
    assert again.exit_code == 0 and "0 reminder(s) queued" in again.output
