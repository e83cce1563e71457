"""Retention: what `campus purge` deletes once its period is over (run it daily).

| what                          | setting                              | default |
| ----------------------------- | ------------------------------------ | ------- |
| ended sessions                | CAMPUS_SESSION_RETENTION_DAYS        | 0       |
| mail outbox rows              | CAMPUS_OUTBOX_RETENTION_DAYS         | 30      |
| failed logins                 | CAMPUS_LOGIN_ATTEMPT_RETENTION_DAYS  | 7       |
| used or expired reset tokens  | (a day after their end)              | 1       |
| staged uploads never ingested | CAMPUS_UPLOAD_RETENTION_DAYS         | 7       |
| log files under var/logs      | CAMPUS_LOG_RETENTION_DAYS            | 30      |
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from campus.auth import mail
from campus.auth.models import LoginAttempt, PasswordResetToken, WebSession
from campus.db.base import utcnow
from campus.settings import Settings


def _ago(days: int) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days)


def purge_rows(session: Session, settings: Settings) -> dict[str, int]:
    """Delete the rows whose retention is over; how many of each kind."""
    counts = {}
    result = session.execute(
        delete(WebSession).where(WebSession.expires_at < _ago(settings.session_retention_days))
    )
    counts["sessions"] = result.rowcount or 0
    counts["outbox_mail"] = mail.purge_outbox(session, settings)
    result = session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < _ago(settings.login_attempt_retention_days))
    )
    counts["login_attempts"] = result.rowcount or 0
    result = session.execute(
        delete(PasswordResetToken).where(
            or_(PasswordResetToken.expires_at < _ago(1), PasswordResetToken.used_at < _ago(1))
        )
    )
    counts["reset_tokens"] = result.rowcount or 0
    return counts


def purge_files(folder: Path, days: int) -> int:
    """Delete the files under `folder` last written more than `days` ago."""
    if not folder.is_dir():
        return 0
    limit = time.time() - days * 86400
    removed = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile (an ingest finishing)
            continue
    return removed


def purge(session: Session, settings: Settings) -> dict[str, int]:
    """Everything `campus purge` deletes; the rows in the caller's transaction."""
    counts = purge_rows(session, settings)
    counts["uploads"] = purge_files(settings.var_dir / "uploads", settings.upload_retention_days)
    counts["log_files"] = purge_files(settings.var_dir / "logs", settings.log_retention_days)
    return counts
