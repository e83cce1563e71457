"""A member's rights over their data (GDPR articles 15, 17 and 20): download everything the
platform holds about them, and delete their account.

Each capability says what it holds about an account with one `PersonalData` part, declared
in the site's registry (`personal_data=` of its `Capability`); the site hands the list to the
app (`app.state.personal_data`) and to the CLI. A part exports its rows as JSON-ready data,
and, when it holds personal data beyond the account's id, erases or pseudonymises them.

Deleting an account keeps its row, emptied: its id is what contributions the platform must
keep point to (a proposal in a consultation, a vote in its counts, a review's score, an
attendance), and what the audit chain names. With the email, name, password, sessions,
tokens, roles, sign-in identities and mail gone, that id designates nobody any more; the
audit chain is not touched, so it still verifies.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import (
    Account,
    ApiToken,
    LoginAttempt,
    OutboxMail,
    PasswordResetToken,
    RoleGrant,
    WebSession,
)
from campus.auth.oidc_models import OidcIdentity
from campus.db.base import utcnow

FORMAT = "campus-personal-data/1"
DELETED_NAME = "[compte supprimé / deleted account]"


@dataclass(frozen=True)
class PersonalData:
    """What one capability holds about an account."""

    name: str
    export: Callable[[Session, str], Any]
    erase: Callable[[Session, str], None] | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def rows(
    session: Session, model: type, *where: Any, leave_out: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Every column of the rows of `model` matching `where`, as JSON-ready dicts (the
    generic export a part uses for its own tables)."""
    columns = [c for c in inspect(model).columns if c.key not in leave_out]
    found = session.scalars(select(model).where(*where)).all()
    return [{c.key: _plain(getattr(row, c.key)) for c in columns} for row in found]


# --- the account's own part ---------------------------------------------------------------------


def _export_account(session: Session, account_id: str) -> dict[str, Any]:
    account = session.get(Account, account_id)
    if account is None:
        return {}
    return {
        "profile": rows(session, Account, Account.id == account_id, leave_out=("password_hash",))[0]
        | {"has_password": account.password_hash is not None},
        "roles": rows(session, RoleGrant, RoleGrant.account_id == account_id),
        "api_tokens": rows(
            session, ApiToken, ApiToken.account_id == account_id, leave_out=("token_hash",)
        ),
        "sessions": rows(
            session, WebSession, WebSession.account_id == account_id, leave_out=("id_hash",)
        ),
        "sign_in_identities": rows(session, OidcIdentity, OidcIdentity.account_id == account_id),
        "password_resets": rows(
            session,
            PasswordResetToken,
            PasswordResetToken.account_id == account_id,
            leave_out=("token_hash",),
        ),
        "failed_logins": rows(session, LoginAttempt, LoginAttempt.email == account.email),
        "mail": rows(session, OutboxMail, OutboxMail.to == account.email),
    }


def _erase_account(session: Session, account_id: str) -> None:
    account = session.get(Account, account_id)
    if account is None:
        return
    for model, where in (
        (WebSession, WebSession.account_id == account_id),
        (ApiToken, ApiToken.account_id == account_id),
        (PasswordResetToken, PasswordResetToken.account_id == account_id),
        (OidcIdentity, OidcIdentity.account_id == account_id),
        (RoleGrant, RoleGrant.account_id == account_id),
        (LoginAttempt, LoginAttempt.email == account.email),
        (OutboxMail, OutboxMail.to == account.email),
    ):
        session.execute(delete(model).where(where))
    session.expire(account, ["grants"])
    account.email = f"deleted-{account.id}@deleted.invalid"
    account.name = DELETED_NAME
    account.password_hash = None
    account.email_verified = False
    account.active = False
    account.locked_until = None


ACCOUNT = PersonalData("account", _export_account, _erase_account)


# --- the rights ---------------------------------------------------------------------------------


def export(session: Session, account_id: str, parts: Iterable[PersonalData]) -> dict[str, Any]:
    """Everything the platform holds about the account, one key per capability."""
    data = {part.name: part.export(session, account_id) for part in (ACCOUNT, *parts)}
    return {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(),
        "account_id": account_id,
        "data": data,
    }


def delete_account(
    session: Session, account_id: str, parts: Iterable[PersonalData], *, by: Actor | None
) -> None:
    """Erase or pseudonymise the account's personal data in every capability, then the
    account's own (see the module's docstring). One transaction: all or nothing."""
    for part in (*parts, ACCOUNT):
        if part.erase is not None:
            part.erase(session, account_id)
    session.flush()
    audit.record(
        session,
        actor=by.label if by else "system",
        action="account.deleted",
        object_type="account",
        object_id=account_id,
    )


def confirms(account: Account, typed: str) -> bool:
    """A deletion is confirmed by typing the account's email address."""
    return typed.strip().lower() == account.email
