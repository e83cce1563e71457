"""The job queue as operations read it: the columns of `analysis_jobs` they need, named here.

Operations sit beside the capabilities whose figures they report, and the warehouse feeds
them (`metrics.observe_ingest`): importing the analysis capability's models from here would
close a circle of imports (ops, analysis, warehouse). The queue is read by its table's name
instead; the readiness and metrics tests run on the real table, so a renamed column fails them.
"""

from __future__ import annotations

from sqlalchemy import String, column, table

from campus.db.base import UTCDateTime

JOBS = table(
    "analysis_jobs",
    column("status", String),
    column("created_at", UTCDateTime()),
    column("lease_until", UTCDateTime()),
)
JOB_TABLE = "analysis_jobs"
JOB_LOG_TABLE = "analysis_job_logs"
