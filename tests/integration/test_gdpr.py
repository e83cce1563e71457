"""A member's GDPR rights end to end: download everything held about them, then delete the
account, with contributions kept unnamed and the audit chain still verifying."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from campus.audit import service as audit
from campus.auth.models import Account
from campus.participation.models import Proposal, Support
from campus.site.models import metadata
from tests.helpers import CampusClient, make_account
from tests.integration.ecosystem.events_helpers import published_event, staff
from tests.integration.participation.helpers import body, make_consultation, set_phase

NAME = "Léa Durand-Unique"
EMAIL = "lea.unique@example.org"


def _contribute(client: CampusClient, db) -> tuple[str, str]:
    """Léa's profile, a proposal, a comment, a support and an event registration."""
    assert client.patch("/api/v1/me/profile", json={"city": "Lyon"}).status_code == 200
    cid = make_consultation(db)
    assert client.post("/api/v1/participation/charter").status_code == 200
    proposal = client.post(
        f"/api/v1/consultations/{cid}/proposals", json={"title": "Open data days", "body": body()}
    )
    assert proposal.status_code == 201, proposal.text
    pid = proposal.json()["id"]
    url = f"/api/v1/consultations/{cid}/proposals/{pid}"
    assert client.post(url + "/comments", json={"body": "Yes", "stance": "for"}).status_code == 201
    set_phase(db, cid, "voting")
    assert client.put(url + "/support").status_code == 200
    event_id = published_event(db, staff(db))
    assert client.post(f"/api/v1/events/{event_id}/registration").status_code == 201
    return cid, pid


def test_a_member_downloads_all_their_data_then_deletes_the_account(client, db):
    account_id = make_account(db, EMAIL, "member", name=NAME)
    client.login(EMAIL)
    _cid, pid = _contribute(client, db)

    download = client.get("/api/v1/me/data")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    data = download.json()
    assert data["format"] == "campus-personal-data/1" and data["account_id"] == account_id
    parts = data["data"]
    assert parts["account"]["profile"]["email"] == EMAIL
    assert "password_hash" not in parts["account"]["profile"]
    assert parts["directory"]["person"]["city"] == "Lyon"
    assert [p["id"] for p in parts["participation"]["proposals"]] == [pid]
    assert len(parts["participation"]["comments"]) == 1
    assert len(parts["participation"]["supports"]) == 1
    assert len(parts["events"]) == 1
    assert "login" in {e["action"] for e in parts["audit"]}
    assert "download-my-data" in client.get("/account").text

    refused = client.request("DELETE", "/api/v1/me", json={"confirm_email": "someone@else.org"})
    assert refused.status_code == 400 and refused.json()["error"]["where"] == "confirm_email"
    deleted = client.request("DELETE", "/api/v1/me", json={"confirm_email": EMAIL.upper()})
    assert deleted.status_code == 204
    # Signed out.
    assert client.get("/api/v1/me").status_code == 401

    with db.session() as session:
        account = session.get(Account, account_id)
        assert account.email != EMAIL and account.name != NAME and account.password_hash is None
        assert not account.active
        # The contributions stay, unnamed: the proposal and its support still count.
        assert session.scalar(select(Proposal.author_id).where(Proposal.id == pid)) == account_id
        assert session.scalar(select(func.count()).select_from(Support)) == 1
        # No table holds her name or email any more (the audit chain included).
        for table in metadata.sorted_tables:
            for row in session.execute(select(table)):
                flat = repr(tuple(row))
                assert NAME not in flat and EMAIL not in flat, table.name
        verification = audit.verify(session)
        assert verification.ok, verification
    # Nobody can sign in as Léa any more.
    again = client.post(
        "/api/v1/session", json={"email": EMAIL, "password": "correct horse battery"}
    )
    assert again.status_code == 401
    assert "account.deleted" in json.dumps(
        [audit.as_dict(e) for e in _events(db)], ensure_ascii=False
    )


def _events(db):
    with db.session() as session:
        audit.seal_pending(session)
        from campus.audit.models import AuditEvent

        return session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_the_account_page_deletes_the_account_after_typing_the_email(client, db):
    make_account(db, EMAIL, "member", name=NAME)
    client.login(EMAIL)
    wrong = client.post("/account/delete", data={"confirm_email": "nope@example.org"})
    assert wrong.status_code == 400
    done = client.post("/account/delete", data={"confirm_email": EMAIL}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_campus_purge_deletes_only_what_is_past_its_retention(db, settings, monkeypatch):
    import datetime as dt
    import os
    import time

    from campus.auth.models import LoginAttempt, OutboxMail, WebSession
    from campus.db.base import utcnow
    from tests.helpers import run_cli

    account_id = make_account(db, EMAIL)
    now = utcnow()
    old = now - dt.timedelta(days=400)
    with db.session() as session:
        session.add_all(
            [
                WebSession(id_hash="a" * 64, account_id=account_id, expires_at=old),
                WebSession(
                    id_hash="b" * 64, account_id=account_id, expires_at=now + dt.timedelta(hours=1)
                ),
                OutboxMail(to=EMAIL, subject="old", body="", created_at=old),
                OutboxMail(to=EMAIL, subject="new", body="", created_at=now),
                LoginAttempt(email=EMAIL, address="192.0.2.1", at=old),
                LoginAttempt(email=EMAIL, address="192.0.2.1", at=now),
            ]
        )
    uploads = settings.var_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    stale, fresh = uploads / "upload-stale.ndjson", uploads / "upload-fresh.ndjson"
    stale.write_text("{}")
    fresh.write_text("{}")
    long_ago = time.time() - 30 * 86400
    os.utime(stale, (long_ago, long_ago))

    result = run_cli(monkeypatch, settings, "purge")
    assert result.exit_code == 0, result.output
    for line in (
        "sessions: 1 deleted",
        "outbox_mail: 1 deleted",
        "login_attempts: 1 deleted",
        "uploads: 1 deleted",
    ):
        assert line in result.output
    assert not stale.exists() and fresh.exists()
    with db.session() as session:
        assert session.scalars(select(WebSession.id_hash)).all() == ["b" * 64]
        assert session.scalars(select(OutboxMail.subject)).all() == ["new"]
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


def test_every_table_that_points_to_an_account_is_in_the_data_export(db, app):
    """A capability that adds a table referencing accounts must add it to its personal-data
    part: the export reads every such table (seen in the SQL it runs)."""
    from sqlalchemy import event

    from campus.auth import personal_data

    referencing = {
        table.name
        for table in metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name == "accounts"
    }
    account_id = make_account(db, EMAIL)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.session() as session:
            personal_data.export(session, account_id, app.state.personal_data)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    read = " ".join(s for s in statements if s.lstrip().startswith("select"))
    missing = sorted(name for name in referencing if f" {name}" not in read)
    assert not missing, f"not in any capability's personal-data export: {missing}"


def test_the_operator_exports_and_deletes_an_account_from_the_command_line(
    db, settings, monkeypatch
):
    from tests.helpers import run_cli

    account_id = make_account(db, EMAIL, "member", name=NAME)
    exported = run_cli(monkeypatch, settings, "account", "export", EMAIL)
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    assert data["account_id"] == account_id and data["data"]["account"]["profile"]["name"] == NAME
    unknown = run_cli(monkeypatch, settings, "account", "export", "nobody@example.org")
    assert unknown.exit_code == 1 and "no account" in unknown.output
    unconfirmed = run_cli(monkeypatch, settings, "account", "delete", EMAIL)
    assert unconfirmed.exit_code == 1
    with db.session() as session:
        assert session.get(Account, account_id).name == NAME
    deleted = run_cli(monkeypatch, settings, "account", "delete", EMAIL, "--yes")
    assert deleted.exit_code == 0, deleted.output
    with db.session() as session:
        account = session.get(Account, account_id)
        assert account.name != NAME and account.email != EMAIL and not account.active
