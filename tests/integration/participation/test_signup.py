import time

import pytest
from sqlalchemy import func, select

from campus.auth.models import Account, OutboxMail
from campus.errors import BadRequest
from campus.participation import signup
from tests.helpers import forge, make_account

PASSWORD = "a long citizen password"


def _token(mailbox) -> str:
    # The outbox keeps no link once a mail is sent: read it as the person received it. The
    # token is in the link's fragment, which no browser sends.
    return mailbox.link("/signup/verify#token=").split("#token=", 1)[1]


def test_a_citizen_signs_up_verifies_the_email_and_may_then_contribute(client, db, mailbox):
    response = client.post(
        "/api/v1/signup",
        json={"email": "Lea@Example.org", "name": "Léa", "password": PASSWORD},
    )
    assert response.status_code == 202
    client.login("lea@example.org", PASSWORD)
    assert client.get("/api/v1/me").json()["email_verified"] is False
    assert client.post("/api/v1/participation/charter").status_code == 403
    form = client.get("/signup/verify")
    assert form.status_code == 200 and "link-token.js" in form.text
    page = client.post("/signup/verify", data={"token": _token(mailbox)})
    assert page.status_code == 200 and "Votre adresse électronique est confirmée" in page.text
    assert client.get("/api/v1/me").json()["email_verified"] is True
    assert client.post("/api/v1/participation/charter").status_code == 200


def test_the_signup_form_sends_the_link_and_refuses_weak_passwords(client, db, mailbox):
    form = client.get("/signup")
    assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
    weak = client.post("/signup", data={"email": "a@example.org", "name": "A", "password": "short"})
    assert weak.status_code == 400 and "au moins 10 caractères" in weak.text
    bad_email = client.post(
        "/signup", data={"email": "not-an-email", "name": "A", "password": PASSWORD}
    )
    assert bad_email.status_code == 400
    sent = client.post(
        "/signup", data={"email": "a@example.org", "name": "A", "password": PASSWORD}
    )
    assert sent.status_code == 200 and "Consultez votre messagerie" in sent.text
    verify = client.post("/api/v1/signup/verify", json={"token": _token(mailbox)})
    assert verify.json() == {"email_verified": True}


def test_an_existing_address_gets_the_same_answer_and_its_owner_a_warning(client, db, mailbox):
    make_account(db, "taken@example.org")
    response = client.post(
        "/api/v1/signup", json={"email": "taken@example.org", "name": "X", "password": PASSWORD}
    )
    assert response.status_code == 202
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1
        mail = session.scalars(select(OutboxMail)).one()
    assert mail.to == "taken@example.org"
    assert "/password/forgot" in mailbox.link("/password/forgot", to="taken@example.org")


def test_tampered_or_expired_links_are_refused(client, db, settings, monkeypatch, mailbox):
    client.post(
        "/api/v1/signup", json={"email": "b@example.org", "name": "B", "password": PASSWORD}
    )
    token = _token(mailbox)
    tampered = client.post("/signup/verify", data={"token": forge(token)})
    assert tampered.status_code == 400 and "pas valide" in tampered.text
    later = time.time() + settings.signup_link_hours * 3600 + 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    expired = client.post("/api/v1/signup/verify", json={"token": token})
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "link_expired"
    with db.session() as session:
        assert session.scalar(select(Account.email_verified)) is False


def test_tokens_name_both_the_account_and_the_address(db, settings):
    make_account(db, "c@example.org", verified=False)
    with db.session() as session:
        account = session.scalar(select(Account))
        token = signup.make_token(settings, account)
        account.email = "changed@example.org"
        session.flush()
        with pytest.raises(BadRequest) as error:
            signup.verify(session, settings, token)
    assert error.value.code == "link_invalid"


def _sign_up_on_the_page(browser, email: str, password: str = PASSWORD):
    sent = browser.post("/signup", data={"email": email, "name": "Léa", "password": password})
    assert sent.status_code == 200 and "il vous connecte aussi" in sent.text


def _verify_on_the_page(browser, token: str):
    return browser.post("/signup/verify", data={"token": token})


def test_verifying_signs_in_the_browser_that_signed_up_once(client, app, db, mailbox):
    from tests.helpers import CampusClient

    _sign_up_on_the_page(client, "lea@example.org")
    token = _token(mailbox)
    with CampusClient(app) as elsewhere:  # a browser that did not sign up: verified only
        page = _verify_on_the_page(elsewhere, token)
        assert page.status_code == 200 and "Votre adresse électronique est confirmée" in page.text
        assert elsewhere.get("/api/v1/me").status_code == 401
    # The browser that signed up: the link was used already, so it signs nobody in.
    assert _verify_on_the_page(client, token).status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_the_first_use_of_the_link_signs_in_and_a_second_does_not(client, app, db, mailbox):
    from tests.helpers import CampusClient

    _sign_up_on_the_page(client, "lea@example.org")
    token = _token(mailbox)
    mark = client.cookies.get("campus_signup")
    assert mark
    page = _verify_on_the_page(client, token)
    assert 'data-testid="signed-in"' in page.text and "lea@example.org" in page.text
    me = client.get("/api/v1/me").json()
    assert me["email"] == "lea@example.org" and me["email_verified"] is True
    assert client.post("/api/v1/participation/charter").status_code == 200
    with CampusClient(app) as thief:  # the same cookies, copied before the link was used
        thief.cookies.set("campus_signup", mark)
        again = _verify_on_the_page(thief, token)
        assert again.status_code == 200 and 'data-testid="signed-in"' not in again.text
        assert thief.get("/api/v1/me").status_code == 401


def test_a_late_link_verifies_without_signing_in(client, app, db, mailbox, monkeypatch):
    _sign_up_on_the_page(client, "lea@example.org")
    monkeypatch.setattr(app.state.settings, "reset_token_minutes", -1)
    page = _verify_on_the_page(client, _token(mailbox))
    assert "Votre adresse électronique est confirmée" in page.text
    assert client.get("/api/v1/me").status_code == 401
    client.login("lea@example.org", PASSWORD)  # the password still works
    assert client.get("/api/v1/me").json()["email_verified"] is True


def test_whoever_signed_up_first_with_an_address_keeps_no_way_in(client, app, db, mailbox):
    """Pre-account takeover: an attacker registers the victim's address with a password of
    theirs, signs in, then the victim signs up too and follows the link."""
    from tests.helpers import CampusClient

    with CampusClient(app) as attacker:
        _sign_up_on_the_page(attacker, "victim@example.org", "the attacker's password")
        attacker.login("victim@example.org", "the attacker's password")
        _sign_up_on_the_page(client, "victim@example.org")  # the victim, in their browser
        page = _verify_on_the_page(client, _token(mailbox))
        assert 'data-testid="signed-in"' in page.text
        assert attacker.get("/api/v1/me").status_code == 401  # the session is gone
        refused = attacker.post(
            "/api/v1/session",
            json={"email": "victim@example.org", "password": "the attacker's password"},
        )
        assert refused.status_code == 401
    assert client.get("/api/v1/me").json()["email"] == "victim@example.org"
