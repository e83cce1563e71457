"""Allocations of offices, labs and open-space desks to residencies for a period: never a
whole room twice, never more desks than an open space holds on any day. Allocations are
counted under the room's lock; on PostgreSQL the exclusion constraint
`space_allocations_no_overlap` also refuses an overlapping whole-room allocation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.engine import lock
from campus.errors import BadRequest
from campus.i18n import N_
from campus.spaces.access import staff_only
from campus.spaces.models import DESK_KINDS, WHOLE_KINDS, Allocation, Room
from campus.spaces.rooms import get_room, list_rooms
from campus.spaces.validation import parse_date, whole_number


def overlapping_dates(start: dt.date, end: dt.date | None) -> Any:
    """Allocations whose [starts_on, ends_on) meets [start, end) (None: open-ended)."""
    clauses = [or_(Allocation.ends_on.is_(None), Allocation.ends_on > start)]
    if end is not None:
        clauses.append(Allocation.starts_on < end)
    return and_(*clauses)


def desks_taken_from(session: Session, room: Room, day: dt.date) -> int:
    """The most desks of the room allocated on any day from `day` on (an upper bound: the
    sum of allocations still running or to come)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Allocation.desks), 0)).where(
                Allocation.room_id == room.id, overlapping_dates(day, None)
            )
        )
        or 0
    )


def allocate(
    session: Session,
    actor: Actor,
    *,
    room_key: str,
    residency_id: str,
    organisation_id: str,
    starts_on: dt.date | str,
    ends_on: dt.date | str | None,
    desks: Any = None,
) -> Allocation:
    """Give a room (an office, a lab: whole) or desks of an open space to a residency for a
    period. Overlapping a whole room's allocation, or more desks than the open space holds
    on a day of the period, is refused (400, `where`)."""
    staff_only(actor)
    room = get_room(session, room_key)
    if room.kind not in DESK_KINDS:
        raise BadRequest(
            N_("only offices, labs and open spaces are allocated"),
            code="not_allocatable",
            where="room",
        )
    start = parse_date(starts_on, "starts_on")
    end = parse_date(ends_on, "ends_on", required=False)
    assert start is not None
    if end is not None and end <= start:
        raise BadRequest(
            N_("the end must come after the start"), code="end_before_start", where="ends_on"
        )
    whole = room.kind in WHOLE_KINDS
    count = room.capacity if whole else whole_number(desks, "desks", minimum=1, maximum=5000)
    if count < 1:
        raise BadRequest(N_("this room has no desk"), code="no_desk", where="room")
    room = lock(session, room)  # concurrent allocations of the room queue here
    overlapping = list(
        session.scalars(
            select(Allocation).where(Allocation.room_id == room.id, overlapping_dates(start, end))
        )
    )
    if whole and overlapping:
        raise BadRequest(
            N_("this room is already allocated for part of this period"),
            code="overlapping_allocation",
            where="starts_on",
        )
    if not whole:
        if any(a.whole_room for a in overlapping):
            raise BadRequest(
                N_("this room is already allocated for part of this period"),
                code="overlapping_allocation",
                where="starts_on",
            )
        if peak_desks(overlapping, start, end) + count > room.capacity:
            raise BadRequest(
                N_("not enough free desks in this room for this period"),
                code="not_enough_desks",
                where="desks",
            )
    allocation = Allocation(
        room_id=room.id,
        residency_id=residency_id,
        organisation_id=organisation_id,
        desks=count,
        whole_room=whole,
        starts_on=start,
        ends_on=end,
        created_by=actor.label,
    )
    try:
        with session.begin_nested():
            session.add(allocation)
            session.flush()
    except IntegrityError as error:
        if "space_allocations_no_overlap" in str(error.orig):
            raise BadRequest(
                N_("this room is already allocated for part of this period"),
                code="overlapping_allocation",
                where="starts_on",
            ) from None
        raise
    audit.record(
        session,
        actor=actor.label,
        action="spaces.allocated",
        object_type="room",
        object_id=room.id,
        details={"residency": residency_id, "desks": count, "from": start.isoformat()},
    )
    return allocation


def peak_desks(allocations: list[Allocation], start: dt.date, end: dt.date | None) -> int:
    """The most desks the allocations hold together on one day of [start, end)."""
    points = {start} | {a.starts_on for a in allocations if a.starts_on > start}
    return max(
        (
            sum(
                a.desks
                for a in allocations
                if a.starts_on <= day and (a.ends_on is None or a.ends_on > day)
            )
            for day in points
            if end is None or day < end
        ),
        default=0,
    )


def end_allocations(
    session: Session, actor: Actor, residency_id: str, on: dt.date
) -> list[Allocation]:
    """End the residency's allocations running after `on` (its exit): they end that day,
    and those that had not started are removed."""
    staff_only(actor)
    ended = []
    for allocation in session.scalars(
        select(Allocation).where(Allocation.residency_id == residency_id)
    ):
        if allocation.starts_on >= on:
            session.delete(allocation)
        elif allocation.ends_on is None or allocation.ends_on > on:
            allocation.ends_on = on
            ended.append(allocation)
    session.flush()
    return ended


def allocations_of(session: Session, residency_ids: list[str]) -> dict[str, list[dict]]:
    """Each residency's allocations with their room."""
    found: dict[str, list[dict]] = defaultdict(list)
    if not residency_ids:
        return found
    rows = session.execute(
        select(Allocation, Room)
        .join(Room, Room.id == Allocation.room_id)
        .where(Allocation.residency_id.in_(residency_ids))
        .order_by(Allocation.starts_on)
    )
    for allocation, room in rows:
        found[allocation.residency_id].append(
            {
                "id": allocation.id,
                "room": room.code,
                "room_name": room.name,
                "kind": room.kind,
                "desks": allocation.desks,
                "starts_on": allocation.starts_on,
                "ends_on": allocation.ends_on,
            }
        )
    return found


def free_spaces(
    session: Session, starts_on: dt.date, ends_on: dt.date | None, desks: int
) -> list[dict]:
    """Rooms that could take `desks` people for the whole period: free offices and labs of
    at least that capacity, then open spaces with that many free desks. Smallest fit first."""
    fits: list[tuple[int, dict]] = []
    overlapping: dict[str, list[Allocation]] = defaultdict(list)
    for allocation in session.scalars(
        select(Allocation).where(overlapping_dates(starts_on, ends_on))
    ):
        overlapping[allocation.room_id].append(allocation)
    for item in list_rooms(session):
        if item["kind"] not in DESK_KINDS:
            continue
        taken = overlapping.get(item["id"], [])
        if item["kind"] in WHOLE_KINDS:
            if not taken and item["capacity"] >= desks:
                fits.append((item["capacity"] - desks, {**item, "free_desks": item["capacity"]}))
        elif not any(a.whole_room for a in taken):
            free = item["capacity"] - peak_desks(taken, starts_on, ends_on)
            if free >= desks:
                fits.append((free - desks + 1000, {**item, "free_desks": free}))
    return [item for _, item in sorted(fits, key=lambda pair: (pair[0], pair[1]["code"]))]


def is_hosted(session: Session, organisation_id: str | None, day: dt.date) -> bool:
    """Whether the organisation holds an allocation on that day: a resident, not a partner."""
    if not organisation_id:
        return False
    return (
        session.scalar(
            select(Allocation.id)
            .where(
                Allocation.organisation_id == organisation_id,
                Allocation.starts_on <= day,
                overlapping_dates(day, None),
            )
            .limit(1)
        )
        is not None
    )
