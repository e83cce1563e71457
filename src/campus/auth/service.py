"""Accounts, login with throttling, sessions, API tokens, roles and password reset."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import mail
from campus.auth.actor import Actor, Grant
from campus.auth.cache import ActorCache, Entry
from campus.auth.models import (
    Account,
    ApiToken,
    LoginAttempt,
    PasswordResetToken,
    RoleGrant,
    WebSession,
)
from campus.auth.passwords import hash_password, needs_rehash, verify_password
from campus.auth.roles import Role, ScopeType
from campus.db.base import utcnow
from campus.db.engine import read
from campus.db.prepared import prepare
from campus.errors import CampusError
from campus.i18n import N_
from campus.settings import Settings

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}\Z")
LANGUAGES = ("fr", "en")
ADDRESS_FAILURE_FACTOR = 4  # an address may fail this many times more than one account
ACCOUNT_FAILURE_FACTOR = 10  # an account, from every address, this many times more


class AuthError(CampusError):
    """A refusal the user may see; `code` names it for the API."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message, code=code, status=status)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise AuthError("invalid_email", f"'{email}' is not a valid email address")
    return email


# --- accounts -----------------------------------------------------------------------------------


def create_account(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    language: str = "fr",
    email_verified: bool = False,
    by: Actor | None = None,
    password_hash: str | None = None,
) -> Account:
    """Create an account; `password_hash` instead of `password` when the caller hashed it
    already (sign-up hashes on every path, so that its time tells nothing)."""
    email = normalise_email(email)
    name = check_profile(name, language)
    if session.scalar(select(Account.id).where(Account.email == email)):
        raise AuthError("email_taken", f"an account with {email} already exists")
    account = Account(
        email=email,
        name=name,
        language=language,
        password_hash=password_hash or (hash_password(password) if password else None),
        email_verified=email_verified,
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        actor=by.label if by else "system",
        action="account.created",
        object_type="account",
        object_id=account.id,
    )
    return account


def check_profile(name: str, language: str) -> str:
    """The name, stripped, once it and the language are valid for an account."""
    name = name.strip()
    if not name or len(name) > 200:
        raise AuthError("invalid_name", N_("name must have 1 to 200 characters"))
    if language not in LANGUAGES:
        raise AuthError("invalid_language", f"language must be one of {', '.join(LANGUAGES)}")
    return name


def get_account(session: Session, account_id: str) -> Account | None:
    return session.get(Account, account_id)


def find_account(session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == email.strip().lower()))


def actor_for(account: Account, via: str, token_scopes: tuple[str, ...] = ()) -> Actor:
    grants = (Grant(g.role, g.scope_type, g.scope_id) for g in account.grants)
    return _actor(account, grants, via, token_scopes)


def _actor(account: Any, grants: Iterable[Grant], via: str, token_scopes: tuple[str, ...]) -> Actor:
    """An Actor from anything with an account's id, email, name, language, email_verified."""
    return Actor(
        account_id=account.id,
        email=account.email,
        name=account.name,
        language=account.language,
        email_verified=account.email_verified,
        grants=frozenset(grants),
        via=via,
        token_scopes=token_scopes,
    )


def set_language(session: Session, account_id: str, language: str) -> None:
    if language not in LANGUAGES:
        raise AuthError("invalid_language", f"language must be one of {', '.join(LANGUAGES)}")
    account = session.get(Account, account_id)
    if account:
        account.language = language


# --- roles --------------------------------------------------------------------------------------


def grant_role(
    session: Session,
    account: Account,
    role: str,
    *,
    scope_type: str = "",
    scope_id: str = "",
    by: Actor | None = None,
) -> RoleGrant:
    if role not in {r.value for r in Role}:
        raise AuthError("invalid_role", f"unknown role {role!r}: one of {[r.value for r in Role]}")
    if scope_type not in {s.value for s in ScopeType}:
        raise AuthError("invalid_scope", f"unknown scope type {scope_type!r}")
    if bool(scope_type) != bool(scope_id):
        raise AuthError("invalid_scope", "a scoped grant needs both a scope type and an id")
    existing = session.scalar(
        select(RoleGrant).where(
            RoleGrant.account_id == account.id,
            RoleGrant.role == role,
            RoleGrant.scope_type == scope_type,
            RoleGrant.scope_id == scope_id,
        )
    )
    if existing:
        return existing
    grant = RoleGrant(
        account_id=account.id,
        role=role,
        scope_type=scope_type,
        scope_id=scope_id,
        granted_by=by.label if by else "system",
    )
    account.grants.append(grant)
    session.flush()
    audit.record(
        session,
        actor=by.label if by else "system",
        action="role.granted",
        object_type="account",
        object_id=account.id,
        details={"role": role, "scope_type": scope_type, "scope_id": scope_id},
    )
    return grant


def revoke_role(
    session: Session,
    account: Account,
    role: str,
    *,
    scope_type: str = "",
    scope_id: str = "",
    by: Actor | None = None,
) -> bool:
    grant = next(
        (
            g
            for g in account.grants
            if g.role == role and g.scope_type == scope_type and g.scope_id == scope_id
        ),
        None,
    )
    if grant is None:
        return False
    account.grants.remove(grant)
    session.flush()
    audit.record(
        session,
        actor=by.label if by else "system",
        action="role.revoked",
        object_type="account",
        object_id=account.id,
        details={"role": role, "scope_type": scope_type, "scope_id": scope_id},
    )
    return True


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
    session.add(WebSession(id_hash=_digest(value), account_id=account.id, expires_at=expires))
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


def _actor_of_rows(rows, via: str, token_scopes: tuple[str, ...] = ()) -> Actor | None:
    """An Actor from rows of _ACTOR_COLUMNS (one per grant, or one with no grant)."""
    first = rows[0]
    if not first.active:
        return None
    grants = (Grant(row.role, row.scope_type, row.scope_id) for row in rows if row.role is not None)
    return _actor(first, grants, via, token_scopes)


# Built and compiled once (campus.db.prepared): they run on every request.
_SESSION_QUERY = prepare(
    select(WebSession.expires_at, *_ACTOR_COLUMNS)
    .join(Account, Account.id == WebSession.account_id)
    .outerjoin(RoleGrant, RoleGrant.account_id == Account.id)
    .where(WebSession.id_hash == bindparam("digest"))
)
_TOKEN_QUERY = prepare(
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
    digest = _digest(cookie_value)
    entry = _cached(cache, "s" + digest, lambda: _session_entry(session, digest))
    if entry is None or entry.expires_at <= utcnow():
        return None
    return entry.actor


def _session_entry(session: Session, digest: str) -> Entry | None:
    rows = read(session, _SESSION_QUERY, {"digest": digest}).all()
    if not rows:
        return None
    actor = _actor_of_rows(rows, "session")
    if actor is None:
        return None
    return Entry(actor, rows[0].id, rows[0].expires_at)


def _cached(cache: ActorCache | None, key: str, load: Callable[[], Entry | None]) -> Entry | None:
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
    web = session.get(WebSession, _digest(cookie_value))
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
        token_hash=_digest(value),
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
    digest = _digest(value)
    key = "t" + digest
    entry = _cached(cache, key, lambda: _token_entry(session, digest))
    now = utcnow()
    if entry is None or entry.expires_at <= now:
        return None
    last = entry.last_used_at
    stale = last is None or now - last > TOKEN_USE_INTERVAL
    return TokenRead(entry.actor, entry.token_id, stale, key)


def _token_entry(session: Session, digest: str) -> Entry | None:
    rows = read(session, _TOKEN_QUERY, {"digest": digest}).all()
    if not rows or rows[0].revoked_at is not None:
        return None
    first = rows[0]
    actor = _actor_of_rows(rows, "token", tuple(first.scopes))
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


# --- password reset -----------------------------------------------------------------------------


def request_password_reset(session: Session, settings: Settings, email: str) -> None:
    """Mail a single-use, expiring link; says nothing about whether the account exists."""
    account = find_account(session, email)
    if account is None or not account.active:
        return
    value = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            token_hash=_digest(value),
            account_id=account.id,
            expires_at=utcnow() + dt.timedelta(minutes=settings.reset_token_minutes),
        )
    )
    # In the fragment: a browser never sends it, so no access log holds the token.
    link = f"{settings.base_url.rstrip('/')}/password/reset#token={value}"
    mail.queue(
        session,
        settings,
        to=account.email,
        subject="Campus : réinitialisation du mot de passe / password reset",
        body=(
            "Pour choisir un nouveau mot de passe, ouvrez ce lien "
            f"(valable {settings.reset_token_minutes} minutes) :\n{link}\n\n"
            f"To choose a new password, open this link:\n{link}\n"
        ),
    )
    audit.record(
        session,
        actor="anonymous",
        action="password.reset_requested",
        object_type="account",
        object_id=account.id,
    )


def reset_password(session: Session, value: str, new_password: str) -> Account:
    token = session.get(PasswordResetToken, _digest(value))
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        raise AuthError("invalid_token", N_("this reset link is invalid, used or expired"))
    account = session.get(Account, token.account_id)
    assert account is not None
    account.password_hash = hash_password(new_password)
    account.locked_until = None
    token.used_at = utcnow()
    session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    # The owner is back in: failures (perhaps an attacker's) no longer throttle the account.
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == account.email))
    audit.record(
        session,
        actor=f"account:{account.id}",
        action="password.reset",
        object_type="account",
        object_id=account.id,
    )
    return account
