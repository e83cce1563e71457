"""Checks on text and dates that people type, shared by every capability's forms and API.

Every check raises `BadRequest` naming the field in `where`, so a form shows the message next to
the right input and the API says which element was wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from campus.errors import BadRequest
from campus.i18n import N_

PARIS = ZoneInfo("Europe/Paris")
FIRST_YEAR, LAST_YEAR = 1900, 2200
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
URL = re.compile(r"^https?://[^\s<>\"']+\Z", re.IGNORECASE)
# Line breaks of any kind (CR, LF, NEL, line and paragraph separators, vertical tab, form feed):
# read as a newline in text, as a space in a one-line field.
LINE_BREAK = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")


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
