"""`campus consultation ...`: list consultations, print or export results, close early."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from campus.commandline import database, fail
from campus.errors import CampusError

consultation_app = typer.Typer(
    help="Citizen consultations: list, results, early close.", no_args_is_help=True
)


@consultation_app.command("list")
def consultation_list() -> None:
    """Consultations with their phase and number of proposals."""
    from sqlalchemy import func, select

    from campus.participation import service
    from campus.participation.models import Proposal

    db = database()
    with db.session() as session:
        for consultation in service.list_consultations(session):
            view = service.consultation_view(consultation)
            count = session.scalar(
                select(func.count()).where(Proposal.consultation_id == consultation.id)
            )
            typer.echo(f"{view['id']}  {view['phase']:<13}  {count:>4} proposals  {view['title']}")
    db.dispose()


@consultation_app.command("results")
def consultation_results(
    consultation_id: str,
    csv: Annotated[bool, typer.Option("--csv", help="CSV instead of JSON.")] = False,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Print or write the results (supports only once voting has closed)."""
    from campus.participation import results, service

    db = database()
    try:
        with db.session() as session:
            data = results.results(session, service.get_consultation(session, consultation_id))
    except CampusError as error:
        raise fail(error.message) from None
    finally:
        db.dispose()
    text = results.as_csv(data) if csv else json.dumps(data, default=str, indent=2)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"results written to {output}")
    else:
        typer.echo(text)


@consultation_app.command("close")
def consultation_close(
    consultation_id: str,
    by: Annotated[str, typer.Option(help="Email of the staff account closing it.")],
) -> None:
    """Close a consultation now: votes stop and results are published."""
    from campus.auth import service as auth
    from campus.participation import service

    db = database()
    try:
        with db.session() as session:
            account = auth.find_account(session, by)
            if account is None:
                raise fail(f"no account {by}")
            actor = auth.actor_for(account, "cli")
            if not actor.is_staff:
                raise fail(f"{by} is not campus staff")
            service.close_early(session, actor, service.get_consultation(session, consultation_id))
    except CampusError as error:
        raise fail(error.message) from None
    finally:
        db.dispose()
    typer.echo(f"consultation {consultation_id} closed")
