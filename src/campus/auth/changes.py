"""Changes to who someone is, announced at commit: the rule that keeps `ActorCache` true.

An actor (campus.auth.actor) is made of an account's `email`, `name`, `language`,
`email_verified` and `active`, its role grants, and the token (`scopes`, `expires_at`,
`revoked_at`) or web session (`expires_at`, its existence) it came with. A transaction that
changes any of these, in any process (a web worker, the CLI, a job), sends
`NOTIFY campus_auth` with the ids of the accounts concerned, from inside the transaction:
PostgreSQL delivers it when the transaction commits, and never if it rolls back. After the
commit, the caches of the committing process drop those accounts' entries themselves.

- ORM flushes: the mapper events of the four models below note the accounts, and the flush
  sends one NOTIFY for all of them when it ends (a flush inserting 1,600 grants sends one,
  not 1,600). An insert counts only for a role grant (a new account, token or session is in
  no cache yet); an update only when one of the columns above changed (a token's
  `last_used_at`, an account's `locked_until`: no).
- Core statements through a session (`session.execute(delete(WebSession)...)`): their rows
  are not known, so they notify `*` (every entry goes), unless an UPDATE sets none of the
  columns above. So does a `text()` statement other than a SELECT that names one of the
  four tables.
- A prepared write (campus.db.prepared) skips both hooks: `prepare()` refuses one that
  targets these tables (registered below with `refuse_prepared_writes`).

Installed once per process, when campus.auth.models is imported (it imports this module).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import TextClause, event, func, inspect, select
from sqlalchemy.orm import Session

from campus.auth.models import Account, ApiToken, RoleGrant, WebSession
from campus.db.prepared import refuse_prepared_writes

CHANNEL = "campus_auth"
EVERYONE = "*"
MAX_PAYLOAD = 7_000  # PostgreSQL refuses a notification payload of 8,000 bytes or more

# The columns an actor is made of, per model watched (None: every column).
ACTOR_COLUMNS: dict[type, frozenset[str] | None] = {
    Account: frozenset({"email", "name", "language", "email_verified", "active"}),
    RoleGrant: None,
    ApiToken: frozenset({"account_id", "scopes", "expires_at", "revoked_at"}),
    WebSession: frozenset({"account_id", "expires_at"}),
}
TABLES = {model.__table__.name: model for model in ACTOR_COLUMNS}  # type: ignore[attr-defined]
refuse_prepared_writes({name: "the announcement of actor changes" for name in TABLES})
CHANGED = "campus_auth_changed"  # Session.info: the account ids (or EVERYONE) changed in it
FLUSHED = "campus_auth_flushed"  # Session.info: those the running flush changed, to announce
_A_SELECT = re.compile(r"\s*select\b", re.IGNORECASE)
_NAMES_A_TABLE = re.compile(r"\b(?:" + "|".join(TABLES) + r")\b", re.IGNORECASE)

# Called with the changed account ids after each commit of this process (the caches).
_after_commit: weakref.WeakSet[Any] = weakref.WeakSet()


def on_commit(listener: Any) -> None:
    """`listener.forget(accounts)` will be called after every commit that changed actors."""
    _after_commit.add(listener)


def _account_of(target: Any) -> str:
    return target.id if isinstance(target, Account) else target.account_id


def _changes_actor(target: Any, columns: frozenset[str] | None) -> bool:
    if columns is None:
        return True
    state = inspect(target)
    return any(state.attrs[name].history.has_changes() for name in columns)


def _announce(session: Session | None, connection: Any, accounts: set[str]) -> None:
    """In the transaction: NOTIFY (PostgreSQL), and remember them for after the commit."""
    if session is not None:
        session.info.setdefault(CHANGED, set()).update(accounts)
    if connection.dialect.name == "postgresql":
        payload = ",".join(sorted(accounts))
        if len(payload) > MAX_PAYLOAD:
            payload = EVERYONE
        connection.execute(select(func.pg_notify(CHANNEL, payload)))


def _row_changed(kind: str) -> Callable[..., None]:
    def listener(_mapper: Any, connection: Any, target: Any) -> None:
        model = type(target)
        if kind == "insert" and model is not RoleGrant:
            return
        if kind == "update" and not _changes_actor(target, ACTOR_COLUMNS[model]):
            return
        session = Session.object_session(target)
        if session is None:  # not from a session's flush: announce it at once
            _announce(None, connection, {_account_of(target)})
        else:
            session.info.setdefault(FLUSHED, set()).add(_account_of(target))

    return listener


def _flushed(session: Session, _context: Any) -> None:
    """One NOTIFY for every account the flush changed, still inside its transaction."""
    accounts = session.info.pop(FLUSHED, None)
    if accounts:
        _announce(session, session.connection(), accounts)


def _updated_columns(statement: Any) -> set[str] | None:
    """The columns an UPDATE sets, or None when the statement does not say (bulk by rows)."""
    values = getattr(statement, "_values", None) or dict(
        getattr(statement, "_ordered_values", None) or ()
    )
    if not values:
        return None
    return {getattr(column, "key", column) for column in values}


def _statement_ran(state: Any) -> None:
    if isinstance(state.statement, TextClause):
        sql = state.statement.text
        if not _A_SELECT.match(sql) and _NAMES_A_TABLE.search(sql):
            _announce(state.session, state.session.connection(), {EVERYONE})
        return
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    model = TABLES.get(getattr(getattr(state.statement, "table", None), "name", ""))
    if model is None or (state.is_insert and model is not RoleGrant):
        return
    if state.is_update:
        columns, changed = ACTOR_COLUMNS[model], _updated_columns(state.statement)
        if columns is not None and changed is not None and not changed & columns:
            return
    _announce(state.session, state.session.connection(), {EVERYONE})


def _committed(session: Session) -> None:
    accounts = session.info.pop(CHANGED, None)
    if accounts:
        for listener in list(_after_commit):
            listener.forget(accounts)


def _rolled_back(session: Session) -> None:
    session.info.pop(CHANGED, None)
    session.info.pop(FLUSHED, None)


def _install() -> None:
    for model in ACTOR_COLUMNS:
        for kind in ("insert", "update", "delete"):
            event.listen(model, f"after_{kind}", _row_changed(kind))
    event.listen(Session, "after_flush", _flushed)
    event.listen(Session, "do_orm_execute", _statement_ran)
    event.listen(Session, "after_commit", _committed)
    event.listen(Session, "after_rollback", _rolled_back)


_install()
