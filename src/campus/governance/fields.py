"""The checks of what people type into governance's forms and API: required texts and their
length, regulatory numbers, a project's dates, names of datasets and views."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from campus.errors import BadRequest
from campus.i18n import N_

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\Z")


def text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    """The text stripped; refused when required and empty, or longer than `limit`."""
    value = (value or "").strip()
    if required and not value:
        raise BadRequest(N_("fill in this field"), code="missing_field", where=field)
    if len(value) > limit:
        raise BadRequest(N_("this text is too long: shorten it"), code="too_long", where=field)
    return value


_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_#-]{0,39}\Z")


def reference(value: str, field: str) -> str:
    """A regulatory number (CESREES opinion, CNIL decision or declaration): letters, digits
    and `. / _ # -`, at most 40 characters; empty when not known yet."""
    value = (value or "").strip()
    if value and not _REFERENCE.match(value):
        raise BadRequest(
            N_(
                "write the number as given by the authority: letters, digits and . / _ # -, "
                "at most 40 characters"
            ),
            code="bad_reference",
            where=field,
        )
    return value


def dates(starts_on: dt.date | None, ends_on: dt.date | None) -> None:
    """Refuse a project that ends before it starts."""
    if starts_on and ends_on and ends_on < starts_on:
        raise BadRequest(
            N_("the project cannot end before it starts"), code="bad_dates", where="ends_on"
        )


def names(values: Any, field: str) -> list[str]:
    """Dataset or view names, from a list or a comma- or line-separated text: sorted, once."""
    if isinstance(values, str):
        values = [v.strip() for v in re.split(r"[,\n]", values)]
    cleaned = sorted({str(v).strip() for v in values or [] if str(v).strip()})
    for value in cleaned:
        if not NAME.match(value):
            raise BadRequest(
                N_("a name of a dataset or view is written in lowercase letters, digits, - or _"),
                code="bad_name",
                where=field,
            )
    return cleaned
