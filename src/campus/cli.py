"""The `campus` command: demo, serve, database, users, audit, and each capability's commands."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from campus.commandline import database, fail
from campus.errors import CampusError
from campus.settings import ConfigurationError, get_settings
from campus.site.cli import mount_capabilities
from campus.startup import CampusTyper, ensure_embedded_schema
from campus.warehouse import synthetic

app = CampusTyper(
    help="Campus: the platform of a digital-health innovation campus.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Operational database: migrations.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts and roles.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")

mount_capabilities(app)  # each capability's sub-apps and commands (campus/site/capabilities.py)


@app.callback()
def _start(context: typer.Context) -> None:
    """Before a command: the embedded database at the current schema; before a long-running
    one, check that var/ is for the service account alone."""
    # Not before `restore` (it needs an empty database) nor `doctor` (it reports, changes
    # nothing).
    # Nor when only help is asked for: that writes nothing.
    asks_help = "--help" in sys.argv[1:] or context.resilient_parsing
    skip = {None, "db", "demo", "synth", "restore", "doctor"}
    if context.invoked_subcommand not in skip and not asks_help:
        ensure_embedded_schema(get_settings())
    if context.invoked_subcommand == "project":
        from campus.site.app import wire_register

        wire_register()  # the register lists the jobs of the capabilities that run them
    if context.invoked_subcommand in {"node", "eval"}:
        from campus.site.app import wire_task_kinds

        # A node runs the tasks of every kind the capabilities bring; `campus eval submit
        # --federated` signs tasks of evaluation's kind.
        wire_task_kinds()
    if context.invoked_subcommand in {"serve", "worker", "demo"}:
        from campus.ops import files

        try:
            files.check_at_start(get_settings())
        except ConfigurationError as error:
            raise fail(str(error)) from None
    if context.invoked_subcommand in {"serve", "demo"}:
        # Before prometheus-client is first imported: each web worker writes its figures
        # there and /metrics adds them up (campus.ops.metrics).
        from campus.ops.files import private_metrics_dir

        private_metrics_dir(get_settings())
    if context.invoked_subcommand == "worker":
        from campus.ops import logs

        logs.configure(alone=True)  # one JSON line a job step and a job's end
        logs.observe_jobs()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads", help="Target revision.")) -> None:
    """Create or upgrade the database schema to the latest migrations."""
    from campus.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.db_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Undo migrations down to a revision."""
    from campus.db.migrate import downgrade

    downgrade(get_settings().db_url, revision)
    typer.echo(f"database at {revision}")


@user_app.command("create")
def user_create(
    email: str,
    name: Annotated[str, typer.Option(help="Full name.")],
    password: Annotated[str | None, typer.Option(help="Asked for when not given.")] = None,
    language: Annotated[str, typer.Option(help="fr or en.")] = "fr",
    role: Annotated[list[str] | None, typer.Option(help="Global role(s) to grant.")] = None,
) -> None:
    """Create an account (its email is taken as verified)."""
    from campus.auth import service

    if password is None:
        if not sys.stdin.isatty():
            raise fail("give --password or run in a terminal to be asked")
        password = getpass.getpass("Password: ")
    db = database()
    try:
        with db.session() as session:
            account = service.create_account(
                session,
                email=email,
                name=name,
                password=password,
                language=language,
                email_verified=True,
            )
            for each in role or []:
                service.grant_role(session, account, each)
    except (CampusError, ValueError) as error:
        raise fail(getattr(error, "message", str(error))) from None
    typer.echo(f"created {account.email} ({account.id})")


@user_app.command("grant")
def user_grant(
    email: str,
    role: str,
    scope: Annotated[
        str | None, typer.Option(help="Scope as TYPE:ID, e.g. organisation:42 or project:7.")
    ] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke instead of grant.")] = False,
) -> None:
    """Grant (or revoke) a role, global or scoped to an organisation or a project."""
    from campus.auth import service

    scope_type, scope_id = ("", "")
    if scope:
        if ":" not in scope:
            raise fail("--scope must look like TYPE:ID")
        scope_type, scope_id = scope.split(":", 1)
    db = database()
    try:
        with db.session() as session:
            account = service.find_account(session, email)
            if account is None:
                raise fail(f"no account {email}")
            if revoke:
                done = service.revoke_role(
                    session, account, role, scope_type=scope_type, scope_id=scope_id
                )
                typer.echo("revoked" if done else "no such grant")
            else:
                service.grant_role(session, account, role, scope_type=scope_type, scope_id=scope_id)
                typer.echo(f"granted {role} to {email}" + (f" on {scope}" if scope else ""))
    except CampusError as error:
        raise fail(error.message) from None


@user_app.command("list")
def user_list() -> None:
    """List accounts and their roles."""
    from sqlalchemy import select

    from campus.auth.models import Account

    with database().session() as session:
        for account in session.scalars(select(Account).order_by(Account.email)):
            roles = ", ".join(
                g.role + (f"@{g.scope_type}:{g.scope_id}" if g.scope_type else "")
                for g in account.grants
            )
            typer.echo(f"{account.email}\t{account.name}\t{roles}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every link of the audit chain; exit 1 and name the first broken event."""
    from campus.audit import service

    with database().session() as session:
        result = service.verify(session)
    if result.ok:
        typer.echo(f"audit log intact: {result.checked} events verified")
        return
    typer.secho(
        f"audit log BROKEN at event {result.broken_at}: {result.reason} "
        f"({result.checked} events verified before it)",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(1)


@app.command("mail-send")
def mail_send() -> None:
    """Send the outbox's unsent mail over SMTP (the worker also does it)."""
    from campus.auth.mail import deliver_pending

    settings = get_settings()
    if not settings.smtp_host:
        raise fail("CAMPUS_SMTP_HOST is not set: mail stays in the outbox and the console")
    typer.echo(f"{deliver_pending(database(), settings)} message(s) sent")


def log_config(settings) -> dict:
    """Uvicorn's logging, plus the mail logger on the console when mail is not sent over SMTP
    outside production: there the console is the mailbox (sign-up verification, invitations,
    password resets), in every worker process."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    if not settings.smtp_host and not settings.is_production:
        config["loggers"]["campus.mail"] = {
            "handlers": ["default"],
            "level": "INFO",
            "propagate": False,
        }
    return config


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the web app and API (run `campus db upgrade` first)."""
    from campus.web.serve import CannotListen
    from campus.web.serve import serve as run_server

    settings = get_settings()
    try:
        settings.check_production()
    except ConfigurationError as error:
        raise fail(str(error)) from None
    try:
        run_server(
            "campus.site.asgi:app",
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            # The app believes forwarded headers from CAMPUS_TRUSTED_PROXIES only
            # (campus.web.middleware.ForwardedFrom); uvicorn's own would trust 127.0.0.1.
            proxy_headers=False,
            log_level="info",
            # A path may hold a token: campus.ops.requests logs the route template instead.
            access_log=False,
            log_config=log_config(settings),
            # The standard loop, not uvloop: under load uvloop served some connections
            # seconds late (p95 1.6-2.6 s against 0.16-0.23 s for the same load, p50 equal).
            loop="asyncio",
        )
    except CannotListen as error:
        raise fail(str(error)) from None


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after loading.")
    ] = True,
    reset: Annotated[bool, typer.Option(help="Start from an empty database.")] = True,
    host: Annotated[str | None, typer.Option(help="Address to bind (CAMPUS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CAMPUS_PORT, default 8000).")] = None,
) -> None:
    """Create the embedded database and warehouse, load the demo data (a synthetic hospital
    included), and serve with the job worker in the app."""
    from campus.demo import DEMO_PASSWORD, load_demo, prepare_environment

    settings = prepare_environment(host, port)
    accounts = load_demo(settings, reset=reset)
    typer.secho(f"\nDemo accounts (password: {DEMO_PASSWORD})", bold=True)
    for email, roles in accounts:
        typer.echo(f"  {email:<38} {roles}")
    if serve_after:
        typer.secho(f"\nServing on {settings.base_url}", bold=True)
        serve(host=None, port=None, workers=1)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the Bundles into.")],
    patients: Annotated[int, typer.Option(min=1, help="How many patients.")] = (
        synthetic.DEFAULT_PATIENTS
    ),
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = synthetic.SEED,
) -> None:
    """Write the synthetic demo hospital as FHIR R4 transaction Bundles (one file a patient,
    plus the hospital's organisations and practitioners), ready for `campus ingest`."""
    if out.exists() and not out.is_dir():
        raise fail(f"--out {out} is a file: give a folder (created when missing)")
    try:
        files = synthetic.write(out, patients, seed)
    except OSError as error:
        raise fail(f"cannot write into {out}: {error.strerror}") from None
    typer.echo(f"{len(files)} files ({patients} patients) written to {out}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
