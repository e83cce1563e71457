"""The public register: every project, its decisions, jobs (definitions) and releases, with
its status, dates, data controller and regulatory references; filters and a CSV export."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import exports
from campus.errors import BadRequest
from campus.governance import serialise, service
from campus.governance.models import AccessRequest, Approval, DataProject
from campus.i18n import N_

# A project's public status, from its own state, its requests and its approvals, in this
# order: the first that holds is shown.
STATUSES = (
    "closed",  # the project ended
    "authorised",  # an approval is active
    "in_review",  # a request is with the ethics reviewers (or back with the team)
    "suspended",  # its approval is suspended
    "ended",  # its approvals expired or were revoked
    "refused",  # every decided request was refused
    "in_preparation",  # nothing submitted yet
)


def public_status(project: DataProject, requests: list[AccessRequest], states: list[str]) -> str:
    if project.status == "closed":
        return "closed"
    if "active" in states:
        return "authorised"
    if any(r.status in ("submitted", "in_review", "changes_requested") for r in requests):
        return "in_review"
    if "suspended" in states:
        return "suspended"
    if states:
        return "ended"
    if requests and all(r.status == "refused" for r in requests):
        return "refused"
    return "in_preparation"


# The jobs of the capabilities that run them (analysis's local jobs, federation's federated
# jobs), as the public sees them: functions (session, project_id) -> list of jobs, each with
# its "url", set by the site from the capability registry (`register=`, in its order), so
# that governance imports none of them (they import governance for approvals).
OTHER_JOBS: list[Callable[[Session, str], list[dict[str, Any]]]] = []


def project_jobs(session: Session, project_id: str) -> list[dict[str, Any]]:
    """A project's jobs, every capability's, as the register lists them."""
    return [job for source in OTHER_JOBS for job in source(session, project_id)]


def entry(session: Session, project: DataProject) -> dict[str, Any]:
    requests = [r for r in service.project_requests(session, project.id) if r.status != "draft"]
    jobs = project_jobs(session, project.id)
    approvals = service.project_approvals(session, project.id)
    states = [service.approval_state(a) for a in approvals]
    return serialise.project_public(project) | {
        "register_status": public_status(project, requests, states),
        "decisions": [serialise.request_public(r) for r in requests],
        "approvals": [
            {
                k: v
                for k, v in serialise.approval_out(a).items()
                if k not in ("elements", "change_reason")
            }
            for a in approvals
        ],
        "jobs": jobs,
        "releases": [
            {"job": j["id"], "title": j["title"], "released_at": j["released_at"], "url": j["url"]}
            for j in jobs
            if j["release_status"] == "released"
        ],
    }


def listing(session: Session, q: str = "") -> list[dict[str, Any]]:
    return [entry(session, p) for p in service.list_projects(session, q, limit=500)]


def _year(project: dict[str, Any]) -> int:
    """A project's year: its start's, else its creation's."""
    return int((project["starts_on"] or project["created_at"])[:4])


def _organisations(project: dict[str, Any]) -> list[dict[str, str]]:
    return [project["lead_organisation"], *project["partners"]]


def search(
    session: Session, q: str = "", status: str = "", year: int | None = None, organisation: str = ""
) -> dict[str, Any]:
    """The register filtered by text, public status, year and organisation (lead or partner),
    with the values each filter can take (over the whole register)."""
    if status and status not in STATUSES:
        raise BadRequest(
            N_("unknown project status: choose one from the list"),
            code="bad_filter",
            where="status",
        )
    if len(q) > 200:
        raise BadRequest(N_("the search text is longer than 200 characters"), where="q")
    everything = listing(session)
    matching = {p["id"] for p in listing(session, q)} if q.strip() else None
    projects = [
        p
        for p in everything
        if (matching is None or p["id"] in matching)
        and (not status or p["register_status"] == status)
        and (year is None or _year(p) == year)
        and (not organisation or organisation in {o["id"] for o in _organisations(p)})
    ]
    organisations = {o["id"]: o["name"] for p in everything for o in _organisations(p)}
    return {
        "projects": projects,
        "filters": {"q": q, "status": status, "year": year, "organisation": organisation},
        "choices": {
            "statuses": [s for s in STATUSES if any(p["register_status"] == s for p in everything)],
            "years": sorted({_year(p) for p in everything}, reverse=True),
            "organisations": [
                {"id": i, "name": n}
                for i, n in sorted(organisations.items(), key=lambda o: o[1].casefold())
            ],
        },
    }


CSV_COLUMNS = (
    "id",
    "title",
    "register_status",
    "lead_organisation",
    "partners",
    "data_controller",
    "starts_on",
    "ends_on",
    "legal_basis",
    "legal_references",
    "reference_methodology",
    "cesrees_number",
    "cnil_number",
    "decisions",
    "releases",
    "register_url",
)


def csv_text(projects: list[dict[str, Any]], base_url: str) -> str:
    """The register's rows as CSV (through the one CSV rule, `campus.exports`)."""
    out = io.StringIO()
    writer = exports.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in projects:
        basis = p["regulatory"]["legal_basis"]
        writer.writerow(
            [
                p["id"],
                p["title"],
                p["register_status"],
                p["lead_organisation"]["name"],
                "; ".join(x["name"] for x in p["partners"]),
                p["data_controller"],
                p["starts_on"] or "",
                p["ends_on"] or "",
                basis["code"] or basis["label"],
                basis["references"],
                p["regulatory"]["methodology"] or "",
                p["regulatory"]["cesrees_number"] or "",
                p["regulatory"]["cnil_number"] or "",
                len(p["decisions"]),
                " ".join(base_url + r["url"] for r in p["releases"]),
                f"{base_url}/register/{p['id']}",
            ]
        )
    return out.getvalue()


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
    for project_id, title in titles.items():  # the released jobs, local and federated
        for job in project_jobs(session, project_id):
            if job.get("released_at"):
                items.append(
                    FeedItem(
                        f"release-{job['id']}",
                        f"Release: {job['title']} ({title})",
                        datetime.fromisoformat(job["released_at"]),
                        job["url"],
                        _release_summary(job),
                    )
                )
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def _release_summary(job: dict[str, Any]) -> str:
    if job.get("federated"):
        return f"Checked outputs of a federated job on {job['dataset']}"
    return f"Checked outputs of a job on {job['dataset']} {job['version']}"


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
