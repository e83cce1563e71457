"""Accounts and their roles: creation, profile, language, grants and revocations."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor, Grant
from campus.auth.models import (
    Account,
    RoleGrant,
)
from campus.auth.passwords import hash_password
from campus.auth.roles import Role, ScopeType
from campus.errors import CampusError
from campus.i18n import N_

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}\Z")
LANGUAGES = ("fr", "en")
ADDRESS_FAILURE_FACTOR = 4  # an address may fail this many times more than one account
ACCOUNT_FAILURE_FACTOR = 10  # an account, from every address, this many times more


class AuthError(CampusError):
    """A refusal the user may see; `code` names it for the API."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message, code=code, status=status)


def sha256_hex(value: str) -> str:
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
    return build_actor(account, grants, via, token_scopes)


def build_actor(
    account: Any, grants: Iterable[Grant], via: str, token_scopes: tuple[str, ...]
) -> Actor:
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
