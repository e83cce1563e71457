import datetime as dt

from sqlalchemy import func, select

from campus.auth import service as auth
from campus.auth.models import Account, OutboxMail
from tests.helpers import PASSWORD, audit_events, make_account


def _actions(db):
    return [e.action for e in audit_events(db)]


def test_login_sets_a_secure_session_cookie_and_logout_ends_it(client, db):
    make_account(db, "ana@example.org")
    response = client.login("ana@example.org")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/v1/me").json()["email"] == "ana@example.org"
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert {"login", "logout"} <= set(_actions(db))


def test_wrong_password_is_refused_and_audited(client, db):
    make_account(db, "ana@example.org")
    response = client.post(
        "/api/v1/session", json={"email": "ana@example.org", "password": "wrong password"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_credentials"
    assert "login.failed" in _actions(db)


def test_one_address_is_throttled_across_accounts(client, db, settings):
    limit = settings.login_max_failures * auth.ADDRESS_FAILURE_FACTOR
    for i in range(limit):
        client.post("/api/v1/session", json={"email": f"x{i}@example.org", "password": "nope-nope"})
    make_account(db, "ana@example.org")
    response = client.post(
        "/api/v1/session", json={"email": "ana@example.org", "password": PASSWORD}
    )
    assert response.json()["error"]["code"] == "throttled"


def test_forms_without_the_csrf_token_are_refused(client, db):
    make_account(db, "ana@example.org")
    response = client.post(
        "/api/v1/session",
        headers={"X-CSRF-Token": ""},
        json={"email": "ana@example.org", "password": PASSWORD},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_api_tokens_are_hashed_scoped_revocable_and_audited(client, db):
    make_account(db, "ana@example.org")
    client.login("ana@example.org")
    created = client.post("/api/v1/me/tokens", json={"name": "ci", "scopes": ["account"]}).json()
    value = created["token"]
    with db.session() as session:
        from campus.auth.models import ApiToken

        stored = session.scalar(select(ApiToken))
        assert value not in stored.token_hash
    bearer = {"Authorization": f"Bearer {value}"}
    anonymous = type(client)(client.app)
    assert anonymous.get("/api/v1/me", headers=bearer).json()["email"] == "ana@example.org"
    # the token's scope does not cover account administration
    assert anonymous.get("/api/v1/accounts", headers=bearer).status_code == 403
    client.delete(f"/api/v1/me/tokens/{created['id']}")
    assert anonymous.get("/api/v1/me", headers=bearer).status_code == 401
    assert {"token.created", "token.used", "token.revoked"} <= set(_actions(db))


def test_expired_tokens_stop_working(client, db):
    account_id = make_account(db, "ana@example.org")
    with db.session() as session:
        token, value = auth.create_token(session, session.get(Account, account_id), name="t")
        token.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"}).status_code == 401


def test_password_reset_token_is_single_use_and_never_in_a_url_path(client, db, mailbox):
    make_account(db, "ana@example.org")
    client.post("/password/forgot", data={"email": "ana@example.org"})
    link = mailbox.link("/password/reset", to="ana@example.org")
    # The token travels in the fragment, which browsers never send: no log sees it.
    path, fragment = link.split("#")
    assert path.endswith("/password/reset") and fragment.startswith("token=")
    token = fragment.removeprefix("token=")
    form = client.get("/password/reset")
    assert form.status_code == 200 and "link-token.js" in form.text
    assert (
        client.post(
            "/password/reset",
            data={"token": token, "password": "a brand new secret"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    client.login("ana@example.org", "a brand new secret")
    again = client.post("/password/reset", data={"token": token, "password": "another new secret"})
    assert again.status_code == 400


def test_the_api_resets_a_password_with_the_token_in_the_body(client, db, mailbox):
    make_account(db, "ana@example.org")
    sent = client.post("/api/v1/password/forgot", json={"email": "ana@example.org"})
    unknown = client.post("/api/v1/password/forgot", json={"email": "nobody@example.org"})
    assert sent.status_code == unknown.status_code == 202 and sent.json() == unknown.json()
    token = mailbox.link("/password/reset").split("#token=")[1]
    weak = client.post("/api/v1/password/reset", json={"token": token, "password": "short"})
    assert weak.status_code == 400 and weak.json()["error"]["where"] == "password"
    done = client.post(
        "/api/v1/password/reset", json={"token": token, "password": "a brand new one"}
    )
    assert done.status_code == 204
    client.login("ana@example.org", "a brand new one")
    reused = client.post("/api/v1/password/reset", json={"token": token, "password": "yet another"})
    assert reused.status_code == 400 and reused.json()["error"]["code"] == "invalid_token"


def test_the_outbox_keeps_no_link_once_a_mail_is_sent_and_purges_old_rows(db, settings, mailbox):
    from campus.auth import mail

    make_account(db, "ana@example.org")
    with db.session() as session:
        auth.request_password_reset(session, settings, "ana@example.org")
    token = mailbox.link("/password/reset").split("#token=")[1]
    with db.session() as session:
        row = session.scalar(select(OutboxMail))
        assert row.sent_at is not None and row.to == "ana@example.org"
        assert token not in row.body and mail.LINK_REMOVED in row.body
        row.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(
            days=settings.outbox_retention_days, minutes=1
        )
    with db.session() as session:
        auth.request_password_reset(session, settings, "ana@example.org")
    with db.session() as session:
        assert mail.purge_outbox(session, settings) == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMail)) == 1


def test_unknown_email_reset_sends_nothing_and_says_the_same(client, db):
    page = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert page.status_code == 200
    with db.session() as session:
        assert session.scalar(select(OutboxMail)) is None


def test_staff_grant_roles_and_role_changes_are_audited(client, db):
    make_account(db, "boss@example.org", "staff")
    target = make_account(db, "ana@example.org")
    client.login("boss@example.org")
    response = client.post(
        f"/api/v1/accounts/{target}/roles",
        json={"role": "org_admin", "scope_type": "organisation", "scope_id": "42"},
    )
    assert response.status_code == 200
    assert response.json()["grants"] == [
        {"role": "org_admin", "scope_type": "organisation", "scope_id": "42"}
    ]
    assert (
        client.post(f"/api/v1/accounts/{target}/roles", json={"role": "wizard"}).status_code == 400
    )
    assert "role.granted" in _actions(db)


def test_members_cannot_grant_roles(client, db):
    make_account(db, "ana@example.org", "member")
    target = make_account(db, "bob@example.org")
    client.login("ana@example.org")
    response = client.post(f"/api/v1/accounts/{target}/roles", json={"role": "staff"})
    assert response.status_code == 403


def test_the_language_switch_is_remembered_on_the_account(client, db):
    account_id = make_account(db, "ana@example.org")
    client.login("ana@example.org")
    client.post("/language", data={"language": "en", "next": "/"})
    with db.session() as session:
        assert session.get(Account, account_id).language == "en"


LINK_BODY = "Open https://campus.example/password/reset#token=tok3n now"


def test_smtp_delivery_sends_pending_outbox_mail_then_drops_its_links(db, settings, monkeypatch):
    from campus.auth import mail

    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            pass

        def login(self, user, password):
            pass

        def send_message(self, message):
            sent.append(("send", message["To"], message.get_content()))

    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    settings.smtp_host = "smtp.example.org"
    with db.session() as session:
        mail.queue(session, settings, to="ana@example.org", subject="s", body=LINK_BODY)
        # Unsent: the outbox keeps what it must send.
        assert session.scalar(select(OutboxMail.body)) == LINK_BODY
    assert mail.deliver_pending(db, settings) == 1
    assert ("send", "ana@example.org", LINK_BODY + "\n") in sent
    with db.session() as session:
        assert "tok3n" not in session.scalar(select(OutboxMail.body))
    assert mail.deliver_pending(db, settings) == 0
