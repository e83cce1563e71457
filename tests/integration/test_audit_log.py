import threading

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
