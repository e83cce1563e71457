"""Requests of one worker share one event loop: nothing on it may wait for another request."""

import asyncio

from campus.auth import service as auth
from tests.helpers import http_scope, make_account, run_coroutine


async def _get(app, path: str, token: str) -> int:
    scope = http_scope("GET", path, [(b"authorization", f"Bearer {token}".encode())])
    statuses = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


def test_a_burst_with_one_token_whose_use_is_due_does_not_stall_the_worker(app, db):
    """Each request of the burst finds the token's use due and records it: the first holds the
    token's row until its commit. The others must wait off the loop, or the first never
    reaches its commit (this stalled a worker for good before writes left the loop)."""
    account_id = make_account(db, "burst@example.org", "member")
    with db.session() as session:
        _, token = auth.create_token(session, auth.get_account(session, account_id), name="t")
    results: list = []

    async def burst():
        calls = [_get(app, "/healthz", token) for _ in range(12)]
        results.extend(await asyncio.wait_for(asyncio.gather(*calls), timeout=30))

    run_coroutine(burst())  # another test's browser may own this thread's loop
    assert results == [200] * 12
    with db.session() as session:
        used = [e for e in auth_audit(session) if e == "token.used"]
    assert 1 <= len(used) <= 12


def auth_audit(session):
    from campus.audit import service as audit

    return [event.action for event in audit.recent(session, limit=100)]


def test_a_database_write_on_the_event_loop_is_refused(app, client, caplog):
    """A write on the loop could wait for a lock held by a request that needs the loop."""
    from sqlalchemy.orm import Session

    from campus.audit import service as audit
    from campus.web.deps import db_session

    async def writes_on_the_loop(session: Session = db_session) -> dict:
        audit.record(session, actor="x", action="test.loop")
        session.flush()
        return {}

    def writes_on_the_pool(session: Session = db_session) -> dict:
        audit.record(session, actor="x", action="test.pool")
        session.flush()
        return {}

    app.add_api_route("/test/loop-write", writes_on_the_loop)
    app.add_api_route("/test/pool-write", writes_on_the_pool)
    # The refusal is an unexpected error: a 500 to the client, its type in the log, nothing
    # written (the error handler answers and does not raise it again to the server).
    with caplog.at_level("ERROR", logger="campus.web"):
        assert client.get("/test/loop-write").status_code == 500
    assert "WriteOnEventLoop" in caplog.text
    assert client.get("/test/pool-write").status_code == 200
