"""`campus spaces ...`: rooms, a room's day or week, book as staff, occupancy by month."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from campus.auth.actor import Actor, Grant
from campus.errors import CampusError
from campus.settings import get_settings

app = typer.Typer(help="Spaces: rooms, schedules, bookings, occupancy.", no_args_is_help=True)

# The operator at the console acts as campus staff; the audit log names the CLI.
CLI_ACTOR = Actor(account_id="cli", name="cli", via="cli", grants=frozenset({Grant("staff")}))


def run(work):
    """Run `work(session)` in one transaction; a refusal prints its message and `where`."""
    from campus.db.engine import Database

    db = Database(get_settings().db_url)
    try:
        with db.session() as session:
            return work(session)
    except CampusError as error:
        where = f" (where: {error.where})" if error.where is not None else ""
        typer.secho(f"error: {error.message}{where}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()


def echo_json(data) -> None:
    typer.echo(json.dumps(data, default=str, ensure_ascii=False, indent=2))


@app.command("rooms")
def rooms(
    kind: Annotated[str | None, typer.Option(help="office, open_space, meeting_room...")] = None,
) -> None:
    """Rooms with their kind, capacity and floor."""
    from campus.spaces import service

    for room in run(lambda s: service.list_rooms(s, kind=kind)):
        typer.echo(
            f"{room['code']:<12} {room['kind']:<13} {room['capacity']:>4}  "
            f"{room['building']} {room['floor']}  {room['name']}"
        )


@app.command("schedule")
def schedule(
    room: str,
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (Paris)")] = None,
    week: Annotated[bool, typer.Option(help="The whole week")] = False,
) -> None:
    """A room's day or week, as JSON."""
    from campus.spaces import service

    echo_json(run(lambda s: service.schedule(s, CLI_ACTOR, room, date, "week" if week else "day")))


@app.command("book")
def book(
    room: str,
    starts_at: str,
    ends_at: str,
    title: Annotated[str, typer.Option(help="What the slot is for")] = "Réservation",
    people: Annotated[int, typer.Option(help="People present")] = 1,
) -> None:
    """Book a room for a slot (naive times are Paris time), as staff."""
    from campus.spaces import service

    def work(session):
        data = service.BookingInput(
            room=room, title=title, starts_at=starts_at, ends_at=ends_at, people=people
        )
        return [b.id for b in service.book(session, CLI_ACTOR, data)]

    typer.echo("booked: " + ", ".join(run(work)))


@app.command("occupancy")
def occupancy(
    year: Annotated[int | None, typer.Option(help="Year (default: this one)")] = None,
) -> None:
    """Occupancy rate by month for the campus, as JSON (floors included)."""
    from campus.db.base import utcnow
    from campus.spaces import service

    echo_json(run(lambda s: service.occupancy(s, year or utcnow().year)))
