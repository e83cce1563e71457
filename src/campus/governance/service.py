"""Data projects, access requests, ethics review and approvals: the rules, in one place.

Request states: draft -> submitted -> in_review -> approved | refused | changes_requested;
a request with changes requested is edited and submitted again. Reviewers (a configurable
number) are ethics reviewers who belong to none of the requesting organisations and are not
on the project team. When every reviewer has decided, the request is refused if one
refused, sent back if one asked for changes, and approved otherwise; an approval carries
the scope (datasets, views, elements) and an expiry, and can be suspended or revoked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.models import Account, RoleGrant
from campus.auth.roles import Role
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.governance import legal
from campus.governance.config import governance_settings
from campus.governance.models import (
    AccessRequest,
    Approval,
    DataProject,
    ProjectMember,
    Review,
    ReviewMessage,
)
from campus.governance.notify import notify
from campus.i18n import N_
from campus.settings import Settings

PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}\Z")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\Z")
MEMBER_ROLES = ("lead", "researcher", "analyst", "data_manager")
DECISIONS = ("approve", "refuse", "changes")
EDITABLE = ("draft", "changes_requested")
APPROVAL_STATES = ("active", "suspended", "revoked")
# Roles that check the teams' work: whoever holds one never joins a team, and a team member
# never acts in one of them on the team's project (separation of duties).
INDEPENDENT_ROLES = (Role.OUTPUT_CHECKER, Role.ETHICS_REVIEWER, Role.DPO)


@dataclass(frozen=True)
class ProjectIn:
    title: str
    lead_org_id: str
    lead_org_name: str
    purpose: str
    summary_fr: str
    legal_basis: str
    expected_benefits: str
    summary_en: str = ""
    partners: tuple[tuple[str, str], ...] = ()
    id: str | None = None
    data_controller: str = ""  # the lead organisation when empty
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    cesrees_number: str = ""
    cnil_number: str = ""


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise BadRequest(N_("fill in this field"), code="missing_field", where=field)
    if len(value) > limit:
        raise BadRequest(N_("this text is too long: shorten it"), code="too_long", where=field)
    return value


_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_#-]{0,39}\Z")


def _reference(value: str, field: str) -> str:
    """A regulatory number (CESREES opinion, CNIL decision or declaration): letters, digits
    and `. / _ # -`, at most 40 characters; empty when not known yet."""
    value = (value or "").strip()
    if value and not _REFERENCE.match(value):
        raise BadRequest(
            N_(
                "write the number as given by the authority: letters, digits and . / _ # -, "
                "at most 40 characters"
            ),
            code="bad_reference",
            where=field,
        )
    return value


def _dates(starts_on: dt.date | None, ends_on: dt.date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise BadRequest(
            N_("the project cannot end before it starts"), code="bad_dates", where="ends_on"
        )


def _names(values: Any, field: str) -> list[str]:
    if isinstance(values, str):
        values = [v.strip() for v in re.split(r"[,\n]", values)]
    cleaned = sorted({str(v).strip() for v in values or [] if str(v).strip()})
    for value in cleaned:
        if not NAME.match(value):
            raise BadRequest(
                N_("a name of a dataset or view is written in lowercase letters, digits, - or _"),
                code="bad_name",
                where=field,
            )
    return cleaned


# --- projects ---------------------------------------------------------------------------------


def create_project(
    session: Session, actor: Actor, data: ProjectIn, *, privacy_budget: float | None = None
) -> DataProject:
    """A new project; its author joins the team as lead (researcher on the project)."""
    project_id = data.id
    if project_id is not None:
        if not PROJECT_ID.match(project_id):
            raise BadRequest(
                N_("a project id has 3-64 lowercase letters, digits or '-'"), where="id"
            )
        if session.get(DataProject, project_id):
            raise Conflict(N_("a project with this id already exists"), where="id")
    _dates(data.starts_on, data.ends_on)
    partners = [
        {"id": _text(pid, "partners.id", 64), "name": _text(pname, "partners.name", 200)}
        for pid, pname in data.partners
    ]
    project = DataProject(
        id=project_id,
        title=_text(data.title, "title", 200),
        lead_org_id=_text(data.lead_org_id, "lead_org_id", 64),
        lead_org_name=_text(data.lead_org_name, "lead_org_name", 200),
        partners=partners,
        purpose=_text(data.purpose, "purpose", 5000),
        summary_fr=_text(data.summary_fr, "summary_fr", 5000),
        summary_en=_text(data.summary_en, "summary_en", 5000, required=False),
        legal_basis=legal.check(data.legal_basis),
        expected_benefits=_text(data.expected_benefits, "expected_benefits", 5000),
        data_controller=_text(data.data_controller, "data_controller", 200, required=False),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        cesrees_number=_reference(data.cesrees_number, "cesrees_number"),
        cnil_number=_reference(data.cnil_number, "cnil_number"),
        privacy_budget=privacy_budget or governance_settings().project_privacy_budget,
        created_by=actor.account_id or "system",
    )
    session.add(project)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="project.created",
        object_type="project",
        object_id=project.id,
        details={"lead_org": project.lead_org_id, "partners": [p["id"] for p in partners]},
    )
    if actor.account_id and actor.account_id != "system":
        add_member(session, actor, project, actor.account_id, "lead", check=False)
    return project


def get_project(session: Session, project_id: str) -> DataProject:
    project = session.get(DataProject, project_id)
    if project is None:
        raise NotFound(f"no project {project_id}", code="not_found")
    return project


def list_projects(session: Session, q: str = "", limit: int = 100) -> list[DataProject]:
    query = select(DataProject).order_by(DataProject.created_at.desc()).limit(min(limit, 500))
    if q.strip():
        like = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(DataProject.title).like(like),
                func.lower(DataProject.purpose).like(like),
                func.lower(DataProject.summary_fr).like(like),
                func.lower(DataProject.summary_en).like(like),
                func.lower(DataProject.lead_org_name).like(like),
            )
        )
    return list(session.scalars(query))


def members(session: Session, project_id: str) -> list[ProjectMember]:
    return list(
        session.scalars(
            select(ProjectMember)
            .where(ProjectMember.project_id == project_id)
            .order_by(ProjectMember.id)
        )
    )


def member_ids(session: Session, project_id: str) -> set[str]:
    return {m.account_id for m in members(session, project_id)}


def is_member(session: Session, project_id: str, account_id: str | None) -> bool:
    return bool(account_id) and account_id in member_ids(session, project_id)


def independent_roles(session: Session, account_id: str) -> set[str]:
    """The checking roles (output checker, ethics reviewer, DPO) an account holds anywhere."""
    return set(
        session.scalars(
            select(RoleGrant.role).where(
                RoleGrant.account_id == account_id, RoleGrant.role.in_(INDEPENDENT_ROLES)
            )
        )
    )


def require_independent(session: Session, actor: Actor, project_id: str) -> None:
    """Separation of duties: a member of a project never reviews, checks or governs it.

    Called before every act of an ethics reviewer, an output checker or the DPO on a
    project's request, approval or job outputs (`campus.analysis.service.check_output` too).
    """
    if is_member(session, project_id, actor.account_id):
        raise Forbidden(
            N_("a project member may not review, check or govern the project's data use"),
            code="conflict_of_interest",
        )


def _require_team(session: Session, actor: Actor, project: DataProject) -> None:
    if actor.is_staff or is_member(session, project.id, actor.account_id):
        return
    raise Forbidden(
        N_("only the project team (or campus staff) may do this"), code="not_project_member"
    )


def add_member(
    session: Session,
    actor: Actor,
    project: DataProject,
    account_id: str,
    role: str,
    *,
    check: bool = True,
) -> ProjectMember:
    """Add a team member; they get the `researcher` role scoped to this project."""
    if check:
        _require_team(session, actor, project)
    if role not in MEMBER_ROLES:
        raise BadRequest(N_("choose a role of the list"), code="bad_role", where="role")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}", code="not_found", where="account_id")
    if independent_roles(session, account_id):
        raise Forbidden(
            N_("an output checker, ethics reviewer or DPO may not join a project team"),
            code="separation_of_duties",
            where="account_id",
        )
    existing = session.scalar(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.account_id == account_id
        )
    )
    if existing is not None:
        existing.role = role
        return existing
    member = ProjectMember(project_id=project.id, account_id=account_id, role=role)
    session.add(member)
    session.flush()
    auth.grant_role(
        session, account, Role.RESEARCHER, scope_type="project", scope_id=project.id, by=actor
    )
    audit.record(
        session,
        actor=actor.label,
        action="project.member_added",
        object_type="project",
        object_id=project.id,
        details={"account": account_id, "role": role},
    )
    return member


# --- access requests --------------------------------------------------------------------------


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
    _require_team(session, actor, project)
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
    request.datasets = _names(datasets, "datasets")
    request.views = _names(views, "views")
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
    request.justification = _text(justification, "justification", 10000)


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
    _require_team(session, actor, project)
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
    _require_team(session, actor, project)
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


def reviews(session: Session, request_id: str) -> list[Review]:
    return list(
        session.scalars(select(Review).where(Review.request_id == request_id).order_by(Review.id))
    )


def messages(session: Session, request_id: str) -> list[ReviewMessage]:
    return list(
        session.scalars(
            select(ReviewMessage)
            .where(ReviewMessage.request_id == request_id)
            .order_by(ReviewMessage.id)
        )
    )


def _assigned(session: Session, request: AccessRequest, actor: Actor) -> Review:
    review = session.scalar(
        select(Review).where(
            Review.request_id == request.id, Review.reviewer_id == (actor.account_id or "")
        )
    )
    if review is None:
        raise Forbidden(
            N_("only the reviewers assigned to this request may do this"), code="not_assigned"
        )
    return review


def ask_or_answer(
    session: Session, settings: Settings, actor: Actor, request: AccessRequest, body: str
) -> ReviewMessage:
    """A reviewer asks a question, or the team answers; the other side is notified."""
    body = _text(body, "body", 5000)
    if request.status != "in_review":
        raise Conflict(N_("questions and answers happen while the request is in review"))
    project = get_project(session, request.project_id)
    team = member_ids(session, project.id)
    reviewer_ids = {r.reviewer_id for r in reviews(session, request.id)}
    if actor.account_id in reviewer_ids:
        require_independent(session, actor, project.id)
        kind, recipients = "question", team
    elif actor.account_id in team:
        kind, recipients = "answer", reviewer_ids
    else:
        raise Forbidden(N_("only the assigned reviewers and the project team may write here"))
    message = ReviewMessage(
        request_id=request.id, author_id=actor.account_id or "", kind=kind, body=body
    )
    session.add(message)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action=f"request.{kind}",
        object_type="access_request",
        object_id=request.id,
    )
    notify(
        session,
        settings,
        recipients,
        subject=f"New {kind} on an access request: {project.title}",
        body=f"A {kind} was posted on the access request.",
        link=f"/projects/{project.id}/requests/{request.id}",
    )
    return message


def decide(
    session: Session,
    settings: Settings,
    actor: Actor,
    request: AccessRequest,
    *,
    decision: str,
    comment: str,
    conditions: str = "",
) -> AccessRequest:
    """Record one reviewer's decision; when all have decided, settle the request."""
    if decision not in DECISIONS:
        raise BadRequest(N_("choose a decision of the list"), code="bad_decision", where="decision")
    # Locked: the last two reviewers deciding at once each see the other's decision, and one
    # reviewer's two tabs decide once.
    lock(session, request)
    if request.status != "in_review":
        raise Conflict(N_("this request is no longer in review"), code="not_in_review")
    review = _assigned(session, request, actor)
    require_independent(session, actor, request.project_id)
    if review.decision is not None:
        raise Conflict(N_("you have already decided on this request"), code="already_decided")
    review.decision = decision
    review.comment = _text(comment, "comment", 5000)
    review.conditions = _text(conditions, "conditions", 5000, required=False)
    review.decided_at = utcnow()
    audit.record(
        session,
        actor=actor.label,
        action="review.decided",
        object_type="access_request",
        object_id=request.id,
        details={"decision": decision},
    )
    all_reviews = reviews(session, request.id)
    if any(r.decision is None for r in all_reviews):
        session.flush()
        return request
    outcome = {r.decision for r in all_reviews}
    if "refuse" in outcome:
        _settle(session, settings, actor, request, "refused")
    elif "changes" in outcome:
        _settle(session, settings, actor, request, "changes_requested")
    else:
        _settle(session, settings, actor, request, "approved")
        # Each condition once, in the order the reviewers gave them: two reviewers asking for
        # the same thing make one condition, not a repeated line.
        conditions_text = "\n".join(
            dict.fromkeys(r.conditions for r in all_reviews if r.conditions)
        )
        approval = Approval(
            request_id=request.id,
            project_id=request.project_id,
            datasets=list(request.datasets),
            views=list(request.views),
            elements=list(request.elements),
            conditions=conditions_text,
            expires_at=utcnow() + dt.timedelta(days=request.duration_days),
        )
        session.add(approval)
        session.flush()
        audit.record(
            session,
            actor=actor.label,
            action="approval.granted",
            object_type="approval",
            object_id=approval.id,
            details={
                "project": request.project_id,
                "datasets": approval.datasets,
                "views": approval.views,
                "expires_at": approval.expires_at.isoformat(),
            },
        )
    return request


def _settle(
    session: Session, settings: Settings, actor: Actor, request: AccessRequest, status: str
) -> None:
    request.status = status
    request.decided_at = utcnow()
    request.decision_note = "\n".join(
        r.comment for r in reviews(session, request.id) if r.decision != "approve" or r.comment
    )
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action=f"request.{status}",
        object_type="access_request",
        object_id=request.id,
        details={"project": request.project_id},
    )
    project = get_project(session, request.project_id)
    notify(
        session,
        settings,
        member_ids(session, project.id) | {r.reviewer_id for r in reviews(session, request.id)},
        subject=f"Access request {status.replace('_', ' ')}: {project.title}",
        body=f"The ethics review settled the access request: {status.replace('_', ' ')}.",
        link=f"/projects/{project.id}/requests/{request.id}",
    )


# --- approvals --------------------------------------------------------------------------------


def get_approval(session: Session, approval_id: str) -> Approval:
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise NotFound(f"no approval {approval_id}", code="not_found")
    return approval


def project_approvals(session: Session, project_id: str) -> list[Approval]:
    return list(
        session.scalars(
            select(Approval).where(Approval.project_id == project_id).order_by(Approval.created_at)
        )
    )


def approval_state(approval: Approval, now: dt.datetime | None = None) -> str:
    """active, suspended, revoked or expired: what the approval allows right now."""
    now = now or utcnow()
    if approval.status == "active" and approval.expires_at <= now:
        return "expired"
    return approval.status


def can_manage_approval(session: Session, actor: Actor, approval: Approval) -> bool:
    """Whether `set_approval_status` would let this actor change this approval."""
    try:
        _require_approval_manager(session, actor, approval)
    except Forbidden:
        return False
    return True


def _require_approval_manager(session: Session, actor: Actor, approval: Approval) -> None:
    """The ethics reviewers assigned to the approval's request, and the DPO; never a member
    of the project, and never staff by their blanket permissions alone."""
    require_independent(session, actor, approval.project_id)
    assigned = {r.reviewer_id for r in reviews(session, approval.request_id)}
    if actor.account_id in assigned and actor.has_role(Role.ETHICS_REVIEWER):
        return
    if actor.has_role(Role.DPO):
        return
    raise Forbidden(
        N_("only the request's assigned reviewers and the DPO may change its approval"),
        code="not_assigned",
    )


def set_approval_status(
    session: Session,
    settings: Settings,
    actor: Actor,
    approval: Approval,
    status: str,
    reason: str,
) -> Approval:
    """Suspend, reactivate or revoke an approval; revocation is final. Effective at once."""
    if status not in APPROVAL_STATES:
        raise BadRequest(N_("choose a status of the list"), code="bad_status", where="status")
    _require_approval_manager(session, actor, approval)
    lock(session, approval)  # a revocation made meanwhile stays final
    if approval.status == "revoked":
        raise Conflict(N_("a revoked approval cannot change again"), code="approval_revoked")
    if status == approval.status:
        raise Conflict(N_("the approval already has this status"), code="unchanged")
    previous = approval.status
    approval.status = status
    approval.changed_at = utcnow()
    approval.change_reason = _text(reason, "reason", 2000)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action=f"approval.{status}",
        object_type="approval",
        object_id=approval.id,
        details={"project": approval.project_id, "from": previous},
    )
    project = get_project(session, approval.project_id)
    reviewer_ids = {r.reviewer_id for r in reviews(session, approval.request_id)}
    notify(
        session,
        settings,
        member_ids(session, project.id) | reviewer_ids,
        subject=f"Approval {status}: {project.title}",
        body=f"The approval of the project changed from {previous} to {status}.",
        link=f"/projects/{project.id}",
    )
    return approval


def usable_approval(
    session: Session, approval_id: str, project_id: str, now: dt.datetime | None = None
) -> Approval:
    """The approval, if active and unexpired for this project; Forbidden says why not."""
    approval = session.get(Approval, approval_id)
    if approval is None or approval.project_id != project_id:
        raise Forbidden(
            f"approval {approval_id} does not belong to project {project_id}",
            code="no_approval",
        )
    state = approval_state(approval, now)
    if state != "active":
        raise Forbidden(
            f"approval {approval_id} is {state}: real data can no longer be used under it",
            code=f"approval_{state}",
        )
    return approval
