"""The events a person registered for, on their home page (see campus.web.home)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.events import service
from campus.ecosystem.events.models import Event, RegistrationStatus
from campus.i18n import _
from campus.web.home import HomeItem, HomeSection, section


def my_events(session: Session, actor: Actor) -> HomeSection | None:
    """Upcoming events one is registered or waitlisted for, soonest first, with one's rank on
    the waiting list."""
    if not actor.authenticated:
        return None
    now = utcnow()
    registrations = [
        r
        for r in service.my_registrations(session, actor.account_id or "")
        if r.status != RegistrationStatus.CANCELLED
    ]
    events = {r.event_id: session.get(Event, r.event_id) for r in registrations}
    upcoming = [r for r in registrations if (e := events[r.event_id]) and e.ends_at >= now]
    ranks = service.waitlist_positions(session, upcoming)
    items = []
    for registration in upcoming:
        event = events[registration.event_id]
        assert event is not None
        if registration.status == RegistrationStatus.WAITLISTED:
            detail = _("Waiting list, rank %(rank)s") % {"rank": ranks.get(registration.id, "?")}
        else:
            detail = _("Registration confirmed")
        items.append(HomeItem(event.title, f"/events/{event.id}", detail, event.starts_at))
    return section("events", _("My events"), "/me/events", _("No upcoming event."), items)
