"""`campus purge`: delete what is past its retention period (run daily, see docs/security.md)."""

from __future__ import annotations

import typer

from campus.auth import retention
from campus.db.engine import Database
from campus.settings import get_settings


def purge() -> None:
    """Delete sessions, mail, failed logins, reset tokens, staged uploads and log files past
    their retention period (CAMPUS_*_RETENTION_DAYS). Run it daily (cron, systemd timer)."""
    settings = get_settings()
    database = Database(settings.db_url)
    try:
        with database.session() as session:
            counts = retention.purge(session, settings)
    finally:
        database.dispose()
    for kind, count in counts.items():
        typer.echo(f"{kind}: {count} deleted")
