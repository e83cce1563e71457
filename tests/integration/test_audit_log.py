import threading
import time

import pytest
from sqlalchemy import text

from campus.audit import service as audit
from tests.helpers import run_cli


def _write(db, n, actor="tester"):
    with db.session() as session:
        for i in range(n):
            audit.record(
                session, actor=actor, action="test.event", object_id=str(i), details={"i": i}
            )


def _drop_append_only_guard(db):
    """What an attacker with database access would do before tampering."""
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))


def test_intact_chain_verifies(db):
    _write(db, 20)
    with db.session() as session:
        result = audit.verify(session)
    assert result.ok and result.checked == 20


def test_the_database_refuses_to_update_or_delete_an_event(db):
    _write(db, 2)
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 1"))
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq = 2"))


@pytest.mark.parametrize(
    "tamper, broken_at, reason",
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 5", 5, "modified"),
        ("DELETE FROM audit_events WHERE seq = 5", 5, "missing"),
        ("UPDATE audit_events SET seq = seq + 100 WHERE seq IN (4, 5)", 4, "missing"),
    ],
    ids=["modified", "deleted", "reordered"],
)
def test_cli_verify_reports_the_first_broken_link(
    db, settings, monkeypatch, tamper, broken_at, reason
):
    _write(db, 10)
    _drop_append_only_guard(db)
    with db.engine.begin() as connection:
        connection.execute(text(tamper))
    result = run_cli(monkeypatch, settings, "audit", "verify")
    assert result.exit_code == 1
    assert f"BROKEN at event {broken_at}" in result.output
    assert reason in result.output


def test_swapping_two_events_is_detected(db):
    _write(db, 6)
    _drop_append_only_guard(db)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 2"))
        connection.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 3"))
        connection.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = -1"))
    with db.session() as session:
        result = audit.verify(session)
    assert not result.ok and result.broken_at == 2


def test_details_that_could_identify_a_patient_are_refused(db):
    with pytest.raises(ValueError, match="nir"), db.session() as session:
        audit.record(session, actor="x", action="y", details={"nir": "1"})


def test_concurrent_writers_cannot_fork_the_chain(db):
    errors = []

    def writer(k):
        try:
            _write(db, 10, actor=f"w{k}")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session() as session:
        result = audit.verify(session)
        assert result.ok and result.checked == 80


def _chain_and_pending(db):
    from sqlalchemy import func, select

    from campus.audit.models import AuditEvent, PendingAuditEvent

    with db.engine.connect() as connection:
        chained = connection.scalar(select(func.count()).select_from(AuditEvent))
        pending = connection.scalar(select(func.count()).select_from(PendingAuditEvent))
    return chained, pending


def test_events_are_sealed_into_the_chain_when_their_transaction_commits(db):
    with db.session() as session:
        audit.record(session, actor="a", action="test.one")
        audit.record(session, actor="a", action="test.two")
        assert _chain_and_pending(db) == (0, 0)  # nothing visible before the commit
    assert _chain_and_pending(db) == (2, 0)
    with db.session() as session:
        events = audit.recent(session)
    assert [e.action for e in events] == ["test.two", "test.one"]  # recorded order kept
    assert [e.seq for e in events] == [2, 1] and events[0].prev_hash == events[1].hash


def test_a_rolled_back_transaction_leaves_no_event(db):
    with pytest.raises(RuntimeError), db.session() as session:
        audit.record(session, actor="a", action="test.lost")
        raise RuntimeError("the action failed")
    assert _chain_and_pending(db) == (0, 0)


def test_a_writer_does_not_wait_for_another_open_transaction(db):
    """Recording takes no lock shared with other writers: an open transaction that recorded
    an event does not hold up another writer's commit, nor the seal of its event."""
    if not db.is_postgresql:
        pytest.skip("SQLite has one writer at a time by design")
    slow = db.sessions()
    try:
        audit.record(slow, actor="slow", action="test.slow")
        slow.flush()  # the row is written, the transaction stays open
        done = threading.Event()

        def fast():
            _write(db, 1, actor="fast")
            done.set()

        thread = threading.Thread(target=fast)
        thread.start()
        assert done.wait(timeout=10), "the second writer waited for the first one"
        thread.join()
        assert _chain_and_pending(db) == (1, 0)
        slow.commit()
    finally:
        slow.close()
    with db.session() as session:
        assert [e.actor for e in audit.recent(session)] == ["slow", "fast"]
        assert audit.verify(session).ok


def test_an_event_whose_seal_failed_is_sealed_by_the_next_one(db, monkeypatch, caplog):
    real = audit.seal
    database_away = True

    def failing_while_away(connection):
        # Every seal fails while the database is away, whichever thread tries it (a retry
        # from the sealer thread included), so the check below does not race with one.
        if database_away:
            raise ConnectionError("the database went away")
        return real(connection)

    monkeypatch.setattr(audit, "seal", failing_while_away)
    _write(db, 3)  # committed; its seal fails and is only logged
    assert _chain_and_pending(db) == (0, 3)
    assert "stay pending" in caplog.text and "went away" not in caplog.text
    database_away = False
    _write(db, 1)  # the next seal takes the earlier events too
    _wait_until_sealed(db)
    assert _chain_and_pending(db) == (4, 0)
    with db.session() as session:
        assert audit.verify(session).checked == 4


def _wait_until_sealed(db, seconds=10.0):
    deadline = time.monotonic() + seconds
    while _chain_and_pending(db)[1] and time.monotonic() < deadline:
        time.sleep(0.02)


def test_under_a_burst_of_commits_a_process_seals_once_an_interval(db, monkeypatch):
    monkeypatch.setattr(audit, "SEAL_INTERVAL", 0.5)
    sealer = audit.sealer_for(db.engine)
    for n in range(30):
        _write(db, 1, actor=f"writer{n}")
    # The first commit sealed at once; the others wait for the end of the interval.
    chained, pending = _chain_and_pending(db)
    assert chained + pending == 30 and pending > 0
    _wait_until_sealed(db)
    assert _chain_and_pending(db) == (30, 0)
    assert sealer.seals <= 3
    with db.session() as session:
        result = audit.verify(session)
        assert result.ok and result.checked == 30
        assert [e.actor for e in audit.recent(session, limit=2)] == ["writer29", "writer28"]


def test_readers_of_the_chain_see_events_still_waiting_for_their_seal(db, monkeypatch):
    monkeypatch.setattr(audit, "SEAL_INTERVAL", 5.0)
    _write(db, 1, actor="first")  # sealed at once
    _write(db, 1, actor="second")  # waits for the interval
    assert _chain_and_pending(db) == (1, 1)
    with db.session() as session:
        assert [e.actor for e in audit.recent(session)] == ["second", "first"]
    assert _chain_and_pending(db) == (2, 0)


def test_events_owed_a_seal_are_sealed_when_the_process_exits(db, monkeypatch):
    monkeypatch.setattr(audit, "SEAL_INTERVAL", 2.0)
    _write(db, 1)
    _write(db, 2)
    assert _chain_and_pending(db) == (1, 2)
    audit._flush_at_exit()  # what atexit runs
    assert _chain_and_pending(db) == (3, 0)
