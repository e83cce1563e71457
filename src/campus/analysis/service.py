"""Analyses: run on dummy twins at once, submit jobs on real data, check and release outputs.

Who sees what is decided in one place, `campus.analysis.outward`: the team, staff and the
public see a job's definition and a status that does not depend on the real data; output
checkers (neither the author nor on the team) see its real outcome and outputs, to check
them; two approvals release the outputs to everyone. Only released outputs can be
downloaded.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus import exports
from campus.analysis import checking, definition, jobs, outward, runner
from campus.analysis.models import Job, OutputCheck
from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.errors import BadRequest, Forbidden, NotFound
from campus.governance import budget
from campus.governance import service as governance
from campus.governance.config import governance_settings
from campus.governance.notify import notify
from campus.i18n import N_
from campus.settings import Settings

if TYPE_CHECKING:
    from campus.governance.models import Approval, Project


def parse_definition(
    text: str | bytes | dict[str, Any], session: Session | None = None
) -> definition.Analysis:
    return checked_definition(text, session)[0]


def checked_definition(
    text: str | bytes | dict[str, Any], session: Session | None = None
) -> tuple[definition.Analysis, dict[str, set[str]]]:
    analysis = definition.parse(text)
    if session is not None:  # saved views read as saved, whatever definition came with them
        from campus.analysis import sources

        analysis = sources.resolve_saved(session, analysis)
    return analysis, runner.check_static(analysis)


def run_dummy(
    settings: Settings, text: str | bytes | dict[str, Any], session: Session | None = None
) -> dict:
    """Run an analysis at once on the dummy twin (synthetic records, no approval needed)."""
    analysis = parse_definition(text, session)
    controls, _epsilon = jobs.controls_for(settings, analysis, session)
    return runner.execute(
        analysis, warehouse=settings.warehouse_path, kind="dummy", controls=controls
    )


def checked_in_scope(
    session: Session,
    actor: Actor,
    *,
    project_id: str,
    approval_id: str,
    text: str | bytes | dict[str, Any],
) -> tuple[Project, Approval, definition.Analysis]:
    """A definition a team member may run within a usable approval of the project, or why not.

    Local and federated jobs both start here: team membership, the approval, the definition,
    its datasets and views within the approval's scope, its elements within the approval's.
    """
    project = governance.get_project(session, project_id)
    if not governance.is_member(session, project.id, actor.account_id):
        raise Forbidden(
            N_("only members of the project team may run jobs"), code="not_project_member"
        )
    approval = governance.usable_approval(session, approval_id, project.id)
    analysis, used = checked_definition(text, session)
    from campus.analysis import sources

    sources.check_scope(analysis, approval.datasets, approval.views)
    runner.check_elements(analysis, used, tuple(approval.elements))
    return project, approval, analysis


def submit_job(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    project_id: str,
    approval_id: str,
    text: str | bytes | dict[str, Any],
) -> Job:
    """Queue a job on real data inside an approval; every refusal says why."""
    project, approval, analysis = checked_in_scope(
        session, actor, project_id=project_id, approval_id=approval_id, text=text
    )
    if analysis.privacy is not None:
        problems = list(runner.dp_problems(analysis))
        if problems:
            raise BadRequest(
                f"{problems[0]}: differential privacy covers counts, cross-tabulations and "
                "histograms only; remove quantiles and time-to-event outputs or privacy",
                code="dp_unsupported",
                where=problems[0],
            )
        undeclared = list(runner.dp_undeclared(analysis))
        if undeclared:
            raise BadRequest(
                f"{undeclared[0]}: under differential privacy, declare the groups to publish "
                "(levels: [...]); other values are counted as 'other'",
                code="dp_levels_needed",
                where=undeclared[0],
            )
        budget.check(session, project, analysis.privacy.epsilon)
    job = Job(
        project_id=project.id,
        approval_id=approval.id,
        author_id=actor.account_id or "",
        title=analysis.title,
        definition=analysis.model_dump(mode="json", exclude_none=True),
        dataset=analysis.dataset,
        version=analysis.version or "",
        max_attempts=governance_settings().job_max_attempts,
    )
    session.add(job)
    session.flush()
    jobs.add_log(session, job.id, "queued for a worker")
    audit.record(
        session,
        actor=actor.label,
        action="job.submitted",
        object_type="job",
        object_id=job.id,
        details={"project": project.id, "approval": approval.id, "dataset": job.dataset},
    )
    return job


def get_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}", code="not_found")
    return job


def can_follow(session: Session, actor: Actor, job: Job) -> bool:
    """Team, output checkers and staff follow a job (definition, status, logs)."""
    return (
        actor.is_staff
        or actor.has_role(Role.OUTPUT_CHECKER)
        or governance.is_member(session, job.project_id, actor.account_id)
    )


def require_follow(session: Session, actor: Actor, job: Job) -> None:
    if not can_follow(session, actor, job):
        raise Forbidden(N_("only the project team and output checkers may see this job"))


def project_jobs(session: Session, project_id: str) -> list[dict[str, Any]]:
    """The project's jobs as its team sees them (campus.analysis.outward)."""
    return [
        outward.public(j)
        for j in session.scalars(
            select(Job).where(Job.project_id == project_id).order_by(Job.created_at.desc())
        )
    ]


def jobs_to_check(session: Session, actor: Actor) -> list[Job]:
    """Jobs that ran on the real data (with outputs, or failed on the data) awaiting checks."""
    query = select(Job).where(
        Job.status.in_(("succeeded", "failed")), Job.release_status == "pending"
    )
    return [
        j
        for j in session.scalars(query.order_by(Job.finished_at))
        if j.author_id != actor.account_id
        and not governance.is_member(session, j.project_id, actor.account_id)  # own team's
    ]


def released_jobs(session: Session, limit: int = 100) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(Job.release_status == "released")
            .order_by(Job.released_at.desc())
            .limit(limit)
        )
    )


def checks(session: Session, job_id: str) -> list[OutputCheck]:
    return list(
        session.scalars(
            select(OutputCheck).where(OutputCheck.job_id == job_id).order_by(OutputCheck.id)
        )
    )


def check_output(
    session: Session,
    settings: Settings,
    actor: Actor,
    job: Job,
    *,
    decision: str,
    comment: str,
) -> Job:
    """An output checker approves or rejects; two approvals by non-authors release."""
    comment = checking.admit(
        session,
        actor,
        decision=decision,
        comment=comment,
        project_id=job.project_id,
        author_id=job.author_id,
        pending=job.status in ("succeeded", "failed") and job.release_status == "pending",
        failed=job.status == "failed",
        checked_by=[c.checker_id for c in checks(session, job.id)],
        state=f"status {job.status}, release {job.release_status or 'none'}",
    )
    session.add(
        OutputCheck(
            job_id=job.id, checker_id=actor.account_id or "", decision=decision, comment=comment
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action=f"output.{decision}d" if decision == "approve" else "output.rejected",
        object_type="job",
        object_id=job.id,
        details={"project": job.project_id},
    )
    approvals = session.scalar(
        select(func.count()).where(OutputCheck.job_id == job.id, OutputCheck.decision == "approve")
    )
    outcome = checking.outcome(decision, approvals or 0)
    if outcome:
        job.release_status = outcome
        if outcome == "released":
            job.released_at = utcnow()
        jobs.add_log(session, job.id, f"outputs {outcome} by output checkers")
        audit.record(
            session,
            actor=actor.label,
            action=f"output.{outcome}",
            object_type="job",
            object_id=job.id,
            details={"project": job.project_id},
        )
        notify(
            session,
            settings,
            governance.member_ids(session, job.project_id) | {job.author_id},
            subject=f"Outputs {outcome}: {job.title}",
            body=f"The outputs of your job were {outcome} by the output checkers.",
            link=f"/jobs/{job.id}",
        )
    return job


def released_result(job: Job) -> dict:
    """The checked outputs of a released job; Forbidden before release."""
    if job.release_status != "released" or job.result is None:
        raise Forbidden(
            N_("only released outputs can be downloaded: they need two output checkers' approval"),
            code="not_released",
        )
    return job.result


def to_csv(result: dict) -> str:
    """Every released table, one after the other, with its name in the first column."""
    out = io.StringIO()
    writer = exports.writer(out)
    for table in result.get("tables", []):
        writer.writerow(["table", *table["columns"]])
        for row in table["rows"]:
            writer.writerow(
                [table["name"], *(json.dumps(v) if isinstance(v, list) else v for v in row)]
            )
        writer.writerow([])
    return out.getvalue()
