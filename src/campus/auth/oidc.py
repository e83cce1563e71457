"""OpenID Connect sign-in: Authorization Code flow with PKCE, state and nonce.

The flow's secrets (state, nonce, PKCE verifier, where to go next) travel in a short-lived
cookie signed with the app's secret key; nothing is stored before the provider answers.
The ID token is checked against the provider's JWKS (RS256 or ES256), issuer, audience,
expiry and nonce. A first sign-in links the identity (issuer, subject) to the account with
the same verified email, or creates one without a password.

HTTP goes through `http_client()`, a module-level factory that tests replace with an
`httpx.MockTransport`-backed client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import service
from campus.auth.models import Account, WebSession
from campus.auth.oidc_models import OidcIdentity
from campus.db.base import utcnow
from campus.i18n import N_
from campus.settings import Settings

FLOW_COOKIE = "campus_oidc"
FLOW_COOKIE_PATH = "/login/oidc"
FLOW_MAX_AGE = 600  # seconds the user has to come back from the provider
CALLBACK_PATH = "/login/oidc/callback"
ALGORITHMS = ("RS256", "ES256")
LEEWAY = 60  # seconds of clock skew tolerated on exp, iat and nbf
DISCOVERY_TTL = 3600.0
JWKS_TTL = 3600.0
JWKS_REFRESH_FLOOR = 60.0  # an unknown key id refetches the JWKS at most this often
HTTP_TIMEOUT = 10.0
_SALT = "campus.oidc.flow"


def _default_client() -> httpx.Client:
    return httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False)


http_client: Callable[[], httpx.Client] = _default_client


class OidcError(service.AuthError):
    """A refused OpenID Connect sign-in; `code` is the reason recorded in the audit log."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_methods: tuple[str, ...]


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next: str


_lock = threading.Lock()
_discovery: dict[str, tuple[float, Provider]] = {}
_jwks: dict[str, tuple[float, jwt.PyJWKSet]] = {}


def clear_caches() -> None:
    with _lock:
        _discovery.clear()
        _jwks.clear()


# --- provider metadata --------------------------------------------------------------------------


def _get_json(url: str) -> dict[str, Any]:
    try:
        with http_client() as client:
            response = client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise OidcError(
            "provider_unreachable",
            N_("the sign-in provider cannot be reached; try again later"),
            502,
        ) from error
    if response.status_code != 200:
        raise OidcError(
            "provider_error",
            N_("the sign-in provider answered with an error; try again later"),
            502,
        )
    try:
        body = response.json()
    except ValueError as error:
        raise OidcError(
            "provider_error",
            N_("the sign-in provider answered with an error; try again later"),
            502,
        ) from error
    if not isinstance(body, dict):
        raise OidcError(
            "provider_error",
            N_("the sign-in provider answered with an error; try again later"),
            502,
        )
    return body


def provider(settings: Settings) -> Provider:
    """The provider's metadata from `{issuer}/.well-known/openid-configuration`, cached."""
    if not settings.oidc_enabled:
        raise OidcError(
            "oidc_disabled", N_("sign-in with an external provider is not configured"), 404
        )
    issuer = (settings.oidc_issuer or "").rstrip("/")
    now = time.monotonic()
    with _lock:
        cached = _discovery.get(issuer)
    if cached and now - cached[0] < DISCOVERY_TTL:
        return cached[1]
    body = _get_json(f"{issuer}/.well-known/openid-configuration")
    fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(body.get(name), str) and body[name] for name in fields):
        raise OidcError(
            "provider_error",
            N_("the sign-in provider answered with an error; try again later"),
            502,
        )
    if body["issuer"].rstrip("/") != issuer:
        # OpenID Connect Discovery 1.0, section 4.3: the issuer must be the one asked for.
        raise OidcError(
            "issuer_mismatch", N_("the sign-in provider's configuration is inconsistent"), 502
        )
    methods = body.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    found = Provider(
        issuer=body["issuer"],
        authorization_endpoint=body["authorization_endpoint"],
        token_endpoint=body["token_endpoint"],
        jwks_uri=body["jwks_uri"],
        token_auth_methods=tuple(m for m in methods if isinstance(m, str)),
    )
    with _lock:
        _discovery[issuer] = (now, found)
    return found


def _signing_key(found: Provider, kid: str | None, alg: str) -> Any:
    """The provider's public key for a token header; refetches the JWKS once on rotation."""
    for attempt in range(2):
        now = time.monotonic()
        with _lock:
            cached = _jwks.get(found.jwks_uri)
        stale = cached is None or now - cached[0] >= JWKS_TTL
        if attempt == 1:
            if cached is not None and now - cached[0] < JWKS_REFRESH_FLOOR:
                break
            stale = True
        if stale:
            try:
                keys = jwt.PyJWKSet.from_dict(_get_json(found.jwks_uri))
            except jwt.PyJWTError as error:
                raise OidcError(
                    "provider_error",
                    N_("the sign-in provider answered with an error; try again later"),
                    502,
                ) from error
            with _lock:
                _jwks[found.jwks_uri] = (now, keys)
        else:
            assert cached is not None
            keys = cached[1]
        kty = "RSA" if alg.startswith("RS") else "EC"
        candidates = [
            k
            for k in keys.keys
            if (kid is None or k.key_id == kid)
            and k.key_type == kty
            and (k.public_key_use in (None, "sig"))
        ]
        if len(candidates) == 1:
            return candidates[0].key
    raise OidcError("bad_token", N_("the sign-in provider's answer could not be verified"), 401)


# --- the flow -----------------------------------------------------------------------------------


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret("secret_key"), salt=_SALT)


def redirect_uri(settings: Settings) -> str:
    return settings.base_url.rstrip("/") + CALLBACK_PATH


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start(settings: Settings, next_path: str) -> tuple[str, str]:
    """Begin a sign-in: the provider URL to redirect to and the signed flow cookie's value."""
    found = provider(settings)
    flow = Flow(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(64),
        next=next_path,
    )
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": redirect_uri(settings),
            "scope": settings.oidc_scopes,
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": _challenge(flow.verifier),
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in found.authorization_endpoint else "?"
    cookie = _serializer(settings).dumps(
        {"s": flow.state, "n": flow.nonce, "v": flow.verifier, "x": flow.next}
    )
    return f"{found.authorization_endpoint}{separator}{query}", cookie


def read_flow(settings: Settings, cookie: str | None, state: str | None) -> Flow:
    """The flow begun in this browser, if the provider's `state` matches it and is fresh."""
    if not cookie:
        raise OidcError(
            "no_flow", N_("this sign-in was not started here or has expired; start again"), 400
        )
    try:
        data = _serializer(settings).loads(cookie, max_age=FLOW_MAX_AGE)
    except SignatureExpired as error:
        raise OidcError(
            "flow_expired", N_("the sign-in took too long; start again"), 400
        ) from error
    except BadSignature as error:
        raise OidcError(
            "no_flow", N_("this sign-in was not started here or has expired; start again"), 400
        ) from error
    flow = Flow(state=data["s"], nonce=data["n"], verifier=data["v"], next=data["x"])
    if not state or not hmac.compare_digest(flow.state.encode(), state.encode()):
        raise OidcError(
            "state_mismatch",
            N_("this sign-in answer does not match the one started; start again"),
            400,
        )
    return flow


def exchange_code(settings: Settings, found: Provider, code: str, flow: Flow) -> str:
    """Trade the authorization code (and the PKCE verifier) for an ID token."""
    client_id = settings.oidc_client_id or ""
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(settings),
        "code_verifier": flow.verifier,
        "client_id": client_id,
    }
    auth: tuple[str, str] | None = None
    if secret:
        if "client_secret_basic" in found.token_auth_methods:
            # RFC 6749, section 2.3.1: both parts are form-encoded before Basic encoding.
            auth = (urllib.parse.quote(client_id, safe=""), urllib.parse.quote(secret, safe=""))
        else:
            form["client_secret"] = secret
    try:
        with http_client() as client:
            response = client.post(
                found.token_endpoint,
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
            )
    except httpx.HTTPError as error:
        raise OidcError(
            "provider_unreachable",
            N_("the sign-in provider cannot be reached; try again later"),
            502,
        ) from error
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict):
        raise OidcError(
            "token_refused", N_("the sign-in provider refused the sign-in; start again"), 401
        )
    id_token = body.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise OidcError(
            "token_refused", N_("the sign-in provider refused the sign-in; start again"), 401
        )
    return id_token


def validate_id_token(
    settings: Settings, found: Provider, id_token: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims once signature, issuer, audience, times and nonce are checked."""
    bad = OidcError("bad_token", N_("the sign-in provider's answer could not be verified"), 401)
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError as error:
        raise bad from error
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise bad
    key = _signing_key(found, header.get("kid"), alg)
    try:
        claims = jwt.decode(
            id_token,
            key,
            algorithms=[alg],
            audience=settings.oidc_client_id,
            issuer=found.issuer,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise OidcError(
            "token_expired", N_("the sign-in provider's answer has expired; start again"), 401
        ) from error
    except jwt.PyJWTError as error:
        raise bad from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != settings.oidc_client_id:
        raise bad
    given = claims.get("nonce")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
        raise OidcError(
            "nonce_mismatch",
            N_("this sign-in answer does not match the one started; start again"),
            400,
        )
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
        raise bad
    return claims


# --- accounts -----------------------------------------------------------------------------------


def subject_hash(settings: Settings, issuer: str, subject: str) -> str:
    """What the audit log keeps of an identity: never the subject itself.

    Keyed, because subjects may be short national numbers (a health professional's RPPS)
    that a plain hash would not hide.
    """
    key = settings.secret("secret_key").encode()
    message = f"oidc-subject\n{issuer}\n{subject}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def _display_name(claims: Mapping[str, Any], email: str) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return (name or email.split("@", 1)[0]).strip()[:200]


def link_account(
    session: Session, settings: Settings, issuer: str, claims: Mapping[str, Any]
) -> Account:
    """The account of an identity: already linked, else matched by verified email or new."""
    subject = claims["sub"]
    hashed = subject_hash(settings, issuer, subject)
    identity = session.scalar(
        select(OidcIdentity).where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
    )
    if identity is not None:
        account = session.get(Account, identity.account_id)
        if account is None or not account.active:
            raise OidcError("account_disabled", N_("this account is disabled"), 403)
        identity.last_login_at = utcnow()
        return account
    email = claims.get("email")
    if claims.get("email_verified") not in (True, "true") or not isinstance(email, str):
        raise OidcError(
            "email_not_verified",
            N_(
                "your provider did not confirm your email address: confirm it with the provider, "
                "then sign in again"
            ),
            403,
        )
    try:
        email = service.normalise_email(email)
    except service.AuthError as error:
        raise OidcError(
            "invalid_email", N_("the email address given by your provider is not valid"), 400
        ) from error
    account = service.find_account(session, email)
    created = account is None
    if account is None:
        account = service.create_account(
            session,
            email=email,
            name=_display_name(claims, email),
            password=None,
            email_verified=True,
        )
    elif not account.active:
        raise OidcError("account_disabled", N_("this account is disabled"), 403)
    elif not account.email_verified:
        # Whoever registered this address never proved it: their password and sessions
        # must not survive the real owner's first sign-in (pre-hijacking).
        account.password_hash = None
        account.email_verified = True
        session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    session.add(
        OidcIdentity(issuer=issuer, subject=subject, account_id=account.id, last_login_at=utcnow())
    )
    session.flush()
    audit.record(
        session,
        actor=f"account:{account.id}",
        action="oidc.linked",
        object_type="account",
        object_id=account.id,
        details={"subject_hash": hashed, "created": created},
    )
    return account


def finish(
    session: Session,
    settings: Settings,
    *,
    cookie: str | None,
    params: Mapping[str, str],
) -> tuple[service.OpenedSession, str]:
    """Complete a sign-in from the provider's redirect: the opened session and where to go.

    Raises `OidcError` before writing anything; the caller rolls back and records the
    failure (see `record_failure`).
    """
    if params.get("error"):
        code = "access_denied" if params["error"] == "access_denied" else "provider_refused"
        # The provider's own error text is not shown: it is not translated and may be forged.
        raise OidcError(code, N_("the sign-in provider refused the sign-in; start again"), 401)
    flow = read_flow(settings, cookie, params.get("state"))
    code = params.get("code")
    if not code:
        raise OidcError("no_code", N_("the sign-in provider refused the sign-in; start again"), 400)
    found = provider(settings)
    id_token = exchange_code(settings, found, code, flow)
    claims = validate_id_token(settings, found, id_token, flow.nonce)
    try:
        account = link_account(session, settings, found.issuer, claims)
    except IntegrityError as error:
        # Another sign-in of the same person linked or created the account meanwhile.
        raise OidcError(
            "link_conflict", N_("this sign-in crossed another one; sign in again"), 409
        ) from error
    opened = service.open_session(session, settings, account)
    audit.record(
        session,
        actor=f"account:{account.id}",
        action="login.oidc",
        object_type="account",
        object_id=account.id,
        details={"subject_hash": subject_hash(settings, found.issuer, claims["sub"])},
    )
    return opened, flow.next


def record_failure(session: Session, error: service.AuthError) -> None:
    audit.record(
        session, actor="anonymous", action="login.oidc_failed", details={"reason": error.code}
    )
