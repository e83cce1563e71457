"""Spaces, the one way in for the CLI, the API, the pages and the residency capability:
buildings, floors and rooms; allocations of desks to residencies; bookings by slot. The work
is split by concern:

- `access`: staff only, and the organisations an actor belongs to;
- `rooms`: reading buildings and rooms; `site`: staff create them and set their rules;
- `allocations`: offices, labs and desks given to residencies for a period;
- `slots`: the rules of a slot and of a series' occurrences (no SQL);
- `bookings`: book (all of a series or none), cancel, approve or refuse;
- `schedules`: a booking, one's own, those pending, a room's day or week;
- `occupancy`: the staff's figures by month and floor.

Never a room given twice: on PostgreSQL exclusion constraints decide, on SQLite the room's
write lock serialises (`bookings` says how). Times are stored in UTC and read and shown in
Europe/Paris: a booking lies within its building's opening hours on one local day, and may
not straddle a daylight-saving change.

This module names what callers use from each.
"""

from __future__ import annotations

from campus.spaces.access import organisation_choices, organisations_of
from campus.spaces.allocations import (
    allocate,
    allocations_of,
    end_allocations,
    free_spaces,
    is_hosted,
)
from campus.spaces.bookings import (
    BookingInput,
    book,
    cancel_booking,
    decide_booking,
    may_book,
    reserve_for_event,
)
from campus.spaces.occupancy import occupancy
from campus.spaces.rooms import get_building, get_room, list_rooms, room_dict, room_view, site_view
from campus.spaces.schedules import (
    booking_dict,
    get_booking,
    my_bookings,
    pending_bookings,
    room_bookings,
    schedule,
    sees_booking,
)
from campus.spaces.site import (
    DEFAULT_BOOKING_ROLES,
    ROOM_KINDS,
    RoomInput,
    create_building,
    create_floor,
    create_room,
    update_room,
)
from campus.spaces.slots import MAX_OCCURRENCES

__all__ = [
    "DEFAULT_BOOKING_ROLES",
    "MAX_OCCURRENCES",
    "ROOM_KINDS",
    "BookingInput",
    "RoomInput",
    "allocate",
    "allocations_of",
    "book",
    "booking_dict",
    "cancel_booking",
    "create_building",
    "create_floor",
    "create_room",
    "decide_booking",
    "end_allocations",
    "free_spaces",
    "get_booking",
    "get_building",
    "get_room",
    "is_hosted",
    "list_rooms",
    "may_book",
    "my_bookings",
    "occupancy",
    "organisation_choices",
    "organisations_of",
    "pending_bookings",
    "reserve_for_event",
    "room_bookings",
    "room_dict",
    "room_view",
    "schedule",
    "sees_booking",
    "site_view",
    "update_room",
]
