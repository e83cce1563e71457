"""Structured logs: one JSON object a line, for requests, job steps and everything else.

`JsonFormatter` writes a record whose message is a dict (an event: `{"event": "request",
...}`) as that dict, with the time, level and logger; any other record as `{"message": ...}`.
The fields of events are chosen where they are made (`campus.ops.requests`, `job_step`):
route templates, statuses, durations, pseudonymous ids. Never a filled-in path, a query
string, a token, an e-mail address or a value about a patient.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from sqlalchemy import event, inspect

from campus.db.base import Base
from campus.ops import metrics, queue

log = logging.getLogger("campus.jobs")
_JOB_ENDS = ("succeeded", "failed")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if isinstance(record.msg, dict):
            line.update(record.msg)
        else:
            line["message"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: a message or a traceback's source lines may carry data.
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO, *, alone: bool = False) -> None:
    """Send the `campus` loggers to standard output as JSON lines (once per process).

    `alone`: and nowhere else (a command whose code also configures the root logger, as
    `campus worker` does, would print each line twice)."""
    root = logging.getLogger("campus")
    if alone:
        root.propagate = False
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def _job_step(_mapper, _connection, row) -> None:
    log.info(
        {"event": "job.step", "job": row.job_id, "level": row.level, "step": row.message[:200]}
    )


def _job_changed(_mapper, _connection, job) -> None:
    status = inspect(job).attrs.status.history
    if not status.added or job.status not in _JOB_ENDS:
        return
    seconds = None
    if job.started_at is not None and job.finished_at is not None:
        seconds = max(0.0, (job.finished_at - job.started_at).total_seconds())
        metrics.JOB_DURATION.labels(job.status).observe(seconds)
    log.info(
        {
            "event": "job.end",
            "job": job.id,
            "status": job.status,
            "attempt": job.attempts,
            "duration_s": None if seconds is None else round(seconds, 3),
        }
    )


def _inserted(mapper, connection, row) -> None:
    if mapper.local_table.name == queue.JOB_LOG_TABLE:
        _job_step(mapper, connection, row)


def _updated(mapper, connection, row) -> None:
    if mapper.local_table.name == queue.JOB_TABLE:
        _job_changed(mapper, connection, row)


_observing = False


def observe_jobs() -> None:
    """Log every job step (each row of the job log as it is written) and time every finished
    job. The tables are recognised by name on every mapped class (`campus.ops.queue` says why
    the analysis models are not imported)."""
    global _observing
    if _observing:
        return
    event.listen(Base, "after_insert", _inserted, propagate=True)
    event.listen(Base, "after_update", _updated, propagate=True)
    _observing = True
