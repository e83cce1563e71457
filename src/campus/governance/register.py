"""The public register: every project, its decisions, jobs (definitions) and releases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.analysis.models import Job
from campus.governance import serialise, service
from campus.governance.models import AccessRequest, Approval, DataProject


def job_public(job: Job) -> dict[str, Any]:
    """A job as the public sees it: one rule for every rendering (campus.analysis.outward)."""
    from campus.analysis import outward

    return outward.public(job)


def entry(session: Session, project: DataProject) -> dict[str, Any]:
    requests = [r for r in service.project_requests(session, project.id) if r.status != "draft"]
    jobs = list(
        session.scalars(select(Job).where(Job.project_id == project.id).order_by(Job.created_at))
    )
    return serialise.project_public(project) | {
        "decisions": [serialise.request_public(r) for r in requests],
        "approvals": [
            {
                k: v
                for k, v in serialise.approval_out(a).items()
                if k not in ("elements", "change_reason")
            }
            for a in service.project_approvals(session, project.id)
        ],
        "jobs": [job_public(j) for j in jobs],
        "releases": [
            {"job": j.id, "title": j.title, "released_at": serialise._iso(j.released_at)}
            for j in jobs
            if j.release_status == "released"
        ],
    }


def listing(session: Session, q: str = "") -> list[dict[str, Any]]:
    return [entry(session, p) for p in service.list_projects(session, q, limit=500)]


@dataclass(frozen=True)
class FeedItem:
    id: str
    title: str
    at: datetime
    link: str
    summary: str


def feed_items(session: Session, limit: int = 50) -> list[FeedItem]:
    """Newest public events: projects, decisions, approval changes, releases."""
    items: list[FeedItem] = []
    titles = dict(session.execute(select(DataProject.id, DataProject.title)).all())
    for project in session.scalars(select(DataProject)):
        items.append(
            FeedItem(
                f"project-{project.id}",
                f"New project: {project.title}",
                project.created_at,
                f"/register/{project.id}",
                project.purpose[:500],
            )
        )
    for request in session.scalars(
        select(AccessRequest).where(AccessRequest.decided_at.is_not(None))
    ):
        items.append(
            FeedItem(
                f"decision-{request.id}-{request.status}",
                f"Decision ({request.status.replace('_', ' ')}): "
                f"{titles.get(request.project_id, '')}",
                request.decided_at,  # type: ignore[arg-type]
                f"/register/{request.project_id}",
                f"Datasets: {', '.join(request.datasets)}; views: {', '.join(request.views)}",
            )
        )
    for approval in session.scalars(select(Approval).where(Approval.changed_at.is_not(None))):
        items.append(
            FeedItem(
                f"approval-{approval.id}-{approval.status}",
                f"Approval {approval.status}: {titles.get(approval.project_id, '')}",
                approval.changed_at,  # type: ignore[arg-type]
                f"/register/{approval.project_id}",
                approval.change_reason[:500],
            )
        )
    for job in session.scalars(select(Job).where(Job.release_status == "released")):
        items.append(
            FeedItem(
                f"release-{job.id}",
                f"Release: {job.title} ({titles.get(job.project_id, '')})",
                job.released_at,  # type: ignore[arg-type]
                f"/jobs/{job.id}",
                f"Checked outputs of a job on {job.dataset} {job.version}",
            )
        )
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def atom(items: list[FeedItem], base_url: str) -> str:
    """An Atom 1.0 document of the register's events."""
    updated = items[0].at.isoformat() if items else "1970-01-01T00:00:00+00:00"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<title>Campus — registre public des projets de données</title>",
        f"<id>{escape(base_url)}/register</id>",
        f'<link rel="alternate" href="{escape(base_url)}/register"/>',
        f'<link rel="self" href="{escape(base_url)}/register/feed.atom"/>',
        f"<updated>{updated}</updated>",
        "<author><name>Campus</name></author>",
    ]
    for item in items:
        parts += [
            "<entry>",
            f"<id>{escape(base_url)}/register#{escape(item.id)}</id>",
            f"<title>{escape(item.title)}</title>",
            f'<link href="{escape(base_url + item.link)}"/>',
            f"<updated>{item.at.isoformat()}</updated>",
            f"<summary>{escape(item.summary)}</summary>",
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(parts)
