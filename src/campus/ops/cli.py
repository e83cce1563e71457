"""Operator commands: `campus doctor`, `campus metrics`, `campus backup`, `campus restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campus.commandline import fail
from campus.errors import CampusError
from campus.settings import get_settings


def doctor() -> None:
    """Check this configuration end to end (database, migrations, warehouse, file modes, keys,
    SMTP, OpenID Connect, Spark, workers) and say what to fix; exit 1 if anything fails."""
    from campus.db.engine import Database
    from campus.ops import doctor as checks

    settings = get_settings()
    database = Database(settings.db_url)
    try:
        found = checks.run(settings, database.engine)
    finally:
        database.dispose()
    failed = 0
    for check in found:
        if check.ok:
            typer.echo(
                f"ok    {check.name}" + (f": {check.detail}" if check.detail != "ok" else "")
            )
            continue
        failed += 1
        typer.secho(f"FAIL  {check.name}: {check.detail}", fg=typer.colors.RED)
        if check.fix:
            typer.echo(f"      fix: {check.fix}")
    if failed:
        typer.secho(f"{failed} problem(s) to fix", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo("everything checked is ready")


def metrics(
    bind: Annotated[
        str | None, typer.Option(help="host:port to serve on (CAMPUS_METRICS_BIND).")
    ] = None,
) -> None:
    """Serve the Prometheus figures of every web worker on a private address of their own."""
    import time

    from prometheus_client import start_http_server

    from campus.db.engine import Database
    from campus.ops import metrics as figures

    settings = get_settings()
    host, _, port = (bind or settings.metrics_bind).rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter("give the address as host:port", param_hint="--bind")
    if figures.multiprocess_dir() is None:
        typer.secho(
            "PROMETHEUS_MULTIPROC_DIR is not set: only the database figures are served; set it "
            "to the folder `campus serve` uses (var/metrics by default)",
            err=True,
        )
    database = Database(settings.db_url)
    registry = figures.scrape_registry(database.engine)
    start_http_server(int(port), addr=host, registry=registry)
    typer.echo(f"metrics on http://{host}:{port}/metrics")
    while True:
        time.sleep(3600)


def backup(
    destination: Annotated[Path, typer.Argument(help="A new (or empty) folder for the backup.")],
) -> None:
    """Back up the database, every warehouse version and the data files under var/ (never the
    keys: back them up apart, see the manifest's keep_elsewhere)."""
    from campus.ops import backup as backups

    try:
        report = backups.backup(get_settings(), destination)
    except CampusError as error:
        raise fail(error.message) from None
    typer.echo(
        f"backup in {report.folder}: {report.files} files, {report.bytes:,} bytes, "
        f"{len(report.versions)} warehouse version(s); seconds {report.seconds}"
    )
    typer.echo("keys are not in it: keep CAMPUS_*_KEY in your secret store, backed up apart")


def restore(
    source: Annotated[Path, typer.Argument(help="A folder written by `campus backup`.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a database or versions that exist.")
    ] = False,
) -> None:
    """Restore a backup into the configured database and warehouse (stop the web and worker
    processes first), after checking every file's hash; then run `campus audit verify`."""
    from campus.ops import backup as backups

    try:
        report = backups.restore(get_settings(), source, replace=replace)
    except CampusError as error:
        raise fail(error.message) from None
    typer.echo(
        f"restored {report.files} files and {len(report.versions)} warehouse version(s), "
        f"every hash checked; seconds {report.seconds}"
    )
