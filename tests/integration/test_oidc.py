import hashlib
import html
import time
import urllib.parse

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from campus.auth import oidc
from campus.auth.models import Account, WebSession
from campus.auth.oidc_models import OidcIdentity
from tests.helpers import PASSWORD, audit_events, make_account
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, ISSUER, FakeProvider, rsa_key


@pytest.fixture
def provider(settings, monkeypatch):
    fake = FakeProvider()
    settings.oidc_issuer = ISSUER
    settings.oidc_client_id = CLIENT_ID
    settings.oidc_client_secret = SecretStr(CLIENT_SECRET)
    settings.oidc_label = "Pro Santé Connect"
    monkeypatch.setattr(oidc, "http_client", fake.client)
    oidc.clear_caches()
    yield fake
    oidc.clear_caches()


def _start(client, next_path="/account"):
    response = client.get("/login/oidc", params={"next": next_path}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _sign_in(client, provider, **tamper):
    """The browser's round trip: to the provider and back to the callback."""
    answer = provider.authorize(_start(client))
    answer.update(tamper)
    return client.get("/login/oidc/callback", params=answer, follow_redirects=False)


def _count(db, model):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _actions(db):
    return [e.action for e in audit_events(db)]


def _nothing_created(db):
    assert _count(db, Account) == 0
    assert _count(db, OidcIdentity) == 0
    assert _count(db, WebSession) == 0


def test_the_login_page_offers_the_provider_only_when_configured(client, settings, provider):
    page = client.get("/login")
    assert "Se connecter avec Pro Santé Connect" in html.unescape(page.text)
    settings.oidc_issuer = None
    assert "Se connecter avec" not in client.get("/login").text
    response = client.get("/login/oidc", follow_redirects=False)
    assert response.status_code == 404
    assert "n'est pas configurée" in html.unescape(response.text)


def test_the_redirect_carries_pkce_state_and_nonce_and_a_signed_httponly_cookie(
    client, provider, settings
):
    response = client.get("/login/oidc", params={"next": "/account"}, follow_redirects=False)
    location = response.headers["location"]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == settings.base_url + "/login/oidc/callback"
    assert query["scope"] == "openid email profile"
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43
    set_cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(oidc.FLOW_COOKIE)
    )
    assert "HttpOnly" in set_cookie and "Path=/login/oidc" in set_cookie
    assert "Max-Age=600" in set_cookie and "SameSite=lax" in set_cookie
    assert query["nonce"] not in set_cookie and query["code_challenge"] not in set_cookie


def test_first_sign_in_creates_links_and_signs_in(client, db, provider):
    response = _sign_in(client, provider)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    me = client.get("/api/v1/me").json()
    assert me["email"] == "ana@example.org"
    with db.session() as session:
        account = session.scalar(select(Account))
        assert account.password_hash is None and account.email_verified
        assert account.name == "Ana Lima"
        identity = session.scalar(select(OidcIdentity))
        assert (identity.issuer, identity.subject) == (ISSUER, "f3c1d2a4-0001")
        assert identity.account_id == account.id
    assert {"account.created", "oidc.linked", "login.oidc"} <= set(_actions(db))
    # The PKCE verifier went to the token endpoint, with the client's credentials in Basic.
    sent = provider.token_requests[0]
    assert len(sent["form"]["code_verifier"]) >= 43
    assert sent["headers"]["authorization"].startswith("Basic ")
    assert "client_secret" not in sent["form"]


def test_audit_keeps_only_a_keyed_hash_of_the_subject(client, db, provider, settings):
    _sign_in(client, provider)
    events = audit_events(db)
    text = repr([(e.action, e.details) for e in events])
    assert "f3c1d2a4-0001" not in text and "ana@example.org" not in text
    assert oidc.subject_hash(settings, ISSUER, "f3c1d2a4-0001") in text
    assert hashlib.sha256(f"{ISSUER}\nf3c1d2a4-0001".encode()).hexdigest()[:16] not in text


def test_a_second_sign_in_reuses_the_link(client, db, provider):
    _sign_in(client, provider)
    client.cookies.clear()
    provider.claims["email"] = "ana.lima@example.org"  # a changed email does not matter
    response = _sign_in(client, provider)
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["email"] == "ana@example.org"
    assert _count(db, Account) == 1 and _count(db, OidcIdentity) == 1
    assert _actions(db).count("oidc.linked") == 1 and _actions(db).count("login.oidc") == 2


def test_an_existing_local_account_with_the_same_email_is_linked(client, db, provider):
    account_id = make_account(db, "Ana@Example.org", "staff")
    response = _sign_in(client, provider)
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["id"] == account_id
    assert _count(db, Account) == 1
    with db.session() as session:
        assert session.scalar(select(OidcIdentity.account_id)) == account_id
        # The local password still works for a verified account.
        assert session.get(Account, account_id).password_hash is not None
    client.cookies.clear()
    client.login("ana@example.org", PASSWORD)


def test_an_unverified_local_account_loses_its_password_when_the_owner_links(client, db, provider):
    account_id = make_account(db, "ana@example.org", verified=False)
    assert _sign_in(client, provider).status_code == 303
    with db.session() as session:
        account = session.get(Account, account_id)
        assert account.password_hash is None and account.email_verified


def test_client_secret_post_when_the_provider_does_not_take_basic(client, db, provider):
    provider.auth_methods = ("client_secret_post",)
    assert _sign_in(client, provider).status_code == 303
    sent = provider.token_requests[0]
    assert sent["form"]["client_secret"] == CLIENT_SECRET
    assert "authorization" not in sent["headers"]


def test_an_unverified_email_is_refused(client, db, provider):
    provider.claims["email_verified"] = False
    response = _sign_in(client, provider)
    assert response.status_code == 403
    assert "n'a pas confirmé votre adresse" in html.unescape(response.text)
    _nothing_created(db)
    assert "login.oidc_failed" in _actions(db)


def _refused(client, db, response, status, french):
    assert response.status_code == status, response.text
    assert french in html.unescape(response.text)
    assert client.get("/api/v1/me").status_code == 401
    _nothing_created(db)
    assert _actions(db) == ["login.oidc_failed"]


def test_a_state_mismatch_is_refused(client, db, provider):
    response = _sign_in(client, provider, state="forged-state")
    _refused(client, db, response, 400, "ne correspond pas")
    assert provider.token_requests == []  # the code was never exchanged


def test_a_callback_without_a_started_flow_is_refused(client, db, provider):
    answer = provider.authorize(_start(client))
    client.cookies.clear()
    response = client.get("/login/oidc/callback", params=answer, follow_redirects=False)
    _refused(client, db, response, 400, "n'a pas été commencée ici")


def test_an_expired_flow_is_refused(client, db, provider, monkeypatch):
    location = _start(client)
    flow_cookie = client.cookies.get(oidc.FLOW_COOKIE)
    client.cookies.clear()  # a browser drops it too; replay it to test the signed expiry
    answer = provider.authorize(location)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + oidc.FLOW_MAX_AGE + 5)
    response = client.get(
        "/login/oidc/callback",
        params=answer,
        headers={"cookie": f"{oidc.FLOW_COOKIE}={flow_cookie}"},
        follow_redirects=False,
    )
    monkeypatch.setattr(time, "time", real)
    _refused(client, db, response, 400, "trop de temps")


def test_a_provider_error_is_refused_without_showing_its_text(client, db, provider):
    _start(client)
    response = client.get(
        "/login/oidc/callback",
        params={"error": "access_denied", "error_description": "<b>evil</b>"},
        follow_redirects=False,
    )
    _refused(client, db, response, 401, "a refusé la connexion")
    assert "evil" not in html.unescape(response.text)


@pytest.mark.parametrize(
    ("claims", "status", "french"),
    [
        ({"nonce": "another-nonce"}, 400, "ne correspond pas"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, 401, "a expiré"),
        ({"aud": "another-client"}, 401, "n'a pas pu être vérifiée"),
        ({"iss": "https://evil.example.org"}, 401, "n'a pas pu être vérifiée"),
    ],
    ids=["nonce", "expired", "audience", "issuer"],
)
def test_a_bad_id_token_is_refused(client, db, provider, claims, status, french):
    original = provider.sign
    provider.sign = lambda **kw: original(**{**kw, **claims})
    _refused(client, db, _sign_in(client, provider), status, french)


def test_a_token_signed_by_another_key_is_refused(client, db, provider):
    provider.signing_key = rsa_key()
    _refused(client, db, _sign_in(client, provider), 401, "n'a pas pu être vérifiée")


def test_an_unreachable_provider_is_refused(client, db, provider):
    provider.down = True
    response = client.get("/login/oidc", follow_redirects=False)
    assert response.status_code == 502 and "injoignable" in html.unescape(response.text)
    _nothing_created(db)


def test_a_token_endpoint_that_refuses_the_code_is_refused(client, db, provider):
    answer = provider.authorize(_start(client))
    answer["code"] = "not-a-code"
    response = client.get("/login/oidc/callback", params=answer, follow_redirects=False)
    _refused(client, db, response, 401, "a refusé la connexion")
