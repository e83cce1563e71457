"""iCalendar (RFC 5545) output: one event or a feed, with text escaping and line folding."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable

from campus.ecosystem.events.models import Event, EventStatus

PRODID = "-//Campus//Events//FR"
MAX_OCTETS = 75


# Line breaks of every kind become an escaped newline; other control characters, which TEXT
# may not hold (RFC 5545 3.3.11), are dropped. Rows never cleaned (imports, older rows) are
# safe too.
LINE_BREAK = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def escape_text(value: str) -> str:
    """TEXT escaping of RFC 5545 3.3.11: backslash, semicolon, comma and newlines."""
    value = CONTROL.sub("", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return LINE_BREAK.sub("\\\\n", value)


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (RFC 5545 3.1)."""
    out: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size = " ", 1
            limit = MAX_OCTETS
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _stored_link(event: Event) -> str:
    return event.online_url


def _vevent(
    event: Event, *, base_url: str, stamp: dt.datetime, online_url: Callable[[Event], str]
) -> list[str]:
    url = f"{base_url.rstrip('/')}/events/{event.id}"
    link = online_url(event)
    location = event.room or link
    description = event.description
    if link:
        description = (description + "\n\n" if description else "") + link
    lines = [
        "BEGIN:VEVENT",
        f"UID:event-{event.id}@campus",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(event.ends_at)}",
        f"SEQUENCE:{event.sequence}",
        f"SUMMARY:{escape_text(event.title)}",
        f"URL:{url}",
        "STATUS:" + ("CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED"),
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    lines.append("END:VEVENT")
    return lines


def calendar(
    events: Iterable[Event],
    *,
    base_url: str,
    name: str = "Campus",
    stamp: dt.datetime,
    online_url: Callable[[Event], str] = _stored_link,
) -> str:
    """A VCALENDAR with one VEVENT an event, CRLF line ends, folded lines. `online_url` gives
    the link an event shows (routes pass `service.online_url_for` and the reader)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-WR-TIMEZONE:Europe/Paris",
    ]
    for event in events:
        lines.extend(_vevent(event, base_url=base_url, stamp=stamp, online_url=online_url))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
