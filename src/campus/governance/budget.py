"""The per-project privacy budget ledger: epsilon spent by jobs, refused once spent.

The budget is the data project's (its total is set on the project); the capabilities that
run jobs under differential privacy (analysis, federation) check and charge it here."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campus.errors import Conflict
from campus.governance.models import DataProject, PrivacySpend


def spent(session: Session, project_id: str) -> float:
    return float(
        session.scalar(
            select(func.coalesce(func.sum(PrivacySpend.epsilon), 0.0)).where(
                PrivacySpend.project_id == project_id
            )
        )
        or 0.0
    )


def remaining(session: Session, project: DataProject) -> float:
    return max(project.privacy_budget - spent(session, project.id), 0.0)


def check(session: Session, project: DataProject, epsilon: float) -> None:
    """Refuse, saying how much is left, when a job would exceed the project's budget."""
    left = remaining(session, project)
    if epsilon > left + 1e-12:
        raise Conflict(
            f"the project's privacy budget is spent: this job needs epsilon {epsilon:g} but "
            f"only {left:g} of {project.privacy_budget:g} remains",
            code="privacy_budget_spent",
            where="privacy.epsilon",
        )


def charge(session: Session, project_id: str, job_id: str, epsilon: float) -> PrivacySpend:
    """Charge a job's epsilon atomically: the project row is write-locked before the sum."""
    # A no-op write takes the row lock on PostgreSQL and the write lock on SQLite, so two
    # jobs cannot both read the same remaining budget.
    session.execute(
        update(DataProject)
        .where(DataProject.id == project_id)
        .values(privacy_budget=DataProject.privacy_budget)
    )
    project = session.get(DataProject, project_id, populate_existing=True)
    assert project is not None
    check(session, project, epsilon)
    entry = PrivacySpend(project_id=project_id, job_id=job_id, epsilon=epsilon)
    session.add(entry)
    session.flush()
    return entry
