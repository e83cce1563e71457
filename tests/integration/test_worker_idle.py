"""The job worker's idle round: what capabilities declare (`idle=`), run by the worker loop
when the queue is empty, each task's trouble kept from the others."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from campus.analysis import jobs
from campus.db.base import utcnow
from campus.ecosystem.events import service
from campus.site import registry
from campus.site.capabilities import CAPABILITIES
from campus.site.registry import Capability
from tests.integration.ecosystem.events_helpers import member, published_event, staff

RAN: list[str] = []


def failing(db, settings) -> None:
    RAN.append("failing")
    raise RuntimeError("patient 123 has diabetes")  # a message that must not reach the log


def counting(db, settings) -> None:
    RAN.append("counting")


def test_the_site_declares_pulls_reminders_and_mail_as_idle_tasks():
    declared = list(registry.targets(CAPABILITIES, "idle"))
    assert declared == [
        "campus.auth.mail:deliver_pending",
        "campus.ecosystem.events.reminders:send_due_in",
        "campus.warehouse.bulk.schedule:idle",
    ]
    assert all(callable(registry.load(target)) for target in declared)


def test_one_idle_tasks_trouble_is_logged_by_its_type_and_the_next_still_runs(caplog):
    RAN.clear()
    here = __name__
    round_ = registry.idle_round(
        [
            Capability("a", idle=(f"{here}:failing",)),
            Capability("b", idle=(f"{here}:counting",)),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="campus.worker"):
        round_(None, None)
    assert RAN == ["failing", "counting"]
    assert "RuntimeError" in caplog.text and "patient" not in caplog.text


def test_the_worker_loop_sends_an_events_reminder_when_its_queue_is_empty(db, settings, mailbox):
    admin = staff(db)
    soon = published_event(
        db,
        admin,
        capacity=3,
        title="Demain",
        starts_at=utcnow() + dt.timedelta(hours=20),
        ends_at=utcnow() + dt.timedelta(hours=22),
    )
    with db.session() as session:
        service.register(session, settings, member(db, "ana@example.org"), soon)
    stop = threading.Event()
    site_round = registry.idle_round(CAPABILITIES)

    def once(db_, settings_) -> None:
        site_round(db_, settings_)
        stop.set()

    jobs.work(db, settings, stop=stop, poll_seconds=0.01, on_idle=once)
    assert [to for to, subject, _ in mailbox.messages() if subject.startswith("Rappel")] == [
        "ana@example.org"
    ]
