"""Checks on what staff type into an event: text, link, capacity, audience and dates.

Every check raises `BadRequest` naming the field in `where`, so a form shows the message next to
the right input and the API says which element was wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from campus.ecosystem.events.models import Audience
from campus.errors import BadRequest
from campus.i18n import N_

PARIS = ZoneInfo("Europe/Paris")
MAX_CAPACITY = 100_000
MAX_DURATION = dt.timedelta(days=31)
FIRST_YEAR, LAST_YEAR = 1900, 2200
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
URL = re.compile(r"^https?://[^\s<>\"']+\Z", re.IGNORECASE)
# Line breaks of any kind (CR, LF, NEL, line and paragraph separators, vertical tab, form feed):
# read as a newline in text, as a space in a one-line field.
LINE_BREAK = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")


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


def refuse_control(text: str, field: str) -> str:
    """The text, refused when it holds control characters other than tab and line breaks (a NUL
    byte would not even reach PostgreSQL)."""
    if CONTROL.search(text):
        raise BadRequest(N_("this field holds control characters"), code="invalid", where=field)
    return text


def one_line(text: str) -> str:
    """The text on one line, every run of whitespace (line breaks included) one space: for a
    mail subject, a header that a line break would end or extend."""
    return " ".join(text.split())


def clean_text(
    value: str | None,
    field: str,
    *,
    max_length: int,
    required: bool = False,
    one_line: bool = False,
) -> str:
    """Trimmed text without control characters; HTML is kept as typed and escaped on output.

    Every line break becomes a newline; in a `one_line` field (a title, a room: they go into
    mail subjects and calendar properties) a space."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadRequest(N_("this field must be text"), code="invalid_type", where=field)
    text = CONTROL.sub("", LINE_BREAK.sub(" " if one_line else "\n", value)).strip()
    if one_line:
        text = re.sub(r" {2,}", " ", text)
    if required and not text:
        raise BadRequest(N_("this field is required"), code="required", where=field)
    if len(text) > max_length:
        raise BadRequest(N_("this text is too long"), code="too_long", where=field)
    return text


def parse_when(value: dt.datetime | str | None, field: str) -> dt.datetime:
    """An aware UTC datetime from an ISO 8601 text or a datetime; naive means Europe/Paris."""
    if value is None or value == "":
        raise BadRequest(N_("this field is required"), code="required", where=field)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise BadRequest(
                N_("this date is not valid: use YYYY-MM-DDTHH:MM"),
                code="invalid_date",
                where=field,
            ) from None
    if not isinstance(value, dt.datetime):
        raise BadRequest(N_("this date is not valid: use YYYY-MM-DDTHH:MM"), where=field)
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        # Also keeps clear of the calendar's ends, where a time zone shift overflows.
        raise BadRequest(
            N_("this date is out of range: years 1900 to 2200"),
            code="date_out_of_range",
            where=field,
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    return value.astimezone(dt.UTC)


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
    )
