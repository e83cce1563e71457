"""`campus account export EMAIL` and `campus account delete EMAIL`: a member's GDPR rights
exercised by the operator for a person who cannot sign in (a request to the DPO), with every
capability's personal-data part (campus.auth.personal_data)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from campus.auth import personal_data
from campus.auth import service as auth
from campus.db.engine import Database
from campus.settings import get_settings
from campus.site import registry
from campus.site.capabilities import CAPABILITIES

app = typer.Typer(help="A member's data: export it, delete the account (GDPR rights).")


def _account_id(session, email: str) -> str:
    account = auth.find_account(session, email)
    if account is None:
        typer.secho(f"no account with the address {email}", fg="red", err=True)
        raise typer.Exit(1)
    return account.id


@app.command("export")
def export(email: Annotated[str, typer.Argument(help="The account's email address.")]) -> None:
    """Print everything Campus holds about the account, as JSON."""
    database = Database(get_settings().db_url)
    try:
        with database.session() as session:
            data = personal_data.export(
                session, _account_id(session, email), registry.personal_data(CAPABILITIES)
            )
    finally:
        database.dispose()
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command("delete")
def delete(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
) -> None:
    """Erase the account's personal data; contributions stay, unnamed."""
    if not yes:
        typer.secho("nothing done: add --yes to delete the account for good", fg="red", err=True)
        raise typer.Exit(1)
    database = Database(get_settings().db_url)
    try:
        with database.session() as session:
            personal_data.delete_account(
                session,
                _account_id(session, email),
                registry.personal_data(CAPABILITIES),
                by=None,
            )
    finally:
        database.dispose()
    typer.echo(f"the account of {email} is deleted")
