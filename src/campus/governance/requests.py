"""Access requests: drafted by a project's team (data minimisation: datasets and views named),
edited while a draft or sent back, submitted to ethics reviewers chosen outside the
requesting organisations and the team.

States: draft -> submitted -> in_review -> approved | refused | changes_requested (the
decisions: campus.governance.reviews)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account, RoleGrant
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.errors import BadRequest, Conflict, NotFound
from campus.governance import fields
from campus.governance.config import governance_settings
from campus.governance.models import AccessRequest, DataProject, Review
from campus.governance.notify import notify
from campus.governance.projects import get_project, member_ids, require_team
from campus.i18n import N_
from campus.settings import Settings

EDITABLE = ("draft", "changes_requested")


def create_request(
    session: Session,
    actor: Actor,
    project: DataProject,
    *,
    datasets: Any,
    views: Any,
    elements: Any = (),
    duration_days: int,
    justification: str,
) -> AccessRequest:
    """A draft request (data minimisation: name datasets and the views needed)."""
    require_team(session, actor, project)
    request = AccessRequest(project_id=project.id, created_by=actor.account_id or "system")
    _fill_request(request, datasets, views, elements, duration_days, justification)
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="request.created",
        object_type="access_request",
        object_id=request.id,
        details={"project": project.id, "datasets": request.datasets, "views": request.views},
    )
    return request


def _fill_request(
    request: AccessRequest,
    datasets: Any,
    views: Any,
    elements: Any,
    duration_days: int,
    justification: str,
) -> None:
    request.datasets = fields.names(datasets, "datasets")
    request.views = fields.names(views, "views")
    if not request.datasets:
        raise BadRequest(N_("name at least one dataset"), code="missing_field", where="datasets")
    if not request.views:
        raise BadRequest(
            N_("name the views you need (data minimisation)"), code="missing_field", where="views"
        )
    if isinstance(elements, str):
        elements = [e.strip() for e in re.split(r"[,\n]", elements)]
    request.elements = sorted({str(e).strip() for e in elements or [] if str(e).strip()})
    if not isinstance(duration_days, int) or not 1 <= duration_days <= 3650:
        raise BadRequest(N_("duration must be 1 to 3650 days"), where="duration_days")
    request.duration_days = duration_days
    request.justification = fields.text(justification, "justification", 10000)


def get_request(session: Session, request_id: str) -> AccessRequest:
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise NotFound(f"no access request {request_id}", code="not_found")
    return request


def project_requests(session: Session, project_id: str) -> list[AccessRequest]:
    return list(
        session.scalars(
            select(AccessRequest)
            .where(AccessRequest.project_id == project_id)
            .order_by(AccessRequest.created_at)
        )
    )


def update_request(
    session: Session, actor: Actor, request: AccessRequest, **fields: Any
) -> AccessRequest:
    """Edit a draft, or a request sent back for changes."""
    lock(session, request)  # not while it is being submitted
    project = get_project(session, request.project_id)
    require_team(session, actor, project)
    if request.status not in EDITABLE:
        raise Conflict(
            N_("only a draft or a request sent back for changes can be edited"),
            code="not_editable",
        )
    _fill_request(
        request,
        fields.get("datasets", request.datasets),
        fields.get("views", request.views),
        fields.get("elements", request.elements),
        fields.get("duration_days", request.duration_days),
        fields.get("justification", request.justification),
    )
    audit.record(
        session,
        actor=actor.label,
        action="request.updated",
        object_type="access_request",
        object_id=request.id,
        details={"datasets": request.datasets, "views": request.views},
    )
    return request


def requesting_organisations(project: DataProject) -> set[str]:
    return {project.lead_org_id, *(p["id"] for p in project.partners or [])}


def _affiliations(session: Session, account_id: str) -> set[str]:
    """Organisations an account belongs to: scoped grants, and directory memberships."""
    orgs = set(
        session.scalars(
            select(RoleGrant.scope_id).where(
                RoleGrant.account_id == account_id, RoleGrant.scope_type == "organisation"
            )
        )
    )
    try:
        from campus.ecosystem.directory.models import Membership, Person
    except ImportError:  # the directory is optional
        return orgs
    orgs.update(
        session.scalars(
            select(Membership.organisation_id)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.account_id == account_id)
        )
    )
    return orgs


def eligible_reviewers(session: Session, project: DataProject) -> list[str]:
    """Ethics reviewers outside the requesting organisations and the team, least busy first."""
    reviewers = set(
        session.scalars(
            select(RoleGrant.account_id).where(
                RoleGrant.role == Role.ETHICS_REVIEWER, RoleGrant.scope_type == ""
            )
        )
    )
    active = set(session.scalars(select(Account.id).where(Account.active)))
    team = member_ids(session, project.id)
    conflicted = requesting_organisations(project)
    eligible = [
        r
        for r in reviewers & active
        if r not in team and not (_affiliations(session, r) & conflicted)
    ]
    load = dict(
        session.execute(
            select(Review.reviewer_id, func.count())
            .where(Review.decision.is_(None))
            .group_by(Review.reviewer_id)
        ).all()
    )
    return sorted(eligible, key=lambda r: (load.get(r, 0), r))


def submit_request(
    session: Session,
    settings: Settings,
    actor: Actor,
    request: AccessRequest,
    *,
    reviewers: int | None = None,
) -> AccessRequest:
    """Submit for ethics review and assign reviewers; fresh reviews after changes."""
    lock(session, request)  # a double submit assigns reviewers once
    project = get_project(session, request.project_id)
    require_team(session, actor, project)
    if request.status not in EDITABLE:
        raise Conflict(
            N_("only a draft or a request sent back for changes can be submitted"),
            code="not_editable",
        )
    wanted = reviewers or governance_settings().ethics_reviewers
    existing = list(session.scalars(select(Review).where(Review.request_id == request.id)))
    chosen = [r.reviewer_id for r in existing]
    if len(chosen) < wanted:
        pool = [r for r in eligible_reviewers(session, project) if r not in chosen]
        if len(chosen) + len(pool) < wanted:
            raise Conflict(
                N_(
                    "too few ethics reviewers are eligible (none may belong to the lead or "
                    "partner organisations or the team): ask campus staff to appoint more "
                    "reviewers"
                ),
                code="not_enough_reviewers",
            )
        for reviewer in pool[: wanted - len(chosen)]:
            session.add(Review(request_id=request.id, reviewer_id=reviewer))
            chosen.append(reviewer)
    for review in existing:  # a resubmission is reviewed afresh
        review.decision, review.decided_at = None, None
    request.status = "in_review"
    request.submitted_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="request.submitted",
        object_type="access_request",
        object_id=request.id,
        details={"project": project.id, "reviewers": sorted(chosen)},
    )
    link = f"/projects/{project.id}/requests/{request.id}"
    notify(
        session,
        settings,
        chosen,
        subject=f"Access request to review: {project.title}",
        body="You are asked to review an access request of a data project.",
        link=link,
    )
    notify(
        session,
        settings,
        member_ids(session, project.id),
        subject=f"Access request submitted: {project.title}",
        body="Your access request was submitted for ethics review.",
        link=link,
    )
    return request
