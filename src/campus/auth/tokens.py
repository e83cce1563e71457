"""API tokens: created once and shown once, read by digest, their use recorded at most every few
minutes, revoked by their owner."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.accounts import AuthError, sha256_hex
from campus.auth.actor import Actor
from campus.auth.cache import ActorCache, Entry
from campus.auth.models import (
    Account,
    ApiToken,
)
from campus.auth.sessions import TOKEN_QUERY, actor_of_rows, cached_entry
from campus.db.base import utcnow
from campus.db.engine import read
from campus.i18n import N_

# --- API tokens ---------------------------------------------------------------------------------

TOKEN_PREFIX = "cmp_"  # noqa: S105 - a visible prefix, not a secret


def create_token(
    session: Session,
    account: Account,
    *,
    name: str,
    scopes: list[str] | None = None,
    days: int = 90,
) -> tuple[ApiToken, str]:
    """Create a bearer token; the clear value is returned once and never stored."""
    if not 1 <= days <= 366:
        raise AuthError("invalid_expiry", N_("a token lives 1 to 366 days"))
    name = name.strip()
    if not name or len(name) > 100:
        raise AuthError("invalid_name", N_("a token name has 1 to 100 characters"))
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account.id,
        name=name,
        token_hash=sha256_hex(value),
        scopes=sorted(set(scopes or ["*"])),
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=f"account:{account.id}",
        action="token.created",
        object_type="api_token",
        object_id=token.id,
        details={"scopes": token.scopes},
    )
    return token, value


TOKEN_USE_INTERVAL = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class TokenRead:
    """A valid bearer token's actor; `stale_use` when its use should be recorded again."""

    actor: Actor
    token_id: str
    stale_use: bool
    key: str = ""  # its key in the actor cache


def read_token(session: Session, value: str, cache: ActorCache | None = None) -> TokenRead | None:
    """Look a bearer token up, in one read-only query or from `cache`; None when unknown,
    expired, revoked or its account inactive. Safe on the event loop: it writes nothing and
    takes no lock."""
    digest = sha256_hex(value)
    key = "t" + digest
    entry = cached_entry(cache, key, lambda: _token_entry(session, digest))
    now = utcnow()
    if entry is None or entry.expires_at <= now:
        return None
    last = entry.last_used_at
    stale = last is None or now - last > TOKEN_USE_INTERVAL
    return TokenRead(entry.actor, entry.token_id, stale, key)


def _token_entry(session: Session, digest: str) -> Entry | None:
    rows = read(session, TOKEN_QUERY, {"digest": digest}).all()
    if not rows or rows[0].revoked_at is not None:
        return None
    first = rows[0]
    actor = actor_of_rows(rows, "token", tuple(first.scopes))
    if actor is None:
        return None
    return Entry(actor, first.id, first.expires_at, first.token_id, first.last_used_at)


def record_token_use(session: Session, read: TokenRead) -> None:
    """Note the token's use (at most every 5 minutes) and audit it. It writes, so it may wait
    for a lock: never call it on the event loop."""
    session.execute(
        update(ApiToken).where(ApiToken.id == read.token_id).values(last_used_at=utcnow())
    )
    audit.record(
        session,
        actor=read.actor.label,
        action="token.used",
        object_type="api_token",
        object_id=read.token_id,
    )


def list_tokens(session: Session, account_id: str) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.created_at)
        )
    )


def revoke_token(session: Session, account_id: str, token_id: str) -> bool:
    token = session.get(ApiToken, token_id)
    if token is None or token.account_id != account_id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record(
        session,
        actor=f"account:{account_id}",
        action="token.revoked",
        object_type="api_token",
        object_id=token_id,
    )
    return True
