"""Reads without a transaction on PostgreSQL, and prepared statements on both backends.

A PostgreSQL connection runs plain reads in autocommit and opens its transaction at the
first statement that is not one; whatever runs after it, reads included, is in that
transaction, so a failed request still writes nothing. A prepared read gives the same rows
as the Core read it compiles; a prepared write opens its transaction as any write does."""

import datetime as dt
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.exc import DataError, MultipleResultsFound, NoResultFound, OperationalError

from campus.auth.models import Account, OutboxMail
from campus.db.base import new_id, utcnow
from campus.db.engine import event_loop_thread, read, write
from campus.db.prepared import CannotPrepare, prepare

_BY_EMAIL = select(Account.id, Account.email, Account.created_at, Account.active).where(
    Account.email == bindparam("email")
)
_PREPARED_BY_EMAIL = prepare(_BY_EMAIL)
# Prepared writes go to a table whose writes no hook watches: campus.auth.changes refuses
# prepared writes to the account tables (they would skip the announcement of actor changes).
_PREPARED_INSERT = prepare(
    insert(OutboxMail.__table__).values(
        {name: bindparam(name) for name in ("to", "subject", "body", "created_at")}
    )
)
_OUTBOX_TO = prepare(select(OutboxMail.to).order_by(OutboxMail.to))
_PREPARED_LOCK = prepare(
    select(Account.id).where(Account.email == bindparam("email")).with_for_update()
)
_ACTIVE_COUNT = prepare(
    select(Account.email).where(Account.active == True).order_by(Account.email)  # noqa: E712
)


def _insert(session, email: str) -> None:
    write(
        session,
        insert(Account.__table__),
        {
            "id": new_id(),
            "email": email,
            "name": "Ada",
            "language": "fr",
            "email_verified": True,
            "active": True,
            "created_at": utcnow(),
        },
    )


def _mail(to: str) -> dict:
    return {"to": to, "subject": "Bonjour", "body": "Texte", "created_at": utcnow()}


def _status(session) -> str:
    return session.connection().connection.dbapi_connection.info.transaction_status.name


# Autocommit reads are PostgreSQL's: these tests take only the `db` fixture's PostgreSQL side.
postgresql_only = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


@postgresql_only
def test_a_read_only_session_opens_no_transaction_on_postgresql(db):
    with db.session() as session:
        read(session, _PREPARED_BY_EMAIL, {"email": "nobody@example.org"}).all()
        session.execute(select(Account)).all()
        assert _status(session) == "IDLE"


@postgresql_only
def test_a_write_opens_the_transaction_and_the_reads_after_it_see_it(db):
    with db.session() as session:
        read(session, _PREPARED_BY_EMAIL, {"email": "ada@example.org"}).all()
        _insert(session, "ada@example.org")
        assert _status(session) == "INTRANS"
        assert read(session, _PREPARED_BY_EMAIL, {"email": "ada@example.org"}).one()
        with db.session() as other:  # not committed yet: invisible elsewhere
            assert read(other, _PREPARED_BY_EMAIL, {"email": "ada@example.org"}).all() == []
    with db.session() as session:
        assert read(session, _PREPARED_BY_EMAIL, {"email": "ada@example.org"}).one()


@postgresql_only
@pytest.mark.parametrize(
    "how", ["core", "orm", "text", "locking read", "prepared", "prepared lock"]
)
def test_a_failed_session_leaves_nothing_written_whatever_wrote(db, how):
    with db.session() as session:
        _insert(session, "keep@example.org")
    with pytest.raises(RuntimeError), db.session() as session:
        read(session, _PREPARED_BY_EMAIL, {"email": "keep@example.org"}).one()
        if how == "core":
            _insert(session, "lost@example.org")
        elif how == "orm":
            session.add(Account(email="lost@example.org", name="Lost"))
            session.flush()
        elif how == "prepared":
            write(session, _PREPARED_INSERT, _mail("lost@example.org"))
        elif how == "prepared lock":
            write(session, _PREPARED_LOCK, {"email": "keep@example.org"}).one()
            session.execute(update(Account).values(email="lost@example.org"))
        elif how == "text":
            session.execute(
                text("UPDATE accounts SET email = 'lost@example.org' WHERE email = :e"),
                {"e": "keep@example.org"},
            )
        else:
            session.execute(
                select(Account).where(Account.email == "keep@example.org").with_for_update()
            )
            session.execute(update(Account).values(email="lost@example.org"))
        raise RuntimeError("the request fails after writing")
    with db.session() as session:
        assert read(session, _PREPARED_BY_EMAIL, {"email": "lost@example.org"}).all() == []
        assert read(session, _PREPARED_BY_EMAIL, {"email": "keep@example.org"}).one()
        assert read(session, _OUTBOX_TO).all() == []


@postgresql_only
def test_a_connection_goes_back_to_autocommit_in_the_pool(db):
    db.engine.pool.dispose()
    with db.session() as session:
        _insert(session, "first@example.org")
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi.autocommit is False
    assert dbapi.autocommit is True
    with db.session() as session:
        read(session, _PREPARED_BY_EMAIL, {"email": "first@example.org"}).one()
        assert _status(session) == "IDLE"


@postgresql_only
def test_a_savepoint_runs_inside_the_transaction_it_opens(db):
    with db.session() as session:
        read(session, _PREPARED_BY_EMAIL, {"email": "x@example.org"}).all()
        with session.begin_nested():
            _insert(session, "inner@example.org")
        assert _status(session) == "INTRANS"
        session.rollback()
    with db.session() as session:
        assert read(session, _PREPARED_BY_EMAIL, {"email": "inner@example.org"}).all() == []


def test_a_prepared_read_gives_the_core_reads_rows_and_types(db):
    with db.session() as session:
        _insert(session, "b@example.org")
        _insert(session, "a@example.org")
    with db.session() as session:
        core = session.execute(_BY_EMAIL, {"email": "a@example.org"}).one()
        fast = read(session, _PREPARED_BY_EMAIL, {"email": "a@example.org"}).one()
        assert tuple(fast) == tuple(core)
        assert fast.email == "a@example.org" and fast.active is True
        assert fast.created_at.tzinfo == dt.UTC  # the UTC type's processor ran (SQLite too)
        emails, *_ = zip(*read(session, _ACTIVE_COUNT).all(), strict=True)
        assert emails == ("a@example.org", "b@example.org")
        assert read(session, _ACTIVE_COUNT).first().email == "a@example.org"
        assert read(session, _ACTIVE_COUNT).scalar() == "a@example.org"
        with pytest.raises(MultipleResultsFound):
            read(session, _ACTIVE_COUNT).one()
        with pytest.raises(NoResultFound):
            read(session, _PREPARED_BY_EMAIL, {"email": "none@example.org"}).one()


def test_a_prepared_read_sees_the_sessions_pending_changes(db):
    with db.session() as session:
        session.add(Account(email="pending@example.org", name="Pending"))
        assert read(session, _PREPARED_BY_EMAIL, {"email": "pending@example.org"}).one()


def test_a_prepared_read_refuses_a_missing_parameter_by_name(db):
    with db.session() as session, pytest.raises(ValueError, match="email"):
        read(session, _PREPARED_BY_EMAIL, {})


@postgresql_only
def test_a_value_the_database_refuses_is_sqlalchemys_data_error(db):
    with db.session() as session, pytest.raises(DataError):
        read(session, _PREPARED_BY_EMAIL, {"email": "nul\x00byte"}).all()


@pytest.mark.parametrize(
    "statement",
    [
        select(Account.id).with_for_update(),
        select(Account.id).where(Account.email.in_(["a", "b"])),
        select(text("pg_advisory_xact_lock(1)")),
    ],
    ids=["locking read", "IN list", "side effect"],
)
def test_a_prepared_read_takes_only_a_plain_fixed_select(db, statement):
    with pytest.raises(CannotPrepare), db.session() as session:
        read(session, prepare(statement))


def test_a_prepared_locking_read_takes_the_lock_and_opens_the_transaction(db):
    with db.session() as session:
        _insert(session, "lock@example.org")
    with db.session() as session:
        read(session, _PREPARED_BY_EMAIL, {"email": "lock@example.org"}).one()
        row = write(session, _PREPARED_LOCK, {"email": "lock@example.org"}).one()
        dbapi = session.connection().connection.dbapi_connection
        if db.is_postgresql:
            assert _status(session) == "INTRANS"
            with db.engine.connect() as other:
                other.exec_driver_sql("SET lock_timeout = '100ms'")
                with pytest.raises(OperationalError):  # the row is locked until the commit
                    other.execute(
                        select(Account.id).where(Account.id == row.id).with_for_update()
                    ).all()
        else:
            assert dbapi.in_transaction  # BEGIN IMMEDIATE: SQLite's write lock is held


def test_read_refuses_a_prepared_write_or_locking_read(db):
    with db.session() as session:
        with pytest.raises(CannotPrepare):
            read(session, _PREPARED_LOCK, {"email": "x@example.org"})
        with pytest.raises(CannotPrepare):
            read(session, _PREPARED_INSERT, {})


def test_a_prepared_write_given_several_parameter_sets_writes_each_in_the_transaction(db):
    rows = [_mail(f"many{n}@example.org") for n in range(3)]
    with pytest.raises(RuntimeError), db.session() as session:
        write(session, _PREPARED_INSERT, rows)
        raise RuntimeError("the request failed after writing")
    with db.session() as session:
        assert read(session, _OUTBOX_TO).all() == []  # rolled back with the session
        write(session, _PREPARED_INSERT, rows)
        write(session, _PREPARED_INSERT, [])  # nothing to write: nothing sent
    with db.session() as session:
        recipients = [row.to for row in read(session, _OUTBOX_TO)]
        assert recipients == [f"many{n}@example.org" for n in range(3)]
        with pytest.raises(CannotPrepare):  # a locking read runs with one parameter set
            write(session, _PREPARED_LOCK, [{"email": "many0@example.org"}])


@contextmanager
def _on_the_event_loop():
    """Run as a request on the worker's event loop does (campus.web.middleware)."""
    token = event_loop_thread.set(threading.get_ident())
    try:
        yield
    finally:
        event_loop_thread.reset(token)


@postgresql_only
def test_plain_reads_on_the_event_loop_share_one_connection_outside_the_pool(db):
    with db.session() as session:
        _insert(session, "ada@example.org")
    checked_out = db.engine.pool.checkedout()
    with _on_the_event_loop():
        for _ in range(3):
            with db.sessions() as session:
                found = read(session, _PREPARED_BY_EMAIL, {"email": "ada@example.org"}).one()
                assert found.email == "ada@example.org"
                assert not session.in_transaction()  # no pool connection was taken
                assert db.engine.pool.checkedout() == checked_out
    pids = set()
    with _on_the_event_loop():
        for _ in range(2):
            with db.sessions() as session:
                pids.add(read(session, prepare(select(func.pg_backend_pid()))).scalar())
    assert len(pids) == 1


@postgresql_only
def test_a_session_that_wrote_reads_its_own_writes_on_its_own_connection(db):
    with _on_the_event_loop(), db.sessions() as session:
        with event_loop_thread_unset():
            _insert(session, "ada@example.org")  # a write (done on the thread pool)
        found = read(session, _PREPARED_BY_EMAIL, {"email": "ada@example.org"}).all()
        assert [row.email for row in found] == ["ada@example.org"]  # not committed yet
        session.rollback()


@postgresql_only
def test_a_lost_event_loop_connection_is_replaced_at_the_next_read(db):
    pid = prepare(select(func.pg_backend_pid()))
    with _on_the_event_loop(), db.sessions() as session:
        first = read(session, pid).scalar()
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    with _on_the_event_loop(), db.sessions() as session, pytest.raises(OperationalError):
        read(session, pid).scalar()
    with _on_the_event_loop(), db.sessions() as session:
        assert read(session, pid).scalar() != first


@contextmanager
def event_loop_thread_unset():
    token = event_loop_thread.set(None)
    try:
        yield
    finally:
        event_loop_thread.reset(token)
