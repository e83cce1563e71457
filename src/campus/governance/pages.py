"""HTML pages of the people who work on data projects: projects, team, requests, reviews,
approvals (the public register and the opt-out: `campus.governance.public_pages`). Each page
with data is a twin of its JSON (`campus.web.twins.twin`); each form posts through
`campus.web.forms.form_route`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.governance import api, data, legal, parties, serialise, service
from campus.governance.data import named_from
from campus.governance.models import Approval
from campus.i18n import N_
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()

# Roles of a project team, in the reader's language (message ids, French in the catalogue).
MEMBER_ROLES = {
    "lead": N_("project lead"),
    "researcher": N_("researcher"),
    "analyst": N_("analyst"),
    "data_manager": N_("data manager"),
}

# --- projects -----------------------------------------------------------------------------------


class ProjectForm(BaseModel):
    """The project form: organisations picked from the directory, a legal basis from the list."""

    title: str = Field(max_length=200)
    lead_org_id: str = Field(max_length=64)
    partner_ids: list[str] = Field(default_factory=list, max_length=50)
    purpose: str = Field(max_length=5000)
    summary_fr: str = Field(max_length=5000)
    summary_en: str = Field("", max_length=5000)
    legal_basis: str = Field(max_length=300)
    expected_benefits: str = Field(max_length=5000)
    data_controller: str = Field("", max_length=200)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    cesrees_number: str = Field("", max_length=40)
    cnil_number: str = Field("", max_length=40)

    def to_input(self, session: Session) -> service.ProjectIn:
        partners = tuple(
            (pid, parties.organisation_name(session, pid, "partner_ids"))
            for pid in dict.fromkeys(p for p in self.partner_ids if p and p != self.lead_org_id)
        )
        fields = self.model_dump(exclude={"partner_ids"})
        return service.ProjectIn(
            **fields,
            lead_org_name=parties.organisation_name(session, self.lead_org_id, "lead_org_id"),
            partners=partners,
        )


def _project_form(session: Session, actor: Actor, values: dict | None = None) -> dict[str, Any]:
    """What the creation form offers: organisations, legal bases, and what was typed."""
    return {
        "organisations": parties.organisation_options(session, actor.account_id),
        "legal_bases": legal.LEGAL_BASES,
        "values": values or {},
    }


@twin(
    api.router,
    router,
    "/projects",
    template="governance/projects.html",
    summary="The projects one is a team member of",
    context=lambda session, actor: _project_form(session, actor),
)
def my_projects(
    actor: Actor = allow("account.self"), session: Session = db_session
) -> dict[str, Any]:
    return data.my_projects(session, actor)


def _projects_again(session: Session, actor: Actor, values: dict) -> dict[str, Any]:
    return {"data": data.my_projects(session, actor), **_project_form(session, actor, values)}


@form_route(
    router,
    "/projects",
    model=ProjectForm,
    template="governance/projects.html",
    context=_projects_again,
)
def project_create(
    body: ProjectForm, actor: Actor = allow("projects.write"), session: Session = db_session
) -> str:
    project = service.create_project(session, actor, body.to_input(session))
    return f"/projects/{project.id}"


def project_context(
    session: Session, actor: Actor, project: dict[str, Any], values: dict | None = None
) -> dict[str, Any]:
    """The project page's extras beside its data: the team's jobs, the approvals a job may
    run under, role labels; `values`, what was typed in a refused form."""
    private = "requests" in project
    return {
        "p": project,
        "private": private,
        "choices": data.request_choices(session, actor) if private else {},
        "active_approvals": [a for a in project["approvals"] if a["state"] == "active"],
        "jobs": data.team_jobs(session, project["id"]) if private else [],
        "roles": MEMBER_ROLES,
        "values": values or {},
    }


@twin(
    api.router,
    router,
    "/projects/{project_id}",
    template="governance/project.html",
    summary="A project with its team (by name), requests and budget",
    context=lambda session, actor, data: project_context(session, actor, data),
)
def project_page(
    project_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return data.project_for(session, actor, project_id)


def _project_again(session: Session, actor: Actor, project_id: str, values: dict) -> dict:
    project = data.project_for(session, actor, project_id)
    return {"data": project, **project_context(session, actor, project, values)}


@page(router, "/projects/{project_id}/team", no_twin="a picker; its API is POST .../members")
def team_picker(
    request: Request,
    project_id: str,
    q: str = "",
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    """Find people of the directory by name to add them to the team."""
    return render(request, "governance/team.html", _team_context(session, actor, project_id, q))


def _team_context(
    session: Session, actor: Actor, project_id: str, q: str = "", values: dict | None = None
) -> dict[str, Any]:
    project = data.project_for(session, actor, project_id)
    q = (values or {}).get("q", q)[:200]
    return {
        "p": project,
        "q": q,
        "found": parties.people_matching(session, q),
        "roles": MEMBER_ROLES,
        "values": values or {},
    }


@form_route(
    router,
    "/projects/{project_id}/members",
    model=api.MemberIn,
    template="governance/team.html",
    context=lambda session, actor, project_id, values: _team_context(
        session, actor, project_id, values=values
    ),
)
def project_add_member(
    body: api.MemberIn,
    project_id: str,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
) -> str:
    """The picker posts a directory profile (`person_id`); an address works as in the API."""
    project = service.get_project(session, project_id)
    service.add_member(session, actor, project, body.account_id(session, actor), body.role)
    return f"/projects/{project_id}#team"


class RequestForm(BaseModel):
    """An access request as the page's forms write it: datasets and views ticked in the
    pickers (or typed, comma-separated), elements comma-separated."""

    datasets: list[str] = Field(default_factory=list, max_length=50)
    views: list[str] = Field(default_factory=list, max_length=100)
    elements: str = Field("", max_length=10000)
    duration_days: int
    justification: str = Field(max_length=10000)

    def fields(self) -> dict[str, Any]:
        """The service's arguments (a typed list counts as its names)."""
        return self.model_dump() | {
            "datasets": ",".join(self.datasets),
            "views": ",".join(self.views),
        }


@form_route(
    router,
    "/projects/{project_id}/requests",
    model=RequestForm,
    template="governance/project.html",
    context=_project_again,
)
def project_new_request(
    body: RequestForm,
    project_id: str,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
) -> str:
    project = service.get_project(session, project_id)
    access = service.create_request(session, actor, project, **body.fields())
    return f"/projects/{project_id}/requests/{access.id}"


# --- access requests and reviews ----------------------------------------------------------------


def request_context(session: Session, actor: Actor, r: dict[str, Any], values=None) -> dict:
    """The request page's extras: the project, what the reader may do."""
    project = service.get_project(session, r["project_id"])
    approval = session.scalar(select(Approval).where(Approval.request_id == r["id"]))
    return {
        "r": r,
        "project": serialise.project_public(project),
        "is_team": service.is_member(session, project.id, actor.account_id) or actor.is_staff,
        "my_review": next((v for v in r["reviews"] if v["reviewer"] == actor.account_id), None),
        "can_manage_approval": approval is not None
        and service.can_manage_approval(session, actor, approval),
        "choices": data.request_choices(session, actor),
        "values": values or {},
    }


@twin(
    api.router,
    router,
    "/projects/{project_id}/requests/{request_id}",
    template="governance/request.html",
    summary="An access request of a project, with its reviews and messages (people by name)",
    context=lambda session, actor, data: request_context(session, actor, data),
)
def request_page(
    project_id: str,
    request_id: str,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
) -> dict[str, Any]:
    return data.request_for(session, actor, request_id, project_id)


def _request_again(session: Session, actor: Actor, request_id: str, values: dict) -> dict:
    r = data.request_for(session, actor, request_id)
    return {"data": r, **request_context(session, actor, r, values)}


def _request_url(session: Session, request_id: str) -> str:
    access = service.get_request(session, request_id)
    return f"/projects/{access.project_id}/requests/{access.id}"


class NoFields(BaseModel):
    """A form with a button only."""


@form_route(
    router,
    "/requests/{request_id}/submit",
    model=NoFields,
    template="governance/request.html",
    context=_request_again,
)
def request_submit(
    body: NoFields,
    request: Request,
    request_id: str,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
) -> str:
    access = service.get_request(session, request_id)
    service.submit_request(session, request.app.state.settings, actor, access)
    return _request_url(session, request_id)


@form_route(
    router,
    "/requests/{request_id}/edit",
    model=RequestForm,
    template="governance/request.html",
    context=_request_again,
)
def request_edit(
    body: RequestForm,
    request_id: str,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
) -> str:
    access = service.get_request(session, request_id)
    service.update_request(session, actor, access, **body.fields())
    return _request_url(session, request_id)


@form_route(
    router,
    "/requests/{request_id}/messages",
    model=api.MessageIn,
    template="governance/request.html",
    context=_request_again,
)
def request_message(
    body: api.MessageIn,
    request: Request,
    request_id: str,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
) -> str:
    access = service.get_request(session, request_id)
    service.ask_or_answer(session, request.app.state.settings, actor, access, body.body)
    return _request_url(session, request_id)


@form_route(
    router,
    "/requests/{request_id}/decision",
    model=api.DecisionIn,
    template="governance/request.html",
    context=_request_again,
)
def request_decide(
    body: api.DecisionIn,
    request: Request,
    request_id: str,
    actor: Actor = allow("ethics.review"),
    session: Session = db_session,
) -> str:
    access = service.get_request(session, request_id)
    settings = request.app.state.settings
    service.decide(session, settings, actor, access, **body.model_dump())
    return _request_url(session, request_id)


def _approval_again(session: Session, actor: Actor, approval_id: str, values: dict) -> dict:
    approval = service.get_approval(session, approval_id)
    return _request_again(session, actor, approval.request_id, values)


@form_route(
    router,
    "/approvals/{approval_id}/status",
    model=api.ApprovalStatusIn,
    template="governance/request.html",
    context=_approval_again,
)
def approval_status(
    body: api.ApprovalStatusIn,
    request: Request,
    approval_id: str,
    actor: Actor = allow("approvals.manage"),
    session: Session = db_session,
) -> str:
    approval = service.get_approval(session, approval_id)
    settings = request.app.state.settings
    service.set_approval_status(session, settings, actor, approval, body.status, body.reason)
    return _request_url(session, approval.request_id)


@twin(
    api.router,
    router,
    "/approvals",
    template="governance/approvals.html",
    summary="The approvals one may change (of the requests one reviewed; every one for the DPO)",
    context=lambda session, actor, data: named_from(session, actor),
)
def approvals_page(
    actor: Actor = allow("approvals.manage"), session: Session = db_session
) -> dict[str, Any]:
    return {"approvals": data.approvals_of(session, actor)}


@twin(
    api.router,
    router,
    "/reviews",
    template="governance/reviews.html",
    summary="The access requests one is asked to review",
)
def reviews_page(
    actor: Actor = allow("ethics.review"), session: Session = db_session
) -> dict[str, Any]:
    return {"reviews": data.reviews_of(session, actor)}
