"""The rules of a booking's slots, without the database: the occurrences of a daily or
weekly series in Paris wall-clock time, and what a room and its building allow of a slot
(length, how far ahead, opening hours, no daylight-saving change inside)."""

from __future__ import annotations

import datetime as dt

from campus.errors import BadRequest
from campus.i18n import N_
from campus.spaces.models import Building, Room
from campus.spaces.validation import PARIS, local_time

MAX_OCCURRENCES = 52


def occurrences(
    first_start: dt.datetime, first_end: dt.datetime, repeat: str, count: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The slots of a series: the first as given, the next ones stepped in Paris wall-clock
    time (a weekly 10:00 meeting stays at 10:00 after the clocks change; one that would land
    in the skipped or repeated hour is refused, naming its occurrence)."""
    slots = [(first_start, first_end)]
    step = {"none": None, "daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}[repeat]
    if step is None:
        return slots
    local_start = first_start.astimezone(PARIS).replace(tzinfo=None)
    local_end = first_end.astimezone(PARIS).replace(tzinfo=None)
    for index in range(1, count):
        where = f"occurrence {index + 1}"
        shift = step * index
        slots.append((local_time(local_start + shift, where), local_time(local_end + shift, where)))
    return slots


def check_slot(
    room: Room, building: Building, start: dt.datetime, end: dt.datetime, now: dt.datetime,
    where: str,
) -> None:  # fmt: skip
    if end <= start:
        raise BadRequest(
            N_("the end must come after the start"), code="end_before_start", where="ends_at"
        )
    local_start, local_end = start.astimezone(PARIS), end.astimezone(PARIS)
    if local_start.utcoffset() != local_end.utcoffset():
        raise BadRequest(
            N_("this slot crosses a daylight-saving change: split it in two"),
            code="crosses_dst_change",
            where=where or "ends_at",
        )
    if start < now:
        raise BadRequest(
            N_("a booking cannot start in the past"), code="past_date", where=where or "starts_at"
        )
    if start > now + dt.timedelta(days=room.max_days_ahead):
        raise BadRequest(
            N_("this room cannot be booked that far ahead"),
            code="too_far_ahead",
            where=where or "starts_at",
        )
    if end - start > dt.timedelta(minutes=room.max_minutes):
        raise BadRequest(
            N_("this booking is longer than the room allows"),
            code="too_long",
            where=where or "ends_at",
        )
    midnight = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
    start_minute = (local_start - midnight).total_seconds() / 60
    end_minute = (local_end - midnight).total_seconds() / 60  # beyond 1440: the next day
    if start_minute < building.opens_minute or end_minute > building.closes_minute:
        raise BadRequest(
            N_("this slot is outside the building's opening hours"),
            code="outside_opening_hours",
            where=where or "starts_at",
        )
