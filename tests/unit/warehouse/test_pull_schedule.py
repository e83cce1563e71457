"""When a scheduled pull is due: daily in a time zone across daylight saving, or every N
hours, never from before the schedule was set."""

from __future__ import annotations

import datetime as dt

from campus.warehouse.bulk import schedule

UTC = dt.UTC


def test_daily_slots_follow_the_time_zone_across_daylight_saving():
    plan = schedule.check(
        {"daily_at": "02:30", "timezone": "Europe/Paris"}, dt.datetime(2026, 3, 1, tzinfo=UTC)
    )
    # Winter: 02:30 in Paris is 01:30 UTC; summer: 00:30 UTC.
    assert schedule.latest_slot(plan, dt.datetime(2026, 3, 10, 12, tzinfo=UTC)) == dt.datetime(
        2026, 3, 10, 1, 30, tzinfo=UTC
    )
    assert schedule.latest_slot(plan, dt.datetime(2026, 7, 10, 0, 29, tzinfo=UTC)) == dt.datetime(
        2026, 7, 9, 0, 30, tzinfo=UTC
    )
    # 29 March 2026: 02:30 does not exist in Paris; the pull runs at 03:30 (01:30 UTC).
    assert schedule.latest_slot(plan, dt.datetime(2026, 3, 29, 6, tzinfo=UTC)) == dt.datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    # Never a slot from before the schedule was set.
    assert schedule.latest_slot(plan, dt.datetime(2026, 3, 1, 0, 10, tzinfo=UTC)) is None
    every = schedule.check({"every_hours": 6}, dt.datetime(2026, 3, 1, 10, tzinfo=UTC))
    assert schedule.latest_slot(every, dt.datetime(2026, 3, 1, 15, 59, tzinfo=UTC)) is None
    assert schedule.latest_slot(every, dt.datetime(2026, 3, 2, 5, tzinfo=UTC)) == dt.datetime(
        2026, 3, 2, 4, tzinfo=UTC
    )
