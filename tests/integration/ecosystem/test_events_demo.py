"""The demo year of events, trainings and programmes: sizes, invariants, determinism."""

import datetime as dt
import shutil

import pytest
from sqlalchemy import func, select

from campus.auth.models import Account
from campus.db.engine import Database
from campus.ecosystem import demo_data
from campus.ecosystem.events import demo as events_demo
from campus.ecosystem.events import service
from campus.ecosystem.events.models import Event, Registration
from campus.ecosystem.programmes import demo as programmes_demo
from campus.ecosystem.programmes import service as programmes
from campus.ecosystem.programmes.models import ProgrammeApplication, ProgrammeReview

REFERENCE = dt.date(2026, 11, 2)


def _load(db):
    with db.session() as session:
        demo_data.generate(session, reference=REFERENCE)
        summary = events_demo.generate(session, reference=REFERENCE)
        counts = programmes_demo.generate(session)
    return summary, counts


def _fingerprint(db) -> list[tuple]:
    with db.session() as session:
        return sorted(
            session.execute(
                select(
                    Event.title, Event.starts_at, Event.capacity, Account.email, Registration.status
                )
                .join(Registration, Registration.event_id == Event.id)
                .join(Account, Account.id == Registration.account_id)
            ).all()
        )


def test_demo_events_and_programmes_are_realistic_and_keep_every_rule(
    db, sqlite_template, tmp_path
):
    if db.is_postgresql:
        pytest.skip("a 2-second bulk load; the loaders use no backend-specific SQL")
    summary, counts = _load(db)
    assert summary["events"] == 200 and summary["full_events"] >= 10
    assert counts["programmes"] == 4 and counts["selected"] == 20
    with db.session() as session:
        events = list(session.scalars(select(Event)))
        starts = sorted(e.starts_at for e in events)
        assert (starts[-1] - starts[0]).days >= 350
        with_waitlist = 0
        for event in events:
            seats = service.seats(event)
            assert event.capacity is None or seats.registered <= event.capacity
            with_waitlist += bool(seats.full and seats.waitlisted)
        assert with_waitlist >= 10
        assert sum(1 for e in events if e.training_id) == 40
        checked_in_future = session.scalar(
            select(func.count())
            .select_from(Registration)
            .join(Event)
            .where(
                Registration.checked_in_at.is_not(None), Event.starts_at > dt.datetime.now(dt.UTC)
            )
        )
        assert checked_in_future == 0
        for review in session.scalars(select(ProgrammeReview)):
            application = session.get(ProgrammeApplication, review.application_id)
            assert not programmes.has_conflict(
                session, review.reviewer_id, application.organisation_id
            )
    with db.session() as session, pytest.raises(RuntimeError):
        events_demo.generate(session, reference=REFERENCE)

    second_path = tmp_path / "second.db"
    shutil.copy(sqlite_template, second_path)
    second = Database(f"sqlite:///{second_path}")
    try:
        _load(second)
        assert _fingerprint(second) == _fingerprint(db)  # same seed, same campus
    finally:
        second.dispose()
