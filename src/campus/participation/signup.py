"""Citizen sign-up: an account with a password, then a signed, expiring link mailed to verify
the email address. A verified email is what `consultation.contribute` requires.

Verifying signs the citizen in, once and safely: only on the first use of the link (the
account's row is locked while it turns verified, so two uses cannot both sign in), only
within `reset_token_minutes` of the mail (as long as a password-reset link, which gives the
mailbox the same power), and only in a browser that asked for an account with this address
(a signed cookie set by every sign-up, whatever its outcome, so it tells nothing). A second
sign-up for an address not yet verified drops the account's password and sessions: whoever
registered the address first cannot keep a way into the account its owner then verifies.
"""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import mail
from campus.auth import service as auth
from campus.auth.models import Account, OutboxMail, WebSession
from campus.auth.passwords import WeakPassword, check_strength, hash_password
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.errors import BadRequest, TooManyRequests
from campus.i18n import gettext as _
from campus.settings import Settings

SALT = "campus.signup.verify-email"
BROWSER_SALT = "campus.signup.browser"
BROWSER_COOKIE = "campus_signup"  # the addresses this browser asked an account for
MAILS_PER_ADDRESS_HOUR = 3  # so the form cannot be used to flood someone's mailbox


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret("secret_key"), salt=SALT)


def make_token(settings: Settings, account: Account) -> str:
    """A signed token naming the account and the address it verifies."""
    return _serializer(settings).dumps({"account": account.id, "email": account.email})


def browser_mark(settings: Settings, email: str, earlier: str | None = None) -> str:
    """The sign-up cookie's value: the addresses this browser signed up with (the latest
    three), signed. Set on every sign-up, whatever its outcome."""
    addresses = [auth.normalise_email(email), *_marked(settings, earlier)]
    kept = list(dict.fromkeys(addresses))[:3]
    return URLSafeTimedSerializer(settings.secret("secret_key"), salt=BROWSER_SALT).dumps(kept)


def _marked(settings: Settings, cookie: str | None) -> list[str]:
    if not cookie:
        return []
    serializer = URLSafeTimedSerializer(settings.secret("secret_key"), salt=BROWSER_SALT)
    try:
        found = serializer.loads(cookie, max_age=settings.signup_link_hours * 3600)
    except BadSignature:
        return []
    return [str(a) for a in found] if isinstance(found, list) else []


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
        # Two sign-ups for one address: neither password is kept, nor any session; the
        # mailbox's owner is signed in by the link (in the browser that signed up) and may
        # set a password later.
        existing.password_hash = None
        session.execute(delete(WebSession).where(WebSession.account_id == existing.id))
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


def _read(settings: Settings, token: str) -> tuple[dict, dt.datetime]:
    try:
        data, signed_at = _serializer(settings).loads(
            token, max_age=settings.signup_link_hours * 3600, return_timestamp=True
        )
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
    return data, signed_at


def _verify(session: Session, settings: Settings, token: str) -> tuple[Account, bool, dt.datetime]:
    """The account the link names, verified now; whether this use verified it; when the link
    was made."""
    data, signed_at = _read(settings, token)
    account = session.get(Account, str(data.get("account", "")))
    if account is None or account.email != data.get("email"):
        raise BadRequest(
            _("this verification link is not valid: copy the whole link from the mail"),
            code="link_invalid",
        )
    if account.email_verified:
        return account, False, signed_at
    lock(session, account)  # a concurrent use of the same link waits here, then sees it used
    if account.email_verified:
        return account, False, signed_at
    account.email_verified = True
    audit.record(
        session,
        actor=f"account:{account.id}",
        action="signup.email_verified",
        object_type="account",
        object_id=account.id,
    )
    return account, True, signed_at


def verify(session: Session, settings: Settings, token: str) -> Account:
    """Mark the email verified from a valid, unexpired link; idempotent."""
    return _verify(session, settings, token)[0]


def verify_and_sign_in(
    session: Session, settings: Settings, token: str, browser: str | None
) -> tuple[Account, auth.OpenedSession | None]:
    """Verify, and open a session when this is the link's first use, within
    `reset_token_minutes` of the mail, in a browser that signed up with the address (its
    sign-up cookie, `browser`); otherwise the citizen signs in as usual."""
    account, first_use, signed_at = _verify(session, settings, token)
    fresh = utcnow() - signed_at <= dt.timedelta(minutes=settings.reset_token_minutes)
    if not (first_use and fresh and account.active and account.email in _marked(settings, browser)):
        return account, None
    opened = auth.open_session(session, settings, account)
    audit.record(
        session,
        actor=f"account:{account.id}",
        action="login",
        object_type="account",
        object_id=account.id,
        details={"via": "signup_link"},
    )
    return account, opened


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
