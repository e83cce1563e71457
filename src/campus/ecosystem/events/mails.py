"""Mails about an event to one account: a place on the waiting list (with its rank), a seat
freed (promotion), the event cancelled, the reminder the day before. Each in the account's
language; the text names the event, never other people."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus import i18n
from campus.auth import mail
from campus.auth.models import Account
from campus.ecosystem.events.models import Event
from campus.i18n import N_
from campus.settings import Settings
from campus.text import PARIS, one_line

WAITLISTED = (
    N_("Waiting list: {title}"),
    N_(
        "{title} on {when} is full: you are on the waiting list, rank {rank}. You will get a "
        "seat and a mail as soon as one frees up."
    ),
)
PROMOTED = (
    N_("A seat is yours: {title}"),
    N_("A seat freed up at {title} on {when}: you are now registered."),
)
CANCELLED = (
    N_("Event cancelled: {title}"),
    N_("The event {title} planned on {when} is cancelled. We are sorry."),
)
REMINDER = (
    N_("Reminder: {title} tomorrow"),
    N_("You are registered at {title} on {when} ({place}). Your ticket is on the event's page."),
)


def notify(
    session: Session,
    settings: Settings,
    account_id: str,
    message: tuple[str, str],
    event: Event,
    **more: object,
) -> bool:
    """Queue one mail (subject, body) to an active account; whether it was queued. The texts
    name `title`, `when` and `place`, and what `more` gives (a waitlist's `rank`)."""
    account = session.get(Account, account_id)
    if account is None or not account.active:
        return False
    token = i18n.current_language.set(
        account.language if account.language in i18n.LANGUAGES else "fr"
    )
    try:
        subject, body = message
        when = event.starts_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
        place = event.room or i18n.gettext("Online")
        link = f"{settings.base_url.rstrip('/')}/events/{event.id}"
        mail.queue(
            session,
            settings,
            to=account.email,
            # A mail header is one line: a title stored before titles were kept to one line
            # (or written straight to the base) must not break the subject or add headers.
            subject=one_line(i18n.gettext(subject).format(title=event.title)),
            body=i18n.gettext(body).format(title=event.title, when=when, place=place, **more)
            + "\n\n"
            + link,
        )
    finally:
        i18n.current_language.reset(token)
    return True
