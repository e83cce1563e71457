"""Login with throttling by account and by address, and the web sessions it opens."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.accounts import (
    ACCOUNT_FAILURE_FACTOR,
    ADDRESS_FAILURE_FACTOR,
    AuthError,
    build_actor,
    find_account,
    sha256_hex,
)
from campus.auth.actor import Actor, Grant
from campus.auth.cache import ActorCache, Entry
from campus.auth.models import (
    Account,
    ApiToken,
    LoginAttempt,
    RoleGrant,
    WebSession,
)
from campus.auth.passwords import hash_password, needs_rehash, verify_password
from campus.db.base import utcnow
from campus.db.engine import read
from campus.db.prepared import prepare
from campus.i18n import N_
from campus.settings import Settings

# --- login, throttling and sessions -------------------------------------------------------------


@dataclass
class OpenedSession:
    cookie_value: str
    account: Account
    expires_at: dt.datetime


def _recent_failures(session: Session, settings: Settings, **where: str) -> int:
    since = utcnow() - dt.timedelta(minutes=settings.login_window_minutes)
    query = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= since)
    for column, value in where.items():
        query = query.where(getattr(LoginAttempt, column) == value)
    return session.scalar(query) or 0


def login(
    session: Session, settings: Settings, *, email: str, password: str, address: str
) -> OpenedSession:
    """Check a password with throttling that an attacker cannot turn against the owner.

    Failures are counted over `CAMPUS_LOGIN_WINDOW_MINUTES`, whether or not the account
    exists (so a refusal tells nothing about who has one), at three levels:
    - one address and one account: `CAMPUS_LOGIN_MAX_FAILURES`; another address (the
      owner's) is not affected;
    - one address across accounts: four times as many;
    - one account from every address: ten times as many (a distributed guess); then only a
      reset link opens it (a reset clears the account's failures).
    Failures are recorded in the caller's transaction; the caller commits them even when
    this raises (see `campus.auth.pages`), so throttling survives the refusal.
    """
    email = email.strip().lower()
    limit = settings.login_max_failures
    refusal = None
    if _recent_failures(session, settings, address=address) >= limit * ADDRESS_FAILURE_FACTOR:
        refusal = ("address", N_("too many failed logins from this address; try later"))
    elif _recent_failures(session, settings, email=email, address=address) >= limit:
        refusal = (
            "pair",
            N_(
                "too many failed logins for this account from here; try later or reset the password"
            ),
        )
    elif _recent_failures(session, settings, email=email) >= limit * ACCOUNT_FAILURE_FACTOR:
        refusal = (
            "account",
            N_("too many failed logins for this account; reset the password to sign in"),
        )
    account = find_account(session, email)
    if refusal is not None:
        # The same work as a check (a hash), so that a refusal's time says nothing either.
        verify_password(None, password)
        audit.record(
            session,
            actor="anonymous",
            action="login.throttled",
            object_type="account" if account else "",
            object_id=account.id if account else "",
            details={"reason": refusal[0]},
        )
        raise AuthError("throttled", refusal[1], 429)
    if not verify_password(account.password_hash if account else None, password) or not (
        account and account.active
    ):
        session.add(LoginAttempt(email=email, address=address))
        session.flush()
        audit.record(
            session,
            actor="anonymous",
            action="login.failed",
            object_type="account" if account else "",
            object_id=account.id if account else "",
        )
        raise AuthError("bad_credentials", N_("wrong email or password"), 401)
    if needs_rehash(account.password_hash or ""):
        account.password_hash = hash_password(password)
    account.locked_until = None
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.address == address)
    )
    opened = open_session(session, settings, account)
    audit.record(
        session,
        actor=f"account:{account.id}",
        action="login",
        object_type="account",
        object_id=account.id,
    )
    return opened


def open_session(session: Session, settings: Settings, account: Account) -> OpenedSession:
    value = secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(hours=settings.session_hours)
    session.add(WebSession(id_hash=sha256_hex(value), account_id=account.id, expires_at=expires))
    session.flush()
    return OpenedSession(value, account, expires)


# What a request needs of its account, read in the same query as the session or token.
_ACTOR_COLUMNS = (
    Account.id,
    Account.email,
    Account.name,
    Account.language,
    Account.email_verified,
    Account.active,
    RoleGrant.role,
    RoleGrant.scope_type,
    RoleGrant.scope_id,
)


def actor_of_rows(rows, via: str, token_scopes: tuple[str, ...] = ()) -> Actor | None:
    """An Actor from rows of _ACTOR_COLUMNS (one per grant, or one with no grant)."""
    first = rows[0]
    if not first.active:
        return None
    grants = (Grant(row.role, row.scope_type, row.scope_id) for row in rows if row.role is not None)
    return build_actor(first, grants, via, token_scopes)


# Built and compiled once (campus.db.prepared): they run on every request.
_SESSION_QUERY = prepare(
    select(WebSession.expires_at, *_ACTOR_COLUMNS)
    .join(Account, Account.id == WebSession.account_id)
    .outerjoin(RoleGrant, RoleGrant.account_id == Account.id)
    .where(WebSession.id_hash == bindparam("digest"))
)
TOKEN_QUERY = prepare(
    select(
        ApiToken.id.label("token_id"),
        ApiToken.scopes,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.last_used_at,
        *_ACTOR_COLUMNS,
    )
    .join(Account, Account.id == ApiToken.account_id)
    .outerjoin(RoleGrant, RoleGrant.account_id == Account.id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def resolve_session(
    session: Session, cookie_value: str, cache: ActorCache | None = None
) -> Actor | None:
    """The actor of a session cookie, in one query (it runs on every page request), or
    from `cache` when it holds it."""
    digest = sha256_hex(cookie_value)
    entry = cached_entry(cache, "s" + digest, lambda: _session_entry(session, digest))
    if entry is None or entry.expires_at <= utcnow():
        return None
    return entry.actor


def _session_entry(session: Session, digest: str) -> Entry | None:
    rows = read(session, _SESSION_QUERY, {"digest": digest}).all()
    if not rows:
        return None
    actor = actor_of_rows(rows, "session")
    if actor is None:
        return None
    return Entry(actor, rows[0].id, rows[0].expires_at)


def cached_entry(
    cache: ActorCache | None, key: str, load: Callable[[], Entry | None]
) -> Entry | None:
    """The cache's entry for `key`, else what `load` reads (then kept in the cache)."""
    if cache is None:
        return load()
    entry = cache.get(key)
    if entry is None:
        generation = cache.generation()
        entry = load()
        if entry is not None:
            cache.put(key, entry, generation)
    return entry


def logout(session: Session, cookie_value: str) -> None:
    web = session.get(WebSession, sha256_hex(cookie_value))
    if web is not None:
        audit.record(
            session,
            actor=f"account:{web.account_id}",
            action="logout",
            object_type="account",
            object_id=web.account_id,
        )
        session.delete(web)


def purge_expired_sessions(session: Session) -> int:
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
    return result.rowcount or 0
