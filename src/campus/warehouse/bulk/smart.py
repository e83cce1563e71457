"""SMART Backend Services: client credentials with a `private_key_jwt` assertion.

A key pair is made once (`keygen`, `campus pull keygen`): the private key stays with Campus as
a JWK file (mode 0600), the public JWKS is registered at the hospital. Each token request
carries a fresh assertion signed RS384 or ES384 with the key's `kid`; the token is reused until
a minute before it expires (by this machine's monotonic clock, never the server's: a server
whose clock is off does not make Campus send an expired token), and fetched again when the
server says it is no longer valid (401).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from campus.errors import BadRequest, CampusError

ALGORITHMS = ("ES384", "RS384")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Scopes asked for: v2 (`.rs`: read and search) first; `system/*.read` for v1 servers.
SCOPES = ("system/*.rs", "system/*.read")
REFRESH_MARGIN = 60.0  # seconds before expiry at which a token is fetched again
KEY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class AuthFailed(CampusError):
    """The hospital's token endpoint refused Campus (502: the other side said no)."""

    status = 502


def keygen(path: Path, algorithm: str = "ES384") -> dict[str, Any]:
    """Write a new private key (JWK, mode 0600) to `path`; return the public JWKS."""
    if algorithm not in ALGORITHMS:
        raise BadRequest("the key algorithm is ES384 or RS384", code="bad_alg", where="alg")
    if path.exists():
        raise BadRequest(f"{path} exists: choose another name", code="exists", where="key")
    if algorithm == "ES384":
        key = ec.generate_private_key(ec.SECP384R1())
        private = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    public = _public(private)
    kid = _thumbprint(public)
    private.update(kid=kid, alg=algorithm, use="sig")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(private, handle)
    return {"keys": [{**public, "kid": kid, "alg": algorithm, "use": "sig", "key_ops": ["verify"]}]}


def _public(private: dict[str, Any]) -> dict[str, Any]:
    names = ("kty", "crv", "x", "y") if private["kty"] == "EC" else ("kty", "n", "e")
    return {name: private[name] for name in names}


def _thumbprint(public: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without spaces (base64url)."""
    import base64
    import hashlib

    text = json.dumps(public, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(text).digest()).rstrip(b"=").decode()


def load_key(path: Path) -> dict[str, Any]:
    """A private JWK written by `keygen` (or by hand: `kid` and `alg` are required)."""
    try:
        key = json.loads(path.read_text())
    except (OSError, ValueError):
        raise BadRequest(
            "the key file cannot be read as a JWK (make one with `campus pull keygen`)",
            code="bad_key",
            where="key",
        ) from None
    if not isinstance(key, dict) or key.get("alg") not in ALGORITHMS or not key.get("kid"):
        raise BadRequest(
            "the key must be a private JWK with kid and alg ES384 or RS384",
            code="bad_key",
            where="key",
        )
    return key


class BackendAuth:
    """Bearer tokens for one client of one server, fetched and refreshed as needed."""

    def __init__(
        self, http: httpx.Client, token_url: str, client_id: str, key: dict[str, Any]
    ) -> None:
        self.http = http
        self.token_url = token_url
        self.client_id = client_id
        self.key = key
        self.signing_key = jwt.PyJWK(key, key["alg"]).key
        self.token: str | None = None
        self.expires = 0.0
        self.scope = ""
        self.fetched = 0

    def assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            # Two minutes: valid for a server whose clock is up to 3 minutes off either way
            # (the IG: at most 5 minutes ahead; servers allow about a minute of leeway).
            "exp": now + 120,
            "iat": now,
            "jti": uuid.uuid4().hex + secrets.token_hex(4),
        }
        headers = {"kid": self.key["kid"], "typ": "JWT"}
        return jwt.encode(claims, self.signing_key, algorithm=self.key["alg"], headers=headers)

    def header(self) -> dict[str, str]:
        if self.token is None or time.monotonic() > self.expires - REFRESH_MARGIN:
            self._fetch()
        return {"Authorization": f"Bearer {self.token}"}

    def invalidate(self) -> None:
        self.token = None

    def _fetch(self) -> None:
        last = ""
        for scope in SCOPES:
            started = time.monotonic()
            try:
                response = self.http.post(
                    self.token_url,
                    data={
                        "grant_type": "client_credentials",
                        "scope": scope,
                        "client_assertion_type": ASSERTION_TYPE,
                        "client_assertion": self.assertion(),
                    },
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as error:
                raise AuthFailed(
                    f"the token endpoint cannot be reached: {type(error).__name__}",
                    code="token_unreachable",
                    where="token_url",
                ) from None
            if response.status_code == 200:
                body = response.json()
                self.token = body["access_token"]
                self.expires = started + float(body.get("expires_in", 300))
                self.scope = body.get("scope", scope)
                self.fetched += 1
                return
            last = _oauth_error(response)
            if "scope" not in last:
                break
        raise AuthFailed(
            f"the hospital's server refused the client credentials: {last}",
            code="token_refused",
            where="client_id",
        )


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('error', response.status_code)}: {body.get('error_description', '')}"[
            :300
        ]
    except ValueError:
        return f"HTTP {response.status_code}"


def discover(http: httpx.Client, base_url: str) -> str:
    """The token endpoint named by the server's `.well-known/smart-configuration`."""
    try:
        response = http.get(
            base_url.rstrip("/") + "/.well-known/smart-configuration",
            headers={"Accept": "application/json"},
        )
        if response.status_code == 200:
            endpoint = response.json().get("token_endpoint")
            if isinstance(endpoint, str) and endpoint.startswith(("http://", "https://")):
                return endpoint
    except (httpx.HTTPError, ValueError):
        pass
    raise AuthFailed(
        "the server publishes no token endpoint (.well-known/smart-configuration)",
        code="no_token_endpoint",
        where="from",
    )
