"""The two paths of registrations agree: the plain one (ORM, `registration.register_many_plain`)
and the fast one (prepared statements, `fastpath.register_many`, used by the service and the
API) decide the same outcomes, places, queue times and seats for the same requests, as the
ingest's native path is checked against its Python path."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from campus.auth.actor import ANONYMOUS
from campus.db.base import utcnow
from campus.ecosystem.events import fastpath, registration, service
from campus.ecosystem.events.models import Event, Registration
from campus.errors import CampusError
from tests.helpers import make_account
from tests.integration.ecosystem.events_helpers import (
    actor_of,
    event_input,
    member,
    published_event,
    staff,
)


def _world(db, admin, tag: str) -> dict[str, str]:
    """The same events for each path: small, open, members-only, a draft, one that ended."""
    events = {
        "small": published_event(db, admin, capacity=2, title=f"Small {tag}"),
        "three": published_event(db, admin, capacity=3, title=f"Three {tag}"),
        "open": published_event(db, admin, capacity=None, title=f"Open {tag}"),
        "members": published_event(db, admin, audience="members", title=f"Members {tag}"),
    }
    events["ended"] = published_event(db, admin, capacity=5, title=f"Ended {tag}")
    with db.session() as session:
        events["draft"] = service.create_event(session, admin, event_input(title=tag)).id
        # An event that ended: written straight to the base (the service refuses a past end).
        session.get(Event, events["ended"]).ends_at = utcnow() - dt.timedelta(hours=1)
    return events


def _outcome(result, places: dict[str, int]) -> tuple:
    if isinstance(result, CampusError):
        return ("refused", type(result).__name__, result.code)
    return (result.status, places.get(result.id), result.queued_at)


def _state(db, events: dict[str, str]) -> dict:
    """Per event name: seats kept on the row, and (account, status, queued_at) by queue."""
    shown = {}
    with db.session() as session:
        for name, event_id in events.items():
            event = session.get(Event, event_id)
            rows = session.scalars(
                select(Registration)
                .where(Registration.event_id == event_id)
                .order_by(Registration.queued_at, Registration.id)
            ).all()
            shown[name] = (
                (event.registered_count, event.waitlisted_count, event.queue_tail),
                [(r.account_id, r.status, r.queued_at) for r in rows],
            )
    return shown


def test_the_plain_and_the_fast_path_decide_the_same(db, settings):
    admin = staff(db)
    people = [member(db, f"p{i}@example.org") for i in range(8)]
    visitor = actor_of(db, make_account(db, "visitor@example.org"))
    actors = [*people, visitor, visitor, ANONYMOUS]
    worlds = {"plain": _world(db, admin, "plain"), "fast": _world(db, admin, "fast")}
    paths = {"plain": registration.register_many_plain, "fast": fastpath.register_many}
    names = [*worlds["plain"], "missing"]
    rng = random.Random(20261207)
    start = utcnow()
    seen = set()
    # The first round asks what each rule refuses, so that every rule is seen; then random
    # requests asked at shuffled times: some decided after a later asker (queue's end).
    first = [
        (visitor, "members", 3),
        (ANONYMOUS, "open", 1),
        (people[0], "missing", 2),
        (people[0], "draft", 0),
        (people[1], "ended", 5),
        (people[2], "small", 9),
        (people[2], "small", 4),
    ]
    for round_ in range(16):
        batch = (
            first
            if round_ == 0
            else [
                (rng.choice(actors), rng.choice(names), rng.randint(0, 40))
                for _ in range(rng.randint(1, 7))
            ]
        )
        outcomes = {}
        for path, run in paths.items():
            ids = {**worlds[path], "missing": "no-such-event"}
            requests = [
                service.RegistrationRequest(
                    actor, ids[name], start + dt.timedelta(seconds=10 * round_ + offset)
                )
                for actor, name, offset in batch
            ]
            places: dict[str, int] = {}
            with db.session() as session:
                results = run(session, requests, places)
                outcomes[path] = [_outcome(r, places) for r in results]
        assert outcomes["plain"] == outcomes["fast"], f"round {round_}: {batch}"
        seen.update(o[2] if o[0] == "refused" else o[0] for o in outcomes["fast"])
        # Between rounds someone gives up a place (the same in both worlds): a cancelled
        # registration is taken again later, at the end of the queue.
        quitter, name = rng.choice(people), rng.choice(["small", "three", "open"])
        for path in paths:
            with db.session() as session:
                if service.registration_of(session, worlds[path][name], quitter.account_id):
                    try:
                        service.cancel_registration(
                            session, settings, quitter, worlds[path][name], now=start
                        )
                    except CampusError:
                        session.rollback()
    plain, fast = _state(db, worlds["plain"]), _state(db, worlds["fast"])
    assert plain == fast
    # The rounds went through every rule: seats, waitlist, each refusal.
    assert seen >= {
        "registered",
        "waitlisted",
        "not_authenticated",
        "already_registered",
        "not_found",
        "members_only",
        "event_ended",
    }, seen
