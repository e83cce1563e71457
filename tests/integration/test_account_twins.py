"""The account, accounts and audit pages are twins of their JSON: one's own account only,
the accounts list for staff only, the audit log for staff and the DPO only."""

from __future__ import annotations

from fastapi.encoders import jsonable_encoder
from sqlalchemy import func, select

from campus.auth.models import ApiToken
from campus.web import twins
from tests.helpers import make_account


def _captured(client, monkeypatch, url: str, **params):
    """The data a twin page rendered, and its status."""
    seen: list = []
    original = twins.render

    def capture(request, template, context=None, status=200):
        seen.append(context["data"])
        return original(request, template, context, status)

    monkeypatch.setattr(twins, "render", capture)
    page = client.get(url, params=params, follow_redirects=False)
    monkeypatch.setattr(twins, "render", original)
    return page, (jsonable_encoder(seen[0]) if seen else None)


def test_the_account_page_and_its_twin_show_only_the_readers_own_account(client, db, monkeypatch):
    other = make_account(db, "other@example.org", "member", name="Odile Autre")
    make_account(db, "me@example.org", "member", name="Moi Même")
    client.login("me@example.org")
    for query in ({}, {"account_id": other}, {"id": other}, {"email": "other@example.org"}):
        page, data = _captured(client, monkeypatch, "/account", **query)
        twin = client.get("/api/v1/me/account", params=query)
        assert page.status_code == twin.status_code == 200
        assert data == twin.json()
        assert twin.json()["account"]["email"] == "me@example.org"
        for shown in (page.text, twin.text):
            assert "other@example.org" not in shown and "Odile" not in shown and other not in shown
    assert client.get(f"/api/v1/me/account/{other}").status_code == 404
    client.delete("/api/v1/session")
    assert client.get("/api/v1/me/account").status_code == 401
    assert client.get("/account", follow_redirects=False).headers["location"].startswith("/login")


def test_only_staff_read_the_accounts_on_the_page_or_its_twin(client, db, monkeypatch):
    make_account(db, "member@example.org", "member")
    make_account(db, "dpo@example.org", "dpo")
    make_account(db, "staff@example.org", "staff", name="Sam Staff")
    for email in ("member@example.org", "dpo@example.org"):
        client.login(email)
        assert client.get("/admin/accounts").status_code == 403
        assert client.get("/api/v1/accounts", params={"q": "staff"}).status_code == 403
        client.delete("/api/v1/session")
    assert client.get("/api/v1/accounts").status_code == 401
    client.login("staff@example.org")
    for query in ({}, {"q": "member"}, {"limit": "1", "offset": "1"}):
        page, data = _captured(client, monkeypatch, "/admin/accounts", **query)
        twin = client.get("/api/v1/accounts", params=query)
        assert page.status_code == twin.status_code == 200
        assert data == twin.json()
    assert [a["email"] for a in twin.json()] == ["member@example.org"]
    assert client.get("/api/v1/accounts", params={"limit": "0"}).status_code == 422


def test_a_refused_token_form_writes_nothing_and_a_token_is_shown_once(client, db):
    make_account(db, "me@example.org", "member")
    client.login("me@example.org")
    refused = client.post("/account/tokens", data={"name": "ci", "days": "400"})
    assert refused.status_code == 422 and "days" in refused.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 0
    created = client.post("/account/tokens", data={"name": "ci", "days": "30"})
    assert created.status_code == 200 and 'data-testid="new-token"' in created.text
    assert 'data-testid="new-token"' not in client.get("/account").text


def test_only_staff_and_the_dpo_read_the_audit_log_on_the_page_or_its_twin(client, db, monkeypatch):
    make_account(db, "member@example.org", "member")
    make_account(db, "researcher@example.org", "researcher", scope=("project", "p1"))
    make_account(db, "dpo@example.org", "dpo")
    for email in ("member@example.org", "researcher@example.org"):
        client.login(email)
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/api/v1/audit/events").status_code == 403
        client.delete("/api/v1/session")
    client.login("dpo@example.org")
    for query in ({}, {"action": "login"}, {"limit": "2", "before": "3"}):
        page, data = _captured(client, monkeypatch, "/admin/audit", **query)
        twin = client.get("/api/v1/audit/events", params=query)
        assert page.status_code == twin.status_code == 200
        assert data == twin.json()
    assert twin.json()["total"] >= len(twin.json()["events"]) == 2
    # A negative limit read the whole log on SQLite and failed on PostgreSQL.
    bad = client.get("/api/v1/audit/events", params={"limit": "-1"})
    assert bad.status_code == 422 and bad.json()["error"]["where"][0]["where"] == "query.limit"


def test_a_weak_new_password_is_refused_in_french_and_the_link_still_works(client, db, mailbox):
    make_account(db, "ana@example.org")
    client.post("/password/forgot", data={"email": "ana@example.org"})
    token = mailbox.link("/password/reset", to="ana@example.org").split("#token=")[1]
    weak = client.post("/password/reset", data={"token": token, "password": "court"})
    assert weak.status_code == 400
    assert "le mot de passe doit compter au moins 10 caractères" in weak.text.replace("\xa0", " ")
    assert f'value="{token}"' in weak.text  # kept in the form, never in a URL
    done = client.post(
        "/password/reset",
        data={"token": token, "password": "a brand new secret"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/login"
