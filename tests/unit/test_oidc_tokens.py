"""ID-token validation, key lookup, discovery and the signed flow cookie, without a database."""

import time

import jwt
import pytest
from pydantic import SecretStr

from campus.auth import oidc
from campus.settings import ConfigurationError, Settings
from tests.helpers import forge
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    FakeProvider,
    ec_key,
    public_jwk,
    rsa_key,
)

SECRET = "unit-test-secret-key-0123456789-abcdefghij"


@pytest.fixture
def settings(tmp_path):
    return Settings(
        env="test",
        var_dir=tmp_path,
        secret_key=SecretStr(SECRET),
        pseudonym_key=SecretStr(SECRET + "p"),
        optout_key=SecretStr(SECRET + "o"),
        oidc_issuer=ISSUER,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),
    ).resolve()


@pytest.fixture
def fake(monkeypatch):
    provider = FakeProvider()
    monkeypatch.setattr(oidc, "http_client", provider.client)
    oidc.clear_caches()
    yield provider
    oidc.clear_caches()


def _validate(settings, token, nonce="n-1"):
    return oidc.validate_id_token(settings, oidc.provider(settings), token, nonce)


def _code(error: pytest.ExceptionInfo) -> str:
    return error.value.code


def test_a_good_rs256_token_gives_its_claims(settings, fake):
    claims = _validate(settings, fake.sign(nonce="n-1"))
    assert claims["sub"] == "f3c1d2a4-0001" and claims["email_verified"] is True


def test_an_es256_token_is_accepted(settings, fake):
    fake.key, fake.alg = ec_key(), "ES256"
    assert _validate(settings, fake.sign(nonce="n-1"))["iss"] == ISSUER


def test_a_token_a_little_past_its_expiry_passes_within_the_leeway(settings, fake):
    now = int(time.time())
    _validate(settings, fake.sign(nonce="n-1", iat=now - 400, exp=now - 20))
    with pytest.raises(oidc.OidcError) as error:
        _validate(settings, fake.sign(nonce="n-1", iat=now - 400, exp=now - oidc.LEEWAY - 20))
    assert _code(error) == "token_expired"


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"nonce": "n-2"}, "nonce_mismatch"),
        ({"nonce": None}, "nonce_mismatch"),
        ({"aud": "someone-else"}, "bad_token"),
        ({"aud": [CLIENT_ID, "someone-else"]}, "bad_token"),  # several audiences, no azp
        ({"iss": ISSUER + "/other"}, "bad_token"),
        ({"sub": None}, "bad_token"),
        ({"exp": None}, "bad_token"),
    ],
    ids=["nonce", "no-nonce", "audience", "audiences-no-azp", "issuer", "no-sub", "no-exp"],
)
def test_bad_claims_are_refused(settings, fake, claims, code):
    with pytest.raises(oidc.OidcError) as error:
        _validate(settings, fake.sign(**{"nonce": "n-1", **claims}))
    assert _code(error) == code


def test_several_audiences_pass_when_we_are_the_authorised_party(settings, fake):
    _validate(settings, fake.sign(nonce="n-1", aud=[CLIENT_ID, "api"], azp=CLIENT_ID))


def test_a_signature_by_another_key_is_refused(settings, fake):
    fake.signing_key = rsa_key()
    with pytest.raises(oidc.OidcError) as error:
        _validate(settings, fake.sign(nonce="n-1"))
    assert _code(error) == "bad_token"


def test_unsigned_and_symmetric_tokens_are_refused(settings, fake):
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "x", "nonce": "n-1"}
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 60}
    unsigned = jwt.encode(claims, None, algorithm="none")
    # HS256 keyed with the client secret, or with the public key's bytes (alg confusion).
    hs256 = jwt.encode(claims, CLIENT_SECRET, algorithm="HS256", headers={"kid": "k1"})
    for token in (unsigned, hs256):
        with pytest.raises(oidc.OidcError) as error:
            _validate(settings, token)
        assert _code(error) == "bad_token"


def test_a_rotated_key_is_fetched_once_and_an_unknown_one_refused(settings, fake):
    _validate(settings, fake.sign(nonce="n-1"))
    fake.key, fake.kid = rsa_key(), "k2"
    oidc._jwks.update({k: (v[0] - oidc.JWKS_REFRESH_FLOOR, v[1]) for k, v in oidc._jwks.items()})
    _validate(settings, fake.sign(nonce="n-1"))  # new kid: the JWKS is fetched again
    forged = jwt.encode(
        {"iss": ISSUER, "aud": CLIENT_ID, "sub": "x", "nonce": "n-1", "exp": 2**40, "iat": 1},
        rsa_key(),
        algorithm="RS256",
        headers={"kid": "k3"},
    )
    certs = [u for u in fake.requests if u.endswith("/certs")]
    with pytest.raises(oidc.OidcError):
        _validate(settings, forged)
    # An unknown kid right after a refresh does not hammer the provider.
    assert [u for u in fake.requests if u.endswith("/certs")] == certs


def test_discovery_is_cached_and_must_name_the_configured_issuer(settings, fake):
    oidc.provider(settings)
    oidc.provider(settings)
    assert sum(u.endswith("/openid-configuration") for u in fake.requests) == 1
    oidc.clear_caches()
    original = fake.discovery
    fake.discovery = lambda: {**original(), "issuer": "https://evil.example.org"}
    with pytest.raises(oidc.OidcError) as error:
        oidc.provider(settings)
    assert _code(error) == "issuer_mismatch"


def test_an_unreachable_provider_is_a_clear_error(settings, fake):
    fake.down = True
    with pytest.raises(oidc.OidcError) as error:
        oidc.provider(settings)
    assert _code(error) == "provider_unreachable" and error.value.status == 502


def test_the_pkce_challenge_follows_rfc_7636():
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oidc._challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_flow_cookie_is_signed_and_bound_to_the_state(settings, fake):
    url, cookie = oidc.start(settings, "/account")
    state = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))["state"]
    flow = oidc.read_flow(settings, cookie, state)
    assert flow.next == "/account" and len(flow.verifier) >= 43
    for bad_cookie, bad_state, code in [
        (cookie, "other", "state_mismatch"),
        (forge(cookie), state, "no_flow"),
        (None, state, "no_flow"),
    ]:
        with pytest.raises(oidc.OidcError) as error:
            oidc.read_flow(settings, bad_cookie, bad_state)
        assert _code(error) == code
    other = Settings(**{**settings.model_dump(), "secret_key": SecretStr(SECRET + "x")})
    with pytest.raises(oidc.OidcError):
        oidc.read_flow(other, cookie, state)


def test_production_refuses_a_short_client_secret_or_a_plain_http_issuer(tmp_path):
    settings = Settings(
        env="production",
        var_dir=tmp_path,
        secret_key=SecretStr("s" * 40),
        pseudonym_key=SecretStr("p" * 40),
        optout_key=SecretStr("o" * 40),
        database_url="postgresql+psycopg://x@db/campus",
        base_url="https://campus.example",
        oidc_issuer="http://idp.example.org/realms/campus",
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr("short"),
    ).resolve()
    with pytest.raises(ConfigurationError) as error:
        settings.check_production()
    assert "CAMPUS_OIDC_CLIENT_SECRET" in str(error.value)
    assert "CAMPUS_OIDC_ISSUER is not HTTPS" in str(error.value)
    settings.oidc_issuer = ISSUER
    settings.oidc_client_secret = SecretStr(CLIENT_SECRET)
    settings.check_production()


def test_public_jwk_round_trips_through_pyjwt():
    jwk = public_jwk(rsa_key(), "k9", "RS256")
    assert jwt.PyJWK.from_dict(jwk).key_id == "k9"
