"""Mail the people concerned by a state change (team, reviewers, checkers)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth import mail
from campus.auth.models import Account
from campus.settings import Settings


def notify(
    session: Session,
    settings: Settings,
    account_ids: Iterable[str],
    *,
    subject: str,
    body: str,
    link: str = "",
) -> int:
    """Queue one mail per active account (each at most once); returns how many."""
    ids = sorted(set(account_ids))
    if not ids:
        return 0
    accounts = session.scalars(select(Account).where(Account.id.in_(ids), Account.active))
    text = body + (f"\n\n{settings.base_url}{link}" if link else "")
    sent = 0
    for account in accounts:
        mail.queue(session, settings, to=account.email, subject=f"[Campus] {subject}", body=text)
        sent += 1
    return sent
