"""Password reset: a one-time token by mail, never saying whether the address has an account."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import mail
from campus.auth.accounts import AuthError, find_account, sha256_hex
from campus.auth.models import (
    Account,
    LoginAttempt,
    PasswordResetToken,
    WebSession,
)
from campus.auth.passwords import hash_password
from campus.db.base import utcnow
from campus.i18n import N_
from campus.settings import Settings

# --- password reset -----------------------------------------------------------------------------


def request_password_reset(session: Session, settings: Settings, email: str) -> None:
    """Mail a single-use, expiring link; says nothing about whether the account exists."""
    account = find_account(session, email)
    if account is None or not account.active:
        return
    value = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            token_hash=sha256_hex(value),
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
    token = session.get(PasswordResetToken, sha256_hex(value))
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
