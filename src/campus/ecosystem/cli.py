"""`campus org ...`: search the directory, create organisations, invite members, and print
the campus dashboard. The service layer does the checks, as for the web."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from campus.auth.actor import Actor, Grant
from campus.commandline import database, fail
from campus.errors import CampusError
from campus.settings import get_settings

org_app = typer.Typer(
    help="Organisations: directory search, creation, invitations, campus dashboard.",
    no_args_is_help=True,
)

# The operator at the console acts as campus staff; the audit log names the CLI.
CLI_ACTOR = Actor(account_id="cli", name="cli", via="cli", grants=frozenset({Grant("staff")}))


def error_message(error: CampusError) -> str:
    """The error's message and, when it names one, the place it refers to (shared by the
    ecosystem's commands)."""
    return error.message + (f" ({error.where})" if error.where else "")


@org_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="Words to find, accents optional.")] = "",
    people: Annotated[bool, typer.Option("--people", help="Search people.")] = False,
    kind: Annotated[str, typer.Option(help="Organisation kind.")] = "",
    theme: Annotated[str, typer.Option(help="Theme code.")] = "",
    page: Annotated[int, typer.Option(help="Page, from 1.")] = 1,
) -> None:
    """Search the directory like /directory does; one line per result."""
    from campus.ecosystem.directory import service

    try:
        with database().session() as session:
            result = service.search_directory(
                session,
                query=query,
                section="people" if people else "organisations",
                kind=kind,
                theme=theme,
                page=page,
            )
    except CampusError as error:
        raise fail(error_message(error)) from None
    for item in result.items:
        if people:
            typer.echo(f"{item['id']}\t{item['display_name']}\t{item['job_title']}")
        else:
            typer.echo(f"{item['id']}\t{item['slug']}\t{item['kind']}\t{item['name']}")
    typer.echo(f"{result.total} result(s), page {result.page}/{result.pages}", err=True)


@org_app.command("create")
def create(
    name: str,
    kind: Annotated[str, typer.Option(help="startup, company, research_lab, hospital, ...")],
    city: Annotated[str, typer.Option(help="City.")] = "",
    admin: Annotated[
        str | None, typer.Option(help="Email to invite as the organisation's first admin.")
    ] = None,
) -> None:
    """Create an organisation (and invite its first admin by email)."""
    from campus.ecosystem.directory import service

    settings = get_settings().resolve()
    try:
        with database().session() as session:
            org = service.create_organisation(
                session, {"name": name, "kind": kind, "city": city}, by=CLI_ACTOR
            )
            link = None
            if admin:
                _, link = service.invite(
                    session, settings, org, email=admin, role="admin", by=CLI_ACTOR
                )
            org_id, slug = org.id, org.slug
    except CampusError as error:
        raise fail(error_message(error)) from None
    typer.echo(f"created {slug} ({org_id})")
    if link:
        typer.echo(f"invitation link: {link}")


@org_app.command("invite")
def invite(
    organisation: Annotated[str, typer.Argument(help="Organisation id or slug.")],
    email: str,
    admin: Annotated[bool, typer.Option("--admin", help="Invite as an admin.")] = False,
) -> None:
    """Invite someone to an organisation; the signed link is mailed and printed."""
    from campus.ecosystem.directory import service

    settings = get_settings().resolve()
    try:
        with database().session() as session:
            org = service.get_organisation(session, organisation)
            _, link = service.invite(
                session,
                settings,
                org,
                email=email,
                role="admin" if admin else "member",
                by=CLI_ACTOR,
            )
    except CampusError as error:
        raise fail(error_message(error)) from None
    typer.echo(link)


@org_app.command("dashboard")
def dashboard(
    year: Annotated[int | None, typer.Option(help="Calendar year; this year by default.")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="CSV instead of JSON.")] = False,
) -> None:
    """Print the campus figures of a year (the JSON or CSV twin of /dashboard)."""
    from campus.ecosystem.impact import dashboard as figures

    try:
        with database().session() as session:
            data = figures.figures(session, year or dt.datetime.now(dt.UTC).year)
    except CampusError as error:
        raise fail(error_message(error)) from None
    typer.echo(figures.as_csv(data) if csv else json.dumps(data, indent=2), nl=not csv)
