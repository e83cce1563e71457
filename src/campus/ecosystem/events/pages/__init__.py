"""HTML pages of events and their JSON twins, by who uses them: the list, the month calendar,
one's registrations and the calendar files (`listing`); one event and its actions (`event`);
the organiser's forms and statistics (`organiser`); the door's check-in (`checkin`). What
they say for codes and months is in `words`."""

from __future__ import annotations

from fastapi import APIRouter

from campus.ecosystem.events.pages import checkin, event, listing, organiser

router = APIRouter()
# Their routes in this order (the organiser's forms before the event's page, which would take
# /events/new), as routes of this router: the route walk reads a router's own routes.
for part in (listing, organiser, event, checkin):
    router.routes.extend(part.router.routes)
