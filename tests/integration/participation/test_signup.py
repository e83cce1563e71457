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
