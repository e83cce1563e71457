"""Checks on what staff type into an event: capacity, audience, place and dates (text and
dates through the shared checks of `campus.text`).

Every check raises `BadRequest` naming the field in `where`, so a form shows the message next to
the right input and the API says which element was wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campus.ecosystem.events.models import KINDS, THEMES, Audience
from campus.errors import BadRequest
from campus.i18n import N_
from campus.text import PARIS, URL, clean_text, parse_when

__all__ = ["PARIS", "CleanEvent", "EventInput", "clean_event", "clean_text", "parse_when"]

MAX_CAPACITY = 100_000
MAX_DURATION = dt.timedelta(days=31)
MAX_SPEAKERS = 30


@dataclass
class EventInput:
    """An event as submitted, before checks; times may be naive (read as Europe/Paris)."""

    title: str
    starts_at: dt.datetime | str
    ends_at: dt.datetime | str
    description: str = ""
    room: str = ""
    online_url: str = ""
    capacity: int | str | None = None
    audience: str = Audience.PUBLIC
    training_id: str | None = None
    kind: str = "conference"
    theme: str = ""
    organiser: str = ""
    # One speaker an item or a line ("Name, role"): a form's text area gives one item.
    speakers: list[str] | str = ""


@dataclass(frozen=True)
class CleanEvent:
    title: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    room: str
    online_url: str
    capacity: int | None
    audience: str
    training_id: str | None
    kind: str
    theme: str
    organiser: str
    speakers: str  # one a line


def parse_speakers(value: list[str] | str | None) -> str:
    """Speakers one a line, each a line of at most 200 characters, at most 30."""
    items = [value] if isinstance(value, str) else list(value or [])
    lines = []
    for item in items:
        text = clean_text(str(item), "speakers", max_length=200 * MAX_SPEAKERS)
        lines.extend(line.strip() for line in text.splitlines() if line.strip())
    if len(lines) > MAX_SPEAKERS:
        raise BadRequest(N_("30 speakers at most"), code="too_many", where="speakers")
    lines = [clean_text(line, "speakers", max_length=200, one_line=True) for line in lines]
    return "\n".join(lines)


def parse_capacity(value: int | str | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise BadRequest(
            N_("capacity must be a whole number"), code="invalid_type", where="capacity"
        )
    try:
        capacity = int(value)
    except (TypeError, ValueError):
        raise BadRequest(
            N_("capacity must be a whole number"), code="invalid_type", where="capacity"
        ) from None
    if capacity < 0:
        raise BadRequest(
            N_("capacity cannot be negative"), code="negative_capacity", where="capacity"
        )
    if capacity > MAX_CAPACITY:
        raise BadRequest(N_("capacity is too large"), code="too_large", where="capacity")
    return capacity


def clean_event(data: EventInput, *, now: dt.datetime, check_future: bool = True) -> CleanEvent:
    """Validate an event: all of it or nothing; the first wrong field is reported."""
    title = clean_text(data.title, "title", max_length=200, required=True, one_line=True)
    description = clean_text(data.description, "description", max_length=5000)
    room = clean_text(data.room, "room", max_length=200, one_line=True)
    online_url = clean_text(data.online_url, "online_url", max_length=500)
    if online_url and not URL.match(online_url):
        raise BadRequest(
            N_("the online link must start with https:// or http://"),
            code="invalid_url",
            where="online_url",
        )
    if not room and not online_url:
        raise BadRequest(N_("give a room or an online link"), code="no_place", where="room")
    starts_at = parse_when(data.starts_at, "starts_at")
    ends_at = parse_when(data.ends_at, "ends_at")
    if check_future and starts_at < now:
        raise BadRequest(
            N_("the event cannot start in the past"), code="past_date", where="starts_at"
        )
    if ends_at <= starts_at:
        raise BadRequest(
            N_("the end must come after the start"), code="end_before_start", where="ends_at"
        )
    if ends_at - starts_at > MAX_DURATION:
        raise BadRequest(N_("an event lasts 31 days at most"), code="too_long", where="ends_at")
    audience = str(data.audience or "")
    if audience not in {a.value for a in Audience}:
        raise BadRequest(
            N_("audience must be public or members"), code="invalid_audience", where="audience"
        )
    kind = str(data.kind or "conference")
    if kind not in KINDS:
        raise BadRequest(N_("unknown kind of event"), code="invalid_kind", where="kind")
    theme = str(data.theme or "")
    if theme and theme not in THEMES:
        raise BadRequest(N_("unknown theme"), code="invalid_theme", where="theme")
    return CleanEvent(
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        online_url=online_url,
        capacity=parse_capacity(data.capacity),
        audience=audience,
        training_id=(data.training_id or None),
        kind=kind,
        theme=theme,
        organiser=clean_text(data.organiser, "organiser", max_length=200, one_line=True),
        speakers=parse_speakers(data.speakers),
    )
