"""Events, the one way in for the CLI, the API and the pages. The work is split by concern:

- `rules`: who sees, manages and attends an event; when it takes registrations; how a seat or
  a waitlist place is decided (no SQL);
- `reading`: the list and its filters, one event with the reader's registration, seats,
  waitlist places, the locked read every change starts from;
- `editing`: staff create, change, publish and cancel events;
- `registration`: register (through `fastpath`), the plain path beside it, cancel, promote;
- `fastpath`: the batch of registrations on prepared statements (`statements`);
- `checkin`: signed tickets, short codes and names at the door;
- `reminders`: the mail the day before; `mails`: every mail about an event.

This module names what callers use from each.
"""

from __future__ import annotations

from campus.ecosystem.events.checkin import (
    CHECK_IN_REFUSALS,
    attendee_name,
    attendees_named,
    check_in,
    check_in_registration,
    code_for,
    ticket_for,
)
from campus.ecosystem.events.editing import (
    cancel_event,
    create_event,
    publish_event,
    update_event,
)
from campus.ecosystem.events.fastpath import register_many
from campus.ecosystem.events.reading import (
    EventFilters,
    EventView,
    get_event,
    list_events,
    month_bounds,
    my_registrations,
    organisers,
    parse_filters,
    recount_seats,
    registration_of,
    seats,
    seats_of,
    view_event,
    waitlist_position,
    waitlist_positions,
)
from campus.ecosystem.events.registration import (
    cancel_registration,
    register,
    register_many_plain,
)
from campus.ecosystem.events.reminders import send_due as send_reminders
from campus.ecosystem.events.reminders import tell_waitlisted
from campus.ecosystem.events.rules import (
    RegistrationRequest,
    Seats,
    can_manage,
    is_member,
    may_attend,
    may_attend_audience,
    online_url_for,
    visible_to,
)

__all__ = [
    "CHECK_IN_REFUSALS",
    "EventFilters",
    "EventView",
    "RegistrationRequest",
    "Seats",
    "attendee_name",
    "attendees_named",
    "can_manage",
    "cancel_event",
    "cancel_registration",
    "check_in",
    "check_in_registration",
    "code_for",
    "create_event",
    "get_event",
    "is_member",
    "list_events",
    "may_attend",
    "may_attend_audience",
    "month_bounds",
    "my_registrations",
    "online_url_for",
    "organisers",
    "parse_filters",
    "publish_event",
    "recount_seats",
    "register",
    "register_many",
    "register_many_plain",
    "registration_of",
    "seats",
    "seats_of",
    "send_reminders",
    "tell_waitlisted",
    "ticket_for",
    "update_event",
    "view_event",
    "visible_to",
    "waitlist_position",
    "waitlist_positions",
]
