"""What every `campus` sub-command shares: the configured database and a failure that prints
one red line on stderr and exits with a code, never a traceback."""

from __future__ import annotations

import typer

from campus.settings import get_settings


def fail(message: str, code: int = 1) -> typer.Exit:
    """An exit to raise: `raise fail("...")`."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def database():
    """The database the settings name (`CAMPUS_DB_URL`)."""
    from campus.db.engine import Database

    return Database(get_settings().db_url)
