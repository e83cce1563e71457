"""Account security as an attacker tries it: forged forwarded headers, CSRF tokens, lockouts,
sign-up answers that would tell who has an account."""

from __future__ import annotations

import asyncio

import pytest

from campus.auth import service as auth
from campus.site.app import create_app
from campus.web.middleware import ForwardedFrom, trusted_networks
from tests.helpers import PASSWORD, CampusClient, audit_events, make_account

LOOPBACK = ("127.0.0.1", 50000)


def _client(settings, db, **changes) -> CampusClient:
    for name, value in changes.items():
        setattr(settings, name, value)
    return CampusClient(create_app(settings, db), client=LOOPBACK)


def _fail_login(client: CampusClient, email: str, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = client.post(
        "/api/v1/session", json={"email": email, "password": "not the password"}, headers=headers
    )
    return response.status_code


@pytest.mark.slow  # each failed login costs an Argon2 hash
def test_a_forged_forwarded_header_does_not_escape_the_address_throttle(settings, db):
    """No proxy is trusted by default, not even 127.0.0.1: each attempt changing
    X-Forwarded-For still counts against the one real address."""
    with _client(settings, db, login_max_failures=1) as client:
        # One failure per account allowed, four times as many per address.
        codes = [_fail_login(client, f"u{n}@example.org", f"203.0.113.{n}") for n in range(6)]
    assert codes[:4] == [401] * 4
    assert codes[4:] == [429, 429]


@pytest.mark.slow  # each failed login costs an Argon2 hash
def test_a_trusted_proxy_names_the_client_and_a_forged_left_part_is_ignored(settings, db):
    with _client(settings, db, login_max_failures=1, trusted_proxies="127.0.0.1, 10.0.0.0/8") as c:
        # Behind the proxy, each client has its own count.
        first = [_fail_login(c, f"a{n}@example.org", f"198.51.100.{n}") for n in range(6)]
        # A client that writes its own X-Forwarded-For gets the real address appended by the
        # proxy (and a second trusted hop): the forged left part changes nothing.
        forged = [
            _fail_login(c, f"b{n}@example.org", f"192.0.2.{n}, 198.51.100.77, 10.1.2.3")
            for n in range(6)
        ]
    assert first == [401] * 6
    assert forged[:4] == [401] * 4 and forged[4:] == [429, 429]


def test_a_wrong_trusted_proxies_setting_is_a_clear_error(settings, db):
    settings.trusted_proxies = "10.0.0.1, proxy.internal"
    with pytest.raises(ValueError, match=r"CAMPUS_TRUSTED_PROXIES: 'proxy\.internal'"):
        create_app(settings, db)


def _seen_through(trusted: str, peer: str, headers: dict[str, str]) -> tuple[str, str]:
    seen = {}

    async def app(scope, receive, send):
        seen.update(client=scope["client"][0], scheme=scope["scheme"])

    scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 1234),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(ForwardedFrom(app, trusted=trusted_networks(trusted))(scope, None, None))
    return seen["client"], seen["scheme"]


def test_forwarded_proto_and_for_count_only_from_a_trusted_proxy():
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    assert _seen_through("", "127.0.0.1", headers) == ("127.0.0.1", "http")
    assert _seen_through("10.0.0.1", "127.0.0.1", headers) == ("127.0.0.1", "http")
    assert _seen_through("10.0.0.1", "10.0.0.1", headers) == ("198.51.100.7", "https")
    # Garbage where an address should be: the last address a proxy vouched for.
    garbage = {"X-Forwarded-For": "<script>, 10.0.0.2"}
    assert _seen_through("10.0.0.0/24", "10.0.0.1", garbage) == ("10.0.0.2", "http")


def _set_language(client: CampusClient, token: str) -> int:
    response = client.put(
        "/api/v1/me/language", json={"language": "en"}, headers={"X-CSRF-Token": token}
    )
    return response.status_code


def _plant(client: CampusClient, value: str) -> None:
    client.cookies.delete("campus_csrf")
    client.cookies.set("campus_csrf", value, domain="testserver.local")


def test_the_csrf_token_is_rotated_at_sign_in_and_bound_to_the_session(client, app, db):
    make_account(db, "ana@example.org")
    make_account(db, "bob@example.org")
    before = client.csrf()
    client.login("ana@example.org")
    after = client.cookies["campus_csrf"]
    assert after != before
    assert _set_language(client, before) == 403  # the token seen before sign-in is dead
    assert _set_language(client, after) == 204
    # Pages embed the same bound token.
    assert f'name="csrf-token" content="{after}"' in client.get("/account").text
    with CampusClient(app) as other:
        other.login("bob@example.org")
        bobs = other.cookies["campus_csrf"]
    assert _set_language(client, bobs) == 403  # another session's token
    # A token planted in the victim's cookie jar (by a sibling site) is not believed.
    _plant(client, "planted-value")
    assert _set_language(client, "planted-value") == 403
    _plant(client, "planted-value")
    assert _set_language(client, after) == 204
    # Sign-out: a new signed-out token.
    _plant(client, after)
    assert client.delete("/api/v1/session").status_code == 204
    assert client.cookies["campus_csrf"] not in (after, before)


def _login(app, address: str, email: str, password: str):
    with CampusClient(app, client=(address, 50000)) as client:
        return client.post("/api/v1/session", json={"email": email, "password": password})


@pytest.mark.slow  # each failed login costs an Argon2 hash
def test_an_attacker_cannot_lock_the_owner_out_and_learns_nothing_of_who_exists(app, db, settings):
    make_account(db, "ana@example.org")
    attacker, owner = "203.0.113.5", "198.51.100.9"
    for email in ("ana@example.org", "ghost@example.org"):
        for _ in range(settings.login_max_failures):
            assert _login(app, attacker, email, "guess-guess").status_code == 401
    # The pair (attacker's address, account) is throttled, even with the right password,
    # and the answer is the same for an account that does not exist.
    known = _login(app, attacker, "ana@example.org", PASSWORD)
    unknown = _login(app, attacker, "ghost@example.org", PASSWORD)
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert known.json()["error"]["code"] == "throttled"
    # The owner, from their own address, signs in.
    assert _login(app, owner, "ana@example.org", PASSWORD).status_code == 200
    assert "account.locked" not in {e.action for e in audit_events(db)}


@pytest.mark.slow  # each failed login costs an Argon2 hash
def test_a_distributed_guess_pauses_password_sign_in_until_a_reset_link(app, db, settings, mailbox):
    settings.login_max_failures = 1
    make_account(db, "ana@example.org")
    for n in range(auth.ACCOUNT_FAILURE_FACTOR):
        assert _login(app, f"203.0.113.{n}", "ana@example.org", "guess").status_code == 401
    paused = _login(app, "198.51.100.9", "ana@example.org", PASSWORD)
    assert paused.status_code == 429 and "reset" in paused.json()["error"]["message"]
    with CampusClient(app) as client:
        client.post("/api/v1/password/forgot", json={"email": "ana@example.org"})
        token = mailbox.link("/password/reset").split("#token=")[1]
        reset = client.post(
            "/api/v1/password/reset", json={"token": token, "password": "a new long secret"}
        )
    assert reset.status_code == 204
    assert _login(app, "198.51.100.9", "ana@example.org", "a new long secret").status_code == 200


def test_sign_up_answers_a_known_and_a_new_address_alike_with_the_same_hashing(
    client, db, monkeypatch
):
    from campus.auth import passwords

    make_account(db, "taken@example.org")
    hashes = []
    real = passwords._hasher

    class Counting:
        def hash(self, secret):
            hashes.append(1)
            return real.hash(secret)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    answers = {}
    for email in ("taken@example.org", "new@example.org"):
        hashes.clear()
        response = client.post(
            "/api/v1/signup", json={"email": email, "name": "Léa", "password": PASSWORD}
        )
        answers[email] = (response.status_code, response.json(), len(hashes))
        refused = client.post(
            "/api/v1/signup", json={"email": email, "name": " ", "password": PASSWORD}
        )
        answers[email] += (refused.status_code, refused.json())
    assert answers["taken@example.org"] == answers["new@example.org"]
    assert answers["new@example.org"][:1] == (202,) and answers["new@example.org"][2] == 1
