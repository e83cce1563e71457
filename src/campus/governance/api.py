"""JSON routes of data projects, access requests, ethics review, approvals, the public
register and the opt-out registry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.errors import Forbidden, NotFound
from campus.governance import optout, register, serialise, service
from campus.governance.models import Review
from campus.web.deps import allow, client_address, db_session

router = APIRouter(tags=["governance"])


class PartnerIn(BaseModel):
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)


class ProjectIn(BaseModel):
    title: str = Field(max_length=200)
    lead_org_id: str = Field(max_length=64)
    lead_org_name: str = Field(max_length=200)
    purpose: str = Field(max_length=5000)
    summary_fr: str = Field(max_length=5000)
    summary_en: str = Field("", max_length=5000)
    legal_basis: str = Field(max_length=300)
    expected_benefits: str = Field(max_length=5000)
    partners: list[PartnerIn] = Field(default_factory=list, max_length=50)


class MemberIn(BaseModel):
    email: str = Field(max_length=320)
    role: str = "researcher"


class RequestIn(BaseModel):
    datasets: list[str] = Field(max_length=20)
    views: list[str] = Field(max_length=50)
    elements: list[str] = Field(default_factory=list, max_length=200)
    duration_days: int
    justification: str = Field(max_length=10000)


class RequestPatch(BaseModel):
    datasets: list[str] | None = None
    views: list[str] | None = None
    elements: list[str] | None = None
    duration_days: int | None = None
    justification: str | None = Field(None, max_length=10000)


class MessageIn(BaseModel):
    body: str = Field(max_length=5000)


class DecisionIn(BaseModel):
    decision: str
    comment: str = Field(max_length=5000)
    conditions: str = Field("", max_length=5000)


class ApprovalStatusIn(BaseModel):
    status: str
    reason: str = Field(max_length=2000)


class OptOutIn(BaseModel):
    kind: str = Field(description="nir (NIR/INS) or system (hospital identifier system|value)")
    value: str = Field(max_length=512)


def project_for(session: Session, actor: Actor, project_id: str) -> dict[str, Any]:
    """A project as its team, its reviewers and staff see it (more than the register)."""
    project = service.get_project(session, project_id)
    out = register.entry(session, project)
    if not can_see_private(session, actor, project_id):
        return out
    from campus.analysis import budget

    out["members"] = [
        {"account_id": m.account_id, "role": m.role} for m in service.members(session, project.id)
    ]
    out["requests"] = [
        serialise.request_full(session, r) for r in service.project_requests(session, project.id)
    ]
    out["privacy_budget"] = {
        "total": project.privacy_budget,
        "spent": budget.spent(session, project.id),
    }
    return out


def can_see_private(session: Session, actor: Actor, project_id: str) -> bool:
    if actor.is_staff or service.is_member(session, project_id, actor.account_id):
        return True
    if actor.has_role(Role.DPO):  # the DPO oversees every approval (and may suspend it)
        return True
    return bool(
        actor.account_id
        and session.query(Review)
        .join(service.AccessRequest, service.AccessRequest.id == Review.request_id)
        .filter(
            service.AccessRequest.project_id == project_id, Review.reviewer_id == actor.account_id
        )
        .first()
    )


def request_visible(session: Session, actor: Actor, request_id: str):
    request = service.get_request(session, request_id)
    if not can_see_private(session, actor, request.project_id):
        raise Forbidden("only the project team, its reviewers and staff may see this request")
    return request


@router.get("/register", summary="The public register of data projects (searchable)")
def api_register(q: str = "", actor: Actor = allow("public.read"), session: Session = db_session):
    return {"projects": register.listing(session, q)}


@router.get("/register/{project_id}", summary="One project of the public register")
def api_register_project(
    project_id: str, actor: Actor = allow("public.read"), session: Session = db_session
):
    return register.entry(session, service.get_project(session, project_id))


@router.get("/projects", summary="The projects one is a team member of")
def api_my_projects(actor: Actor = allow("account.self"), session: Session = db_session):
    projects = service.list_projects(session, limit=500)
    return {
        "projects": [
            serialise.project_public(p)
            for p in projects
            if actor.is_staff or service.is_member(session, p.id, actor.account_id)
        ]
    }


@router.post("/projects", status_code=201, summary="Create a data project (one is its lead)")
def api_create_project(
    body: ProjectIn, actor: Actor = allow("projects.write"), session: Session = db_session
):
    project = service.create_project(
        session,
        actor,
        service.ProjectIn(
            title=body.title,
            lead_org_id=body.lead_org_id,
            lead_org_name=body.lead_org_name,
            purpose=body.purpose,
            summary_fr=body.summary_fr,
            summary_en=body.summary_en,
            legal_basis=body.legal_basis,
            expected_benefits=body.expected_benefits,
            partners=tuple((p.id, p.name) for p in body.partners),
        ),
    )
    return serialise.project_public(project)


@router.get("/projects/{project_id}", summary="A project with its team, requests and budget")
def api_project(
    project_id: str, actor: Actor = allow("public.read"), session: Session = db_session
):
    return project_for(session, actor, project_id)


@router.post("/projects/{project_id}/members", status_code=201, summary="Add a team member")
def api_add_member(
    project_id: str,
    body: MemberIn,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    project = service.get_project(session, project_id)
    account = auth.find_account(session, body.email)
    if account is None:
        raise NotFound(f"no account {body.email}", code="not_found", where="email")
    member = service.add_member(session, actor, project, account.id, body.role)
    return {"account_id": member.account_id, "role": member.role}


@router.post("/projects/{project_id}/requests", status_code=201, summary="Draft an access request")
def api_create_request(
    project_id: str,
    body: RequestIn,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    project = service.get_project(session, project_id)
    request = service.create_request(
        session,
        actor,
        project,
        datasets=body.datasets,
        views=body.views,
        elements=body.elements,
        duration_days=body.duration_days,
        justification=body.justification,
    )
    return serialise.request_full(session, request)


@router.get("/requests/{request_id}", summary="An access request with its reviews and messages")
def api_request(
    request_id: str, actor: Actor = allow("account.self"), session: Session = db_session
):
    return serialise.request_full(session, request_visible(session, actor, request_id))


@router.patch("/requests/{request_id}", summary="Edit a draft or a request sent back")
def api_update_request(
    request_id: str,
    body: RequestPatch,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    request = service.get_request(session, request_id)
    fields = body.model_dump(exclude_none=True)
    return serialise.request_full(
        session, service.update_request(session, actor, request, **fields)
    )


@router.post("/requests/{request_id}/submit", summary="Submit a request for ethics review")
def api_submit_request(
    request_id: str,
    http: Request,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    request = service.get_request(session, request_id)
    service.submit_request(session, http.app.state.settings, actor, request)
    return serialise.request_full(session, request)


@router.post(
    "/requests/{request_id}/messages",
    status_code=201,
    summary="Ask a question (reviewer) or answer it (team)",
)
def api_message(
    request_id: str,
    body: MessageIn,
    http: Request,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
):
    request = service.get_request(session, request_id)
    message = service.ask_or_answer(session, http.app.state.settings, actor, request, body.body)
    return {"kind": message.kind, "body": message.body}


@router.post("/requests/{request_id}/decision", summary="Decide on a request (assigned reviewer)")
def api_decide(
    request_id: str,
    body: DecisionIn,
    http: Request,
    actor: Actor = allow("ethics.review"),
    session: Session = db_session,
):
    request = service.get_request(session, request_id)
    service.decide(
        session,
        http.app.state.settings,
        actor,
        request,
        decision=body.decision,
        comment=body.comment,
        conditions=body.conditions,
    )
    return serialise.request_full(session, request)


@router.get("/reviews", summary="The access requests one is asked to review")
def api_reviews(actor: Actor = allow("ethics.review"), session: Session = db_session):
    return {"reviews": reviews_of(session, actor)}


def reviews_of(session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = (
        session.query(Review, service.AccessRequest)
        .join(service.AccessRequest, service.AccessRequest.id == Review.request_id)
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


@router.post("/approvals/{approval_id}/status", summary="Suspend, reactivate or revoke an approval")
def api_approval_status(
    approval_id: str,
    body: ApprovalStatusIn,
    http: Request,
    actor: Actor = allow("approvals.manage"),
    session: Session = db_session,
):
    approval = service.get_approval(session, approval_id)
    service.set_approval_status(
        session, http.app.state.settings, actor, approval, body.status, body.reason
    )
    return serialise.approval_out(approval)


@router.post("/optout", status_code=201, summary="Object to the reuse of one's health data")
def api_optout(
    body: OptOutIn,
    http: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    optout.admit(session, http.app.state.settings, client_address(http))
    receipt = optout.add(session, http.app.state.settings, body.kind, body.value, actor.label)
    return {"receipt": receipt.receipt, "kind": receipt.kind}


@router.get("/optout/stats", summary="How many objections the registry holds (DPO)")
def api_optout_stats(actor: Actor = allow("optout.manage"), session: Session = db_session):
    return {"entries": optout.count(session)}
