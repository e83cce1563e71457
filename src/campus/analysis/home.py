"""A person's analysis jobs, and the outputs they must check, on their home page
(see campus.web.home)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.analysis import outward, service
from campus.analysis.models import Job
from campus.auth import policy
from campus.auth.actor import Actor
from campus.i18n import gettext as _
from campus.web.home import HomeItem, HomeSection, section


def _state(job: Job) -> str:
    """The job's status as its author may see it (`campus.analysis.outward`: never the
    outcome on the real data) and, once it ran on real data, where its release stands."""
    state = _(outward.status(job))
    if job.release_status == "pending":
        return state + " · " + _("waiting for output checks")
    if job.release_status:
        return state + " · " + _(job.release_status)
    return state


def my_jobs(session: Session, actor: Actor) -> HomeSection | None:
    """The jobs one submitted, newest first; None for someone who never submitted one."""
    if not actor.authenticated:
        return None
    jobs = list(
        session.scalars(
            select(Job).where(Job.author_id == actor.account_id).order_by(Job.created_at.desc())
        )
    )
    if not jobs:
        return None
    items = [HomeItem(j.title, f"/jobs/{j.id}", _state(j), j.created_at) for j in jobs]
    return section("jobs", _("My jobs"), "/projects", _("No job yet."), items)


def checks_to_do(session: Session, actor: Actor) -> HomeSection | None:
    """Outputs awaiting one's check (never one's own team's)."""
    if not policy.get("outputs.check").allows(actor):
        return None
    items = [
        HomeItem(j.title, f"/jobs/{j.id}", _(j.status), j.finished_at)
        for j in service.jobs_to_check(session, actor)
    ]
    return section("checks", _("Outputs to check"), "/checks", _("No output to check."), items)
