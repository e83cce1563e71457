"""The data functions governance's pages and their JSON twins share: a project as its reader
may see it, an access request, one's reviews, one's projects. People are given by name
(with their account id for the API), never by account id alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.errors import Forbidden, NotFound
from campus.governance import budget, parties, register, serialise, service
from campus.governance.models import AccessRequest, Approval, DataProject, Review
from campus.i18n import N_

# The jobs a project's page lists for those who see its private side: functions
# (session, project_id) -> jobs as the team sees them, newest first, set by the site from the
# capability registry (`project_jobs=`), so that governance imports none of the capabilities
# that run jobs (they import governance for approvals).
TEAM_JOBS: list[Callable[[Session, str], list[dict[str, Any]]]] = []


def team_jobs(session: Session, project_id: str) -> list[dict[str, Any]]:
    """A project's jobs as its team sees them, every capability's, in the registry's order."""
    return [job for source in TEAM_JOBS for job in source(session, project_id)]


def can_see_private(session: Session, actor: Actor, project_id: str) -> bool:
    """The team, staff, the DPO and the project's reviewers see more than the register."""
    if actor.is_staff or service.is_member(session, project_id, actor.account_id):
        return True
    if actor.has_role(Role.DPO):  # the DPO oversees every approval (and may suspend it)
        return True
    return bool(
        actor.account_id
        and session.query(Review)
        .join(AccessRequest, AccessRequest.id == Review.request_id)
        .filter(AccessRequest.project_id == project_id, Review.reviewer_id == actor.account_id)
        .first()
    )


def project_for(session: Session, actor: Actor, project_id: str) -> dict[str, Any]:
    """A project as its team, its reviewers and staff see it (more than the register)."""
    project = service.get_project(session, project_id)
    out = register.entry(session, project)
    if not can_see_private(session, actor, project_id):
        return out
    members = service.members(session, project.id)
    names = parties.names_of(session, {m.account_id for m in members})
    out["members"] = [
        {"account_id": m.account_id, "role": m.role, **names[m.account_id]} for m in members
    ]
    out["requests"] = [
        serialise.request_full(session, r) for r in service.project_requests(session, project.id)
    ]
    out["privacy_budget"] = {
        "total": project.privacy_budget,
        "spent": budget.spent(session, project.id),
    }
    return out


def request_visible(session: Session, actor: Actor, request_id: str) -> AccessRequest:
    request = service.get_request(session, request_id)
    if not can_see_private(session, actor, request.project_id):
        raise Forbidden(
            N_("only the project team, its reviewers and staff may see this request"),
            code="forbidden",
        )
    return request


def request_for(
    session: Session, actor: Actor, request_id: str, project_id: str | None = None
) -> dict[str, Any]:
    """An access request with its reviews and messages, reviewers and authors by name."""
    access = request_visible(session, actor, request_id)
    if project_id is not None and access.project_id != project_id:
        raise NotFound(N_("no such access request in this project"), code="not_found")
    data = serialise.request_full(session, access)
    people = {r["reviewer"] for r in data["reviews"]} | {m["author"] for m in data["messages"]}
    names = parties.names_of(session, people)
    for review in data["reviews"]:
        review["reviewer_name"] = names[review["reviewer"]]["name"]
    for message in data["messages"]:
        message["author_name"] = names[message["author"]]["name"]
    return data


def my_projects(session: Session, actor: Actor) -> dict[str, Any]:
    """The projects one is a team member of (every project for staff)."""
    projects = service.list_projects(session, limit=500)
    return {
        "projects": [
            serialise.project_public(p)
            for p in projects
            if actor.is_staff or service.is_member(session, p.id, actor.account_id)
        ]
    }


def reviews_of(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The access requests one is asked to review, newest first."""
    rows = (
        session.query(Review, AccessRequest)
        .join(AccessRequest, AccessRequest.id == Review.request_id)
        .filter(Review.reviewer_id == (actor.account_id or ""))
        .order_by(Review.assigned_at.desc())
        .all()
    )
    return [
        {
            "request_id": request.id,
            "project_id": request.project_id,
            "project_title": service.get_project(session, request.project_id).title,
            "request_status": request.status,
            "my_decision": review.decision,
            "assigned_at": serialise._iso(review.assigned_at),
        }
        for review, request in rows
    ]


def approvals_of(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The approvals one may change, newest first, with their project and request: those of
    the requests one reviewed, every one for the DPO (never a project of one's own). How the
    people who decide find decided requests again, and each approval's consents."""
    query = (
        select(Approval, DataProject.title)
        .join(DataProject, DataProject.id == Approval.project_id)
        .order_by(Approval.created_at.desc(), Approval.id)
        .limit(500)
    )
    if not actor.has_role(Role.DPO):
        reviewed = select(Review.request_id).where(Review.reviewer_id == (actor.account_id or ""))
        query = query.where(Approval.request_id.in_(reviewed))
    return [
        serialise.approval_out(approval)
        | {"project_id": approval.project_id, "project_title": title}
        for approval, title in session.execute(query)
        if service.can_manage_approval(session, actor, approval)
    ]


def named_from(session: Session, actor: Actor) -> dict[str, Any]:
    """What a page names datasets and views from (page-only extras): their titles."""
    return {"choices": request_choices(session, actor)}


def request_choices(session: Session, actor: Actor) -> dict[str, list[dict[str, str]]]:
    """What an access request may name, for the form's pickers: the warehouse's datasets,
    the library's views and the reader's own saved views (by key, with their titles)."""
    from sqlalchemy import select

    from campus.views import service as views
    from campus.warehouse.models import Dataset

    rows = session.execute(select(Dataset.name, Dataset.title).order_by(Dataset.name))
    return {
        "datasets": [{"name": name, "title": title or name} for name, title in rows],
        "views": [
            {"name": name, "title": views.library_title(name, view)}
            for name, view in views.library().items()
        ],
        "saved_views": [
            {"name": saved.key, "title": saved.title}
            for saved in views.saved_views(session, actor.account_id)
        ],
    }
