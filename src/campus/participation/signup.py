"""Citizen sign-up: an account with a password, then a signed, expiring link mailed to verify
the email address. A verified email is what `consultation.contribute` requires."""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import mail
from campus.auth import service as auth
from campus.auth.models import Account, OutboxMail
from campus.auth.passwords import WeakPassword, check_strength, hash_password
from campus.db.base import utcnow
from campus.errors import BadRequest, TooManyRequests
from campus.i18n import gettext as _
from campus.settings import Settings

SALT = "campus.signup.verify-email"
MAILS_PER_ADDRESS_HOUR = 3  # so the form cannot be used to flood someone's mailbox


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret("secret_key"), salt=SALT)


def make_token(settings: Settings, account: Account) -> str:
    """A signed token naming the account and the address it verifies."""
    return _serializer(settings).dumps({"account": account.id, "email": account.email})


def verification_link(settings: Settings, account: Account) -> str:
    # In the fragment: a browser never sends it, so no access log holds the token.
    return f"{settings.base_url.rstrip('/')}/signup/verify#token={make_token(settings, account)}"


def sign_up(
    session: Session,
    settings: Settings,
    *,
    email: str,
    name: str,
    password: str,
    language: str = "fr",
) -> Account | None:
    """Create a citizen account and mail its verification link.

    When the address already has an account, nothing is created and its owner is told by
    mail instead; the caller answers the same either way, so sign-up does not reveal who
    has an account.
    """
    try:
        check_strength(password)
    except WeakPassword as error:
        raise BadRequest(
            _("the password must have at least 10 characters"),
            code="weak_password",
            where="password",
        ) from error
    address = auth.normalise_email(email)
    # Checked on every path: a bad name must be refused for a known address as for a new one.
    auth.check_profile(name, language)
    _throttle(session, address)
    # Hashed on every path, used or not: a known address must take as long as a new one.
    password_hash = hash_password(password)
    existing = auth.find_account(session, address)
    if existing is not None and not existing.email_verified:
        resend(session, settings, existing)
        return None
    if existing is not None:
        mail.queue(
            session,
            settings,
            to=existing.email,
            subject=_("Sign-up attempt on Campus"),
            body=_(
                "Someone tried to create a Campus account with this address, which already "
                "has one. If it was you, sign in or reset your password: {url}"
            ).format(url=f"{settings.base_url.rstrip('/')}/password/forgot"),
        )
        return None
    account = auth.create_account(
        session,
        email=address,
        name=name,
        password=None,
        password_hash=password_hash,
        language=language,
    )
    mail.queue(
        session,
        settings,
        to=account.email,
        subject=_("Confirm your email address for Campus"),
        body=_(
            "Welcome to Campus. Confirm your email address within {hours} hours to take part "
            "in consultations: {url}"
        ).format(hours=settings.signup_link_hours, url=verification_link(settings, account)),
    )
    audit.record(
        session,
        actor=f"account:{account.id}",
        action="signup.requested",
        object_type="account",
        object_id=account.id,
    )
    return account


def _throttle(session: Session, address: str) -> None:
    since = utcnow() - dt.timedelta(hours=1)
    sent = session.scalar(
        select(func.count()).where(OutboxMail.to == address, OutboxMail.created_at >= since)
    )
    if (sent or 0) >= MAILS_PER_ADDRESS_HOUR:
        raise TooManyRequests(
            _("too many sign-up mails were sent to this address in the last hour: try again later"),
            code="throttled",
        )


def verify(session: Session, settings: Settings, token: str) -> Account:
    """Mark the email verified from a valid, unexpired link; idempotent."""
    try:
        data = _serializer(settings).loads(token, max_age=settings.signup_link_hours * 3600)
    except SignatureExpired as error:
        raise BadRequest(
            _("this verification link has expired: sign up again or ask for a new link"),
            code="link_expired",
        ) from error
    except BadSignature as error:
        raise BadRequest(
            _("this verification link is not valid: copy the whole link from the mail"),
            code="link_invalid",
        ) from error
    account = session.get(Account, str(data.get("account", "")))
    if account is None or account.email != data.get("email"):
        raise BadRequest(
            _("this verification link is not valid: copy the whole link from the mail"),
            code="link_invalid",
        )
    if not account.email_verified:
        account.email_verified = True
        audit.record(
            session,
            actor=f"account:{account.id}",
            action="signup.email_verified",
            object_type="account",
            object_id=account.id,
        )
    return account


def resend(session: Session, settings: Settings, account: Account) -> None:
    """Mail a new verification link to an account not yet verified."""
    if account.email_verified:
        return
    mail.queue(
        session,
        settings,
        to=account.email,
        subject=_("Confirm your email address for Campus"),
        body=_(
            "Welcome to Campus. Confirm your email address within {hours} hours to take part "
            "in consultations: {url}"
        ).format(hours=settings.signup_link_hours, url=verification_link(settings, account)),
    )
