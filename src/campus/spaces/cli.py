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


@app.command("building")
def building(
    code: str,
    name: str,
    opens: Annotated[str, typer.Option(help="Opening time, HH:MM (Paris)")] = "07:00",
    closes: Annotated[str, typer.Option(help="Closing time, HH:MM (Paris)")] = "22:00",
    floors: Annotated[str, typer.Option(help="Levels to create, e.g. 0,1,2")] = "",
) -> None:
    """Create a building with its opening hours, and its floors."""
    from campus.spaces import service

    def work(session):
        created = service.create_building(
            session, CLI_ACTOR, code=code, name=name, opens=opens, closes=closes
        )
        levels = [part for part in floors.split(",") if part.strip()]
        return [service.create_floor(session, CLI_ACTOR, created.id, level).id for level in levels]

    for floor_id in run(work):
        typer.echo(f"floor: {floor_id}")


@app.command("room")
def room(
    building: str,
    level: int,
    code: str,
    name: str,
    kind: str,
    capacity: int,
    approval: Annotated[bool, typer.Option(help="Staff approve each booking")] = False,
    max_minutes: Annotated[int, typer.Option(help="Longest booking")] = 240,
    partner_price: Annotated[int, typer.Option(help="Partners' price an hour, cents")] = 0,
) -> None:
    """Create a room (office, open_space, meeting_room, auditorium, lab, equipment) on a
    building's floor."""
    from sqlalchemy import select

    from campus.spaces import service
    from campus.spaces.models import Floor

    def work(session):
        found = service.get_building(session, building)
        floor_id = session.scalar(
            select(Floor.id).where(Floor.building_id == found.id, Floor.level == level)
        )
        if floor_id is None:
            floor_id = service.create_floor(session, CLI_ACTOR, found.id, level).id
        data = service.RoomInput(
            floor_id=floor_id, code=code, name=name, kind=kind, capacity=capacity,
            needs_approval=approval, max_minutes=max_minutes, partner_price_cents=partner_price,
        )  # fmt: skip
        return service.create_room(session, CLI_ACTOR, data).code

    typer.echo(f"room: {run(work)}")


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
