"""Prometheus metrics: requests by route template, job and audit figures read at scrape time.

Counters and histograms are kept per process. Under `campus serve --workers N` every worker
writes them to files in `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess mode, set
by `campus serve` to var/metrics before any worker starts), and a scrape adds up the files of
every worker, so it does not matter which worker answers. The queue's depth and ages and the
audit chain's length are read from the database at each scrape: they are the same whichever
process asks.

Not public: `/metrics` on the app answers only a request bearing `CAMPUS_METRICS_TOKEN` (404
when it is unset), and `campus metrics` serves the same figures on an address of its own
(`CAMPUS_METRICS_BIND`, 127.0.0.1:9464 by default) for a scraper on the private network.

Labels hold route templates (`/api/v1/events/{event_id}`), methods and status classes only:
never a filled-in path, an id or a user.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)

REQUESTS = Counter(
    "campus_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ("route", "method", "status"),
)
LATENCY = Histogram(
    "campus_http_request_duration_seconds",
    "Time from a request's start to its response's end, by route template.",
    ("route", "method"),
    buckets=LATENCY_BUCKETS,
)
ERRORS = Counter(
    "campus_http_errors",
    "Requests answered 5xx (unexpected errors), by route template.",
    ("route", "method"),
)
JOB_DURATION = Histogram(
    "campus_job_duration_seconds",
    "Wall time of a finished analysis job attempt, from its claim to its end.",
    ("outcome",),
    buckets=JOB_BUCKETS,
)

INGEST_DURATION = Histogram(
    "campus_ingest_duration_seconds",
    "Wall time of a warehouse ingest, by outcome (published or not).",
    ("outcome",),
    buckets=JOB_BUCKETS,
)


def observe_ingest(seconds: float, *, published: bool) -> None:
    """Count an ingest's duration (called by the warehouse once an ingest ends)."""
    INGEST_DURATION.labels("published" if published else "not_published").observe(seconds)


def multiprocess_dir() -> Path | None:
    """The folder every process writes its figures to, when this process writes there too
    (prometheus-client chose its mode from the variable when it was first imported)."""
    from prometheus_client import values

    value = os.environ.get(MULTIPROC_VARIABLE)
    if not value or values.ValueClass is values.MutexValue:
        return None
    return Path(value)


class DatabaseFigures(Collector):
    """Figures read from the database at scrape time: the same in every process."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        from campus.audit.models import AuditEvent, PendingAuditEvent
        from campus.db.base import utcnow
        from campus.ops.queue import JOBS

        jobs = JOBS.c

        up = GaugeMetricFamily("campus_database_up", "1 when the database answered the scrape.")
        try:
            with self.engine.connect() as connection:
                by_status = dict(
                    connection.execute(
                        select(jobs.status, func.count()).group_by(jobs.status)
                    ).all()
                )
                oldest = connection.scalar(
                    select(func.min(jobs.created_at)).where(jobs.status == "queued")
                )
                chain = connection.scalar(select(func.max(AuditEvent.seq))) or 0
                pending = connection.scalar(select(func.count()).select_from(PendingAuditEvent))
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily("campus_jobs", "Analysis jobs by status.", labels=("status",))
        for status in ("queued", "running", "succeeded", "failed"):
            jobs.add_metric([status], by_status.get(status, 0))
        yield jobs
        age = GaugeMetricFamily(
            "campus_jobs_oldest_queued_seconds",
            "How long the oldest queued job has waited (0 when none waits).",
        )
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        yield age
        length = GaugeMetricFamily(
            "campus_audit_chain_length", "Events sealed into the audit chain."
        )
        length.add_metric([], chain)
        yield length
        waiting = GaugeMetricFamily(
            "campus_audit_pending", "Audit events committed and not yet sealed into the chain."
        )
        waiting.add_metric([], pending or 0)
        yield waiting


def exposition(engine: Engine) -> tuple[bytes, str]:
    """The text a scrape receives: every process's figures and the database's."""
    return generate_latest(scrape_registry(engine)), CONTENT_TYPE_LATEST


def scrape_registry(engine: Engine) -> CollectorRegistry:
    """A registry that gathers, at each scrape, every process's figures and the database's."""
    registry = CollectorRegistry()
    folder = multiprocess_dir()
    if folder is not None:
        MultiProcessCollector(registry, path=str(folder))
    else:
        for collector in _own_collectors():
            registry.register(collector)
    registry.register(DatabaseFigures(engine))
    return registry


def _own_collectors() -> list[Collector]:
    """This process's request, job and ingest metrics (single-process mode)."""
    return [REQUESTS, LATENCY, ERRORS, JOB_DURATION, INGEST_DURATION]
