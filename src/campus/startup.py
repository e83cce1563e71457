"""What every `campus` command does around its own work: bring the embedded database to the
current schema on first use, and turn an unexpected error into one line (never a traceback).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import typer

from campus.settings import Settings

ERROR_LOG = "cli-errors.log"  # under var/log/, owner-only


def ensure_embedded_schema(settings: Settings) -> bool:
    """Create or upgrade an SQLite database to every migration head; True when it did.

    The embedded database is the user's own file: a command run in a fresh folder (or after
    pulling new migrations) should just work. A server database (PostgreSQL) is left to
    `campus db upgrade`, which its operator runs on purpose."""
    url = settings.db_url
    if not url.startswith("sqlite"):
        return False
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from campus.db.migrate import alembic_config, upgrade

    script = ScriptDirectory.from_config(alembic_config(url))
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    # Alembic keeps only the heads not reached through another's depends_on: compare every
    # migration applied (ancestors and dependencies of those) with the script's heads.
    applied = {r.revision for r in script.revision_map.iterate_revisions(current, "base")}
    if current and set(script.get_heads()) <= applied:
        return False
    upgrade(url)
    what = "created" if not current else "upgraded"
    typer.secho(f"campus: {what} the embedded database ({url})", err=True, dim=True)
    return True


def _hint(error: BaseException) -> str:
    """What to do, from the error's kind; never its text (it may quote data)."""
    text = str(error).lower()
    if "no such table" in text or "undefinedtable" in type(error).__name__.lower():
        return "the database has no schema yet: run `campus db upgrade`"
    if "does not exist" in text and "relation" in text:
        return "the database has no schema yet: run `campus db upgrade`"
    if type(error).__name__ == "OperationalError" and ("connect" in text or "connection" in text):
        return "cannot reach the database: check CAMPUS_DATABASE_URL"
    return "the command stopped"


def report_unexpected(error: BaseException) -> int:
    """Write the traceback to var/log/cli-errors.log (owner-only) and print one line saying
    what happened and where the details are; return the exit code (1)."""
    from campus.errors import CampusError

    try:
        from campus.settings import get_settings

        var_dir = get_settings().var_dir
    except Exception:  # the settings themselves may be what failed
        var_dir = Path(os.environ.get("CAMPUS_VAR_DIR", "var"))
    where = var_dir / "log" / ERROR_LOG
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as handle:
            handle.write(f"--- {dt.datetime.now(dt.UTC).isoformat()} campus {sys.argv[1:]}\n")
            handle.write("".join(traceback.format_exception(error)))
        details = f"details in {where}"
    except OSError:
        details = "no log could be written"
    if isinstance(error, CampusError):  # a refusal written for users: say it as it is
        line = f"error: {error.message} ({details})"
    else:
        line = f"error: unexpected {type(error).__name__}: {_hint(error)} ({details})"
    typer.secho(line, fg=typer.colors.RED, err=True)
    return 1


class CampusTyper(typer.Typer):
    """The `campus` app: an exception no command handled ends in one line, not a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:  # the last resort before the terminal
            sys.exit(report_unexpected(error))
