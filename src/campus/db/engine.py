"""Engine and session factory for one database URL."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import orjson
from sqlalchemy import Engine, Executable, Result, Select, create_engine, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from campus.db import prepared
from campus.db.prepared import SIDE_EFFECTS, CannotPrepare, Prepared, Rows, begin_writing

T = TypeVar("T")
WRITES = "campus_writes"  # Session.info key: set once the session has sent a write
# The thread running the web worker's event loop, set for each request (campus.web). A write
# there could wait for a lock held by another request that needs the loop: refused.
event_loop_thread: ContextVar[int | None] = ContextVar("event_loop_thread", default=None)


class WriteOnEventLoop(RuntimeError):
    """A route wrote to the database on the event loop; it must be a `def` route."""


def _refuse_on_event_loop() -> None:
    if event_loop_thread.get() == threading.get_ident():
        raise WriteOnEventLoop(
            "a database write ran on the event loop: make the route `def` (forms: form_data)"
        )


def make_engine(url: str) -> Engine:
    """An engine with the per-backend settings Campus relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_deserializer=orjson.loads,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        event.listen(engine, "before_execute", _sqlite_locking_read)
        return engine
    if url.startswith("postgresql"):
        from psycopg.types.json import set_json_loads

        # JSON columns are read on most pages: orjson parses them several times faster.
        set_json_loads(orjson.loads)
    # No pre-ping: it costs a round trip on every checkout. A connection found dead is
    # reported once, and SQLAlchemy then drops the whole pool; recycling bounds their age.
    engine = create_engine(url, pool_size=20, max_overflow=20, pool_recycle=1800)
    if url.startswith("postgresql"):
        _transaction_from_first_write(engine)
    return engine


def _transaction_from_first_write(engine: Engine) -> None:
    """On PostgreSQL, a connection opens its transaction at its first statement that is not a
    plain read; the plain reads before it run in autocommit.

    A request that only reads (most pages) then costs no BEGIN and no COMMIT: two round trips
    of its three or four. Nothing is lost: in READ COMMITTED, PostgreSQL's level and the one
    Campus uses, every statement already takes its own snapshot, in a transaction or not, and
    a plain read takes no lock that a transaction would hold. A plain read is a compiled
    SELECT without FOR UPDATE/SHARE and without a function that acts on the session; anything
    else (insert, update, delete, a locking read, a savepoint, text(), DDL) first switches the
    connection out of autocommit, so it and every statement after it, reads included, run in
    one transaction until the commit or rollback. The connection returns to autocommit when
    it goes back to the pool.
    """
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_conn, _record) -> None:
        dbapi_conn.autocommit = True

    @event.listens_for(engine, "checkin")
    def _back_to_autocommit(dbapi_conn, _record) -> None:
        if dbapi_conn is None or dbapi_conn.closed or dbapi_conn.autocommit:
            return
        if dbapi_conn.info.transaction_status != TransactionStatus.IDLE:
            dbapi_conn.rollback()  # the pool's reset has normally done it already
        dbapi_conn.autocommit = True

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_write(conn, _cursor, statement, _params, context, _many) -> None:
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn.autocommit and not _is_plain_read(context, statement):
            begin_writing(dbapi_conn, "postgresql", locking=False)


def _is_plain_read(context, statement: str) -> bool:
    compiled = getattr(context, "compiled", None)
    target = getattr(compiled, "statement", None)
    return (
        isinstance(target, Select)
        and target._for_update_arg is None
        and not SIDE_EFFECTS.search(statement)
    )


def _sqlite_locking_read(conn, statement, _multiparams, _params, _options) -> None:
    """SQLite has no row locks, and its driver opens a transaction only at the first write:
    a `SELECT ... FOR UPDATE` would count seats outside any transaction, and two requests
    could both take the last one. Before a locking read outside a write transaction, take
    the database's write lock (BEGIN IMMEDIATE, which waits its turn like a row lock), so the
    read and the writes that follow it are serialised with every other writer."""
    if getattr(statement, "_for_update_arg", None) is None:
        return
    begin_writing(conn.connection.dbapi_connection, "sqlite", locking=True)


class Database:
    """One database: its engine and a session factory."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessions, "before_flush", _flushing)
        event.listen(self.sessions, "after_flush", _flushed)
        event.listen(self.sessions, "do_orm_execute", _executed)
        event.listen(self.sessions, "after_transaction_end", _ended)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _has_pending(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted)


def _flushing(session: Session, _context, _instances) -> None:
    if _has_pending(session):
        _refuse_on_event_loop()


def _flushed(session: Session, _context) -> None:
    session.info[WRITES] = True


def _writing(session: Session) -> None:
    """A write is about to be sent: refused on the event loop, and remembered for the commit."""
    _refuse_on_event_loop()
    session.info[WRITES] = True


def _executed(state: ORMExecuteState) -> None:
    # Anything but an ORM or Core SELECT counts as a write: text() statements included, so
    # that a raw statement is never mistaken for a read.
    if not state.is_select:
        _writing(state.session)


def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: its writes are settled
        session.info.pop(WRITES, None)


def has_writes(session: Session) -> bool:
    """Whether committing `session` has anything to make durable (pending or sent writes)."""
    return bool(session.info.get(WRITES)) or _has_pending(session)


def read(
    session: Session, statement: Executable | Prepared, params: dict | None = None
) -> Result | Rows:
    """Run a read-only Core select on the session's connection and transaction.

    For hot read paths (every page request): the ORM's per-statement work, about 0.3 ms of
    CPU, is skipped, and rows come back as named tuples rather than entities. Pending ORM
    changes are flushed first, as an ORM query would (autoflush), so the read sees them. A
    `Prepared` statement (campus.db.prepared) also skips Core's execution machinery.
    """
    if isinstance(statement, Prepared):
        if statement.kind != "read":
            raise CannotPrepare("a locking read or a write goes through engine.write")
        own = _loop_connection(session)
        if own is not None:
            return _read_on_loop(session, own, statement, params)
        return _run_prepared(session, statement, params)
    return _execute(session, statement, params)


# The event loop's own connection, per engine and thread (PostgreSQL). A request's first
# database work used to check a connection out of the pool and give it back at the end: about
# 250 µs of CPU around a read of 100 µs, for a page that reads once or twice. Plain reads on
# the loop are sequential (the loop runs one thing at a time and a read blocks it), so one
# connection serves them all. A prepared plain read takes it when the session holds no
# connection yet: it runs in autocommit and sees what is committed, as the session's first
# read would (campus.db.engine: plain reads before a write run in autocommit). A session that
# holds a connection (it wrote, or ran an ORM query) keeps reading on it, and sees its own
# writes.
_loop_connections: weakref.WeakKeyDictionary[Engine, threading.local] = weakref.WeakKeyDictionary()
_loop_connections_lock = threading.Lock()


def _loop_connection(session: Session):
    """The driver connection for a plain read of `session` on the event loop, or None (off
    the loop, not PostgreSQL, or the session holds a connection)."""
    if event_loop_thread.get() != threading.get_ident():
        return None
    if session.in_transaction() or _has_pending(session):
        return None
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return None
    with _loop_connections_lock:
        local = _loop_connections.get(engine)
        if local is None:
            local = _loop_connections[engine] = threading.local()
    found = getattr(local, "connection", None)
    if found is None or found.closed or found.broken:
        fairy = engine.raw_connection()  # connected by the pool's rules, then its own
        fairy.detach()
        found = local.connection = fairy.dbapi_connection
    return found


def _read_on_loop(session: Session, connection, statement: Prepared, params: dict | None) -> Rows:
    try:
        return prepared.run_on(session.get_bind().dialect, connection, statement, params)
    except Exception:
        if connection.closed or connection.broken:  # the next read connects again
            connection.close()
        raise


def write(
    session: Session, statement: Executable | Prepared, params: dict | list[dict] | None = None
) -> Result | Rows:
    """Run a Core insert, update, delete or locking select (FOR UPDATE) on the session's
    connection and transaction; an insert, update or delete given a list of parameter sets
    runs once for each, as one batch.

    For hot write paths (a registration, an audit event): the ORM's unit of work, about half
    a millisecond of CPU a flush, is skipped; a `Prepared` statement also skips Core's
    execution machinery. Like every write it is refused on the event loop and marks the
    session as written, so the request commits on the thread pool.
    """
    _writing(session)
    if isinstance(statement, Prepared):
        return _run_prepared(session, statement, params)
    return _execute(session, statement, params)


def lock(session: Session, entity: T) -> T:
    """Lock an entity's row until the transaction ends and reload it from the database.

    For a state change decided by reading the row (decide, revoke, accept...): a check made
    after this sees the latest committed state, and a concurrent request doing the same waits
    here until this one commits, then sees its outcome. `SELECT ... FOR UPDATE`; on SQLite, the
    database's write lock. A write like any other: refused on the event loop.
    """
    _writing(session)
    session.refresh(entity, with_for_update=True)
    return entity


def _run_prepared(session: Session, statement: Prepared, params: dict | list[dict] | None) -> Rows:
    """A prepared statement on the session's connection, after an autoflush."""
    if session.autoflush:
        session.flush()
    return prepared.run(session.connection(), statement, params)


def _execute(session: Session, statement: Executable, params: dict | list[dict] | None) -> Result:
    """Core execution on the session's transaction, after an autoflush (as the ORM would),
    so that the statement sees, and follows, the session's pending changes."""
    if session.autoflush:
        session.flush()  # returns at once when nothing is pending
    return session.connection().execute(statement, params)
