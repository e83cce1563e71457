"""Bookings: the rules of a room, Paris time on daylight-saving days, never a double booking."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from campus.errors import BadRequest, CampusError, Conflict
from campus.spaces import service as spaces
from campus.spaces.models import Booking
from tests.integration.campus_life.spaces_helpers import member, next_weekday, paris, site, staff

NOW_BEFORE_SPRING = dt.datetime(2027, 3, 20, 9, 0, tzinfo=dt.UTC)
SPRING_DAY = dt.date(2027, 3, 28)  # clocks go from 02:00 to 03:00 in Paris


def _book(db, actor, room, start, end, **extra):
    with db.session() as session:
        data = spaces.BookingInput(room=room, title="Point", starts_at=start, ends_at=end, **extra)
        return [b.id for b in spaces.book(session, actor, data, now=extra.pop("now", None))]


def _refusal(db, actor, room, start, end, now=None, **extra) -> CampusError:
    with pytest.raises(CampusError) as caught, db.session() as session:
        spaces.book(
            session,
            actor,
            spaces.BookingInput(room=room, title="Point", starts_at=start, ends_at=end, **extra),
            now=now,
        )
    return caught.value


def test_an_overlapping_booking_is_refused_and_back_to_back_is_fine(db, settings):
    boss = staff(db)
    site(db, boss)
    alice = member(db, "alice@example.org")
    day = next_weekday()
    _book(db, alice, "A201", paris(day, 10), paris(day, 11))
    error = _refusal(db, alice, "A201", paris(day, 10, 30), paris(day, 11, 30))
    assert isinstance(error, Conflict) and error.where == "starts_at"
    _book(db, alice, "A201", paris(day, 11), paris(day, 12))  # [start, end): touching is free
    with db.session() as session:
        assert session.query(Booking).count() == 2


def test_bad_slots_are_refused_with_the_field_and_nothing_is_written(db, settings):
    boss = staff(db)
    site(db, boss)
    alice = member(db, "alice@example.org")
    day = next_weekday()
    cases = [
        ((paris(day, 7), paris(day, 9)), {}, "starts_at", "outside_opening_hours"),
        ((paris(day, 19), paris(day, 21)), {}, "starts_at", "outside_opening_hours"),
        ((paris(day, 10), paris(day, 14)), {}, "ends_at", "too_long"),
        ((paris(day, 11), paris(day, 10)), {}, "ends_at", "end_before_start"),
        ((paris(day, 10), paris(day, 11)), {"people": 9}, "people", "over_capacity"),
        ((paris(day, 10), paris(day, 11)), {"people": "x"}, "people", "invalid_type"),
        (("demain", paris(day, 11)), {}, "starts_at", "invalid_date"),
        ((paris(day, 10), paris(day, 11)), {"repeat": "weekly", "count": 99}, "count", "too_large"),
    ]
    for (start, end), extra, where, code in cases:
        error = _refusal(db, alice, "A201", start, end, **extra)
        assert (error.status, error.where, error.code) == (400, where, code), (start, extra)
    with db.session() as session:
        assert session.query(Booking).count() == 0


def test_slots_on_the_spring_daylight_saving_day_are_right(db, settings):
    boss = staff(db)
    site(db, boss, opens="00:00", closes="24:00")
    alice = member(db, "alice@example.org")
    now = NOW_BEFORE_SPRING
    with db.session() as session:
        before = spaces.book(
            session, alice,
            spaces.BookingInput(room="A201", title="Veille", starts_at=paris(SPRING_DAY - dt.timedelta(days=1), 10),  # noqa: E501
                                ends_at=paris(SPRING_DAY - dt.timedelta(days=1), 11)),
            now=now,
        )[0]  # fmt: skip
        after = spaces.book(
            session, alice,
            spaces.BookingInput(room="A201", title="Jour J", starts_at=paris(SPRING_DAY, 10),
                                ends_at=paris(SPRING_DAY, 11)),
            now=now,
        )[0]  # fmt: skip
        assert before.starts_at.hour == 9 and after.starts_at.hour == 8  # UTC+1, then UTC+2
    crossing = _refusal(db, alice, "A201", paris(SPRING_DAY, 1, 30), paris(SPRING_DAY, 3, 30), now)
    assert (crossing.where, crossing.code) == ("ends_at", "crosses_dst_change")
    skipped = _refusal(db, alice, "A201", paris(SPRING_DAY, 2, 30), paris(SPRING_DAY, 3, 30), now)
    assert (skipped.where, skipped.code) == ("starts_at", "nonexistent_time")


def test_a_weekly_series_keeps_its_local_hour_across_the_change_and_is_all_or_nothing(db, settings):
    boss = staff(db)
    site(db, boss)
    alice = member(db, "alice@example.org")
    first = SPRING_DAY - dt.timedelta(days=7)
    with db.session() as session:
        series = spaces.book(
            session, alice,
            spaces.BookingInput(room="A201", title="Hebdo", starts_at=paris(first, 10),
                                ends_at=paris(first, 11), repeat="weekly", count=3),
            now=NOW_BEFORE_SPRING - dt.timedelta(days=7),
        )  # fmt: skip
        assert [b.starts_at.hour for b in series] == [9, 8, 8]
        assert len({b.series_id for b in series}) == 1
    # A series whose third week is taken is refused whole, naming the occurrence.
    error = _refusal(
        db, alice, "A201", paris(first - dt.timedelta(days=7), 10, 30),
        paris(first - dt.timedelta(days=7), 11, 30), NOW_BEFORE_SPRING - dt.timedelta(days=14),
        repeat="weekly", count=3,
    )  # fmt: skip
    assert (error.status, error.where) == (409, "occurrence 2")
    with db.session() as session:
        assert session.query(Booking).count() == 3


def test_the_auditorium_waits_for_approval_and_partners_pay(db, settings):
    boss = staff(db)
    site(db, boss)
    alice = member(db, "alice@example.org")
    day = next_weekday()
    [booking_id] = _book(db, alice, "AUDI", paris(day, 14), paris(day, 16), people=80)
    with db.session() as session:
        booking = session.get(Booking, booking_id)
        assert booking.status == "pending"
        assert booking.price_cents == 40000  # two hours at the partner price, not hosted
    # A pending booking holds its slot.
    assert _refusal(db, alice, "AUDI", paris(day, 15), paris(day, 17)).status == 409
    with db.session() as session:
        assert spaces.decide_booking(session, boss, booking_id, approve=True).status == "confirmed"


def test_cancelling_frees_the_slot(db, settings):
    boss = staff(db)
    site(db, boss)
    alice, bob = member(db, "alice@example.org"), member(db, "bob@example.org")
    day = next_weekday()
    [booking_id] = _book(db, alice, "A201", paris(day, 10), paris(day, 11))
    with pytest.raises(CampusError) as caught, db.session() as session:
        spaces.cancel_booking(session, bob, booking_id)
    assert caught.value.status == 404  # bob does not even see it
    with db.session() as session:
        spaces.cancel_booking(session, alice, booking_id)
    _book(db, bob, "A201", paris(day, 10), paris(day, 11))


def test_only_the_rooms_roles_may_book(db, settings):
    boss = staff(db)
    site(db, boss)
    from tests.helpers import make_account
    from tests.integration.ecosystem.events_helpers import actor_of

    citizen = actor_of(db, make_account(db, "citizen@example.org"))
    day = next_weekday()
    assert _refusal(db, citizen, "A201", paris(day, 10), paris(day, 11)).status == 403
    assert _refusal(db, boss, "A101", paris(day, 10), paris(day, 11)).code == "not_bookable"


def test_a_capacity_below_the_people_of_a_booking_to_come_is_refused(db, settings):
    boss = staff(db)
    ids = site(db, boss)
    alice = member(db, "alice@example.org")
    day = next_weekday()
    _book(db, alice, "A201", paris(day, 10), paris(day, 11), people=6)
    with pytest.raises(BadRequest) as caught, db.session() as session:
        spaces.update_room(
            session, boss, "A201",
            spaces.RoomInput(floor_id=ids["floors"][1], code="A201", name="A201",
                             kind="meeting_room", capacity=4),
        )  # fmt: skip
    assert caught.value.where == "capacity"


SLOTS = 5
TRIES = 100


def test_a_hundred_concurrent_overlapping_bookings_accept_exactly_one_per_slot(db, settings):
    """100 threads book, at once, 5 slots of one room, each slot 20 times with shifted,
    overlapping times: exactly one booking per slot is accepted, the others get a 409.
    On PostgreSQL the exclusion constraint decides (the service's check takes no lock)."""
    boss = staff(db)
    site(db, boss)
    people = [member(db, f"m{i}@example.org") for i in range(10)]
    day = next_weekday()
    barrier = threading.Barrier(TRIES)

    def attempt(index: int) -> int:
        slot, shift = divmod(index, TRIES // SLOTS)
        start = dt.datetime(day.year, day.month, day.day, 9 + 2 * slot, shift)
        barrier.wait()
        try:
            with db.session() as session:
                spaces.book(
                    session,
                    people[index % len(people)],
                    spaces.BookingInput(
                        room="A201", title=f"t{index}", starts_at=start,
                        ends_at=start + dt.timedelta(minutes=60),
                    ),
                )  # fmt: skip
            return 201
        except CampusError as error:
            return error.status

    with ThreadPoolExecutor(max_workers=TRIES) as pool:
        statuses = list(pool.map(attempt, range(TRIES)))
    assert sorted(set(statuses)) == [201, 409]
    with db.session() as session:
        rows = list(session.scalars(select(Booking).order_by(Booking.starts_at)))
    assert len(rows) == SLOTS == statuses.count(201)
    for earlier, later in itertools.pairwise(rows):
        assert earlier.ends_at <= later.starts_at


def test_the_repeated_autumn_hour_is_refused_unless_its_offset_is_given(db, settings):
    boss = staff(db)
    site(db, boss, opens="00:00", closes="24:00")
    alice = member(db, "alice@example.org")
    autumn = dt.date(2027, 10, 31)  # 03:00 back to 02:00: 02:30 happens twice
    now = dt.datetime(2027, 10, 20, tzinfo=dt.UTC)
    twice = _refusal(db, alice, "A201", paris(autumn, 2, 30), paris(autumn, 2, 45), now)
    assert (twice.where, twice.code) == ("starts_at", "ambiguous_time")
    with db.session() as session:
        [first] = spaces.book(
            session, alice,
            spaces.BookingInput(room="A201", title="Nuit", starts_at="2027-10-31T02:30+02:00",
                                ends_at="2027-10-31T02:45+02:00"),
            now=now,
        )  # fmt: skip
        [second] = spaces.book(
            session, alice,
            spaces.BookingInput(room="A201", title="Nuit bis", starts_at="2027-10-31T02:30+01:00",
                                ends_at="2027-10-31T02:45+01:00"),
            now=now,
        )  # fmt: skip
        # The same wall-clock quarter twice, an hour apart in real time: no overlap.
        assert (second.starts_at - first.starts_at) == dt.timedelta(hours=1)
