"""Data projects and their teams: creation, search, members, and the separation of duties
(a member of a project never reviews, checks or governs it)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.models import Account, RoleGrant
from campus.auth.roles import Role
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.governance import fields, legal
from campus.governance.config import governance_settings
from campus.governance.models import DataProject, ProjectMember
from campus.i18n import N_

PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}\Z")
MEMBER_ROLES = ("lead", "researcher", "analyst", "data_manager")
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
    fields.dates(data.starts_on, data.ends_on)
    partners = [
        {
            "id": fields.text(pid, "partners.id", 64),
            "name": fields.text(pname, "partners.name", 200),
        }
        for pid, pname in data.partners
    ]
    project = DataProject(
        id=project_id,
        title=fields.text(data.title, "title", 200),
        lead_org_id=fields.text(data.lead_org_id, "lead_org_id", 64),
        lead_org_name=fields.text(data.lead_org_name, "lead_org_name", 200),
        partners=partners,
        purpose=fields.text(data.purpose, "purpose", 5000),
        summary_fr=fields.text(data.summary_fr, "summary_fr", 5000),
        summary_en=fields.text(data.summary_en, "summary_en", 5000, required=False),
        legal_basis=legal.check(data.legal_basis),
        expected_benefits=fields.text(data.expected_benefits, "expected_benefits", 5000),
        data_controller=fields.text(data.data_controller, "data_controller", 200, required=False),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        cesrees_number=fields.reference(data.cesrees_number, "cesrees_number"),
        cnil_number=fields.reference(data.cnil_number, "cnil_number"),
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


def require_team(session: Session, actor: Actor, project: DataProject) -> None:
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
        require_team(session, actor, project)
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
