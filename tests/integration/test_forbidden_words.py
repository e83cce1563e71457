"""A refusal for want of a role says so in the reader's language: the page in French (with
the permission named), the API in English for programs."""

from __future__ import annotations

from tests.helpers import make_account


def test_a_member_refused_an_admin_page_reads_why_in_french_and_the_api_in_english(client, db):
    make_account(db, "membre@campus.example", "member")
    client.login("membre@campus.example")
    page = client.get("/admin/audit")
    assert page.status_code == 403
    assert "vos rôles ne vous donnent pas ce droit (audit.read)" in page.text
    assert "your roles" not in page.text
    api = client.get("/api/v1/audit/verify")
    assert api.status_code == 403
    assert api.json()["error"] == {
        "code": "forbidden",
        "message": "your roles do not allow audit.read",
    }
