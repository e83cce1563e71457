"""Readiness: can this process serve (database, migrations, warehouse), and are jobs taken?

`/readyz` answers 503 when the database does not answer, its schema is not at the head of
every migration branch, or the warehouse folder is missing or not writable: a load balancer
then sends no traffic to this process. Whether a worker takes the analysis jobs is reported
too (a queued job waiting longer than `WORKER_LATE` with no live lease on any job), as
`degraded` with a 200: the web pages still work without workers, and taking every web process
out of service because workers stopped would only make the outage larger. Metrics give the
queue's age for alerting (`campus_jobs_oldest_queued_seconds`).

Nothing here names a path, a count or a timing: readiness is public, and a job's timing may
depend on the real data it reads.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, and_, func, select, text

from campus.db.base import utcnow
from campus.db.migrate import alembic_config
from campus.ops.queue import JOBS
from campus.settings import Settings

WORKER_LATE = dt.timedelta(minutes=5)  # a queued job waiting this long: no worker takes jobs


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = "ok"  # what is wrong, for the operator (`campus doctor`); never data
    fix: str = ""
    required: bool = True  # a failed required check makes the process not ready


@lru_cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def migration_heads() -> frozenset[str]:
    """The head revision of every migration branch shipped with this code."""
    return frozenset(_scripts().get_heads())


def missing_migrations(current: set[str]) -> set[str]:
    """Heads not applied: a database records only the heads that no other applied revision
    depends on, so what is applied is everything below the recorded ones."""
    applied = {
        r.revision for r in _scripts().revision_map.iterate_revisions(tuple(current), "base")
    }
    return set(migration_heads()) - applied


def database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return Check(
            "database",
            False,
            f"the database does not answer ({type(error).__name__})",
            "check CAMPUS_DATABASE_URL and that the database server runs",
        )
    return Check("database", True)


def migrations(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:
        return Check(
            "migrations", False, f"cannot read the schema version ({type(error).__name__})"
        )
    known = {script.revision for script in _scripts().walk_revisions()}
    unknown = current - known
    try:
        missing = set() if unknown else missing_migrations(current)
    except Exception as error:  # recorded revisions that contradict one another
        return Check(
            "migrations",
            False,
            f"the recorded revisions do not fit together ({type(error).__name__})",
            "compare `alembic_version` with `campus db upgrade`'s history",
        )
    if not missing and not unknown:
        return Check("migrations", True)
    if unknown:
        return Check(
            "migrations",
            False,
            f"the database has revisions this code does not know ({', '.join(sorted(unknown))})",
            "deploy the code that matches the database, or downgrade it",
        )
    return Check(
        "migrations",
        False,
        f"{len(missing)} migration branch(es) not at their head ({', '.join(sorted(missing))})",
        "run `campus db upgrade`",
    )


def warehouse(settings: Settings) -> Check:
    folder = settings.warehouse_path
    if not folder.is_dir():
        return Check(
            "warehouse",
            False,
            f"the warehouse folder {folder} does not exist",
            "create it (mode 0700) or set CAMPUS_WAREHOUSE_DIR",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return Check(
            "warehouse",
            False,
            f"the warehouse folder {folder} is not writable by this account",
            "give the service account ownership of it",
        )
    return Check("warehouse", True)


def worker(engine: Engine, now: dt.datetime | None = None) -> Check:
    """A job waits longer than WORKER_LATE and no job is held under a live lease."""
    now = now or utcnow()
    jobs = JOBS.c
    try:
        with engine.connect() as connection:
            oldest = connection.scalar(
                select(func.min(jobs.created_at)).where(jobs.status == "queued")
            )
            live = connection.scalar(
                select(func.count())
                .select_from(JOBS)
                .where(and_(jobs.status == "running", jobs.lease_until >= now))
            )
    except Exception as error:
        return Check(
            "worker", False, f"cannot read the job queue ({type(error).__name__})", required=False
        )
    if oldest is not None and now - oldest > WORKER_LATE and not live:
        return Check(
            "worker",
            False,
            f"a job has waited more than {int(WORKER_LATE.total_seconds() // 60)} minutes "
            "and no worker holds a job",
            "start `campus worker` (see deploy/campus-worker.service)",
            required=False,
        )
    return Check("worker", True, required=False)


def readiness(settings: Settings, engine: Engine) -> list[Check]:
    found = [database(engine)]
    if found[0].ok:
        found.append(migrations(engine))
    found.append(warehouse(settings))
    if found[0].ok:
        found.append(worker(engine))
    return found


def summary(checks: list[Check]) -> tuple[int, dict]:
    """The status code and public body of `/readyz`: each check's name and ok/failed only."""
    ready = all(c.ok for c in checks if c.required)
    degraded = ready and not all(c.ok for c in checks)
    status = "degraded" if degraded else ("ready" if ready else "not_ready")
    body = {"status": status, "checks": {c.name: "ok" if c.ok else "failed" for c in checks}}
    return (200 if ready else 503), body
