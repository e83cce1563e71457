"""Scheduled pulls, run by Campus's job worker (`campus worker`, or the demo's in-process one).

A dataset's Bulk Data source may carry a schedule: every day at a time of a time zone
(`{"daily_at": "02:30", "timezone": "Europe/Paris"}`: 02:30 in Paris, summer and winter), or
every N hours (`{"every_hours": 6}`), counted from when the schedule was set (`from`). Its
due times are the slots; the first one comes after the schedule is set, never before.

When idle, a worker calls `tick`: each dataset whose latest slot has passed gets a queued
`PullRun` for that slot, then the worker claims one queued run and pulls incrementally (as
`campus pull` with the dataset's stored server). Both are decided by the database, not by a
read then a write: the unique (dataset, slot) constraint makes a slot queued once however many
workers see it due, the partial unique index on active runs keeps at most one queued or
running pull per dataset (a slot that comes while the last pull still runs is queued when it
ends), and a claim is a conditional UPDATE that only one worker's can change. A claimed run
holds a lease its progress renews; when a worker dies, the lease expires and another worker
claims the run again (the pull resumes the export it left) up to `MAX_ATTEMPTS`.

The outcome is recorded as for every pull (`service.record_pull`: the dataset's page and the
audit log, with `trigger: schedule`) and on the run's row.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from campus.auth.actor import SYSTEM
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.db.leases import claim_oldest, holder_name
from campus.errors import BadRequest, CampusError
from campus.settings import Settings
from campus.warehouse import messages
from campus.warehouse.models import Dataset, PullRun

log = logging.getLogger("campus.worker")

LEASE_SECONDS = 600
RENEW_SECONDS = 30
MAX_ATTEMPTS = 2
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_HOURS = 24 * 31


def check(raw: Any, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """A schedule as stored (with `from`), or None for none; 400 (where: schedule) else."""
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, dict):
        raise BadRequest(messages.SCHEDULE_NOT_OBJECT, code="bad_schedule", where="schedule")
    since = _since(raw.get("from"), now)
    daily, every = raw.get("daily_at"), raw.get("every_hours")
    if (daily is None) == (every is None):
        raise BadRequest(messages.SCHEDULE_ONE_KIND, code="bad_schedule", where="schedule")
    if daily is not None:
        if not isinstance(daily, str) or not TIME.match(daily):
            raise BadRequest(messages.SCHEDULE_BAD_TIME, code="bad_schedule", where="schedule")
        zone = raw.get("timezone") or "Europe/Paris"
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise BadRequest(
                messages.SCHEDULE_BAD_ZONE.format(zone=repr(str(zone)[:60])),
                code="bad_schedule",
                where="schedule",
            ) from None
        return {"daily_at": daily, "timezone": str(zone), "from": since}
    if type(every) is not int or not 1 <= every <= MAX_HOURS:
        raise BadRequest(
            messages.SCHEDULE_BAD_HOURS.format(limit=MAX_HOURS),
            code="bad_schedule",
            where="schedule",
        )
    return {"every_hours": every, "from": since}


def _since(raw: Any, now: dt.datetime | None) -> str:
    """When the schedule was set: kept as stored (an instant with its offset), else now."""
    if raw:
        try:
            when = dt.datetime.fromisoformat(str(raw))
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise BadRequest(messages.SCHEDULE_ONE_KIND, code="bad_schedule", where="schedule")
        return when.astimezone(dt.UTC).isoformat(timespec="seconds")
    return (now or utcnow()).astimezone(dt.UTC).isoformat(timespec="seconds")


def latest_slot(schedule: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """The last due time at or before `now` and after the schedule was set, or None."""
    since = dt.datetime.fromisoformat(schedule["from"])
    if "every_hours" in schedule:
        step = dt.timedelta(hours=int(schedule["every_hours"]))
        passed = (now - since) // step
        return since + passed * step if passed >= 1 else None
    zone = ZoneInfo(schedule["timezone"])
    hour, minute = (int(x) for x in schedule["daily_at"].split(":"))
    local = now.astimezone(zone)
    for days in (0, 1):
        day = local.date() - dt.timedelta(days=days)
        # A time that does not exist that day (clocks moved forward) comes an hour later.
        slot = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        slot = slot.astimezone(dt.UTC)
        if slot <= now:
            return slot if slot > since else None
    return None


def enqueue_due(db: Database, now: dt.datetime | None = None) -> list[str]:
    """Queue a run for each dataset whose latest slot has passed; the names queued."""
    now = now or utcnow()
    with db.session() as session:
        sources = [
            (d.id, d.name, d.pull_source or {})
            for d in session.scalars(select(Dataset).where(Dataset.pull_source.is_not(None)))
        ]
    queued = []
    for dataset_id, name, source in sources:
        schedule = source.get("schedule")
        if not schedule or not source.get("base_url"):
            continue
        try:
            slot = latest_slot(schedule, now)
        except (KeyError, TypeError, ValueError):  # stored by hand: one bad entry skips itself
            log.warning("the schedule of %s cannot be read", name)
            continue
        if slot is None:
            continue
        try:
            with db.session() as session:
                session.add(PullRun(dataset_id=dataset_id, slot=slot, status="queued"))
        except IntegrityError:
            continue  # this slot was queued already, or a pull of the dataset is active
        queued.append(name)
    return queued


def claim(db: Database, worker: str, now: dt.datetime | None = None) -> int | None:
    """Take the oldest queued run (or a running one whose worker's lease expired)."""
    now = now or utcnow()
    with db.session() as session:
        session.execute(  # a run whose worker died on its last attempt: failed, not lost
            update(PullRun)
            .where(
                PullRun.status == "running",
                PullRun.lease_until < now,
                PullRun.attempts >= MAX_ATTEMPTS,
            )
            .values(
                status="failed",
                finished_at=now,
                outcome={"status": "failed", "message": "the worker stopped during the pull"},
            )
        )
        taken = claim_oldest(
            session,
            PullRun,
            order_by=PullRun.slot,
            max_attempts=MAX_ATTEMPTS,
            now=now,
            values={"worker": worker, "lease_until": now + dt.timedelta(seconds=LEASE_SECONDS)},
        )
    return taken.id if taken else None


def _renew(db: Database, run_id: int, worker: str) -> None:
    with db.session() as session:
        session.execute(
            update(PullRun)
            .where(PullRun.id == run_id, PullRun.worker == worker, PullRun.status == "running")
            .values(lease_until=utcnow() + dt.timedelta(seconds=LEASE_SECONDS))
        )


def run(db: Database, settings: Settings, run_id: int, worker: str) -> str:
    """Pull the run's dataset incrementally; the run's final status."""
    from campus.warehouse.bulk.pull import pull_stored

    with db.session() as session:
        found = session.get(PullRun, run_id)
        dataset = session.get(Dataset, found.dataset_id) if found is not None else None
        name = dataset.name if dataset is not None else None
    if name is None:
        return "gone"
    renewed = [time.monotonic()]

    def events(*args: Any, **kwargs: Any) -> None:
        if time.monotonic() - renewed[0] > RENEW_SECONDS:
            renewed[0] = time.monotonic()
            _renew(db, run_id, worker)

    outcome: dict[str, Any]
    try:
        report = pull_stored(db, settings, SYSTEM, name, events=events, trigger="schedule")
        outcome = {"status": report.status, "version": report.version, "skipped": report.skipped}
        status = "done" if report.status in ("published", "unchanged") else "failed"
    except CampusError as error:
        outcome, status = {"status": "failed", "message": error.message}, "failed"
    with db.session() as session:
        session.execute(
            update(PullRun)
            .where(PullRun.id == run_id, PullRun.worker == worker)
            .values(status=status, outcome=outcome, finished_at=utcnow())
        )
    log.info("scheduled pull of %s: %s", name, outcome["status"])
    return status


def idle(db: Database, settings: Settings) -> None:
    """The job worker's idle task (declared in `campus.site.capabilities`): one `tick`."""
    tick(db, settings, holder_name())


def tick(db: Database, settings: Settings, worker: str) -> int | None:
    """Queue what is due, then run one queued pull; its id, or None when none waited."""
    enqueue_due(db)
    run_id = claim(db, worker)
    if run_id is not None:
        run(db, settings, run_id, worker)
    return run_id
