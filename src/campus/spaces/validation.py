"""Checks on what people type for spaces: local times in Europe/Paris (daylight-saving days
included), dates, whole numbers. Each raises `BadRequest` naming the field in `where`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from campus.errors import BadRequest
from campus.i18n import N_
from campus.text import PARIS, clean_text, parse_when

__all__ = ["PARIS", "clean_text", "local_time", "parse_date", "whole_number"]


def local_time(value: dt.datetime | str | None, field: str) -> dt.datetime:
    """An aware UTC datetime from an ISO 8601 text or a datetime. A time without an offset is
    Paris time; one that does not exist there (the hour skipped in March) or that exists twice
    (the hour repeated in October) is refused rather than guessed."""
    utc = parse_when(value, field)  # refuses what is not a date, or out of range
    naive = (
        value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).strip())
    )
    if naive.tzinfo is not None:
        return utc
    first = naive.replace(tzinfo=PARIS, fold=0)
    if first.utcoffset() == naive.replace(tzinfo=PARIS, fold=1).utcoffset():
        return utc
    if first.astimezone(dt.UTC).astimezone(PARIS).replace(tzinfo=None) != naive:
        raise BadRequest(
            N_("this time does not exist in Paris: the clocks skip it (daylight saving)"),
            code="nonexistent_time",
            where=field,
        )
    raise BadRequest(
        N_("this time happens twice in Paris (daylight saving): give its UTC offset"),
        code="ambiguous_time",
        where=field,
    )


def parse_date(value: dt.date | str | None, field: str, *, required: bool = True) -> dt.date | None:
    """A calendar date from YYYY-MM-DD (or a date)."""
    if value is None or value == "":
        if required:
            raise BadRequest(N_("this field is required"), code="required", where=field)
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise BadRequest(N_("this date is not valid: use YYYY-MM-DD"), where=field)
    try:
        parsed = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(
            N_("this date is not valid: use YYYY-MM-DD"), code="invalid_date", where=field
        ) from None
    if not 1900 <= parsed.year <= 2200:
        raise BadRequest(
            N_("this date is out of range: years 1900 to 2200"),
            code="date_out_of_range",
            where=field,
        )
    return parsed


def whole_number(value: Any, field: str, *, minimum: int = 0, maximum: int = 1_000_000) -> int:
    """A whole number between `minimum` and `maximum`."""
    if isinstance(value, bool) or value is None or value == "":
        raise BadRequest(N_("this field must be a whole number"), code="invalid_type", where=field)
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise BadRequest(
            N_("this field must be a whole number"), code="invalid_type", where=field
        ) from None
    if isinstance(value, float) and not value.is_integer():
        raise BadRequest(N_("this field must be a whole number"), code="invalid_type", where=field)
    if number < minimum:
        raise BadRequest(N_("this number is too small"), code="too_small", where=field)
    if number > maximum:
        raise BadRequest(N_("this number is too large"), code="too_large", where=field)
    return number
