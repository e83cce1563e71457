"""Prepared statements: a hot, fixed statement compiled once and run on the driver's cursor.

The busiest reads (an API token or a web session on every request, the seats of an event)
are module-level constants with bound parameters. Through SQLAlchemy's Core execution each
costs about 140 microseconds of CPU on top of the driver's own work: cache-key generation,
execution context, result metadata, events. `prepare(statement)` compiles the statement once
per database dialect (SQL text, bind and result processors, a row type), and `read()` in
`campus.db.engine` runs it straight on the connection's driver cursor, in the session's
connection and transaction.

What stays the same as a Core read: parameter and result types are processed by the same
SQLAlchemy type processors (UTC datetimes, enums, JSON), rows have named fields and unpack
as tuples, driver errors arrive as SQLAlchemy's `DBAPIError` subclasses (so the web layer's
`DataError` -> 400 still applies), and the session's pending changes are flushed first.

A prepared plain read (a SELECT without FOR UPDATE/SHARE) goes through `engine.read`; a
prepared locking read, INSERT, UPDATE or DELETE (the hot writes: a registration, an audit
event) through `engine.write`, which marks the session as written and refuses the event loop
as for any write. Before a write runs, `begin_writing` opens its transaction by the rule the
engine's execution hooks apply to every other statement. Parameters expanded at execution
time (`IN` lists) cannot be prepared, and an INSERT names its columns with `.values(...)`
(column defaults computed in Python are not applied). A write to a table whose changes are
announced by ORM and Core hooks (the actor's tables, `campus.auth.changes`) is refused: a
prepared write would skip the announcement.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, Insert, Select, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound

# A SELECT calling one of these acts on the session or the transaction: not a plain read.
SIDE_EFFECTS = re.compile(
    r"\b(?:pg_(?:try_)?advisory_\w+|nextval|setval|pg_notify|set_config|txid_current"
    r"|pg_current_xact_id)\s*\(",
    re.IGNORECASE,
)


# Tables whose writes must go through the ORM or Core execution, whose hooks a prepared write
# skips: table name -> why. Filled by the modules that own the hooks (campus.auth.changes).
NO_PREPARED_WRITES: dict[str, str] = {}


def refuse_prepared_writes(tables: dict[str, str]) -> None:
    """Refuse prepared writes to these tables (name -> why), from now on and at run time."""
    NO_PREPARED_WRITES.update(tables)


def _refuse_watched_table(statement: Select | Insert | Update | Delete) -> None:
    if isinstance(statement, Select):
        return
    name = getattr(statement.table, "name", "")
    if name in NO_PREPARED_WRITES:
        raise CannotPrepare(f"a prepared write to {name} skips {NO_PREPARED_WRITES[name]}")


class CannotPrepare(ValueError):
    """The statement cannot be prepared, or is run by the wrong function (a write by `read`)."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # every parameter, in order for positional drivers (SQLite)
    positional: bool
    defaults: dict[str, Any]  # literal values bound in the statement itself
    binders: dict[str, Callable[[Any], Any]]
    escaped: dict[str, str]  # a parameter's name as the SQL text spells it, where it differs
    row: type
    processors: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, given: dict[str, Any]) -> dict[str, Any] | tuple[Any, ...]:
        values = {**self.defaults, **given}
        missing = [name for name in self.names if name not in values]
        if missing:
            raise ValueError(f"missing parameter(s) of a prepared statement: {', '.join(missing)}")
        for name, binder in self.binders.items():
            values[name] = binder(values[name])
        if self.positional:
            return tuple(values[name] for name in self.names)
        if self.escaped:
            return {self.escaped.get(name, name): value for name, value in values.items()}
        return values

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        make = self.row._make  # type: ignore[attr-defined]
        processors = self.processors
        if not any(processors):
            return [make(row) for row in raw]
        return [
            make(
                value if process is None else process(value)
                for process, value in zip(processors, row, strict=True)
            )
            for row in raw
        ]


def begin_writing(dbapi_connection, dialect: str, *, locking: bool) -> None:
    """Open the transaction a write (or a locking read) needs, before it is sent.

    PostgreSQL: the connection leaves autocommit, so the driver sends BEGIN first (plain reads
    run in autocommit until then: `campus.db.engine`). SQLite: its driver opens a transaction
    at the first write by itself, but not before a SELECT; a locking read takes the
    database's write lock first (BEGIN IMMEDIATE), which waits its turn as a row lock would.
    """
    if dialect == "postgresql":
        if dbapi_connection.autocommit:
            dbapi_connection.autocommit = False
    elif dialect == "sqlite" and locking and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")


class Prepared:
    """A fixed statement compiled once per dialect: a plain read for `campus.db.engine.read`,
    a locking read or a write for `campus.db.engine.write`."""

    def __init__(self, statement: Select | Insert | Update | Delete):
        if isinstance(statement, Select):
            self.kind = "read" if statement._for_update_arg is None else "lock"
        elif isinstance(statement, Insert | Update | Delete):
            self.kind = "write"
        else:
            raise CannotPrepare("only a SELECT, INSERT, UPDATE or DELETE can be prepared")
        _refuse_watched_table(statement)
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = _compile(self.statement, dialect)
        return found

    def __repr__(self) -> str:
        return f"Prepared({self.statement})"


def prepare(statement: Select | Insert | Update | Delete) -> Prepared:
    return Prepared(statement)


def _compile(statement: Select | Insert | Update | Delete, dialect: Dialect) -> _Compiled:
    _refuse_watched_table(statement)  # also when the table was registered after prepare()
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise CannotPrepare("parameters expanded at execution time (IN lists) cannot be prepared")
    sql = compiled.string
    if isinstance(statement, Select) and SIDE_EFFECTS.search(sql):
        raise CannotPrepare("a SELECT calling a function with side effects cannot be prepared")
    bound = compiled.construct_params(_check=False)
    defaults = {name: value for name, value in bound.items() if value is not None}
    binders = {
        name: process
        for name, process in (compiled._bind_processors or {}).items()
        if callable(process)
    }
    keys = [column[0] for column in compiled._result_columns]
    row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]
    processors = tuple(
        column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns
    )
    names = tuple(compiled.positiontup) if compiled.positional else tuple(bound)
    escaped = dict(compiled.escaped_bind_names or {})
    return _Compiled(sql, names, compiled.positional, defaults, binders, escaped, row, processors)


class Rows:
    """The rows of a prepared statement (none for a write without RETURNING), with the
    `Result` methods the code base uses."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]):
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise (NoResultFound if not self._rows else MultipleResultsFound)(
                f"expected one row, got {len(self._rows)}"
            )
        return self._rows[0]

    def scalar(self) -> Any | None:
        return self._rows[0][0] if self._rows else None


_TUPLES_OK = 2  # libpq's PGRES_TUPLES_OK: the statement returned rows (possibly none)


def _returns_rows(cursor: Any) -> bool:
    """Whether the statement just run returned rows. psycopg's `description` builds a column
    object per column on each call (15 to 30 µs a query here); its result's status says the
    same."""
    result = getattr(cursor, "pgresult", None)
    if result is not None:
        return result.status == _TUPLES_OK
    return cursor.description is not None


def run(
    connection, prepared: Prepared, params: dict[str, Any] | Sequence[dict[str, Any]] | None
) -> Rows:
    """Run `prepared` on a SQLAlchemy `Connection`'s driver connection; a write given a list
    of parameter sets runs once for each, in one `executemany` (one round trip on
    PostgreSQL, whose driver pipelines them)."""
    return run_on(connection.dialect, connection.connection.dbapi_connection, prepared, params)


def run_on(
    dialect: Dialect,
    dbapi_connection: Any,
    prepared: Prepared,
    params: dict[str, Any] | Sequence[dict[str, Any]] | None,
) -> Rows:
    """`run` on a driver connection of `dialect`'s database."""
    compiled = prepared.compiled(dialect)
    many = isinstance(params, list | tuple)
    if many and prepared.kind != "write":
        raise CannotPrepare("only an INSERT, UPDATE or DELETE runs with several parameter sets")
    parameters: Any = (
        [compiled.parameters(one) for one in params]  # type: ignore[union-attr]
        if many
        else compiled.parameters(params or {})  # type: ignore[arg-type]
    )
    if prepared.kind != "read":
        begin_writing(dbapi_connection, dialect.name, locking=prepared.kind == "lock")
    cursor = dbapi_connection.cursor()
    try:
        if many:
            if parameters:
                cursor.executemany(compiled.sql, parameters)
            raw = []
        else:
            cursor.execute(compiled.sql, parameters)
            raw = cursor.fetchall() if _returns_rows(cursor) else []
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            compiled.sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        cursor.close()
    return Rows(compiled.rows(raw))
