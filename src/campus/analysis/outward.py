"""What a job on real data shows, to whom: the one place every rendering draws from.

The rule (docs/security.md, "What a job reveals"): before release, everything the public and
the project team see about a job is a function of its definition, its approval and the
platform's decisions that do not read the data (queue, refusals before the data is opened,
output checkers' decisions), never of the real data itself. So:

- a job that opened the real data is `finished` for them, whether its run produced outputs
  or failed on the data: both go to the output checkers (`release_status` pending), both
  send the author the same notice, both leave the same log;
- a refusal decided before the data is read (approval revoked or expired, scope, definition,
  privacy budget) is shown with its reason: it says nothing about any patient;
- no run timing, attempt count, row count, opted-out count or error from the data: the log
  they see is rebuilt from those data-independent facts, with data-independent times;
- outputs only once two output checkers released them.

Output checkers (who are neither the author nor on the project team) see the job as it is
(status, error, stored progress log, attempts, outputs), since checking it is their task.
The register (JSON, HTML, Atom), the job API and page, the project page and the checks list
all take their job fields from here.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.orm import Session

from campus.analysis.models import Job
from campus.auth.actor import Actor
from campus.auth.roles import Role

Audience = Literal["public", "team", "checker"]

FINISHED = "finished"  # ran on the real data; the outcome is the output checkers' to see


def ran_on_data(job: Job) -> bool:
    """The job opened the real data: its outcome goes to the output checkers."""
    return bool(job.release_status)


def status(job: Job) -> str:
    """The status everyone but the checkers sees: queued, running, failed (refused before
    the data was read) or finished."""
    if ran_on_data(job):
        return FINISHED
    if job.status == "queued" and job.attempts:
        return "running"  # queued again after a crash: retries must not show
    return job.status


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def public(job: Job) -> dict[str, Any]:
    """The job as anyone sees it (register, anonymous job page): definition and status."""
    released = job.release_status == "released"
    return {
        "id": job.id,
        "title": job.title,
        "dataset": job.dataset,
        "version": job.version,
        "status": status(job),
        "release_status": job.release_status,
        "definition": job.definition,
        "created_at": _iso(job.created_at),
        "released_at": _iso(job.released_at) if released else None,
    }


def team_log(job: Job) -> list[dict[str, Any]]:
    """The progress log rebuilt from data-independent facts, at data-independent times."""
    entries = [{"at": _iso(job.created_at), "level": "info", "message": "queued for a worker"}]
    if job.status == "failed" and not ran_on_data(job):
        entries.append({"at": "", "level": "error", "message": job.error})
    elif status(job) == "running":
        entries.append({"at": "", "level": "info", "message": "taken by a worker"})
    if ran_on_data(job):
        entries.append(
            {
                "at": "",
                "level": "info",
                "message": "ran on the real data; the outputs go through disclosure control "
                "and wait for two output checkers",
            }
        )
    if job.release_status in ("released", "rejected"):
        entries.append(
            {
                "at": _iso(job.released_at) or "",
                "level": "info",
                "message": f"outputs {job.release_status} by output checkers",
            }
        )
    return entries


def audience(session: Session, actor: Actor, job: Job) -> Audience:
    """Checkers see a job as it is; its team (and staff) and everyone else do not."""
    from campus.governance import service as governance

    member = governance.is_member(session, job.project_id, actor.account_id)
    if actor.has_role(Role.OUTPUT_CHECKER) and actor.account_id != job.author_id and not member:
        return "checker"
    if member or actor.is_staff:
        return "team"
    return "public"


def view(session: Session, job: Job, who: Audience, *, logs: list, checks: list) -> dict[str, Any]:
    """The job for one audience; `logs` and `checks` are the stored rows (checker view)."""
    out = public(job)
    if who == "public":
        out["outputs"] = job.result if job.release_status == "released" else None
        return out
    out |= {
        "project_id": job.project_id,
        "approval_id": job.approval_id,
        "author": job.author_id,
        "epsilon": job.epsilon,
        "error": job.error if job.status == "failed" and not ran_on_data(job) else "",
        "logs": team_log(job),
        "checks": [
            {"checker": c.checker_id, "decision": c.decision, "comment": c.comment} for c in checks
        ],
        "outputs": job.result if job.release_status == "released" else None,
    }
    if who == "checker":
        out |= {
            "status": job.status,
            "error": job.error,
            "attempts": job.attempts,
            "max_attempts": job.max_attempts,
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "logs": [
                {"at": _iso(entry.at), "level": entry.level, "message": entry.message}
                for entry in logs
            ],
            "outputs": job.result if job.status == "succeeded" else None,
        }
    return out
