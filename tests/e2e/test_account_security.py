"""A password-reset link in a real browser: the token in the URL fragment reaches the form,
leaves the address bar, and the new password works."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from playwright.sync_api import expect

from campus.auth.models import PasswordResetToken
from campus.db.base import utcnow
from tests.e2e.conftest import sign_in
from tests.helpers import make_account


def test_a_reset_link_fills_the_form_from_its_fragment_and_leaves_no_token_in_the_url(
    page, live_server
):
    account_id = make_account(live_server.db, "e2e-reset@example.org", "member", name="Rémi")
    value = secrets.token_urlsafe(32)
    with live_server.db.session() as session:
        session.add(
            PasswordResetToken(
                token_hash=hashlib.sha256(value.encode()).hexdigest(),
                account_id=account_id,
                expires_at=utcnow() + dt.timedelta(minutes=30),
            )
        )
    page.goto(f"/password/reset#token={value}")
    expect(page.locator("#token")).to_have_value(value)
    assert "#" not in page.url and value not in page.url
    page.locator("#password").fill("a brand new e2e password")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page).to_have_url(f"{live_server.url}/login")
    sign_in(page, "e2e-reset@example.org", "a brand new e2e password")
    expect(page.get_by_role("link", name="Rémi")).to_be_visible()
