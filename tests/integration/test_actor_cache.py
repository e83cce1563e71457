"""The actor cache (campus.auth.cache): a token or session is resolved from memory, and any
change to who it is reaches every worker at commit (campus.auth.changes).

"Behind the cache" below is a write on a plain connection, which announces nothing: what a
request sees after it tells whether the cache answered.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import select, text

from campus.audit.models import AuditEvent
from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.cache import ActorCache, Entry
from campus.auth.models import Account, ApiToken
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.db.engine import Database
from tests.helpers import CampusClient, make_account

on_postgresql = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


def _token(db: Database, email: str = "ana@example.org", *roles: str) -> tuple[str, dict]:
    account_id = make_account(db, email, *roles, name="Ana")
    with db.session() as session:
        _, value = auth.create_token(session, session.get(Account, account_id), name="t")
    return account_id, {"Authorization": f"Bearer {value}"}


def _behind_the_cache(db: Database, sql: str, **params) -> None:
    with db.engine.begin() as connection:
        connection.exec_driver_sql(sql, params)


def _deactivate_behind_the_cache(db: Database, account_id: str) -> None:
    _behind_the_cache(db, "UPDATE accounts SET active = false WHERE id = %(id)s", id=account_id)


def _me(client, bearer: dict):
    return client.get("/api/v1/me", headers=bearer)


@on_postgresql
def test_a_token_is_answered_from_the_cache_until_its_account_changes(client, db):
    account_id, bearer = _token(db)
    assert _me(client, bearer).status_code == 200
    _deactivate_behind_the_cache(db, account_id)
    assert _me(client, bearer).status_code == 200  # the cache answered
    with db.session() as session:
        auth.set_language(session, account_id, "en")
    assert _me(client, bearer).status_code == 401  # dropped at the commit, read again


@on_postgresql
def test_a_revoked_token_is_refused_at_once(client, db):
    account_id, bearer = _token(db)
    assert _me(client, bearer).status_code == 200
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.account_id == account_id))
        assert auth.revoke_token(session, account_id, token.id)
    assert _me(client, bearer).status_code == 401


@on_postgresql
def test_a_change_committed_by_another_process_reaches_the_cache(app, client, db):
    app.state.actors.seconds = 3600  # no expiry can explain what follows
    account_id, bearer = _token(db)
    assert _me(client, bearer).status_code == 200
    script = (
        "import sys\n"
        "from campus.auth import service\n"
        "from campus.auth.models import Account\n"
        "from campus.db.engine import Database\n"
        "with Database(sys.argv[1]).session() as session:\n"
        "    account = session.get(Account, sys.argv[2])\n"
        "    account.active = False\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, db.url, account_id],
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        timeout=60,
    )
    # The other process's commit is delivered to this one's listening connection a moment
    # later: the next lookup after it arrives hears it.
    deadline = time.monotonic() + 5
    while _me(client, bearer).status_code == 200:
        assert time.monotonic() < deadline, "the change never reached the cache"
        time.sleep(0.02)
    assert _me(client, bearer).status_code == 401


@on_postgresql
def test_a_role_granted_applies_to_the_next_request(client, db):
    account_id, bearer = _token(db)
    assert client.get("/api/v1/accounts", headers=bearer).status_code == 403
    with db.session() as session:
        auth.grant_role(session, session.get(Account, account_id), Role.STAFF)
    assert client.get("/api/v1/accounts", headers=bearer).status_code == 200


@on_postgresql
def test_a_raw_statement_on_an_auth_table_drops_every_entry(client, db):
    account_id, bearer = _token(db)
    assert _me(client, bearer).status_code == 200
    with db.session() as session:
        session.execute(
            text("UPDATE accounts SET active = false WHERE id = :id"), {"id": account_id}
        )
    assert _me(client, bearer).status_code == 401


@on_postgresql
def test_a_change_rolled_back_drops_nothing(app, client, db):
    account_id, bearer = _token(db)
    assert _me(client, bearer).status_code == 200
    with db.sessions() as session:
        auth.set_language(session, account_id, "en")
        session.flush()
        session.rollback()
    assert len(app.state.actors) == 1


@on_postgresql
def test_noting_a_tokens_use_keeps_its_entry_and_is_not_repeated(app, client, db):
    _, bearer = _token(db)
    for _ in range(3):
        assert _me(client, bearer).status_code == 200
    assert len(app.state.actors) == 1
    with db.session() as session:
        used = session.scalars(select(AuditEvent).where(AuditEvent.action == "token.used")).all()
    assert len(used) == 1


@on_postgresql
def test_logging_out_ends_the_session_in_every_worker(app, db):
    from campus.site.app import create_app

    make_account(db, "ana@example.org")
    other_worker = create_app(app.state.settings, Database(db.url))
    with CampusClient(app) as browser:
        browser.login("ana@example.org")
        cookies = dict(browser.cookies)
        assert browser.get("/api/v1/me").status_code == 200
        with CampusClient(other_worker, cookies=cookies) as same_browser:
            assert same_browser.get("/api/v1/me").status_code == 200
            assert browser.delete("/api/v1/session").status_code in (200, 204)
            assert same_browser.get("/api/v1/me").status_code == 401


@on_postgresql
def test_a_lost_listening_connection_turns_the_cache_off(client, db):
    account_id, bearer = _token(db)
    assert _me(client, bearer).status_code == 200
    _behind_the_cache(
        db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND query LIKE 'LISTEN campus_auth%%'",
    )
    _deactivate_behind_the_cache(db, account_id)
    time.sleep(0.2)  # the termination reaches the socket
    # Changes made while not listening were not heard: nothing cached is used.
    assert _me(client, bearer).status_code == 401


@on_postgresql
def test_an_entry_expires_after_its_lifetime(app, client, db):
    cache = app.state.actors
    cache.seconds = 30
    account_id, bearer = _token(db)
    assert _me(client, bearer).status_code == 200
    _deactivate_behind_the_cache(db, account_id)
    assert _me(client, bearer).status_code == 200  # within its lifetime: the cached entry
    # The entries age past their lifetime (moved back in time rather than waited for, so
    # that a loaded machine cannot make the cached read above come too late).
    for key, entry in list(cache._entries.items()):
        cache._entries[key] = dataclasses.replace(entry, stored=entry.stored - 31)
    assert _me(client, bearer).status_code == 401


@on_postgresql
def test_an_entry_read_before_a_change_is_not_kept_after_it(db):
    cache = ActorCache(db.engine, 30)
    entry = Entry(Actor(account_id="a1"), "a1", utcnow())
    assert cache.get("t1") is None  # starts listening
    before = cache.generation()
    cache.forget({"a2"})  # a change arrives while the entry is being read
    cache.put("t1", entry, before)
    assert cache.get("t1") is None
    cache.put("t1", entry, cache.generation())
    assert cache.get("t1") is not None
    cache.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_there_is_no_cache_on_sqlite(app, client, db):
    _, bearer = _token(db)
    assert _me(client, bearer).status_code == 200
    assert not app.state.actors.enabled and len(app.state.actors) == 0


def test_only_changes_to_an_actor_are_announced(db):
    from sqlalchemy import update

    from campus.auth import changes

    account_id, _ = _token(db)
    with db.sessions() as session:
        session.execute(update(ApiToken).values(last_used_at=utcnow()))  # a token's use
        session.execute(update(Account).values(locked_until=None))  # a lock-out ending
        assert changes.CHANGED not in session.info
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
        assert session.info[changes.CHANGED] == {changes.EVERYONE}
        session.rollback()
        assert changes.CHANGED not in session.info
    with db.sessions() as session:
        auth.set_language(session, account_id, "en")
        session.flush()
        assert session.info[changes.CHANGED] == {account_id}
