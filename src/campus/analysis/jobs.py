"""The durable job queue in the operational database, and the worker that drains it.

A job is `queued`, then `running` under a lease held by one worker (renewed by heartbeats),
then `succeeded` or `failed`. Workers claim with `SELECT ... FOR UPDATE SKIP LOCKED` on
PostgreSQL and with an atomic conditional UPDATE everywhere, so two workers never run the
same attempt. A job whose lease expired (its worker crashed) is claimed again until it has
used `max_attempts`, then marked failed: it is never lost. A refusal (scope, expired
approval, bad definition, spent budget) fails the job at once with its reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
from collections.abc import Callable

import duckdb
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campus.analysis import definition, privacy, runner
from campus.analysis.models import Job, JobLog
from campus.analysis.results import Controls
from campus.audit import service as audit
from campus.auth.actor import SYSTEM
from campus.auth.models import RoleGrant
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.db.leases import claim_oldest, holder_name
from campus.errors import CampusError
from campus.governance import budget
from campus.governance import service as governance
from campus.governance.config import governance_settings
from campus.governance.notify import notify
from campus.optout import service as optout
from campus.settings import Settings

log = logging.getLogger("campus.worker")


def worker_name() -> str:
    return holder_name()


def add_log(session: Session, job_id: str, message: str, level: str = "info") -> None:
    session.add(JobLog(job_id=job_id, message=message[:2000], level=level))
    session.flush()


def logs(session: Session, job_id: str) -> list[JobLog]:
    return list(session.scalars(select(JobLog).where(JobLog.job_id == job_id).order_by(JobLog.id)))


def _fail(
    session: Session, settings: Settings, job: Job, message: str, *, actor: str = "system"
) -> None:
    """A refusal decided before the real data is read: its reason says nothing of anyone."""
    job.status = "failed"
    job.error = message
    job.finished_at = utcnow()
    job.lease_until = None
    add_log(session, job.id, message, "error")
    audit.record(
        session,
        actor=actor,
        action="job.failed",
        object_type="job",
        object_id=job.id,
        details={"project": job.project_id, "attempts": job.attempts},
    )
    notify(
        session,
        settings,
        [job.author_id],
        subject=f"Job refused: {job.title}",
        body="Your analysis job was refused before it read any data; its page says why.",
        link=f"/jobs/{job.id}",
    )


def _finish(
    session: Session, settings: Settings, job: Job, *, result: dict | None, error: str = ""
) -> None:
    """The end of a job that opened the real data, with outputs or with an error.

    Both go to the output checkers and look the same to everyone else (same status, log,
    notices): whether a run on the real data succeeded must not tell anything about it.
    """
    job.status = "succeeded" if result is not None else "failed"
    job.result = result
    job.error = error
    job.release_status = "pending"
    job.finished_at = utcnow()
    job.lease_until = None
    if result is not None:
        job.version = result["version"]
    add_log(
        session,
        job.id,
        "outputs checked by disclosure control; waiting for two output checkers"
        if result is not None
        else f"failed on the real data: {error}; output checkers will reject it",
        "info" if result is not None else "error",
    )
    audit.record(
        session,
        actor=SYSTEM.label,
        action="job.succeeded" if result is not None else "job.failed",
        object_type="job",
        object_id=job.id,
        details={"project": job.project_id, "version": job.version, "epsilon": job.epsilon},
    )
    checkers = session.scalars(
        select(RoleGrant.account_id).where(RoleGrant.role == Role.OUTPUT_CHECKER)
    )
    notify(
        session,
        settings,
        [c for c in checkers if c != job.author_id],
        subject=f"Outputs to check: {job.title}",
        body="A job ran on the real data; its outcome waits for output checking.",
        link=f"/jobs/{job.id}",
    )
    notify(
        session,
        settings,
        [job.author_id],
        subject=f"Job finished: {job.title}",
        body="Your job finished; its outputs wait for two output checkers.",
        link=f"/jobs/{job.id}",
    )


def reap_expired(session: Session, settings: Settings, now: dt.datetime | None = None) -> int:
    """Fail running jobs whose lease expired on their last allowed attempt."""
    now = now or utcnow()
    dead = list(
        session.scalars(
            select(Job).where(
                Job.status == "running", Job.lease_until < now, Job.attempts >= Job.max_attempts
            )
        )
    )
    for job in dead:
        _finish(
            session,
            settings,
            job,
            result=None,
            error=f"the worker stopped responding during attempt {job.attempts} of "
            f"{job.max_attempts}; the job was not retried again",
        )
    return len(dead)


def claim(session: Session, settings: Settings, worker: str, lease_seconds: int) -> Job | None:
    """Take the oldest runnable job (queued, or running with an expired lease) or None."""
    now = utcnow()
    reap_expired(session, settings, now)
    taken = claim_oldest(
        session,
        Job,
        order_by=Job.created_at,
        max_attempts=Job.max_attempts,
        now=now,
        values={
            "worker": worker,
            "lease_until": now + dt.timedelta(seconds=lease_seconds),
            "heartbeat_at": now,
            "started_at": now,
        },
    )
    if taken is None:
        return None
    job = session.get(Job, taken.id, populate_existing=True)
    assert job is not None
    if taken.was == "running":
        add_log(session, job.id, f"lease expired: retrying (attempt {taken.attempt})")
    add_log(session, job.id, f"claimed by a worker (attempt {taken.attempt})")
    return job


def heartbeat(db: Database, job_id: str, worker: str, lease_seconds: int, message: str) -> bool:
    """Renew the lease and log progress; False when the job is no longer this worker's."""
    with db.session() as session:
        renewed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker == worker, Job.status == "running")
            .values(
                heartbeat_at=utcnow(),
                lease_until=utcnow() + dt.timedelta(seconds=lease_seconds),
            )
            .execution_options(synchronize_session=False)
        )
        if renewed.rowcount == 1:
            add_log(session, job_id, message)
        return renewed.rowcount == 1


class LeaseLost(RuntimeError):
    """Another worker took the job over: stop without writing."""


def dataset_threshold(session: Session | None, settings: Settings, dataset: str) -> int:
    """The dataset's own disclosure threshold, never below the platform's setting."""
    threshold = settings.disclosure_threshold
    if session is None:
        return threshold
    from campus.warehouse.models import Dataset

    row = session.scalar(select(Dataset).where(Dataset.name == dataset))
    return max(threshold, row.threshold) if row is not None else threshold


def controls_for(
    settings: Settings, analysis: definition.Analysis, session: Session | None = None
) -> tuple[Controls, float]:
    """Disclosure controls for a job, with the DP mechanism and its epsilon when asked."""
    noise, epsilon = None, 0.0
    if analysis.privacy is not None:
        # Every number released is noised: each noisy table, and the cohort's size.
        releases = runner.noisy_outputs(analysis) + 1
        epsilon = analysis.privacy.epsilon
        noise = privacy.mechanism(analysis.privacy.mechanism, epsilon / releases)
    return (
        Controls(
            threshold=dataset_threshold(session, settings, analysis.dataset),
            base=settings.rounding_base,
            noise=noise,
        ),
        epsilon,
    )


def _deterministic(error: Exception) -> bool:
    """A failure that would happen again on the same data: not worth another attempt (and
    retrying would make a data-dependent failure take longer, a timing signal)."""
    if isinstance(error, (duckdb.OutOfMemoryException, duckdb.IOException)):
        return False
    spark_errors = sys.modules.get("pyspark.errors")  # loaded only by jobs on Spark
    if spark_errors is not None and isinstance(
        error, (spark_errors.AnalysisException, spark_errors.ParseException)
    ):
        return True  # the query itself is wrong; lost executors and memory are retried
    return isinstance(error, (CampusError, duckdb.Error, ValueError, ArithmeticError))


def run_job(db: Database, settings: Settings, job_id: str, worker: str) -> str:
    """Execute a claimed job and store its checked outputs; returns its final status.

    Everything that can refuse without reading the data is checked first (a refusal is
    shown with its reason); once the data is opened, success and failure alike end in
    `_finish`, for the output checkers to see.
    """
    lease = governance_settings().job_lease_seconds
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        attempt = job.attempts
        try:
            approval = governance.usable_approval(session, job.approval_id, job.project_id)
            analysis = definition.parse(job.definition)
            scope = runner.Scope(
                tuple(approval.datasets), tuple(approval.views), tuple(approval.elements)
            )
            found = runner.prepare(analysis, settings.warehouse_path, scope)
            analysis = analysis.model_copy(update={"version": found.version})
            keys = optout.all_keys(session)
            controls, epsilon = controls_for(settings, analysis, session)
            if epsilon and not job.epsilon:
                # Charged before the data is read: a run that fails on the data spends too.
                budget.charge(session, job.project_id, job.id, epsilon)
                job.epsilon = epsilon
                add_log(session, job.id, f"privacy budget charged: epsilon {epsilon:g}")
            job.version = found.version
        except CampusError as error:
            _fail(session, settings, job, f"refused: {error.message}")
            return "failed"

    def progress(message: str) -> None:
        if not heartbeat(db, job_id, worker, lease, message):
            raise LeaseLost(job_id)

    try:
        out = runner.execute(
            analysis,
            warehouse=settings.warehouse_path,
            kind="real",
            controls=controls,
            scope=scope,
            optout_keys=keys,
            progress=progress,
            engine=settings.analysis_engine,
            spark_master=settings.spark_url,
        )
    except LeaseLost:
        log.warning("job %s: lease lost, another worker owns it now", job_id)
        return "lost"
    except Exception as error:  # a failure on the real data: retry a crash, never lose it
        log.error("job %s attempt %s: %s", job_id, attempt, type(error).__name__)
        with db.session() as session:
            job = _owned(session, job_id, worker, attempt)
            if job is None:
                return "lost"
            if _deterministic(error) or job.attempts >= job.max_attempts:
                reason = (
                    error.message
                    if isinstance(error, CampusError)
                    else f"{type(error).__name__} in attempt {job.attempts} of {job.max_attempts}"
                )
                _finish(session, settings, job, result=None, error=reason)
                return "failed"
            job.status, job.lease_until, job.worker = "queued", None, ""
            add_log(
                session,
                job.id,
                f"attempt {attempt} crashed ({type(error).__name__}); queued again",
                "warning",
            )
            return "queued"
    with db.session() as session:
        job = _owned(session, job_id, worker, attempt)
        if job is None:
            return "lost"
        _finish(session, settings, job, result=out)
        return "succeeded"


def _owned(session: Session, job_id: str, worker: str, attempt: int) -> Job | None:
    query = select(Job).where(Job.id == job_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    job = session.scalar(query)
    if job is None or job.status != "running" or job.worker != worker or job.attempts != attempt:
        return None
    return job


def work_once(db: Database, settings: Settings, worker: str | None = None) -> str | None:
    """Claim and run one job; returns its id, or None when the queue is empty."""
    worker = worker or worker_name()
    with db.session() as session:
        job = claim(session, settings, worker, governance_settings().job_lease_seconds)
        job_id = job.id if job else None
    if job_id is None:
        return None
    status = run_job(db, settings, job_id, worker)
    log.info("job %s: %s", job_id, status)
    return job_id


def work(
    db: Database,
    settings: Settings,
    *,
    stop: threading.Event,
    poll_seconds: float | None = None,
    on_idle: Callable[[Database, Settings], None] | None = None,
) -> None:
    """Drain the queue until `stop` is set (SIGTERM / Ctrl-C in `campus worker`); when the
    queue is empty, run `on_idle` (the site gives the capabilities' idle tasks: scheduled
    pulls, reminders, mail) and wait."""
    poll = poll_seconds or governance_settings().worker_poll_seconds
    worker = worker_name()
    while not stop.is_set():
        try:
            done = work_once(db, settings, worker)
        except Exception as error:  # keep the worker alive; the lease protects the job
            log.error("worker loop: %s", type(error).__name__)
            done = None
        if done is None:
            if on_idle:
                on_idle(db, settings)
            stop.wait(poll)


def start_in_process(
    db: Database,
    settings: Settings,
    on_idle: Callable[[Database, Settings], None] | None = None,
) -> threading.Event:
    """Run the worker as a daemon thread (the demo); set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=work,
        args=(db, settings),
        kwargs={"stop": stop, "on_idle": on_idle},
        daemon=True,
        name="campus-worker",
    )
    thread.start()
    return stop
