"""`campus residency ...`: residencies, hosted structures, exits, the dashboard figures."""

from __future__ import annotations

from typing import Annotated

import typer

from campus.spaces.cli import CLI_ACTOR, echo_json, run

app = typer.Typer(
    help="Residency: residencies, exits, hosted structures, campus-life figures.",
    no_args_is_help=True,
)


@app.command("list")
def list_residencies(
    status: Annotated[str | None, typer.Option(help="active or ended")] = None,
) -> None:
    """Residencies with their dates and desks."""
    from campus.residency import service

    for r in run(lambda s: service.list_residencies(s, CLI_ACTOR, status=status)):
        end = r["exited_on"] or r["ends_on"]
        typer.echo(f"{r['id']}  {r['starts_on']} → {end}  {r['desks']:>3}  {r['organisation']}")


@app.command("hosted")
def hosted() -> None:
    """The public list of hosted structures."""
    from campus.residency import service

    for item in run(service.hosted_structures):
        typer.echo(f"{item['since']}  {item['kind']:<14} {item['name']}")


@app.command("exit")
def record_exit(residency_id: str, exited_on: str, reason: str, note: str = "") -> None:
    """Record a structure's exit (reason: end_of_contract, growth, relocation, ...)."""
    from campus.residency import service

    run(lambda s: service.record_exit(s, CLI_ACTOR, residency_id, exited_on, reason, note))
    typer.echo("exit recorded")


@app.command("renew")
def renew(residency_id: str, ends_on: str, fee: str = "", contract: str = "") -> None:
    """Extend a residency to a later end date."""
    from campus.residency import service

    run(lambda s: service.renew(s, CLI_ACTOR, residency_id, ends_on, fee or None, contract))
    typer.echo("renewed")


@app.command("dashboard")
def dashboard(
    year: Annotated[int | None, typer.Option(help="Year (default: this one)")] = None,
) -> None:
    """Occupancy, entries and exits, sponsorship figures, as JSON."""
    from campus.db.base import utcnow
    from campus.residency import service

    echo_json(run(lambda s: service.dashboard(s, CLI_ACTOR, year or utcnow().year)))
