"""`campus event ...`: list events, attendance by month, attendees CSV, the iCalendar feed,
seat recount, reminders."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from campus.auth.actor import Actor, Grant
from campus.commandline import database, fail
from campus.ecosystem.cli import error_message
from campus.errors import CampusError
from campus.settings import get_settings

event_app = typer.Typer(
    help="Events: list, attendance statistics, attendee export, calendar feed.",
    no_args_is_help=True,
)

# The operator at the console acts as campus staff; the audit log names the CLI.
CLI_ACTOR = Actor(account_id="cli", name="cli", via="cli", grants=frozenset({Grant("staff")}))


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"written: {output}")


@event_app.command("list")
def event_list(
    days: Annotated[int, typer.Option(help="Events starting within this many days.")] = 30,
    drafts: Annotated[bool, typer.Option(help="Include drafts.")] = False,
) -> None:
    """Upcoming events with their seats taken and waitlist."""
    from campus.db.base import utcnow
    from campus.ecosystem.events import service
    from campus.text import PARIS

    db = database()
    now = utcnow()
    with db.session() as session:
        events = service.list_events(
            session,
            CLI_ACTOR,
            start=now,
            end=now + dt.timedelta(days=max(1, days)),
            include_drafts=drafts,
            limit=1000,
        )
        counts = service.seats_of(session, [e.id for e in events])
        for event in events:
            registered, waitlisted = counts[event.id]
            seats = "∞" if event.capacity is None else str(event.capacity)
            when = event.starts_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")
            typer.echo(
                f"{event.id}  {when}  {event.status:<9}  {registered:>4}/{seats:<5} "
                f"+{waitlisted:<3} {event.title}"
            )
    db.dispose()


@event_app.command("recount")
def event_recount() -> None:
    """Rebuild every event's seat counts from its registrations (after a change made outside
    Campus, such as SQL by hand); audited."""
    from campus.audit import service as audit
    from campus.ecosystem.events import service

    db = database()
    with db.session() as session:
        updated = service.recount_seats(session)
        audit.record(
            session,
            actor=CLI_ACTOR.label,
            action="event.seats_recounted",
            details={"events": updated},
        )
    db.dispose()
    typer.echo(f"{updated} event(s) recounted")


@event_app.command("remind")
def event_remind() -> None:
    """Mail the reminders due (events starting within 24 hours), at most one a registration;
    the job worker also sends them when idle."""
    from campus.ecosystem.events import reminders

    db = database()
    try:
        sent = reminders.send_due_in(db, get_settings())
    finally:
        db.dispose()
    typer.echo(f"{sent} reminder(s) queued")


@event_app.command("stats")
def event_stats(
    year: Annotated[int | None, typer.Option(help="Calendar year (Paris time).")] = None,
) -> None:
    """Events, seats taken and attendance per month, as JSON."""
    from campus.ecosystem.events import stats

    db = database()
    try:
        with db.session() as session:
            rows = stats.attendance_by_month(session, year or dt.date.today().year)
    except CampusError as error:
        raise fail(error_message(error)) from None
    finally:
        db.dispose()
    typer.echo(json.dumps(rows, indent=2))


@event_app.command("attendees")
def event_attendees(
    event_id: str,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """The attendees of an event as CSV (recorded in the audit log)."""
    from campus.ecosystem.events import stats

    db = database()
    try:
        with db.session() as session:
            body = stats.attendees_csv(session, CLI_ACTOR, event_id)
    except CampusError as error:
        raise fail(error_message(error)) from None
    finally:
        db.dispose()
    _write(body, output)


@event_app.command("ics")
def event_ics(
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """The public iCalendar feed (as served at /events.ics)."""
    from campus.auth.actor import ANONYMOUS
    from campus.db.base import utcnow
    from campus.ecosystem.events import ics, service
    from campus.ecosystem.events.models import Audience

    settings = get_settings()
    db = database()
    with db.session() as session:
        events = service.list_events(
            session,
            ANONYMOUS,
            start=utcnow() - dt.timedelta(days=90),
            audience=Audience.PUBLIC,
            limit=1000,
        )
        body = ics.calendar(
            events,
            base_url=settings.base_url,
            stamp=utcnow(),
            online_url=lambda event: service.online_url_for(ANONYMOUS, event),
        )
    db.dispose()
    _write(body, output)
