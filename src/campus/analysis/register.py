"""What analysis lists in a project's public register entry: its jobs as anyone sees them
(`campus.analysis.outward.public`), oldest first, each with the page it is read on.

Declared as `register=` in the capability registry, so that governance's register renders
what the site hands it and imports nothing of analysis (analysis depends on governance)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.analysis import outward
from campus.analysis.models import Job


def public_jobs(session: Session, project_id: str) -> list[dict[str, Any]]:
    """The project's jobs on local data, as the register lists them."""
    query = select(Job).where(Job.project_id == project_id).order_by(Job.created_at)
    return [outward.public(job) | {"url": f"/jobs/{job.id}"} for job in session.scalars(query)]
