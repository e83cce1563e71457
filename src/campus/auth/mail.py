"""Outgoing mail: every message goes to the outbox table, then to SMTP or the console.

A message's body holds what must be sent, links with single-use tokens included (password
reset, invitation, email verification). Once sent, its links are removed from the stored
body: the outbox keeps who was written to, about what and when, never a usable link. Rows
older than `CAMPUS_OUTBOX_RETENTION_DAYS` are deleted by `campus purge`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from email.message import EmailMessage

from sqlalchemy import delete
from sqlalchemy.orm import Session

from campus.auth.models import OutboxMail
from campus.db.base import utcnow
from campus.settings import Settings

log = logging.getLogger("campus.mail")
LINK = re.compile(r"https?://\S+")
LINK_REMOVED = "[lien retiré après l'envoi / link removed after sending]"


def masked(address: str) -> str:
    """An address as a log line may show it: its first character and its domain
    (`a***@hopital.example`), enough to tell two recipients apart, not to write to them."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mark_sent(message: OutboxMail) -> None:
    """Record the message as sent and drop its links (they may carry tokens)."""
    message.sent_at = utcnow()
    message.body = LINK.sub(LINK_REMOVED, message.body)


def queue(session: Session, settings: Settings, *, to: str, subject: str, body: str) -> OutboxMail:
    """Store a message in the outbox; it is delivered by `deliver` after the commit."""
    message = OutboxMail(to=to, subject=subject, body=body)
    session.add(message)
    session.flush()
    if not settings.smtp_host and not settings.is_production:
        # Development: the console is the mailbox. The recipient is masked in the line (logs
        # hold no e-mail address); the whole address rides on the record for the tests'
        # mailbox (tests.helpers.Mailbox), and no formatter writes it.
        log.info("mail to %s: %s\n%s", masked(to), subject, body, extra={"mail_to": to})
        mark_sent(message)
    return message


def deliver(session: Session, settings: Settings, message: OutboxMail) -> None:
    if not settings.smtp_host or message.sent_at is not None:
        return
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        smtp.starttls()
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(email)
    mark_sent(message)


def deliver_pending(db, settings: Settings, limit: int = 100) -> int:
    """Send unsent outbox mail over SMTP (called by `campus mail send` and the worker)."""
    from sqlalchemy import select

    if not settings.smtp_host:
        return 0
    sent = 0
    with db.session() as session:
        pending = session.scalars(
            select(OutboxMail)
            .where(OutboxMail.sent_at.is_(None))
            .order_by(OutboxMail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for message in pending:
            try:
                deliver(session, settings, message)
                sent += 1
            except (OSError, smtplib.SMTPException) as error:
                log.warning("mail %s not sent: %s", message.id, type(error).__name__)
                break
    return sent


def purge_outbox(session: Session, settings: Settings) -> int:
    """Delete outbox rows older than the retention period, sent or not (an unsent message
    that old carries links long expired)."""
    since = utcnow() - dt.timedelta(days=settings.outbox_retention_days)
    result = session.execute(delete(OutboxMail).where(OutboxMail.created_at < since))
    return result.rowcount or 0
